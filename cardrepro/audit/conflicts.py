"""CR3xx: the card against itself (duplicate keys, CLI against config, one path stated differently
by different kinds of card text (CR304), prose against command,
the released checkpoint against the schedule, DeepSpeed JSON against the training arguments)."""
from __future__ import annotations

import re

from cardrepro import data
from cardrepro.audit import context as C
from cardrepro.audit.findings import finding
from cardrepro.estimate.memory import fmt_b, param_breakdown
from cardrepro.extract import canonical


def _layering(trainer):
    """The trainer profile's documented config layering (data/trainers/), or None."""
    return (data.trainer_profiles().get(trainer or "") or {}).get("layering")


def check(ctx):
    out = []
    out += _parser_conflicts(ctx)
    out += _prose_size(ctx)
    out += _released_vs_schedule(ctx)
    out += _save_strategy(ctx)
    out += _deepspeed_mismatch(ctx)
    return out


def _fmt_values(values):
    parts = []
    for v in values:
        if not isinstance(v, dict):
            parts.append(repr(v))
            continue
        where = []
        if v.get("origin"):
            where.append(str(v["origin"]))
        if v.get("line"):
            where.append(f"line {v['line']}")
        parts.append(f"{v.get('value')!r}" + (f" ({', '.join(where)})" if where else ""))
    return " vs ".join(parts)


def _parser_conflicts(ctx):
    out = []
    for k, c in enumerate(ctx.get("conflicts") or []):
        if not isinstance(c, dict):
            continue
        kind = str(c.get("kind") or "").lower()
        path = c.get("path") or "?"
        values = c.get("values") or []
        lines = [v.get("line") for v in values if isinstance(v, dict)]
        res = c.get("resolution")
        shown = _fmt_values(values)
        distinct = {repr(v.get("value")) if isinstance(v, dict) else repr(v) for v in values}
        if "duplicate" in kind:
            same = len(distinct) <= 1
            out.append(ctx.finding(
                "CR301", "info" if same else "warning",
                f"duplicate key `{path}`: {shown}" + (" (same value)" if same else ""),
                lines=lines,
                action=(f"resolved: {res}" if res else "the last value wins in YAML/JSON loaders")
                       + ("" if same else "; ask the authors which value was used"),
                basis=["card"], paths=[path]))
        elif "cli" in kind or "override" in kind:
            prec = _layering(ctx.trainer)
            settled = bool(res) or bool(prec)
            out.append(ctx.finding(
                "CR302", "info" if settled else "warning",
                f"`{path}` is set twice: {shown}"
                + (f"; {res}" if res else ("; the command-line flag wins" if prec else "")),
                lines=lines,
                action=f"the build uses the winning value (precedence: {prec or res or 'unknown'})",
                basis=["card"] + ([f"trainer docs: {prec}"] if prec else []), paths=[path]))
        elif kind == "precedence":
            out.append(_precedence(path, values, lines, res))
        elif "prose" in kind:
            out.append(ctx.finding(
                "CR303", "warning", f"prose and command disagree on `{path}`: {shown}",
                lines=lines, action=f"{res}" if res else "ask the authors which is right; the build "
                                                        "follows the command",
                basis=["card"], paths=[path]))
        else:
            out.append(ctx.finding(
                "CR399", "warning", f"conflict ({kind or 'unspecified'}) on `{path}`: {shown}",
                lines=lines, action=res or "ask the authors which value was used",
                basis=["card"], paths=[path]))
    return out


def _precedence(path, values, lines, res):
    """CR304: the card states a path more than once, differently (or against the trainer's default
    the command would run with); resolve.py chose by the profile's precedence."""
    shown = " vs ".join(f"{v.get('value')!r} ({v.get('origin') if v.get('source') == 'default' else v.get('source')}"
                        + (f", line {v['line']})" if v.get("line") else ")") for v in values if isinstance(v, dict))
    return finding(
        "CR304", "warning", f"`{path}` is stated with different values: {shown}", lines=[l for l in lines if l],
        action=f"resolved: {res}; ask the authors which value the run used" if res else "ask the authors which value the run used",
        basis=["card", "precedence (cardrepro/data/trainers/hf-trainer.yaml)"], paths=[path])


_SIZE_PATTERNS = [
    (re.compile(r"(\d+(?:\.\d+)?)\s*B\b(?!\s*tokens)"), 1e9),
    (re.compile(r"(\d+(?:\.\d+)?)\s*billion(?!\s*tokens)", re.I), 1e9),
    (re.compile(r"(\d+(?:\.\d+)?)\s*[亿億]\s*(?:个)?\s*[参參]"), 1e8),
]
_BASE_WORDS = ("based on", "finetuned from", "fine-tuned from", "基于", "基於", "parameter",
               "参数", "參數")


def _base_model_lines(ctx):
    """(line, text) of the card lines the reader took the base model from (provenance)."""
    seen = {}
    for path in ("base_model.name", "base_model.architecture", "base_model"):
        rec = ctx.prov.get(path)
        if isinstance(rec, dict) and isinstance(rec.get("line"), int) and isinstance(rec.get("text"), str):
            seen.setdefault(rec["line"], rec["text"])
    return sorted(seen.items())


def _prose_size(ctx):
    """CR303: a parameter count stated where the card names its base model, against the model's
    config (the line as the reader recorded it: the audit never rereads the card)."""
    name = ctx.base_model()
    canon, cfg = C.model_config(name)
    if not cfg:
        return []
    n = param_breakdown(cfg)["total"]
    out = []
    for i, text in _base_model_lines(ctx):
        low = text.lower()
        if not any(w in low for w in _BASE_WORDS):
            continue
        if "token" in low and not any(w in low for w in ("parameter", "参数", "參數", "based on", "基于", "基於")):
            continue
        for rx, mult in _SIZE_PATTERNS:
            for m in rx.finditer(text):
                claim = float(m.group(1)) * mult
                if claim < 1e8:
                    continue
                ratio = claim / n
                if 0.75 <= ratio <= 1.35:
                    continue
                out.append(ctx.finding(
                    "CR303", "warning",
                    f"the prose says {m.group(0).strip()} parameters but the base model `{name}` has "
                    f"{fmt_b(n)}",
                    lines=[i] + ctx.lines("base_model.name"),
                    action="ask the authors which checkpoint was trained; the build follows the "
                           "command/config value",
                    basis=["card", "model configs (cardrepro/data/model_configs.yaml)"],
                    derivation=[f"{m.group(0).strip()} = {claim:.3g} parameters; {canon}: {n:,} "
                                f"parameters; ratio {ratio:.2f} (outside 0.75-1.35)"],
                    paths=["base_model.name"]))
                return out       # one is enough
    return out


def _lr_at(lr, step, total, warmup, sched):
    """Learning rate after `step` optimizer steps for a warmup-then-linear-decay schedule
    (DeepSpeed WarmupDecayLR, HF linear): lr * (total - step) / (total - warmup)."""
    if sched == "WarmupLR":
        return lr
    if step < warmup:
        return None
    return lr * max(0.0, (total - step) / max(1, total - warmup))


def _released_vs_schedule(ctx):
    rel = ctx.get("model.released")
    if not isinstance(rel, dict):
        return []
    r_ep, r_steps = rel.get("epochs"), rel.get("steps")
    epochs = ctx.get("training.num_train_epochs")
    if not r_ep or not epochs:
        return []
    text = rel.get("checkpoint") or f"{r_ep} epochs"
    lines = ctx.lines("model.released", "training.num_train_epochs")
    ep_origin = ctx.origin("training.num_train_epochs") or "card"
    if float(r_ep) > float(epochs):
        return [ctx.finding(
            "CR310", "error",
            f"the released checkpoint ({text}) is later than the schedule's {epochs} epochs",
            lines=lines, action="ask the authors for the schedule that produced the release",
            basis=["card"], paths=["model.released", "training.num_train_epochs"])]
    if float(r_ep) == float(epochs):
        return []
    deriv = []
    lr = ctx.get("training.learning_rate")
    warm = ctx.get("training.warmup_steps") or 0
    sched = ctx.get("deepspeed.config.scheduler.type") or (
        "linear (transformers default)" if not ctx.get("deepspeed.config") else None)
    lr_text = ""
    data = {"released_epochs": r_ep, "schedule_epochs": epochs}
    if r_steps:
        spe = r_steps / r_ep
        total = spe * epochs
        deriv.append(f"steps per epoch = {r_steps} / {r_ep} = {spe:g}")
        deriv.append(f"scheduled optimizer steps = {spe:g} * {epochs} = {total:g}")
        data.update(steps_per_epoch=spe, total_steps=total)
        if lr and sched:
            at = _lr_at(float(lr), r_steps, total, warm, sched)
            if at is not None:
                deriv.append(f"{sched}: lr(step) = lr * (total - step) / (total - warmup) = "
                             f"{lr:g} * ({total:g} - {r_steps}) / ({total:g} - {warm}) = {at:.3g}")
                lr_text = (f"; at step {r_steps} the learning rate was still {at:.3g} "
                           f"({at / float(lr):.0%} of the peak {lr:g}), not decayed to 0")
                data["lr_at_release"] = at
    return [ctx.finding(
        "CR310", "warning",
        f"the released checkpoint is '{text}' of a {epochs}-epoch run"
        f"{' (set by the command line)' if ep_origin == 'cli' else ''}: a mid-schedule checkpoint{lr_text}",
        lines=lines + ctx.lines("training.learning_rate"),
        action=f"to match the release, schedule {epochs} epochs (the decay spans all of them) and "
               f"keep the checkpoint at the end of epoch {r_ep}; training only {r_ep} epochs would "
               f"decay the learning rate to 0 earlier and give different weights",
        basis=["card", "derived"], derivation=deriv,
        paths=["model.released", "training.num_train_epochs", "training.learning_rate"], data=data)]


def _save_strategy(ctx):
    if str(ctx.get("training.save_strategy") or "").lower() != "epoch":
        return []
    if not ctx.stated("training.save_steps"):
        return []
    return [ctx.finding(
        "CR320", "info",
        f"save_steps {ctx.get('training.save_steps')} has no effect: save_strategy is 'epoch'",
        lines=ctx.lines("training.save_strategy", "training.save_steps"),
        action="the build saves once per epoch, as the trainer did",
        basis=["card", "transformers TrainingArguments (save_steps is read only for save_strategy 'steps')"],
        paths=["training.save_strategy", "training.save_steps"])]


def _deepspeed_mismatch(ctx):
    """HF Trainer fills DeepSpeed "auto" values from TrainingArguments and raises on non-auto
    values that disagree (transformers integrations/deepspeed.py, HfTrainerDeepSpeedConfig)."""
    cfg = ctx.get("deepspeed.config")
    if not isinstance(cfg, dict):
        return []
    out = []
    for ds_key, tr_path, _ in canonical.deepspeed_keys():
        dv = C.get(cfg, ds_key)
        tv = ctx.get(tr_path)
        if dv is None or tv is None or dv == "auto":
            continue
        try:
            same = abs(float(dv) - float(tv)) <= 1e-12 * max(1.0, abs(float(tv)))
        except (TypeError, ValueError):
            same = dv == tv
        if not same:
            out.append(ctx.finding(
                "CR322", "error",
                f"DeepSpeed `{ds_key}` is {dv!r} but {tr_path} is {tv!r}: transformers raises a "
                f"mismatch error at start-up",
                lines=ctx.lines("deepspeed.config", tr_path),
                action=f"set `{ds_key}` to \"auto\" (the build does) or make the two agree; ask "
                       f"the authors which value was used",
                basis=["card", "transformers integrations/deepspeed.py (HfTrainerDeepSpeedConfig.trainer_config_finalize)"],
                paths=[f"deepspeed.config.{ds_key}", tr_path]))
    dtype = ctx.get("training.dtype")
    for key, want in (("fp16.enabled", "fp16"), ("bf16.enabled", "bf16")):
        dv = C.get(cfg, key)
        if isinstance(dv, bool) and dtype in ("fp16", "bf16", "fp32") and dv != (dtype == want):
            out.append(ctx.finding(
                "CR322", "error",
                f"DeepSpeed `{key}` is {str(dv).lower()} but training.dtype is {dtype}: transformers "
                f"raises a mismatch error at start-up",
                lines=ctx.lines("deepspeed.config", "training.dtype"),
                action=f"set `{key}` to \"auto\"", basis=["card"],
                paths=[f"deepspeed.config.{key}", "training.dtype"]))
    return out
