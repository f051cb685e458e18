"""The numbers the audit derives from a spec, computed once before any rule runs and frozen:
rule families read them and never write shared state. The arithmetic is cardrepro/estimate/;
what the card leaves open is cardrepro/assume.py."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from cardrepro.audit import values
from cardrepro.estimate import plan, schedule
from cardrepro.paths import get


@dataclass(frozen=True)
class Derived:
    train_rows: int | None            # training rows of the mix (documented counts), or None
    train_derivation: tuple           # its arithmetic, or why it cannot be derived
    implied: MappingProxyType | None  # schedule.implied_world(spec): the world size the card implies
    world: int | None                 # stated or implied GPU count (None when only the default is left)
    global_batch: int | None
    steps_per_epoch: int | None
    tokens_steps: int | None          # optimizer steps the token count is taken over
    tokens_upper: int | None          # upper bound of token positions seen
    memory: MappingProxyType | None   # estimate.plan.memory(spec)
    rejected: frozenset               # spec paths whose card value no run can use (CR230)


def _frozen(d):
    return MappingProxyType(dict(d)) if d else None


def derive(ctx) -> Derived:
    spec = ctx.spec
    micro = get(spec, "training.per_device_train_batch_size")
    ga = get(spec, "training.gradient_accumulation_steps") or 1
    n_train, n_deriv, _ = schedule.train_size(spec)
    implied = schedule.implied_world(spec)
    world = get(spec, "training.num_gpus") or (implied or {}).get("world")
    gb = micro * ga * world if micro and world else None
    spe = schedule.steps_per_epoch(n_train, world, micro, ga) if n_train and micro and world else None
    rel = get(spec, "model.released") if isinstance(get(spec, "model.released"), dict) else {}
    epochs = get(spec, "training.num_train_epochs")
    steps = rel.get("steps") or (spe * epochs if spe and epochs else None)
    max_len = get(spec, "training.max_length")
    tokens = steps * gb * max_len if gb and steps and max_len else None
    return Derived(train_rows=n_train, train_derivation=tuple(n_deriv), implied=_frozen(implied), world=world,
                   global_batch=gb, steps_per_epoch=spe, tokens_steps=steps if tokens else None,
                   tokens_upper=tokens, memory=_frozen(plan.memory(spec)),
                   rejected=frozenset(values.rejected_paths(ctx)))
