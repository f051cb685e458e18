"""The --smoke artifacts under PROJECT/smoke/: the offline tokenizer and the tiny random model.
Rebuilt only when the config or the sample data change (fingerprint)."""
import hashlib
import json
from pathlib import Path

from cardrepro.train import format as fmt
from cardrepro.train import model as model_mod
from cardrepro.train import tokenizer as tok_mod


def fingerprint(cfg, data):
    h = hashlib.sha256()
    keep = {k: cfg[k] for k in ("architecture", "prompt", "tokenizer", "smoke", "masking")}
    keep["seed"] = cfg["training"].get("seed")
    h.update(json.dumps(keep, sort_keys=True).encode())
    for name, (train, val, _) in data.items():
        h.update(name.encode())
        h.update(json.dumps([c["messages"] for c in train + val], ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def corpus(cfg, data):
    """Every rendered dialogue as text: what the smoke tokenizer is trained on."""
    out = []
    for train, val, _ in data.values():
        for conv in train + val:
            segs = fmt.segments(conv["messages"], cfg["prompt"], cfg["tokenizer"]["eos_token"])
            out.append("".join(s[0] for s in segs))
    return out


def prepare(cfg, project, data, log=print):
    """(tokenizer dir, model dir); builds them when missing or stale."""
    root = Path(project) / "smoke"
    tok_dir, model_dir, fp_file = root / "tokenizer", root / "model", root / "fingerprint.txt"
    fp = fingerprint(cfg, data)
    if fp_file.is_file() and fp_file.read_text().strip() == fp and (model_dir / "config.json").is_file():
        return tok_dir, model_dir
    root.mkdir(parents=True, exist_ok=True)
    tok = tok_mod.train_smoke(cfg, corpus(cfg, data), tok_dir)
    tok.save_pretrained(model_dir)
    model = model_mod.create_tiny(cfg, tok, model_dir, int(cfg["training"]["seed"]))
    n = sum(p.numel() for p in model.parameters())
    log(f"smoke: tokenizer ({len(tok)} tokens) and tiny random {cfg['architecture']} ({n:,} params) -> {root}")
    fp_file.write_text(fp + "\n")
    return tok_dir, model_dir
