"""TRL's SFTTrainer in bench/train.py is the same experiment as the embedded trainer where it says so:
its dynamic-padding and padding-free modes (SDPA on CPU, positions restarting per row) train the
same targets in the same micro-batches, averaged per micro-batch, so their per-step losses equal
faithful mode's (rows.Collator) within 1e-4; its packing modes train finite losses. Nothing is timed."""
import functools
import math
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import transformers

from cardrepro.train import rows as rows_mod
from cardrepro.train import tokenizer as tok_mod
from cardrepro.train import train as train_mod
from test_bench_packing import PAD, make_rows, tiny_model

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import train as bench  # noqa: E402  (bench/train.py)

STEPS = 3


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    """A byte-level BPE whose pad token is id 0, the tiny models' PAD (TRL reads the pad id from it)."""
    cfg = {"tokenizer": {"pad_token": "<pad>", "eos_token": "</s>"}}
    tok = tok_mod.train_smoke(cfg, ["a few words of text"] * 4, tmp_path_factory.mktemp("tok"), vocab_size=300)
    assert tok.pad_token_id == PAD
    return tok


def args_kw(ga):
    return dict(max_steps=STEPS, per_device_train_batch_size=4, gradient_accumulation_steps=ga, learning_rate=3e-3,
                warmup_steps=1, logging_steps=1, save_strategy="no", report_to=[], seed=42, data_seed=42,
                remove_unused_columns=False, dataloader_num_workers=0, use_cpu=True, disable_tqdm=True,
                adam_beta2=0.95, max_grad_norm=2.0, activation_checkpointing=False)


class Losses(transformers.TrainerCallback):
    def __init__(self):
        self.values = []

    def on_log(self, a, state, control, logs=None, **kw):
        if logs and "loss" in logs:
            self.values.append(logs["loss"])


@functools.lru_cache(maxsize=None)
def faithful_losses(ga):
    """The embedded trainer's batching and loss (computed once per accumulation, shared by the tests)."""
    transformers.logging.set_verbosity_error()
    tmp_path = Path(tempfile.mkdtemp(prefix="bench-trl-"))
    grab = Losses()
    args = transformers.TrainingArguments(output_dir=str(tmp_path / "faithful"), **args_kw(ga))
    trainer = bench.in_order(transformers.Trainer)(model=tiny_model("gpt_neox"), args=args, train_dataset=make_rows(),
                                                   data_collator=rows_mod.Collator(PAD), callbacks=[grab])
    train_mod.average_loss_per_micro_batch(trainer)
    trainer.train()
    shutil.rmtree(tmp_path, ignore_errors=True)
    return tuple(grab.values)


def trl_losses(mode, ga, tokenizer, tmp_path, per_micro_batch=True):
    grab = Losses()
    trainer = bench.trl_trainer(mode, tiny_model("gpt_neox"), tokenizer, make_rows(), args_kw(ga), 128, tmp_path,
                                [grab])
    if not per_micro_batch:          # TRL's own normalisation: over the accumulation window's targets
        trainer.model_accepts_loss_kwargs = True
    trainer.train()
    return trainer, grab.values


@pytest.mark.parametrize("mode,ga", [("trl_padded", 1), ("trl_padding_free", 2)])
def test_trl_equal_semantics_modes_match_faithful(mode, ga, tokenizer, tmp_path):
    assert bench.TRL_MODES[mode][1] and mode in bench.EQUAL_SEMANTICS
    faithful = faithful_losses(ga)
    trainer, losses = trl_losses(mode, ga, tokenizer, tmp_path)
    batch = next(iter(trainer.get_train_dataloader()))
    if mode == "trl_padding_free":   # one flattened row, positions restarting per row, no attention mask
        assert batch["input_ids"].shape[0] == 1 and "attention_mask" not in batch
        assert int((batch["position_ids"][0] == 0).sum()) == 4
    else:
        assert batch["input_ids"].shape[0] == 4 and "attention_mask" in batch
    assert len(faithful) == len(losses) == STEPS
    for a, b in zip(faithful, losses):
        assert abs(a - b) < 1e-4, (mode, faithful, losses)
    assert len({round(x, 4) for x in losses}) > 1      # the weights moved between steps


def test_trl_window_normalisation_differs_with_accumulation(tokenizer, tmp_path):
    """Negative control: left to TRL's own loss normalisation (the window's target count), GA 2 does
    not give faithful mode's per-micro-batch average; the bench sets the embedded trainer's."""
    faithful = faithful_losses(2)
    _, losses = trl_losses("trl_padding_free", 2, tokenizer, tmp_path, per_micro_batch=False)
    assert max(abs(a - b) for a, b in zip(faithful, losses)) > 1e-3


@pytest.mark.parametrize("mode", ["trl_bfd", "trl_wrapped"])
def test_trl_packing_modes_train(mode, tokenizer, tmp_path):
    assert not bench.TRL_MODES[mode][1] and mode not in bench.EQUAL_SEMANTICS
    trainer, losses = trl_losses(mode, 1, tokenizer, tmp_path)
    assert len(losses) == STEPS and all(math.isfinite(x) for x in losses)
    lens = [len(r) for r in trainer.train_dataset["input_ids"]]
    assert max(lens) <= 128 and len(lens) < len(make_rows())    # rows packed into max_length bins
    assert sum(lens) == sum(len(r["input_ids"]) for r in make_rows())
