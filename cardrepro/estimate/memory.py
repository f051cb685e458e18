"""Parameter counts, per-GPU training memory and compute, from an architecture config alone.

Pure arithmetic, no torch. Every function returns numbers plus the arithmetic as text lines so
that findings can show their derivation.

Model states (bytes per parameter) follow DeepSpeed's own estimator accounting
(`estimate_zero2_model_states_mem_needs` / `estimate_zero3_model_states_mem_needs`, 0.19):
  weights     2  (16-bit parameters)
  gradients   6 at ZeRO-1/2 (2 for 16-bit gradients + 4 for fp32 gradients: DeepSpeed's
              2 + 18/W), 4 at ZeRO-3 (DeepSpeed's ZeRO-3 estimator counts 18/W in all)
  optimizer  12  (fp32 master parameters 4 + Adam momentum 4 + variance 4)
ZeRO-2 shards gradients and optimizer states over the world size W, ZeRO-3 also the weights
and adds a buffer of 4 bytes x the largest layer (the gathered layer). Plain data parallel
(stage 0) is the classic 16 bytes/param: 2 weights + 2 gradients + 12 optimizer. Offload moves the
optimizer states and the fp32 gradients (and with ZeRO-3 parameter offload the 16-bit weights)
to CPU memory, as DeepSpeed's estimator does.

Activations (bytes, 16-bit training), after Korthikanti et al. 2022, "Reducing Activation
Recomputation in Large Transformer Models", eq. 1, generalised to an MLP of width I:
  per layer  s*b*(15*h + 4*I) + 5*a*s^2*b     (= s*b*h*(34 + 5*a*s/h) when I = 4h)
the 5*a*s^2*b term (attention scores, softmax, dropout mask) is dropped with flash attention;
with gradient checkpointing only each layer's input is kept (2*s*b*h per layer) plus one
layer's full activations while it is recomputed. The output layer adds s*b*V*6 bytes (16-bit
logits and their fp32 copy for the loss). Not counted: temporary buffers, allocator
fragmentation, the CUDA context.
"""
from __future__ import annotations


GB = 1e9   # reports use decimal GB, like DeepSpeed's estimator tables


def fmt_int(n):
    return f"{int(round(n)):,}"


def fmt_b(n):
    """1.23B / 456.8M / 12.3k"""
    n = float(n)
    for unit, div in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return f"{n:.0f}"


def fmt_gb(nbytes):
    return f"{nbytes / GB:.2f} GB"


# --------------------------------------------------------------------------- parameter counts
def param_breakdown(cfg, vocab_size=None):
    """Parameters of a decoder-only model from its config.

    Returns {total, embedding, per_layer, layers, final_norm, lm_head, largest_layer,
    linear (params in nn.Linear weights+biases of the blocks), formula: [str]}.
    `vocab_size` overrides the config's (a card's extended vocabulary).
    """
    mt = cfg["model_type"]
    h = int(cfg["hidden_size"])
    L = int(cfg["num_hidden_layers"])
    inter = int(cfg.get("intermediate_size") or 4 * h)
    V = int(vocab_size or cfg["vocab_size"])
    tied = bool(cfg.get("tie_word_embeddings", False))
    lines = []
    if mt in ("bloom", "gpt_neox"):
        # qkv h*3h+3h, dense h*h+h, mlp h*I+I and I*h+h, two layernorms 2*2h
        attn = h * 3 * h + 3 * h + h * h + h
        mlp = h * inter + inter + inter * h + h
        norms = 4 * h
        per_layer = attn + mlp + norms
        emb_norm = 2 * h if mt == "bloom" else 0   # BLOOM's word_embeddings_layernorm
        embedding = V * h + emb_norm
        final_norm = 2 * h
        lm_head = 0 if tied else V * h
        emb_name, head_name = ("word_embeddings", "lm_head") if mt == "bloom" else ("embed_in", "embed_out")
        lines.append(f"{mt}: per layer = 4h^2+4h (attention) + 2hI+I+h (MLP) + 4h (norms) "
                     f"= {fmt_int(per_layer)} with h={h}, I={inter}")
        lines.append(f"{emb_name} V*h{' + 2h (its layernorm)' if emb_norm else ''} = {V}*{h}"
                     f"{f' + {emb_norm}' if emb_norm else ''} = {fmt_int(embedding)}; {head_name} "
                     f"{'tied' if tied else f'V*h = {fmt_int(V * h)}'}; final norm 2h = {final_norm}")
        biggest_linear = max(h * 3 * h + 3 * h, h * inter + inter)
        linear = (attn + mlp) * L
    elif mt == "llama":
        heads = int(cfg["num_attention_heads"])
        kv = int(cfg.get("num_key_value_heads") or heads)
        head_dim = h // heads
        attn = h * h * 2 + 2 * h * kv * head_dim       # q, o + k, v
        mlp = 3 * h * inter
        norms = 2 * h
        per_layer = attn + mlp + norms
        embedding = V * h
        final_norm = h
        lm_head = 0 if tied else V * h
        lines.append(f"llama: per layer = 4h^2 (q,k,v,o) + 3hI (gate, up, down) + 2h (RMSNorm) "
                     f"= {fmt_int(per_layer)} with h={h}, I={inter}")
        lines.append(f"embed_tokens V*h = {V}*{h} = {fmt_int(embedding)}; lm_head "
                     f"{'tied' if tied else f'V*h = {fmt_int(V * h)}'}; final norm h = {final_norm}")
        biggest_linear = h * inter
        linear = (attn + mlp) * L
    else:
        raise ValueError(f"no parameter formula for model_type {mt!r}")
    total = embedding + per_layer * L + final_norm + lm_head
    lines.append(f"total = embedding + L*per_layer + final norm + lm_head = {fmt_int(embedding)} + "
                 f"{L}*{fmt_int(per_layer)} + {final_norm} + {fmt_int(lm_head)} = {fmt_int(total)} "
                 f"({fmt_b(total)})")
    largest = max(V * h, biggest_linear)
    return {"total": total, "embedding": embedding, "per_layer": per_layer, "layers": L,
            "final_norm": final_norm, "lm_head": lm_head, "largest_layer": largest,
            "linear": linear, "hidden_size": h, "intermediate_size": inter, "vocab_size": V,
            "formula": lines}


# --------------------------------------------------------------------------- model states
BYTES_WEIGHTS = 2
BYTES_GRADS = 6       # 16-bit grads + fp32 grads (DeepSpeed estimator accounting)
BYTES_OPTIM = 12      # fp32 master + Adam m + v
BYTES_ADAPTER = 16    # a trainable LoRA parameter without ZeRO: fp32 weight, grad, Adam m, v


def model_states(total_params, stage, world, offload_optimizer=False, offload_params=False,
                 largest_layer_params=0):
    """Per-GPU model-state bytes {weights, gradients, optimizer, buffer, total, cpu_note}.

    stage 0 = plain data parallel (no sharding: 16-bit weights and gradients, fp32 master +
    Adam, 16 bytes per parameter); 1 and 2 shard optimizer (and 2 gradients); 3 shards
    everything. The totals equal DeepSpeed's estimator for stages 2 and 3.
    """
    N = total_params
    W = max(1, int(world))
    out = {"weights": 0.0, "gradients": 0.0, "optimizer": 0.0, "buffer": 0.0}
    if stage in (None, 0):
        out.update(weights=BYTES_WEIGHTS * N, gradients=BYTES_WEIGHTS * N, optimizer=BYTES_OPTIM * N)
    elif stage in (1, 2):
        out["weights"] = BYTES_WEIGHTS * N
        if not offload_optimizer:
            out["gradients"] = int(BYTES_GRADS * N / W) if stage == 2 else BYTES_GRADS * N
            out["optimizer"] = int(BYTES_OPTIM * N / W)
            if stage == 2:
                # DeepSpeed rounds the sharded part once: int(18 N / W)
                shard = int((BYTES_GRADS + BYTES_OPTIM) * N / W)
                out["gradients"] = shard - out["optimizer"]
    elif stage == 3:
        out["buffer"] = 4 * largest_layer_params
        if offload_optimizer and offload_params:
            pass
        elif offload_optimizer:
            out["weights"] = int(BYTES_WEIGHTS * N / W)
        else:
            shard = int(18 * N / W)          # DeepSpeed: largest layer + int(18 N / W)
            out["weights"] = BYTES_WEIGHTS * N / W
            out["optimizer"] = BYTES_OPTIM * N / W
            out["gradients"] = shard - out["weights"] - out["optimizer"]
    else:
        raise ValueError(f"unknown ZeRO stage {stage!r}")
    out["total"] = out["weights"] + out["gradients"] + out["optimizer"] + out["buffer"]
    return out


# --------------------------------------------------------------------------- activations
def activations(cfg_or_breakdown, seq_len, micro_batch, num_heads, vocab_size,
                gradient_checkpointing=False, flash_attention=False):
    """Activation bytes per GPU for one micro batch (16-bit)."""
    bd = cfg_or_breakdown
    h = bd["hidden_size"]
    inter = bd["intermediate_size"]
    L = bd["layers"]
    s, b, a = int(seq_len), int(micro_batch), int(num_heads)
    linear_part = s * b * (15 * h + 4 * inter)
    attn_part = 0 if flash_attention else 5 * a * s * s * b
    per_layer = linear_part + attn_part
    logits = s * b * vocab_size * 6
    if gradient_checkpointing:
        total = L * 2 * s * b * h + per_layer + logits
    else:
        total = L * per_layer + logits
    return {"per_layer": per_layer, "logits": logits, "total": total,
            "attention_scores": attn_part}


# --------------------------------------------------------------------------- compute
def train_flops(params, tokens, recompute=False):
    """6*N*D (forward 2ND + backward 4ND); with activation recomputation another forward: 8ND."""
    return (8 if recompute else 6) * params * tokens


def gpu_seconds(flops, tflops_per_gpu):
    return flops / (tflops_per_gpu * 1e12)


# --------------------------------------------------------------------------- ZeRO table
def zero_variants(stage):
    """(stage, label, offload optimizer, offload params) rows: the stated stage, or 0, 2 and 3."""
    out = []
    for s in ([stage] if stage is not None else [0, 2, 3]):
        out.append((s or 0, "no offload", False, False))
        if s in (1, 2, 3):
            out.append((s, "optimizer offload", True, False))
        if s == 3:
            out.append((s, "optimizer+param offload", True, True))
    return out


def zero_rows(total_params, largest_layer, world, stage, act):
    """Per-GPU bytes for each ZeRO/offload variant of full training: [{stage, offload, weights,
    gradients, optimizer, buffer, activations_gc, activations_no_gc}]; `act` maps checkpointing
    on/off to activations() results."""
    rows = []
    for s, label, oo, op in zero_variants(stage):
        ms = model_states(total_params, s, world, oo, op, largest_layer)
        rows.append({"stage": s, "offload": label, "weights": ms["weights"], "gradients": ms["gradients"],
                     "optimizer": ms["optimizer"], "buffer": ms["buffer"],
                     "activations_gc": act[True]["total"], "activations_no_gc": act[False]["total"]})
    return rows
