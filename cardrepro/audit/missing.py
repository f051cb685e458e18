"""CR2xx: facts a reproduction needs that the card leaves out, each with the default the build
will assume and where that default comes from."""
from __future__ import annotations

from cardrepro.audit import context as C
from cardrepro.audit.findings import finding
from cardrepro.audit.memory import fmt_b, fmt_gb, param_breakdown

TRAINER_DOCS = {"oa-trainer-sft": "oa-trainer-sft.md §1.3 (trainer_sft.py `defaults`)"}


def required_for(ctx):
    table = C.rules().get("required_facts") or {}
    method = ctx.method()
    if method in ("qlora",) or (method in (None, "sft") and ctx.get("peft.type")):
        method = "lora"
    facts = table.get(method) or table.get("common") or []
    return method or "sft", facts


def _present(ctx, path):
    v = ctx.get(path)
    if path == "datasets":
        return bool(v) or bool(ctx.stage_datasets())
    return v is not None and v != [] and v != ""


def _assumed(ctx, fact):
    d = fact.get("default")
    if d == "max_position_embeddings":
        _, cfg = C.model_config(ctx.base_model())
        return cfg.get("max_position_embeddings") if cfg else None
    if d == "by_model_type":
        _, cfg = C.model_config(ctx.base_model())
        mt = (cfg or {}).get("model_type") or ctx.get("base_model.architecture")
        return (C.rules().get("lora_default_targets") or {}).get(mt)
    return d


def check(ctx):
    out = []
    method, facts = required_for(ctx)
    for fact in facts:
        paths = fact.get("any") or [fact["path"]]
        ctx.facts["required"] += 1
        stated = [p for p in paths if _present(ctx, p) and not ctx.is_default(p)]
        if stated:
            ctx.facts["stated"] += 1
            continue
        defaulted = [p for p in paths if _present(ctx, p) and ctx.is_default(p)]
        if defaulted:
            ctx.facts["defaulted"] += 1
            p = defaulted[0]
            prof = ctx.default_profile(p) or "trainer"
            src = TRAINER_DOCS.get(prof, f"{prof} defaults")
            out.append(finding(
                fact["code"], "info",
                f"{fact['what']} is not stated in the card; {p} = {ctx.get(p)!r} comes from the "
                f"{prof} defaults",
                lines=ctx.lines("command", "trainer.configs", "trainer.name"),
                action=f"the build uses {ctx.get(p)!r} ({src}); confirm with the authors",
                basis=[f"trainer docs: {src}"], paths=[p]))
            continue
        value = _assumed(ctx, fact)
        target = fact.get("default_path") or paths[0]
        if value is None:
            action = f"ask the authors for the {fact['what']}; {fact['source']}"
        else:
            action = (f"the build assumes {target} = {value!r} ({fact['source']}); "
                      f"ask the authors for the value")
        out.append(finding(
            fact["code"], fact.get("severity", "warning"),
            f"{fact['what']} is not stated in the card" + (f" ({' or '.join(paths)})" if len(paths) > 1 else ""),
            lines=[], action=action, basis=[f"default: {fact['source']}"] if value is not None else ["card"],
            paths=paths, data={"assumed": value} if value is not None else None))
    out += _ambiguous_base(ctx)
    out += _dataset_options(ctx)
    out += _deepspeed_ref(ctx)
    return out


def _ambiguous_base(ctx):
    """CR202: the card names a model family ("BLOOMZ") but not which size."""
    name = ctx.base_model()
    cands = C.model_family(name)
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
    return [finding(
        "CR202", "warning",
        f"the card names `{name}` without a size; {len(cands)} published sizes fit: "
        + ", ".join(c.rsplit("/", 1)[-1] for c in cands),
        lines=lines,
        action=f"the build assumes {cands[0]} (the smallest, so that the smoke run fits); ask the "
               f"authors which checkpoint (an adapter_config.json's base_model_name_or_path names it)",
        basis=["card", "model configs (cardrepro/data/model_configs.yaml)"],
        derivation=derivation, paths=["base_model.name"],
        data={"candidates": cands, "assumed": cands[0]})]


def _dataset_options(ctx):
    """CR220: per-dataset options the card leaves to the trainer's default (val_split)."""
    out = []
    profile = (C.rules().get("trainer_options") or {}).get(ctx.trainer or "")
    if not profile or profile.get("default_val_split") is None:
        return out
    dv = profile["default_val_split"]
    stated_splits = {}
    for i, d in ctx.datasets():
        opts = d.get("options") or {}
        p = f"datasets[{i}].options.val_split"
        if "val_split" in opts and not ctx.is_default(p):
            stated_splits[d["name"]] = opts["val_split"]
    others = sorted({v for v in stated_splits.values() if v is not None})
    for i, d in ctx.datasets():
        opts = d.get("options") or {}
        p = f"datasets[{i}].options.val_split"
        if d["name"] in stated_splits or (d.get("availability") == "internal"):
            continue
        if C.matches(d["name"], ["wmt2019_*", "gsm8k"]):
            continue          # these loaders use the dataset's own validation split
        note = (f"; the card gives {', '.join(map(str, others))} for the other datasets, so "
                f"{int(dv * 100)}% held out here may be unintended") if others else ""
        out.append(finding(
            "CR220", "info",
            f"`{d['name']}` states no val_split: the {ctx.trainer} default {dv} holds out "
            f"{int(dv * 100)}% of it{note}",
            lines=ctx.lines(f"datasets[{i}]"),
            action=f"the build uses val_split {dv} (trainer docs: oa-trainer-sft.md §3.1)",
            basis=["card", "trainer docs: oa-trainer-sft.md §3.1"], paths=[p],
            data={"assumed": dv}))
    return out


def _deepspeed_ref(ctx):
    ref = ctx.get("deepspeed.config_ref")
    if ref and not ctx.get("deepspeed.config"):
        return [finding(
            "CR221", "warning",
            f"the card names the DeepSpeed config `{ref}` but does not include it",
            lines=ctx.lines("deepspeed.config_ref"),
            action="the build uses the trainer's published file of that name where known; ask "
                   "the authors for their copy",
            basis=["card"], paths=["deepspeed.config_ref"])]
    return []
