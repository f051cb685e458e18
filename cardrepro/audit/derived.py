"""CR4xx: facts the card implies, each with its arithmetic (global batch, steps per epoch,
tokens seen, the world size the card's numbers imply)."""
from __future__ import annotations

from cardrepro.audit import context as C
from cardrepro.estimate.memory import fmt_b


def check(ctx):
    out = []
    d = ctx.derived
    micro = ctx.get("training.per_device_train_batch_size")
    ga = ctx.get("training.gradient_accumulation_steps") or 1
    world = d.world
    max_len = ctx.get("training.max_length")
    rel = ctx.get("model.released") if isinstance(ctx.get("model.released"), dict) else {}
    n_train, n_deriv = d.train_rows, list(d.train_derivation)
    n_lines = ctx.lines("datasets") if n_train else []
    batch_lines = ctx.lines("training.per_device_train_batch_size",
                            "training.gradient_accumulation_steps")
    world_source = "implied" if d.implied else "stated" if world else None

    # CR404: world size implied by the stated steps per epoch and the mix size
    if d.implied:
        best = d.implied["world"]
        out.append(ctx.finding(
            "CR404", "info",
            f"the card's numbers imply about {best} GPUs: {rel['steps']} steps in {rel['epochs']} "
            f"epochs over about {n_train:,} training rows at {micro}x{ga} samples per GPU and step",
            lines=ctx.lines("model.released") + batch_lines + n_lines,
            action=f"the build sets the world size to {best} for the global batch; ask the authors "
                   f"to confirm",
            basis=["card", "derived", f"trainer docs: {C.trainer_doc(ctx.trainer, 'steps_per_epoch')}"],
            derivation=list(d.implied["derivation"]), paths=["training.num_gpus"],
            data={"world_size": best, "estimate": round(d.implied["estimate"], 3), "train_rows": n_train}))

    # CR401: global batch
    if micro:
        if world:
            gb = d.global_batch
            out.append(ctx.finding(
                "CR401", "info",
                f"global batch = {gb} sequences ({micro} per GPU x {ga} accumulation x {world} GPUs"
                f"{', implied' if world_source == 'implied' else ''})",
                lines=batch_lines + ctx.lines("training.num_gpus"),
                action="nothing to do", basis=["card", "derived"],
                derivation=[f"{micro} * {ga} * {world} = {gb}"],
                paths=["training.total_train_batch_size"], data={"global_batch": gb}))
        else:
            out.append(ctx.finding(
                "CR401", "info",
                f"global batch = {micro * ga} x world size sequences ({micro} per GPU x {ga} "
                f"accumulation); the world size is not stated",
                lines=batch_lines, action="see CR210 for the world size the build assumes",
                basis=["card", "derived"], derivation=[f"{micro} * {ga} = {micro * ga} per GPU"],
                paths=["training.total_train_batch_size"], data={"per_gpu_batch": micro * ga}))

    # CR402: optimizer steps per epoch
    if d.steps_per_epoch is not None:
        spe = d.steps_per_epoch
        epochs = ctx.get("training.num_train_epochs")
        deriv = list(n_deriv) + [f"steps per epoch = floor(ceil(N / world / micro) / GA) = "
                                 f"floor(ceil({n_train:,} / {world} / {micro}) / {ga}) = {spe:,}"]
        if epochs:
            deriv.append(f"total = {spe:,} * {epochs} epochs = {spe * epochs:,} optimizer steps")
        warm = ctx.get("training.warmup_steps")
        if warm and epochs and spe:  # spe is 0 when one global batch holds more rows than the data
            deriv.append(f"warmup {warm} steps = {warm / (spe * epochs):.1%} of the schedule")
        out.append(ctx.finding(
            "CR402", "info",
            f"about {spe:,} optimizer steps per epoch" + (f", {spe * epochs:,} in {epochs} epochs" if epochs else ""),
            lines=n_lines + batch_lines, action="nothing to do",
            basis=["card", "derived", f"trainer docs: {C.trainer_doc(ctx.trainer, 'steps_per_epoch')}"],
            derivation=deriv, paths=["datasets", "training.num_train_epochs"],
            data={"steps_per_epoch": spe, "train_rows": n_train}))
    elif ctx.datasets() and n_deriv and not n_train:
        out.append(ctx.finding(
            "CR402", "info", "optimizer steps per epoch cannot be derived: " + n_deriv[0],
            lines=[], action="nothing to do; the run computes it from the data it loads",
            basis=["derived"], paths=["datasets"]))

    # CR403: tokens seen (upper bound: every sequence at max_length)
    if d.tokens_upper:
        gb, steps, tokens = d.global_batch, d.tokens_steps, d.tokens_upper
        which = "the released checkpoint" if rel.get("steps") else "the full schedule"
        out.append(ctx.finding(
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
            out.append(ctx.finding(
                "CR405", "info",
                f"stage {si + 1} ({st.get('method')}): {fmt_b(st['tokens'])} tokens at "
                f"{fmt_b(st['batch_tokens'])} tokens per batch = about {steps_s:,.0f} optimizer steps",
                lines=ctx.lines(f"stages[{si}].tokens", f"stages[{si}].batch_tokens"),
                action="nothing to do", basis=["card", "derived"],
                derivation=[f"{st['tokens']:.4g} / {st['batch_tokens']:.4g} = {steps_s:,.0f}"],
                paths=[f"stages[{si}].tokens"]))
    return out
