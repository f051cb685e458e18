"""Padding-free batching (cardrepro/train/packing.py) is a speed-up, not a different experiment:
the same per-step training losses as faithful mode (rows.Collator: right padding to a multiple of
16) to within 1e-4, through HF Trainer, on tiny models of each architecture. Nothing is timed."""
import random

import pytest

import torch  # noqa: E402
import transformers  # noqa: E402

from cardrepro.train import packing, rows  # noqa: E402
from cardrepro.train import train as train_mod  # noqa: E402

IGNORE = -100
VOCAB, PAD = 96, 0


def make_rows(n=16, seed=0):
    """Rows with OA-like label masks: prompt spans untrained, answer spans trained; lengths spread
    (3..90) so faithful mode pads a lot; some rows start inside an answer (a truncation window),
    i.e. their first label is a target that the causal shift must never use."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        L = rng.choice([3, 7, 12, 20, 33, 47, 64, 90])
        ids = [rng.randrange(1, VOCAB) for _ in range(L)]
        labels, trained = [], i % 3 == 0
        for t in ids:
            if rng.random() < 0.15:
                trained = not trained
            labels.append(t if trained else IGNORE)
        if all(x == IGNORE for x in labels[1:]):
            labels[-1] = ids[-1]
        out.append({"input_ids": ids, "labels": labels})
    return out


def tiny_model(arch):
    from transformers import AutoModelForCausalLM, BloomConfig, GPTNeoXConfig, LlamaConfig

    # initializer_range 0.2: attention sharp enough that a row attending to its neighbours moves the
    # loss by ~1e-2 (the negative control below), so the 1e-4 tolerance tells the two apart
    ids = dict(pad_token_id=PAD, eos_token_id=1, bos_token_id=1, initializer_range=0.2)
    if arch == "bloom":
        cfg = BloomConfig(vocab_size=VOCAB, hidden_size=32, n_layer=2, n_head=4, hidden_dropout=0.0,
                          attention_dropout=0.0, **ids)
    elif arch == "gpt_neox":
        cfg = GPTNeoXConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                            intermediate_size=64, rotary_pct=0.25, max_position_embeddings=128,
                            use_parallel_residual=True, hidden_dropout=0.0, attention_dropout=0.0,
                            tie_word_embeddings=False, **ids)
    else:
        cfg = LlamaConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                          num_key_value_heads=2, intermediate_size=64, max_position_embeddings=128, **ids)
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(cfg)


def train_losses(arch, packed, tmp_path, steps=4, ga=1):
    from transformers import Trainer, TrainerCallback, TrainingArguments

    transformers.logging.set_verbosity_error()
    model = tiny_model(arch)
    if packed:
        packing.enable(model)
        collator = packing.PackingCollator(PAD)
    else:
        collator = rows.Collator(PAD)
    args = TrainingArguments(output_dir=str(tmp_path / f"{arch}-{packed}"), max_steps=steps,
                             per_device_train_batch_size=4, gradient_accumulation_steps=ga, learning_rate=3e-3,
                             warmup_steps=1, logging_steps=1, save_strategy="no", report_to=[], seed=42,
                             data_seed=42, remove_unused_columns=False, dataloader_num_workers=0,
                             use_cpu=True, disable_tqdm=True, adam_beta2=0.95, max_grad_norm=2.0)
    losses = []

    class Grab(TrainerCallback):
        def on_log(self, a, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                losses.append(logs["loss"])

    trainer = Trainer(model=model, args=args, train_dataset=make_rows(), data_collator=collator, callbacks=[Grab()])
    train_mod.average_loss_per_micro_batch(trainer)   # the loss path `cardrepro run` uses
    trainer.train()
    return losses


@pytest.mark.parametrize("arch,ga", [("gpt_neox", 1), ("llama", 2), ("bloom", 1)])
def test_packed_losses_equal_faithful(arch, ga, tmp_path, monkeypatch):
    from transformers import AttentionInterface

    faithful = train_losses(arch, False, tmp_path, ga=ga)
    packing.register()
    calls = []
    inner = AttentionInterface._global_mapping[packing.ATTN]

    def spy(*a, **kw):
        calls.append(kw.get("cu_seq_lens_q") is not None)
        return inner(*a, **kw)

    monkeypatch.setitem(AttentionInterface._global_mapping, packing.ATTN, spy)
    packed = train_losses(arch, True, tmp_path, ga=ga)
    if arch != "bloom":                          # bloom goes through block hooks, not the interface
        assert calls and all(calls)              # every attention call took the per-row path
    assert len(faithful) == len(packed) == 4
    for a, b in zip(faithful, packed):
        assert abs(a - b) < 1e-4, (arch, faithful, packed)
    assert len({round(x, 4) for x in faithful}) > 1     # the weights moved between steps


@pytest.mark.parametrize("arch", ["gpt_neox", "llama", "bloom"])
def test_naive_concatenation_differs(arch):
    """Negative control: the same packed row without per-row attention and positions (plain causal
    attention over the concatenation) does NOT match faithful mode, by far more than 1e-4."""
    r = make_rows()[:4]
    model = tiny_model(arch).eval()
    f = rows.Collator(PAD)(r)
    n = (f["labels"][:, 1:] != IGNORE).sum()
    with torch.no_grad():
        ref = model(**f, num_items_in_batch=n).loss.item()
        b = packing.PackingCollator(PAD)(r)
        naive = model(input_ids=b["input_ids"], labels=b["labels"], num_items_in_batch=n).loss.item()
        packing.enable(model)
        packed = model(**b, num_items_in_batch=n).loss.item()
    assert abs(packed - ref) < 1e-5
    assert abs(naive - ref) > 1e-3


def test_packing_collator_layout():
    r = [{"input_ids": [5, 6, 7], "labels": [5, IGNORE, 7]}, {"input_ids": [8, 9], "labels": [IGNORE, 9]}]
    c = packing.PackingCollator(PAD)
    b = c(r)
    assert b["input_ids"].tolist() == [[5, 6, 7, 8, 9]]
    assert b["position_ids"].tolist() == [[0, 1, 2, 0, 1]]
    assert b["labels"].tolist() == [[IGNORE, IGNORE, 7, IGNORE, 9]]     # first label of each row off
    assert b["cu_seq_lens_q"].tolist() == [0, 3, 5] and b["max_length_q"] == 3
    assert c.tokens == 5
    assert packing.pad_share(r, 2) == (5, 32)                        # both rows padded to 16
    assert packing.pad_share(r, 2, max_length=8) == (5, 16)
