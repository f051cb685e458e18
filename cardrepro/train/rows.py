"""Conversations -> token rows (input_ids + labels) with OA truncation, and the padding collator."""
import random

from cardrepro.train import format as fmt


def render_conv(tokenizer, cfg, conv):
    return fmt.render(tokenizer, conv["messages"], cfg["prompt"], cfg["tokenizer"]["eos_token"],
                      masking=cfg.get("masking", "oa"), add_bos=add_bos(cfg))


def add_bos(cfg):
    tk = cfg["tokenizer"]
    return bool(tk.get("add_bos", cfg["architecture"] == "llama" and tk.get("bos_token")))


def truncate(ids, labels, max_length, p_random, rng):
    """OA process_one: with probability p a random window of max_length tokens, else keep the start."""
    if len(ids) <= max_length:
        return ids, labels
    if rng.random() < p_random:
        start = rng.randint(0, len(ids) - max_length)
    else:
        start = 0
    return ids[start:start + max_length], labels[start:start + max_length]


def build_rows(tokenizer, cfg, convs, max_length, seed):
    p = float(cfg["loop"]["random_offset_probability"] or 0.0)
    rows = []
    for i, conv in enumerate(convs):
        r = render_conv(tokenizer, cfg, conv)
        ids, labels = truncate(r.input_ids, fmt.labels(r), max_length, p, random.Random(seed * 1000003 + i))
        if any(x != fmt.IGNORE for x in labels):
            rows.append({"input_ids": ids, "labels": labels})
    return rows


class Collator:
    """Right-pad to a multiple of 16 (OA's train collator); labels padded with -100. Counts non-pad
    tokens for the throughput line."""

    def __init__(self, pad_id, multiple=16):
        self.pad_id, self.multiple, self.tokens = pad_id, multiple, 0

    def __call__(self, batch):
        import torch

        n = max(len(b["input_ids"]) for b in batch)
        n = -(-n // self.multiple) * self.multiple
        ids = torch.full((len(batch), n), self.pad_id, dtype=torch.long)
        labels = torch.full((len(batch), n), fmt.IGNORE, dtype=torch.long)
        att = torch.zeros((len(batch), n), dtype=torch.long)
        for k, b in enumerate(batch):
            L = len(b["input_ids"])
            ids[k, :L] = torch.tensor(b["input_ids"])
            labels[k, :L] = torch.tensor(b["labels"])
            att[k, :L] = 1
            self.tokens += L
        return {"input_ids": ids, "labels": labels, "attention_mask": att}
