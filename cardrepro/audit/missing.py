"""CR2xx: facts a reproduction needs that the card leaves out, each with the default the build
will assume and where that default comes from."""
from __future__ import annotations

from cardrepro import assume, data
from cardrepro.audit import context as C, findings
from cardrepro.estimate.memory import fmt_b, fmt_gb, param_breakdown
from cardrepro.paths import get


def required_for(ctx):
    table = C.rules().get("required_facts") or {}
    method = ctx.method()
    if method in ("qlora",) or (method in (None, "sft") and ctx.get("peft.type")):
        method = "lora"
    facts = table.get(method) or table.get("common") or []
    return method or "sft", facts


def _present(ctx, path):
    v = get(ctx.spec, path)
    if path == "datasets":
        return bool(v) or bool(ctx.stage_datasets())
    return v is not None and v != [] and v != ""


def build_default(ctx, path):
    """(value, source) the build assumes for `path` were the card silent on it (cardrepro/assume.py),
    or (None, None) when it assumes nothing."""
    return assume.if_silent(ctx.spec, path)


def _assumed(ctx, fact):
    """(value, source): what the build assumes for the fact, or (None, what to do instead)."""
    target = fact.get("default_path") or (fact.get("any") or [fact.get("path")])[0]
    v, src = build_default(ctx, target)
    if v is None:
        return None, fact.get("source") or "no default: ask the authors"
    src = str(src or "")
    if src.startswith(("build default", "derived:", "the card")):
        return v, src
    return v, f"build default: {src}"


def _defaulted(ctx, fact):
    """The fact comes from the named trainer's documented defaults (already in the spec)."""
    paths = fact.get("any") or [fact["path"]]
    p = next(p for p in paths if _present(ctx, p) and ctx.is_default(p))
    prof = ctx.default_profile(p) or "trainer"
    src = C.trainer_doc(prof, "defaults") or f"{prof} defaults"
    return ctx.finding(
        fact["code"], "info",
        f"{fact['what']} is not stated in the card; {p} = {ctx.get(p)!r} comes from the "
        f"{prof} defaults",
        lines=ctx.lines("command", "trainer.configs", "trainer.name"),
        action=f"the build uses {ctx.get(p)!r} ({src}); confirm with the authors",
        basis=[f"trainer docs: {src}"], paths=[p])


def _missing(ctx, fact):
    """The card leaves the fact out: what the build assumes instead, or what to ask for."""
    paths = fact.get("any") or [fact["path"]]
    target = fact.get("default_path") or paths[0]
    if ctx.brief and not assume.may_be_implied(target):
        return findings.brief(fact["code"], fact.get("severity", "warning"))   # nothing to assume for a code and severity
    value, source = _assumed(ctx, fact)
    severity = "info" if source == assume.IMPLIED_WORLD_SOURCE else fact.get("severity", "warning")
    if ctx.brief:
        return findings.brief(fact["code"], severity)
    if value is None:
        action = f"ask the authors for the {fact['what']}; {source}"
    else:
        action = f"the build assumes {target} = {value!r} ({source}); ask the authors for the value"
    return ctx.finding(
        fact["code"], severity,
        f"{fact['what']} is not stated in the card" + (f" ({' or '.join(paths)})" if len(paths) > 1 else ""),
        lines=[], action=action, basis=[f"default: {source}"] if value is not None else ["card"],
        paths=paths, data={"assumed": value} if value is not None else None)


def _status(ctx, fact):
    """rejected | stated | defaulted (a trainer default in the spec) | missing."""
    paths = fact.get("any") or [fact["path"]]
    if ctx.derived.rejected and ctx.derived.rejected.intersection(paths):
        return "rejected"          # stated but unusable: CR230 says so, with what the build assumes
    defaulted = False
    for p in paths:
        if _present(ctx, p):
            if not ctx.is_default(p):
                return "stated"    # one present path the card states is enough
            defaulted = True
    return "defaulted" if defaulted else "missing"


def _statuses(ctx):
    """[(fact, status)] over the card's required facts."""
    return [(fact, _status(ctx, fact)) for fact in required_for(ctx)[1]]


def facts_ratio(ctx):
    """(stated + 0.5 * defaulted) / required over the card's required facts (findings.py)."""
    status = [status for _, status in ctx.once(_statuses)]
    if not status:
        return 1.0
    return (status.count("stated") + 0.5 * status.count("defaulted")) / len(status)


def check(ctx):
    out = []
    for fact, status in ctx.once(_statuses):
        if status == "defaulted":
            out.append(_defaulted(ctx, fact))
        elif status == "missing":
            out.append(_missing(ctx, fact))
    out += _ambiguous_base(ctx)
    out += _dataset_options(ctx)
    out += _deepspeed_ref(ctx)
    return out


def _ambiguous_base(ctx):
    """CR202: the card names a model family ("BLOOMZ") but not which size."""
    name = ctx.base_model()
    cands = assume.family_sizes(name)
    if not cands:
        return []
    int8 = bool(ctx.get("quantization.load_in_8bit"))
    derivation = []
    for cand in cands:
        _, cfg = C.model_config(cand)
        if not cfg:
            continue
        bd = param_breakdown(cfg)
        n = bd["total"]
        if int8:
            # bitsandbytes int8 quantises the blocks' nn.Linear weights (1 byte); embeddings,
            # norms and biases stay 16-bit (2 bytes)
            nbytes = bd["linear"] * 1 + (n - bd["linear"]) * 2
            derivation.append(f"{cand}: {fmt_b(n)} params; int8 weights = linear {fmt_b(bd['linear'])}*1 B "
                              f"+ rest {fmt_b(n - bd['linear'])}*2 B = {fmt_gb(nbytes)}")
        else:
            derivation.append(f"{cand}: {fmt_b(n)} params; fp16 weights 2*N = {fmt_gb(2 * n)}")
    lines = ctx.lines("base_model.name", "base_model")
    assumed, why = assume.family_choice(ctx.spec)
    return [ctx.finding(
        "CR202", "warning",
        f"the card names `{name}` without a size; {len(cands)} published sizes fit: "
        + ", ".join(c.rsplit("/", 1)[-1] for c in cands),
        lines=lines,
        action=f"the build assumes {assumed} ({why}); ask the authors which checkpoint (an "
               f"adapter_config.json's base_model_name_or_path names it)",
        basis=["card", "model configs (cardrepro/data/model_configs.yaml)"],
        derivation=derivation, paths=["base_model.name"],
        data={"candidates": cands, "assumed": assumed})]


def _dataset_options(ctx):
    """CR220: per-dataset options the card leaves to the trainer's default (val_split)."""
    out = []
    profile = data.trainer_profile(ctx.trainer or "")
    dv = (profile.get("dataset_option_defaults") or {}).get("val_split")
    if dv is None:
        return out
    cite = C.trainer_doc(ctx.trainer, "dataset_option_defaults")
    stated_splits = {}
    for i, d in ctx.datasets():
        opts = d.get("options") or {}
        p = f"datasets[{i}].options.val_split"
        if "val_split" in opts and not ctx.is_default(p):
            stated_splits[d["name"]] = opts["val_split"]
    others = sorted({v for v in stated_splits.values() if v is not None}, key=str)
    for i, d in ctx.datasets():
        opts = d.get("options") or {}
        p = f"datasets[{i}].options.val_split"
        reg = C.registry_entry(d["name"])[1] or {}
        if d["name"] in stated_splits or reg.get("availability") == "internal":
            continue          # an internal set is left out anyway (CR101)
        if C.matches(d["name"], profile.get("own_validation_split")):
            continue
        note = (f"; the card gives {', '.join(map(str, others))} for the other datasets, so "
                f"{int(dv * 100)}% held out here may be unintended") if others else ""
        out.append(ctx.finding(
            "CR220", "info",
            f"`{d['name']}` states no val_split: the {ctx.trainer} default {dv} holds out "
            f"{int(dv * 100)}% of it{note}",
            lines=ctx.lines(f"datasets[{i}]"),
            action=f"the build uses val_split {dv} (trainer docs: {cite})",
            basis=["card", f"trainer docs: {cite}"], paths=[p],
            data={"assumed": dv}))
    return out


def _deepspeed_ref(ctx):
    ref = ctx.get("deepspeed.config_ref")
    if ref and not ctx.get("deepspeed.config"):
        return [ctx.finding(
            "CR221", "warning",
            f"the card names the DeepSpeed config `{ref}` but does not include it",
            lines=ctx.lines("deepspeed.config_ref"),
            action="the build uses the trainer's published file of that name where known; ask "
                   "the authors for their copy",
            basis=["card"], paths=["deepspeed.config_ref"])]
    return []
