"""CR5xx: parameter counts, per-GPU memory, compute and GPU-hours, and checks of the card's own
cost claims. Formulas and their assumptions: cardrepro/audit/memory.py."""
from __future__ import annotations

import re

from cardrepro import assume
from cardrepro.audit import context as C
from cardrepro.estimate import memory as M
from cardrepro.estimate.memory import fmt_b, fmt_gb

CFG = "model configs (cardrepro/data/model_configs.yaml)"


def gpu_spec(text):
    if not text:
        return None, None
    gpus = C.rules().get("gpus") or {}
    compact = re.sub(r"[^a-z0-9]", "", str(text).lower())
    for key in sorted(gpus, key=len, reverse=True):
        if re.sub(r"[^a-z0-9]", "", key.lower()) in compact:
            return key, gpus[key]
    return None, None


def _lora_trainable(cfg, bd, r, targets):
    h, inter, L = bd["hidden_size"], bd["intermediate_size"], bd["layers"]
    heads = int(cfg.get("num_attention_heads") or 1)
    kv = int(cfg.get("num_key_value_heads") or heads) * (h // heads)
    dims = {
        "query_key_value": (h, 3 * h), "dense": (h, h), "dense_h_to_4h": (h, inter),
        "dense_4h_to_h": (inter, h), "q_proj": (h, h), "k_proj": (h, kv), "v_proj": (h, kv),
        "o_proj": (h, h), "gate_proj": (h, inter), "up_proj": (h, inter), "down_proj": (inter, h),
    }
    total, parts = 0, []
    for t in targets:
        if t not in dims:
            return None, [f"unknown target module {t!r}"]
        i, o = dims[t]
        n = r * (i + o) * L
        parts.append(f"{t}: r*(in+out)*L = {r}*({i}+{o})*{L} = {n:,}")
        total += n
    return total, parts


def check(ctx):
    out = []
    canon, cfg, how = assume.model_config(ctx.spec)
    if not cfg:
        if ctx.base_model():
            out.append(ctx.finding(
                "CR509", "info",
                f"no architecture config for `{ctx.base_model()}`: parameter count, memory and "
                f"compute are not computed",
                lines=ctx.lines("base_model.name"),
                action="add the model's config.json values to cardrepro/data/model_configs.yaml",
                basis=[CFG], paths=["base_model.name"]))
        out += _claims(ctx, None, None)
        return out
    vocab = ctx.get("tokenizer.vocab_size")
    bd = M.param_breakdown(cfg, vocab_size=vocab)
    N = bd["total"]
    note = []
    if vocab and int(vocab) != int(cfg["vocab_size"]):
        note.append(f"vocabulary {int(vocab):,} stated by the card (config: {cfg['vocab_size']:,})")
    out.append(ctx.finding(
        "CR501", "info",
        f"`{canon}` has {fmt_b(N)} parameters ({N:,})"
        + (f", with the {note[0]}" if note else "")
        + (" (size assumed: see CR202)" if how == "assumed" else ""),
        lines=ctx.lines("base_model.name", "tokenizer.vocab_size"), action="nothing to do",
        basis=[CFG] + (["card"] if note else []), derivation=bd["formula"],
        paths=["base_model.name"], data={"params": N, "model": canon}))
    out += _memory(ctx)
    out += _compute(ctx, N)
    out += _claims(ctx, cfg, bd)
    return out


# ----------------------------------------------------------------------------- memory
WORLD_HOW = {"stated": "stated", "implied": "implied by the card's numbers (CR404)"}


def _memory(ctx):
    plan = ctx.derived.memory
    if not plan:
        return []
    cfg, bd, micro, seq, act, flash = plan["cfg"], plan["breakdown"], plan["micro"], plan["seq"], plan["act"], plan["flash"]
    gc_on = plan["gc"]
    heads = int(cfg["num_attention_heads"])
    act_deriv = [
        f"activations per layer = s*b*(15h + 4I) + {'0 (flash attention)' if flash else '5*a*s^2*b'} "
        f"= {seq}*{micro}*(15*{bd['hidden_size']} + 4*{bd['intermediate_size']})"
        + ("" if flash else f" + 5*{heads}*{seq}^2*{micro}") + f" = {fmt_gb(act[False]['per_layer'])}",
        f"logits s*b*V*6 = {seq}*{micro}*{bd['vocab_size']}*6 = {fmt_gb(act[False]['logits'])}",
        f"without checkpointing: L*per_layer + logits = {fmt_gb(act[False]['total'])}",
        f"with checkpointing: L*2*s*b*h + per_layer + logits = {fmt_gb(act[True]['total'])}",
    ]
    if plan["lora"]:
        return _lora_memory(ctx, cfg, bd, act, plan["assumed"] + act_deriv, gc_on, micro, seq)
    N = bd["total"]
    stage, world = plan["stage"], plan["world"]
    wsrc = WORLD_HOW.get(plan["world_how"]) or f"assumed: {plan['world_source'] or 'build default'}"
    deriv = [f"N = {N:,}; world W = {world} ({wsrc}); bytes/param: weights 2, gradients 6 at "
             f"ZeRO-1/2 (16-bit + fp32) or 4 at ZeRO-3, optimizer 12 (fp32 master + Adam m, v) "
             f"[DeepSpeed estimator accounting]; plain data parallel 2 + 2 + 12"]
    data_rows = [dict(r) for r in plan["rows"]]
    rows = [_row_text(r) for r in data_rows]
    first = data_rows[0]
    ms_total = first["weights"] + first["gradients"] + first["optimizer"] + first["buffer"]
    as_card = first["activations_gc"] if gc_on else first["activations_no_gc"]
    lines = ctx.lines("deepspeed.stage", "training.per_device_train_batch_size", "training.max_length",
                      "training.gradient_checkpointing")
    return [ctx.finding(
        "CR502", "info",
        f"per-GPU memory at {'ZeRO-' + str(stage) if stage is not None else 'no stated ZeRO stage'} "
        f"on {world} GPUs, micro batch {micro}, {seq} tokens: {fmt_gb(ms_total)} model states + "
        f"{fmt_gb(as_card)} activations ({'with' if gc_on else 'without'} gradient checkpointing, "
        f"as the card sets{', flash attention' if flash else ''}) = {fmt_gb(ms_total + as_card)}",
        lines=lines, action="see the table in the derivation for offload and checkpointing variants",
        basis=["card", CFG, "derived"], derivation=deriv + rows + act_deriv,
        paths=["deepspeed.stage"], data={"rows": data_rows, "world": world})]


def _row_text(r):
    states = r["weights"] + r["gradients"] + r["optimizer"] + r["buffer"]
    return (f"ZeRO-{r['stage']} {r['offload']}: weights {fmt_gb(r['weights'])}, gradients "
            f"{fmt_gb(r['gradients'])}, optimizer {fmt_gb(r['optimizer'])}"
            + (f", gathered-layer buffer {fmt_gb(r['buffer'])}" if r["buffer"] else "")
            + f" = {fmt_gb(states)} model states; + activations "
              f"{fmt_gb(r['activations_gc'])} with / {fmt_gb(r['activations_no_gc'])} without "
              f"checkpointing = {fmt_gb(states + r['activations_gc'])} / {fmt_gb(states + r['activations_no_gc'])}")


def _lora_memory(ctx, cfg, bd, act, act_deriv, gc_on, micro, seq):
    out = []
    N = bd["total"]
    r, r_assumed = assume.lora(ctx.spec, "r")
    r_src = "assumed (PEFT default)" if r_assumed else "card"
    targets, t_assumed = assume.lora(ctx.spec, "target_modules")
    t_src = "assumed (PEFT default for the architecture)" if t_assumed else "card"
    if isinstance(targets, str):
        targets = [targets]
    trainable, parts = _lora_trainable(cfg, bd, int(r), targets)
    if trainable is None:
        return out
    frac = trainable / (N + trainable)
    int8 = bool(ctx.get("quantization.load_in_8bit"))
    base_bytes = (bd["linear"] * 1 + (N - bd["linear"]) * 2) if int8 else 2 * N
    adapter = M.BYTES_ADAPTER * trainable
    states = base_bytes + adapter
    as_card = act[True]["total"] if gc_on else act[False]["total"]
    deriv = [f"r = {r} ({r_src}); targets {targets} ({t_src})"] + parts + [
        f"trainable fraction = {trainable:,} / ({N:,} + {trainable:,}) = {frac:.4%}",
        (f"int8 base: linear weights {bd['linear']:,}*1 B + other {N - bd['linear']:,}*2 B = {fmt_gb(base_bytes)}"
         if int8 else f"16-bit base: 2*N = {fmt_gb(base_bytes)}"),
        f"adapter: {M.BYTES_ADAPTER} B per trainable parameter (fp32 weight, grad, Adam m, v) = {fmt_gb(adapter)}",
    ] + act_deriv
    out.append(ctx.finding(
        "CR504", "info",
        f"LoRA r={r} on {', '.join(targets)} trains {trainable:,} of {fmt_b(N)} parameters "
        f"({frac:.3%}); {'8-bit' if int8 else '16-bit'} base {fmt_gb(base_bytes)} + adapter states "
        f"{fmt_gb(adapter)} + activations {fmt_gb(as_card)} (micro batch {micro}, {seq} tokens, "
        f"{'with' if gc_on else 'without'} checkpointing) = {fmt_gb(states + as_card)} per GPU",
        lines=ctx.lines("peft.r", "peft.target_modules", "quantization.load_in_8bit"),
        action="nothing to do", basis=["card", CFG, "derived"], derivation=deriv,
        paths=["peft.r", "peft.target_modules", "quantization.load_in_8bit"],
        data={"trainable": trainable, "fraction": frac, "base_bytes": base_bytes}))
    return out


# ----------------------------------------------------------------------------- compute
def _compute(ctx, N):
    tokens = ctx.derived.tokens_upper
    if not tokens:
        return []
    rules = C.rules()
    gkey = rules.get("assumed_gpu", "A100-80GB")
    peak = (rules.get("gpus") or {}).get(gkey, {}).get("peak_tflops", 312)
    util = float(rules.get("assumed_utilisation", 0.4))
    flops = M.train_flops(N, tokens)
    flops_gc = M.train_flops(N, tokens, recompute=True)
    eff = peak * util
    hours = M.gpu_seconds(flops, eff) / 3600
    hours_gc = M.gpu_seconds(flops_gc, eff) / 3600
    gc_on = bool(ctx.get("training.gradient_checkpointing"))
    return [ctx.finding(
        "CR505", "info",
        f"compute: 6*N*D = {flops:.3g} FLOPs for at most {fmt_b(tokens)} tokens = {hours:,.0f} "
        f"{gkey} GPU-hours at {util:.0%} utilisation"
        + (f" ({hours_gc:,.0f} with the recomputation gradient checkpointing adds)" if gc_on else ""),
        lines=ctx.lines("model.released", "training.max_length"),
        action="an upper bound: padded positions are counted as tokens",
        basis=["derived", f"assumed: {gkey} dense 16-bit peak {peak} TFLOP/s, {util:.0%} utilisation "
                          f"(cardrepro/data/audit_rules.yaml)"],
        derivation=[f"6 * {N:,} * {tokens:,} = {flops:.4g}",
                    f"{flops:.4g} / ({peak} TFLOP/s * {util}) / 3600 = {hours:,.1f} GPU-hours",
                    f"with recomputation 8*N*D: {flops_gc:.4g} FLOPs = {hours_gc:,.1f} GPU-hours"],
        paths=["training"], data={"flops": flops, "gpu_hours": hours})]


def _claims(ctx, cfg, bd):
    """CR510/CR511: the card's own cost statements per stage against 6*N*D."""
    out = []
    N = bd["total"] if bd else None
    for si, st in enumerate(ctx.get("stages") or []):
        if not isinstance(st, dict):
            continue
        p = f"stages[{si}]"
        tokens, gpus, tf, days = st.get("tokens"), st.get("num_gpus"), st.get("tflops_per_gpu"), st.get("duration_days")
        gname, gspec = gpu_spec(st.get("gpu"))
        lines = ctx.lines(p, f"{p}.tokens", f"{p}.num_gpus", f"{p}.tflops_per_gpu", f"{p}.duration_days",
                          f"{p}.gpu")
        label = st.get("method") or f"stage {si + 1}"
        if tf and gspec and float(tf) > gspec["peak_tflops"]:
            out.append(ctx.finding(
                "CR511", "warning",
                f"{label}: {tf} TFLOP/s per GPU exceeds the {gname} dense 16-bit peak of "
                f"{gspec['peak_tflops']} TFLOP/s",
                lines=lines, action="ask the authors how the throughput was measured",
                basis=["card", "GPU data sheet (cardrepro/data/audit_rules.yaml)"], paths=[p]))
        if N and tokens and gpus and tf:
            flops = M.train_flops(N, tokens)
            flops_r = M.train_flops(N, tokens, recompute=True)
            rate = float(gpus) * float(tf) * 1e12
            d6 = flops / rate / 86400
            d8 = flops_r / rate / 86400
            deriv = [f"N = {N:,} ({fmt_b(N)}, CR501); D = {tokens:.4g} tokens",
                     f"6*N*D = {flops:.4g} FLOPs; {gpus} GPUs * {tf} TFLOP/s = {rate:.4g} FLOP/s",
                     f"6ND / rate = {flops / rate:,.0f} s = {d6:.2f} days",
                     f"with activation recomputation 8ND: {d8:.2f} days"]
            if gspec:
                deriv.append(f"utilisation implied: {tf} / {gspec['peak_tflops']} = "
                             f"{float(tf) / gspec['peak_tflops']:.1%} of the {gname} peak")
            if days:
                deriv.append(f"stated {days} days => {d6 / float(days):.0%} of the wall time at the "
                             f"stated throughput (6ND), {d8 / float(days):.0%} (8ND)")
                ok = float(days) >= d6 * 0.95
                out.append(ctx.finding(
                    "CR510", "info" if ok else "warning",
                    f"claim check, {label}: {fmt_b(tokens)} tokens on {fmt_b(N)} parameters at {tf} "
                    f"TFLOP/s per GPU on {gpus} GPUs takes {d6:.1f} days by 6ND ({d8:.1f} with "
                    f"recomputation) vs the {days} days stated: "
                    + ("consistent" if ok else "the stated time is too short for the stated throughput"),
                    lines=lines,
                    action="nothing to do" if ok else "ask the authors which of tokens, GPUs, "
                                                      "throughput or days is wrong",
                    basis=["card", CFG, "derived"], derivation=deriv, paths=[p],
                    data={"days_6nd": d6, "days_8nd": d8, "days_stated": days}))
            else:
                out.append(ctx.finding(
                    "CR505", "info",
                    f"compute, {label}: 6*N*D = {flops:.3g} FLOPs = {d6:.1f} days on {gpus} GPUs "
                    f"at the stated {tf} TFLOP/s", lines=lines, action="nothing to do",
                    basis=["card", CFG, "derived"], derivation=deriv, paths=[p]))
        if N and gpus and gspec and cfg and not ctx.get("deepspeed.stage"):
            mem = gspec["memory_gb"] * 1e9
            full = M.model_states(N, 0, 1)["total"]   # unsharded: 16 bytes per parameter
            z3_world = max(1, -(-int(18 * N) // int(mem - 4 * bd["largest_layer"])))
            z3_at = M.model_states(N, 3, int(gpus), largest_layer_params=bd["largest_layer"])["total"]
            out.append(ctx.finding(
                "CR503", "info",
                f"{label}: {fmt_b(N)} parameters need {fmt_gb(full)} of model states unsharded, more "
                f"than one {gname} ({gspec['memory_gb']} GB); the card states no sharding, so some "
                f"was used (ZeRO-3 over its {gpus} GPUs: {fmt_gb(z3_at)} per GPU)",
                lines=lines, action="ask the authors for the parallelism (ZeRO stage, tensor/pipeline "
                                    "parallel); the build assumes ZeRO-3",
                basis=["card", CFG, "derived"],
                derivation=[f"unsharded mixed-precision Adam: 16 B/param (2 weights + 2 grads + 12 "
                            f"optimizer) * {N:,} = {fmt_gb(full)}",
                            f"ZeRO-3 needs W >= 18N / (M - 4*largest layer) = {fmt_gb(18 * N)} / "
                            f"{fmt_gb(mem - 4 * bd['largest_layer'])} => W >= {z3_world}",
                            f"ZeRO-3 on {gpus} GPUs: 18N/W + 4*largest layer = {fmt_gb(z3_at)}"],
                paths=[p]) if full > mem else None)
    return [f for f in out if f]
