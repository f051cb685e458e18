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


def _arch(ctx):
    from cardrepro.audit.cost import resolve_model

    _, cfg, _ = resolve_model(ctx)
    return (cfg or {}).get("model_type") or ctx.get("base_model.architecture")


def build_default(ctx, path):
    """(value, source) the build assumes for `path` (cardrepro/data/build_defaults.yaml), or
    (None, None) when it has none."""
    bd = C.load_yaml("build_defaults.yaml") or {}
    arch = _arch(ctx)
    if path == "training.num_gpus" and bd.get("world_size"):
        return bd["world_size"].get("value"), bd["world_size"].get("source")
    if path == "training.max_length" and bd.get("max_length"):
        e = bd["max_length"].get(arch) or bd["max_length"].get("default") or {}
        return e.get("value"), e.get("source")
    if path == "training.dtype" and bd.get("dtype"):
        return bd["dtype"].get("value"), bd["dtype"].get("source")
    if path.startswith("training."):
        ta = bd.get("training_arguments") or {}
        key = path.split(".", 1)[1]
        if key in (ta.get("values") or {}):
            return ta["values"][key], ta.get("source")
    if path.startswith("peft."):
        lora = bd.get("lora") or {}
        key = path.split(".", 1)[1]
        if key == "target_modules" and lora.get("target_modules"):
            tm = lora["target_modules"]
            v = (tm.get("by_architecture") or {}).get(arch)
            return (v, tm.get("source")) if v else (None, None)
        if isinstance(lora.get(key), dict):
            return lora[key].get("value"), lora[key].get("source")
    return None, None


def _assumed(ctx, fact):
    """(value, source): the build's default for the fact, or (None, what to do instead)."""
    target = fact.get("default_path") or (fact.get("any") or [fact.get("path")])[0]
    v, src = build_default(ctx, target)
    if v is not None:
        src = str(src or "")
        return v, src if src.startswith("build default") else f"build default: {src}"
    return None, fact.get("source") or "no default: ask the authors"


def check(ctx):
    out = []
    method, facts = required_for(ctx)
    rejected = _rejected(ctx)
    for fact in facts:
        paths = fact.get("any") or [fact["path"]]
        ctx.facts["required"] += 1
        if rejected.intersection(paths):
            continue          # stated but unusable: CR230 says so, with what the build assumes
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
        value, source = _assumed(ctx, fact)
        target = fact.get("default_path") or paths[0]
        severity = fact.get("severity", "warning")
        note = ""
        if target == "training.num_gpus" and ctx.derived.get("world_implied"):
            value = ctx.derived["world_implied"]
            source = "derived: the card's steps per epoch and the mix's size imply it (CR404)"
            severity = "info"
        if value is None:
            action = f"ask the authors for the {fact['what']}; {source}"
        else:
            action = (f"the build assumes {target} = {value!r} ({source}){note}; "
                      f"ask the authors for the value")
        out.append(finding(
            fact["code"], severity,
            f"{fact['what']} is not stated in the card" + (f" ({' or '.join(paths)})" if len(paths) > 1 else ""),
            lines=[], action=action, basis=[f"default: {source}"] if value is not None else ["card"],
            paths=paths, data={"assumed": value} if value is not None else None))
    out += _ambiguous_base(ctx)
    out += _dataset_options(ctx)
    out += _deepspeed_ref(ctx)
    return out


def _rejected(ctx):
    from cardrepro.audit.values import rejected_paths   # values.py imports build_default from here
    return rejected_paths(ctx)


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
    exact = ((C.load_yaml("build_defaults.yaml") or {}).get("base_model_exact") or {}).get(str(name).lower()) or {}
    assumed = exact.get("value") or cands[0]
    why = (f"build default: {exact['source']}" if exact.get("source")
           else "the smallest, so that the smoke run fits")
    return [finding(
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
    others = sorted({v for v in stated_splits.values() if v is not None}, key=str)
    for i, d in ctx.datasets():
        opts = d.get("options") or {}
        p = f"datasets[{i}].options.val_split"
        reg = C.registry_entry(d["name"])[1] or {}
        if d["name"] in stated_splits or reg.get("availability") == "internal":
            continue          # an internal set is left out anyway (CR101)
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
