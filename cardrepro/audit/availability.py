"""CR1xx: can the data be had, may it be used, does the trainer read the options as stated."""
from __future__ import annotations

import re

from cardrepro import memo
from cardrepro.audit import context as C

REG = "registry (cardrepro/data/datasets.yaml)"


def _basename(p):
    return re.split(r"[\\/]", str(p))[-1]


def _is_local_path(text):
    s = str(text)
    return s.startswith(("/", "~/", "./", "../")) or bool(re.match(r"^[A-Za-z]:[\\/]", s))


def _card_says_internal(ctx, i):
    """The line of the card's own note that dataset `i` is internal, as the reader recorded it
    (datasets[i].availability from the card, on a line apart from the mix's entry); [] if none."""
    path = f"datasets[{i}]"
    said = ctx.origin(f"{path}.availability") == "card" and ctx.line(f"{path}.availability")
    return [said] if said and said != ctx.line(path) else []


def _licence_id(text):
    """Known licence id inside a free-text licence ("Creative Commons license (CC BY-SA-4.0)")."""
    if not text:
        return None
    return _licence_in(re.sub(r"[^a-z0-9.]", "", str(text).lower()))


@memo.memo(maxsize=1 << 12)
def _licence_in(compact):
    """The longest known licence id inside `compact` (the text's letters, digits and dots); a
    card's licence is one of a few texts, searched once per process (cardrepro/memo.py)."""
    table = C.rules().get("licence_classes") or {}
    for key in sorted(table, key=len, reverse=True):
        if re.sub(r"[^a-z0-9.]", "", key) in compact:
            return key
    return None


def _classes(lic):
    return set((C.rules().get("licence_classes") or {}).get(lic or "", []))


def check(ctx):
    out = []
    out += [f for f, _ in ctx.once(_mix) if f]
    out += _stage_availability(ctx)
    out += _licences(ctx)
    out += _trainer_options(ctx)
    out += _metadata(ctx)
    out += _stage_start(ctx)
    return out


def _stage_start(ctx):
    """CR140: a later stage starts from an earlier stage's output, which the card does not release."""
    stages = ctx.get("stages") or []
    if len(stages) < 2:
        return []
    out = []
    final = ctx.get("model.hub_id")
    vocab = ctx.get("tokenizer.vocab_size")
    base_vocab = (C.model_config(ctx.base_model())[1] or {}).get("vocab_size")
    for i in range(1, len(stages)):
        prev, cur = stages[i - 1], stages[i]
        note = ""
        if vocab and base_vocab and vocab != base_vocab and prev.get("method") in ("continual_pretraining", "pretraining"):
            note = (f"; its vocabulary ({vocab:,} tokens, stated) differs from the base model's ({base_vocab:,}), so "
                    f"the base model's tokenizer cannot stand in for it")
        out.append(ctx.finding(
            "CR140", "warning",
            f"stage {i + 1} ({cur.get('method')}) starts from the output of stage {i} ({prev.get('method')}), "
            f"which the card does not release" + (f" (only the final model, {final})" if final else "") + note,
            lines=ctx.lines(f"stages[{i}].method", f"stages[{i - 1}].method", *(("tokenizer.vocab_size",) if note else ())),
            action=(f"a {cur.get('method')} project built from the base model reproduces the recipe, not the model; "
                    f"ask the authors for the stage {i} checkpoint"),
            paths=[f"stages[{i}]"]))
    return out


# ----------------------------------------------------------------------------- availability
def data_ratio(ctx):
    """Mean over the mix's datasets of 1 (public), 0.5 (a published substitute), 0 (none); 0 when
    the card names no data (findings.py)."""
    scores = [s for _, s in ctx.once(_mix)]
    return sum(scores) / len(scores) if scores else 0.0


def _mix(ctx):
    """[(finding or None, data score)] per dataset of the mix."""
    unpublished = {e["file"]: e for e in C.rules().get("unpublished_exports") or []}
    return [_dataset(ctx, i, d, unpublished) for i, d in ctx.datasets()]


def _dataset(ctx, i, d, unpublished):
    out = []
    name = d["name"]
    opts = d.get("options") or {}
    avail = (d.get("availability") or "").lower() or None
    key, entry = C.registry_entry(name)
    path = f"datasets[{i}]"
    lines = ctx.lines(path, f"{path}.availability", f"{path}.name")
    ifp = opts.get("input_file_path")
    export = unpublished.get(_basename(ifp)) if ifp else None
    reg_avail = (entry or {}).get("availability")
    if ifp and not export:
        # the file decides: a published file of the same loader is public
        by_file = [e for e in (C.registry() or {}).values()
                   if isinstance(e, dict) and e.get("hub_file") == _basename(ifp)]
        if by_file and any(e.get("availability") == "public" for e in by_file):
            reg_avail = "public"
            if avail in ("internal", "unknown", None):
                avail = "public"
    if export or (reg_avail == "unreleased" and (entry or {}).get("substitute")):
        sub = (export or {}).get("substitute") or entry.get("substitute")
        sub_file = (export or {}).get("substitute_file") or entry.get("substitute_file")
        src = (export or {}).get("source") or REG
        lang = opts.get("lang")
        what = f"`{_basename(ifp)}`" if ifp else f"`{name}`"
        out.append(ctx.finding(
            "CR102", "warning",
            f"{what} (dataset `{name}`) was never published; a published substitute exists: "
            f"{sub}",
            lines=lines + ctx.lines(f"{path}.options.input_file_path"),
            action=f"use {sub}" + (f" ({sub_file})" if sub_file else "")
                   + (f" with the same lang filter ({lang})" if lang else "")
                   + ", keeping only messages created before the export's date",
            basis=[src, REG] if entry else [src], paths=[path]))
        return out[-1], 0.5
    elif (avail == "internal" or reg_avail == "internal") and not (
            reg_avail == "unreleased" and not _card_says_internal(ctx, i)):
        own = _card_says_internal(ctx, i)
        says = " (the card itself says so)" if own else ""
        out.append(ctx.finding(
            "CR101", "error",
            f"dataset `{name}` is internal{says}: it cannot be obtained, so the mix cannot be "
            f"reproduced exactly",
            lines=lines + own + ctx.lines(f"{path}.options.input_file_path"),
            action=f"leave `{name}` out of the mix (the build does) and report results as "
                   f"'without {name}'; ask the authors for the data or its size to weigh the gap",
            basis=["card"] + ([REG] if reg_avail == "internal" else []), paths=[path]))
        return out[-1], 0.0
    elif reg_avail == "unreleased" or avail == "unreleased":
        out.append(ctx.finding(
            "CR104", "error",
            f"dataset `{name}` was not released and has no published substitute",
            lines=lines, action="ask the authors to publish it; the build can only train on "
                                "the rest of the mix (or on the sample records)",
            basis=[REG], paths=[path]))
        return out[-1], 0.0
    elif avail == "local_path" or _is_local_path(name) or (ifp and _is_local_path(ifp)):
        out.append(ctx.finding(
            "CR103", "error",
            f"dataset `{name}` is read from a local file that the card does not publish",
            lines=lines + ctx.lines(f"{path}.options.input_file_path"),
            action="ask the authors for the file or a hub id; the build cannot fetch it",
            basis=["card"], paths=[path]))
        return out[-1], 0.0
    elif entry is None and avail != "public":
        out.append(ctx.finding(
            "CR105", "warning",
            f"dataset `{name}` is not in the registry: its source, licence and availability "
            f"are unknown",
            lines=lines, action="add it to cardrepro/data/datasets.yaml with its hub id, or ask "
                                "the authors where it comes from",
            basis=[REG], paths=[path]))
        return out[-1], 0.0
    return None, 1.0


def _stage_availability(ctx):
    """Datasets named per training stage (multi-stage cards): internal or unreleased ones."""
    out = []
    seen = {d["name"] for _, d in ctx.datasets()}
    for si, di, d in ctx.stage_datasets():
        name = d["name"]
        if name in seen:
            continue
        path = f"stages[{si}].datasets[{di}]"
        key, entry = C.registry_entry(name)
        avail = (d.get("availability") or (entry or {}).get("availability") or "").lower()
        text = " ".join(str(d.get(k) or "") for k in ("name", "text", "description")).lower()
        stage = C.get(ctx.spec, f"stages[{si}].method") or f"stage {si + 1}"
        lines = ctx.lines(path, f"{path}.name", f"{path}.availability") or ctx.lines(f"stages[{si}]")
        if avail == "internal" or any(m in text for m in ("internal", "内部", "內部")):
            out.append(ctx.finding(
                "CR101", "error",
                f"{stage} data `{name}` is internally collected: it cannot be obtained",
                lines=lines, action="leave it out or replace it with a public set of the same kind; "
                                    "ask the authors for the data",
                basis=["card"] + ([REG] if entry else []), paths=[path]))
        elif avail == "unreleased":
            out.append(ctx.finding(
                "CR104", "error",
                f"{stage} data `{name}` was not released and has no published substitute",
                lines=lines, action="ask the authors to publish it",
                basis=[REG], paths=[path]))
    return out


# ----------------------------------------------------------------------------- licences
def _licences(ctx):
    out = []
    model_lic_text = ctx.get("licence")
    model_lic = _licence_id(model_lic_text)
    model_cls = _classes(model_lic)
    markers = [m.lower() for m in C.rules().get("terms_markers") or []]
    lic_lines = ctx.lines("licence")
    restricted_unknown_model = []
    for i, d in ctx.datasets():
        key, entry = C.registry_entry(d["name"])
        if not entry:
            continue
        if (d.get("availability") or entry.get("availability")) == "internal":
            continue
        path = f"datasets[{i}]"
        lic = (entry.get("licence") or "").lower()
        cls = _classes(lic)
        notes = entry.get("licence_notes") or ""
        name = d["name"]
        restrictions = []
        if "nc" in cls:
            restrictions.append("non-commercial")
        if "nd" in cls:
            restrictions.append("no derivatives")
        if restrictions:
            if model_lic_text is None:
                restricted_unknown_model.append((name, lic, path))
            elif "nc" not in model_cls or "nd" in cls:
                out.append(ctx.finding(
                    "CR110", "warning",
                    f"dataset `{name}` is {lic.upper()} ({', '.join(restrictions)}) but the model is "
                    f"released under {model_lic or model_lic_text}, which carries no such restriction",
                    lines=ctx.lines(path) + lic_lines,
                    action=f"drop `{name}` for a release under {model_lic or model_lic_text}, or "
                           f"release the reproduction under terms compatible with {lic.upper()}",
                    basis=["card", REG], paths=[path, "licence"]))
        elif "sa" in cls and model_lic and "sa" not in model_cls:
            out.append(ctx.finding(
                "CR113", "info",
                f"dataset `{name}` is {lic.upper()} (share-alike) and the model licence is "
                f"{model_lic}: check whether share-alike terms reach the weights",
                lines=ctx.lines(path) + lic_lines, action="note the dataset licence in the release",
                basis=["card", REG], paths=[path, "licence"]))
        if any(m in notes.lower() for m in markers):
            out.append(ctx.finding(
                "CR111", "warning",
                f"dataset `{name}` carries third-party terms: {notes}",
                lines=ctx.lines(path),
                action="check the terms of use of the generating service before releasing "
                       "weights trained on it",
                basis=[REG], paths=[path]))
    if restricted_unknown_model:
        names = ", ".join(f"`{n}` ({l.upper()})" for n, l, _ in restricted_unknown_model)
        out.append(ctx.finding(
            "CR112", "warning",
            f"the card states no model licence, and the mix has restricted data: {names}",
            lines=[ln for _, _, p in restricted_unknown_model for ln in ctx.lines(p)],
            action="ask the authors for the licence; a release must respect the most restrictive "
                   "dataset licence",
            basis=["card", REG], paths=[p for _, _, p in restricted_unknown_model]))
    return out


# ----------------------------------------------------------------------------- trainer options
def _custom_sampler(ctx):
    for path in ("trainer.options.use_custom_sampler", "training.use_custom_sampler"):
        v = ctx.get(path)
        if v is not None:
            return bool(v), path
    return False, None


def _trainer_options(ctx):
    out = []
    profile = (C.rules().get("trainer_options") or {}).get(ctx.trainer or "")
    if not profile:
        return out
    src = f"trainer docs: {profile.get('source')}"
    mts = profile.get("max_train_set") or {}
    sampler, sampler_path = _custom_sampler(ctx)
    sampler_lines = ctx.lines(sampler_path) if sampler_path else []
    cap = profile.get("translation_cap")
    for i, d in ctx.datasets():
        opts = d.get("options") or {}
        name = d["name"]
        path = f"datasets[{i}]"
        if "max_train_set" in opts:
            v = opts["max_train_set"]
            lines = ctx.lines(f"{path}.options.max_train_set") or ctx.lines(path)
            if C.matches(name, mts.get("rejected_for")):
                out.append(ctx.finding(
                    "CR120", "error",
                    f"`{name}`: max_train_set is {mts.get('note')}; this loader forwards unknown "
                    f"options, so the trainer stops with a TypeError",
                    lines=lines, action="drop the option, or cap the dataset in the build's loader "
                                        f"(first {v} rows) and record it",
                    basis=["card", src], paths=[f"{path}.options.max_train_set"]))
            else:
                capped = (f" (the loader reads up to {cap:,} pairs)"
                          if cap and C.matches(name, [p + "*" for p in profile.get("translation_prefixes") or []])
                          else "")
                out.append(ctx.finding(
                    "CR120", "warning",
                    f"`{name}`: max_train_set {v} is {mts.get('note')}; the {ctx.trainer} loader "
                    f"ignores it silently, so upstream code trains on the whole set{capped}",
                    lines=lines,
                    action=f"the build applies the cap explicitly ({v} rows, as the card intends) "
                           f"and records it; running upstream code gives a different mix",
                    basis=["card", src], paths=[f"{path}.options.max_train_set"]))
        if not sampler:
            for opt in profile.get("sampler_only") or []:
                if opt not in opts:
                    continue
                v = opts[opt]
                lines = (ctx.lines(f"{path}.options.{opt}") or ctx.lines(path)) + sampler_lines
                no_effect = opt == "fraction" and isinstance(v, (int, float)) and float(v) == 1.0
                out.append(ctx.finding(
                    "CR121", "info" if no_effect else "warning",
                    f"`{name}`: {opt} {v} is read only by the custom sampler, and "
                    f"use_custom_sampler is {'false' if sampler_path else 'unset (default false)'}: "
                    f"the option is ignored" + (" (1.0 would use the whole set anyway)" if no_effect else ""),
                    lines=lines,
                    action=("nothing to do" if no_effect else
                            f"set use_custom_sampler true to apply {opt}, or drop it; the build "
                            f"follows the trainer and ignores it"),
                    basis=["card", src], paths=[f"{path}.options.{opt}"]))
    return out


# ----------------------------------------------------------------------------- metadata
def _tokens(name):
    return {t for t in re.split(r"[^a-z0-9]+", str(name).lower()) if len(t) >= 3}


def _metadata(ctx):
    out = []
    meta = ctx.get("metadata_datasets") or []
    if not meta:
        return out
    mix = []
    for i, d in ctx.datasets():
        key, entry = C.registry_entry(d["name"])
        mix.append((i, d["name"], key, entry or {}))
    mix_keys = {k for _, _, k, _ in mix if k}
    subs = {C.registry_key(e.get("substitute")): (i, n) for i, n, _, e in mix if e.get("substitute")}
    for j, m in enumerate(meta):
        mname = m.get("name") if isinstance(m, dict) else m
        if not mname:
            continue
        path = f"metadata_datasets[{j}]"
        key, entry = C.registry_entry(mname)
        lines = ctx.lines(path)
        if key and key in mix_keys:
            continue
        if key and key in subs:
            i, n = subs[key]
            out.append(ctx.finding(
                "CR132", "info",
                f"metadata lists `{mname}`; the mix reads `{n}`, an unpublished export that "
                f"{mname} is the published form of",
                lines=lines + ctx.lines(f"datasets[{i}]"), action="nothing to do",
                basis=["card", REG], paths=[path, f"datasets[{i}]"]))
            continue
        kind = (entry or {}).get("kind")
        if entry and kind and kind != "text":
            mt = _tokens(mname)
            related = [(i, n, e) for i, n, _, e in mix
                       if any(a.startswith(b) or b.startswith(a)
                              for a in mt for b in _tokens(n) | _tokens(e.get("hub_id") or ""))]
            rel = ""
            if related:
                names = ", ".join(f"`{n}`" for _, n, _ in related)
                hubs = sorted({e.get("hub_id") for _, _, e in related if e.get("hub_id")})
                kinds = sorted({e.get("kind") or "text" for _, _, e in related})
                rel = (f"; the mix's {names} are {'/'.join(kinds)} data"
                       + (f" from {', '.join(hubs)}" if hubs else ""))
            out.append(ctx.finding(
                "CR131", "warning",
                f"metadata lists `{mname}`, a {kind} dataset, which no text-SFT mix can read{rel}",
                lines=lines + [ln for i, _, _ in related for ln in ctx.lines(f"datasets[{i}]")],
                action=f"treat `{mname}` as a wrong attribution; the build uses the mix "
                       f"({', '.join(n for _, n, _ in related) or 'as stated'})",
                basis=["card", REG], paths=[path]))
            continue
        out.append(ctx.finding(
            "CR130", "warning",
            f"metadata lists `{mname}`, which is not in the training mix",
            lines=lines + ctx.lines("datasets"),
            action="the build trains on the mix as stated; ask the authors whether an earlier or "
                   "later mix used it",
            basis=["card"] + ([REG] if entry else []), paths=[path]))
    return out
