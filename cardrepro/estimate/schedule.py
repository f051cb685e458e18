"""The training schedule a spec implies: training rows of the mix, optimizer steps per epoch, and
the world size the card's own numbers imply. Pure arithmetic on the spec and the data files."""
from __future__ import annotations

import math

from cardrepro import data
from cardrepro.estimate.memory import fmt_int
from cardrepro.paths import get

WORLD_CANDIDATES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 160, 256, 512)


def steps_per_epoch(n_train, world, micro, ga):
    """HF Trainer: floor(ceil(N / world / micro) / GA) (oa-trainer-sft.md §6.2)."""
    return math.ceil(n_train / world / micro) // ga


def registry_key(name):
    """The registry key for a dataset name, alias or hub id, or for the last part of a hub id
    (`org/alpaca` -> alpaca); None if unknown."""
    if not name:
        return None
    return data.registry_entry(name)[0] or data.registry_entry(str(name).rsplit("/", 1)[-1])[0]


def mix(spec):
    """[(index, dataset dict)] of the spec's datasets that have a name."""
    out = []
    for i, d in enumerate(get(spec, "datasets") or []):
        if isinstance(d, str):
            d = {"name": d}
        if isinstance(d, dict) and d.get("name"):
            out.append((i, d))
    return out


def train_size(spec):
    """Train rows of the mix from the documented per-dataset counts; None unless every dataset
    of the mix has one. Returns (N, derivation lines, spec paths it rests on)."""
    rules = data.load("audit_rules")
    tc = rules.get("train_counts") or {}
    counts = tc.get("counts") or {}
    base_v = float(tc.get("val_split", 0.05))
    dv = (data.trainer_profile(get(spec, "trainer.name") or "").get("dataset_option_defaults") or {}).get("val_split")
    ds = mix(spec)
    if not ds:
        return None, [], []
    total, parts, deriv, approx = 0, [], [], False
    for _, d in ds:
        key = registry_key(d["name"]) or d["name"]
        if key not in counts:
            return None, [f"no documented train count for `{d['name']}`"], []
        v = (d.get("options") or {}).get("val_split")
        if v is None:
            v = dv if dv is not None else base_v
        n = counts[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None, [f"`{d['name']}` has val_split {v!r}, not a number"], []
        if abs(float(v) - base_v) > 1e-12:
            scaled = round(n * (1 - float(v)) / (1 - base_v))
            deriv.append(f"{d['name']}: {n:,} at val_split {base_v} -> x (1-{v})/(1-{base_v}) "
                         f"= {scaled:,} at val_split {v} (approximate)")
            n = scaled
            approx = True
        else:
            deriv.append(f"{d['name']}: {n:,}")
        total += n
        parts.append(fmt_int(n))
    deriv.append(f"N = {' + '.join(parts)} = {fmt_int(total)} train rows"
                 + (" (approximate)" if approx else "") + f" [counts: {tc.get('source')}]")
    return total, deriv, ["datasets"]


def stated_steps_per_epoch(spec):
    """Optimizer steps per epoch of the released checkpoint (steps / epochs), or None."""
    rel = get(spec, "model.released")
    if isinstance(rel, dict) and rel.get("steps") and rel.get("epochs"):
        return rel["steps"] / rel["epochs"]
    return None


def implied_world(spec):
    """The world size the card's released steps per epoch and the mix's size imply, when the card
    states no GPU count: {world, estimate, train_rows, derivation}, or None."""
    micro = get(spec, "training.per_device_train_batch_size")
    ga = get(spec, "training.gradient_accumulation_steps") or 1
    spe = stated_steps_per_epoch(spec)
    if get(spec, "training.num_gpus") or not spe or not micro:
        return None
    n_train, n_deriv, _ = train_size(spec)
    if not n_train:
        return None
    rel = get(spec, "model.released")
    est = n_train / (spe * micro * ga)
    best = min(WORLD_CANDIDATES, key=lambda w: abs(steps_per_epoch(n_train, w, micro, ga) - spe))
    got = steps_per_epoch(n_train, best, micro, ga)
    derivation = list(n_deriv) + [
        f"steps per epoch stated: {rel['steps']} / {rel['epochs']} = {spe:g}",
        f"world = N / (steps per epoch * micro batch * accumulation) = {n_train:,} / "
        f"({spe:g} * {micro} * {ga}) = {est:.2f}",
        f"check: world {best}: floor(ceil({n_train:,} / {best} / {micro}) / {ga}) = {got:,} "
        f"steps per epoch vs {spe:g} stated ({(got - spe) / spe:+.1%})",
    ]
    return {"world": best, "estimate": est, "train_rows": n_train, "derivation": derivation}
