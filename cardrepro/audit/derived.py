"""CR4xx: facts the card implies, each with its arithmetic (global batch, steps per epoch,
tokens seen, the world size the card's numbers imply)."""
from __future__ import annotations

from cardrepro.audit import context as C
from cardrepro.audit.findings import finding
from cardrepro.audit.memory import fmt_b, fmt_int, steps_per_epoch

WORLD_CANDIDATES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 160, 256, 512)


def _train_size(ctx):
    """Train rows of the mix from the documented per-dataset counts; None unless every dataset
    of the mix has one. Returns (N, derivation lines, lines)."""
    tc = C.rules().get("train_counts") or {}
    counts = tc.get("counts") or {}
    base_v = float(tc.get("val_split", 0.05))
    profile = (C.rules().get("trainer_options") or {}).get(ctx.trainer or "") or {}
    dv = profile.get("default_val_split")
    ds = ctx.datasets()
    if not ds:
        return None, [], []
    total = 0
    parts = []
    deriv = []
    approx = False
    for i, d in ds:
        key = C.registry_key(d["name"]) or d["name"]
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
    return total, deriv, ctx.lines("datasets")


def check(ctx):
    out = []
    micro = ctx.get("training.per_device_train_batch_size")
    ga = ctx.get("training.gradient_accumulation_steps") or 1
    world = ctx.get("training.num_gpus")
    max_len = ctx.get("training.max_length")
    rel = ctx.get("model.released") if isinstance(ctx.get("model.released"), dict) else {}
    spe_stated = None
    if rel.get("steps") and rel.get("epochs"):
        spe_stated = rel["steps"] / rel["epochs"]
    n_train, n_deriv, n_lines = _train_size(ctx)
    batch_lines = ctx.lines("training.per_device_train_batch_size",
                            "training.gradient_accumulation_steps")
    world_source = "stated" if world else None

    # CR404: world size implied by the stated steps per epoch and the mix size
    if not world and spe_stated and n_train and micro:
        est = n_train / (spe_stated * micro * ga)
        best = min(WORLD_CANDIDATES, key=lambda w: abs(steps_per_epoch(n_train, w, micro, ga) - spe_stated))
        got = steps_per_epoch(n_train, best, micro, ga)
        deriv = list(n_deriv) + [
            f"steps per epoch stated: {rel['steps']} / {rel['epochs']} = {spe_stated:g}",
            f"world = N / (steps per epoch * micro batch * accumulation) = {n_train:,} / "
            f"({spe_stated:g} * {micro} * {ga}) = {est:.2f}",
            f"check: world {best}: floor(ceil({n_train:,} / {best} / {micro}) / {ga}) = {got:,} "
            f"steps per epoch vs {spe_stated:g} stated ({(got - spe_stated) / spe_stated:+.1%})",
        ]
        world = best
        world_source = "implied"
        ctx.derived["world_implied"] = best
        out.append(finding(
            "CR404", "info",
            f"the card's numbers imply about {best} GPUs: {rel['steps']} steps in {rel['epochs']} "
            f"epochs over about {n_train:,} training rows at {micro}x{ga} samples per GPU and step",
            lines=ctx.lines("model.released") + batch_lines + n_lines,
            action=f"the build sets the world size to {best} for the global batch; ask the authors "
                   f"to confirm",
            basis=["card", "derived", "trainer docs: oa-trainer-sft.md §2.3, §6.2"],
            derivation=deriv, paths=["training.num_gpus"],
            data={"world_size": best, "estimate": round(est, 3), "train_rows": n_train}))

    # CR401: global batch
    if micro:
        if world:
            gb = micro * ga * world
            ctx.derived["global_batch"] = gb
            out.append(finding(
                "CR401", "info",
                f"global batch = {gb} sequences ({micro} per GPU x {ga} accumulation x {world} GPUs"
                f"{', implied' if world_source == 'implied' else ''})",
                lines=batch_lines + ctx.lines("training.num_gpus"),
                action="nothing to do", basis=["card", "derived"],
                derivation=[f"{micro} * {ga} * {world} = {gb}"],
                paths=["training.total_train_batch_size"], data={"global_batch": gb}))
        else:
            out.append(finding(
                "CR401", "info",
                f"global batch = {micro * ga} x world size sequences ({micro} per GPU x {ga} "
                f"accumulation); the world size is not stated",
                lines=batch_lines, action="see CR210 for the world size the build assumes",
                basis=["card", "derived"], derivation=[f"{micro} * {ga} = {micro * ga} per GPU"],
                paths=["training.total_train_batch_size"], data={"per_gpu_batch": micro * ga}))

    # CR402: optimizer steps per epoch
    if n_train and micro and world:
        spe = steps_per_epoch(n_train, world, micro, ga)
        epochs = ctx.get("training.num_train_epochs")
        ctx.derived["steps_per_epoch"] = spe
        deriv = list(n_deriv) + [f"steps per epoch = floor(ceil(N / world / micro) / GA) = "
                                 f"floor(ceil({n_train:,} / {world} / {micro}) / {ga}) = {spe:,}"]
        if epochs:
            deriv.append(f"total = {spe:,} * {epochs} epochs = {spe * epochs:,} optimizer steps")
        warm = ctx.get("training.warmup_steps")
        if warm and epochs and spe:  # spe is 0 when one global batch holds more rows than the data
            deriv.append(f"warmup {warm} steps = {warm / (spe * epochs):.1%} of the schedule")
        out.append(finding(
            "CR402", "info",
            f"about {spe:,} optimizer steps per epoch" + (f", {spe * epochs:,} in {epochs} epochs" if epochs else ""),
            lines=n_lines + batch_lines, action="nothing to do",
            basis=["card", "derived", "trainer docs: oa-trainer-sft.md §2.3, §6.2"],
            derivation=deriv, paths=["datasets", "training.num_train_epochs"],
            data={"steps_per_epoch": spe, "train_rows": n_train}))
    elif ctx.datasets() and n_deriv and not n_train:
        out.append(finding(
            "CR402", "info", "optimizer steps per epoch cannot be derived: " + n_deriv[0],
            lines=[], action="nothing to do; the run computes it from the data it loads",
            basis=["derived"], paths=["datasets"]))

    # CR403: tokens seen (upper bound: every sequence at max_length)
    gb = ctx.derived.get("global_batch")
    steps = rel.get("steps") if rel.get("steps") else None
    if not steps and ctx.derived.get("steps_per_epoch") and ctx.get("training.num_train_epochs"):
        steps = ctx.derived["steps_per_epoch"] * ctx.get("training.num_train_epochs")
    if gb and steps and max_len:
        tokens = steps * gb * max_len
        ctx.derived["tokens_upper"] = tokens
        ctx.derived["tokens_steps"] = steps
        which = "the released checkpoint" if rel.get("steps") else "the full schedule"
        out.append(finding(
            "CR403", "info",
            f"at most {fmt_b(tokens)} token positions seen by {which} ({steps:,} steps x {gb} "
            f"sequences x {max_len} tokens); real tokens are fewer (shorter samples are padded)",
            lines=ctx.lines("model.released", "training.max_length") + batch_lines,
            action="nothing to do", basis=["card", "derived"],
            derivation=[f"{steps:,} * {gb} * {max_len} = {tokens:,}"],
            paths=["training.max_length"], data={"tokens_upper_bound": tokens}))

    # stage-level token statements (continual pre-training)
    for si, st in enumerate(ctx.get("stages") or []):
        if not isinstance(st, dict):
            continue
        if st.get("tokens") and st.get("batch_tokens"):
            steps_s = st["tokens"] / st["batch_tokens"]
            out.append(finding(
                "CR405", "info",
                f"stage {si + 1} ({st.get('method')}): {fmt_b(st['tokens'])} tokens at "
                f"{fmt_b(st['batch_tokens'])} tokens per batch = about {steps_s:,.0f} optimizer steps",
                lines=ctx.lines(f"stages[{si}].tokens", f"stages[{si}].batch_tokens"),
                action="nothing to do", basis=["card", "derived"],
                derivation=[f"{st['tokens']:.4g} / {st['batch_tokens']:.4g} = {steps_s:,.0f}"],
                paths=[f"stages[{si}].tokens"]))
    return out
