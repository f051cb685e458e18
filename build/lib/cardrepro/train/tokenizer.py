"""Tokenizers. --smoke: a byte-level BPE trained offline on the rendered samples, with the card's
special tokens in a fixed order (cpu-training-notes §3: cap max_token_length). --full: the base
model's tokenizer plus the card's special tokens, added in the config's order (never a set)."""
from pathlib import Path


def special_tokens(cfg):
    """Fixed order: pad, eos, bos (when distinct), then the card's special tokens in config order."""
    tk = cfg["tokenizer"]
    out = []
    for t in [tk.get("pad_token"), tk["eos_token"], tk.get("bos_token"), tk.get("unk_token")] + list(tk.get("special_tokens") or []):
        if t and t not in out:
            out.append(t)
    return out


def train_smoke(cfg, texts, out_dir, vocab_size=1024):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = cfg["tokenizer"]
    specials = special_tokens(cfg)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, max_token_length=6,
                                  special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    extra = [t for t in specials if t not in (tk.get("pad_token"), tk["eos_token"], tk.get("bos_token"), tk.get("unk_token"))]
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=tk.get("pad_token") or tk["eos_token"],
                                   eos_token=tk["eos_token"], bos_token=tk.get("bos_token"),
                                   unk_token=tk.get("unk_token"), additional_special_tokens=extra)
    fast.save_pretrained(out_dir)
    return fast


def load_full(cfg):
    from transformers import AutoTokenizer

    tk = cfg["tokenizer"]
    tok = AutoTokenizer.from_pretrained(cfg["base_model"])
    add = {"eos_token": tk["eos_token"]}
    if tk.get("pad_token"):
        add["pad_token"] = tk["pad_token"]
    tok.add_special_tokens(add)
    extra = [t for t in (tk.get("special_tokens") or []) if t not in tok.get_vocab()]
    if extra:
        tok.add_special_tokens({"additional_special_tokens": extra}, replace_additional_special_tokens=False)
    return tok


def load_dir(path):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(str(Path(path)))
