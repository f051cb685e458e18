"""Padding-free batching: the same micro-batches as faithful mode, without padding.

Faithful mode (`rows.Collator`, OA's train collator) right-pads each micro-batch of B rows to a
multiple of 16. Here the same B rows (same sampler, same order) are concatenated into one row of
sum(len) tokens:

  input_ids     (1, N)  the rows back to back, no pad token anywhere
  position_ids  (1, N)  restarting at 0 for every row (rotary / learned positions as if alone)
  labels        (1, N)  each row's labels; the first label of every row is set to -100, so the
                        last token of one row never predicts the first token of the next
  cu_seq_lens_q/k       row boundaries [0, L1, L1+L2, ..., N] (int32) and max_length_q/k, the
                        keyword names transformers' flash-attention varlen path uses

Each row attends only to itself:
  gpt_neox, llama (and any model that dispatches through transformers' AttentionInterface): an
      attention function registered as "cardrepro_varlen" runs causal SDPA once per row
      (cost sum(L_i^2), not N^2; the CPU stand-in for flash-attention's varlen kernel). Its mask
      function returns no mask for unpadded input, so no N x N mask is ever built. Batches with an
      attention_mask (eval with the padding collator, generation) fall back to plain SDPA.
  bloom (eager attention with ALiBi, no attention interface): forward pre-hooks on each block
      replace the causal mask by a block-diagonal one and the ALiBi bias by one whose positions
      restart per row (cost N^2 per head).

Loss: unchanged code path. `cardrepro run` averages the loss per micro-batch (the sum over its
trained targets / their count, `train.average_loss_per_micro_batch`), then over the accumulation
window, as OA does; HF's causal-LM loss shifts labels by one, and the first label of each packed
row is masked, so the same targets are trained in the same micro-batches as in faithful mode and
the per-step losses are the same (tests/test_bench_packing.py checks this to 1e-4).

Use:
    from cardrepro.train import packing
    packing.enable(model)                       # after loading (and after LoRA wrapping)
    collator = packing.PackingCollator()        # instead of rows.Collator(pad_id)
"""
from __future__ import annotations

from cardrepro.train.format import IGNORE
ATTN = "cardrepro_varlen"
_REGISTERED = False


class PackingCollator:
    """Concatenate a micro-batch of rows ({"input_ids", "labels"}) into one unpadded row.
    `tokens` counts the (non-pad) tokens seen, like rows.Collator."""

    def __init__(self, pad_id=None):
        self.pad_id = pad_id          # unused: nothing is padded; kept for a drop-in signature
        self.tokens = 0

    def __call__(self, batch):
        import torch

        ids, labels, pos, cu = [], [], [], [0]
        longest = 0
        for b in batch:
            x, y = list(b["input_ids"]), list(b["labels"])
            L = len(x)
            ids += x
            labels += [IGNORE] + y[1:]          # never a target across a row boundary
            pos += range(L)
            cu.append(cu[-1] + L)
            longest = max(longest, L)
        self.tokens += cu[-1]
        cu_t = torch.tensor(cu, dtype=torch.int32)
        return {
            "input_ids": torch.tensor([ids], dtype=torch.long),
            "labels": torch.tensor([labels], dtype=torch.long),
            "position_ids": torch.tensor([pos], dtype=torch.long),
            "cu_seq_lens_q": cu_t, "cu_seq_lens_k": cu_t,
            "max_length_q": longest, "max_length_k": longest,
        }


# --- attention for models that use transformers' AttentionInterface (gpt_neox, llama) ------------
def varlen_sdpa(module, query, key, value, attention_mask, dropout=0.0, scaling=None, cu_seq_lens_q=None,
                **kwargs):
    """query/key/value: (1, heads, N, head_dim); causal SDPA within each [cu[i], cu[i+1]) span.
    Returns (1, N, heads, head_dim) like transformers' sdpa_attention_forward."""
    import torch
    import torch.nn.functional as F
    from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward

    if cu_seq_lens_q is None or attention_mask is not None or query.shape[0] != 1:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    groups = getattr(module, "num_key_value_groups", 1)
    if groups > 1:
        key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    p = dropout if module.training else 0.0
    cu = cu_seq_lens_q.tolist()
    sizes = [e - s for s, e in zip(cu[:-1], cu[1:])]
    # split, not slicing: the backward of split is one cat; slicing would zero-fill a full-size
    # gradient per row and per tensor
    qs, ks, vs = (torch.split(t, sizes, dim=2) for t in (query, key, value))
    outs = [F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True, scale=scaling)
            for q, k, v in zip(qs, ks, vs)]
    out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)
    return out.transpose(1, 2).contiguous(), None


def varlen_mask(batch_size, q_length, kv_length, q_offset=0, kv_offset=0, mask_function=None, attention_mask=None,
                **kwargs):
    """No mask for unpadded input (the attention function does causal / per-row causal itself);
    SDPA's boolean mask where a padding mask is given."""
    if attention_mask is None:
        return None
    from transformers.masking_utils import causal_mask_function, sdpa_mask

    return sdpa_mask(batch_size, q_length, kv_length, q_offset=q_offset, kv_offset=kv_offset,
                     mask_function=mask_function or causal_mask_function, attention_mask=attention_mask, **kwargs)


def register():
    global _REGISTERED
    if _REGISTERED:
        return
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(ATTN, varlen_sdpa)
    AttentionMaskInterface.register(ATTN, varlen_mask)
    _REGISTERED = True


# --- bloom: block-diagonal mask and per-row ALiBi through block pre-hooks ------------------------
class _BloomPacking:
    def __init__(self, model):
        self.cu = None
        model.register_forward_pre_hook(self._capture, with_kwargs=True)
        for block in _bloom_blocks(model):
            block.register_forward_pre_hook(self._block, with_kwargs=True)

    def _capture(self, module, args, kwargs):
        cu = kwargs.get("cu_seq_lens_q")
        self.cu = None if cu is None or kwargs.get("attention_mask") is not None else cu.tolist()
        return None

    def _block(self, module, args, kwargs):
        if self.cu is None:
            return None
        import torch
        from transformers.models.bloom.modeling_bloom import _get_alibi_slopes

        hidden = args[0] if args else kwargs["hidden_states"]
        if hidden.shape[0] != 1:
            return None
        n = hidden.shape[1]
        dev, dtype = hidden.device, hidden.dtype
        heads = module.num_heads if hasattr(module, "num_heads") else module.self_attention.num_heads
        seg = torch.zeros(n, dtype=torch.long, device=dev)
        pos = torch.empty(n, dtype=torch.long, device=dev)
        for i, (s, e) in enumerate(zip(self.cu[:-1], self.cu[1:])):
            seg[s:e] = i
            pos[s:e] = torch.arange(e - s, device=dev)
        q = torch.arange(n, device=dev)
        allowed = (seg[:, None] == seg[None, :]) & (q[None, :] <= q[:, None])
        mask = torch.zeros(n, n, dtype=dtype, device=dev).masked_fill(~allowed, torch.finfo(dtype).min)
        slopes = _get_alibi_slopes(heads, dev)
        alibi = (slopes[:, None, None] * pos[None, None, :].to(slopes.dtype)).to(dtype)   # (heads, 1, n)
        kwargs = dict(kwargs)
        kwargs["attention_mask"] = mask[None, None]
        kwargs["alibi"] = alibi
        return args, kwargs

def _bloom_blocks(model):
    from transformers.models.bloom.modeling_bloom import BloomBlock

    return [m for m in model.modules() if isinstance(m, BloomBlock)]


def enable(model):
    """Make `model` attend per row on packed batches from PackingCollator: BLOOM through block
    pre-hooks (block-diagonal mask, per-row ALiBi), the others through per-row causal SDPA."""
    register()
    if _bloom_blocks(model):
        model._cardrepro_packing = _BloomPacking(model)
        return
    base = getattr(model, "get_base_model", lambda: model)()
    base.set_attn_implementation(ATTN)


def pad_share(rows, batch_size, multiple=16, max_length=None):
    """(non-pad tokens, padded tokens) when `rows` (in sampler order) go through micro-batches of
    `batch_size` padded to a multiple of `multiple` (faithful) or to `max_length` (stock)."""
    real = padded = 0
    for i in range(0, len(rows), batch_size):
        chunk = rows[i:i + batch_size]
        lens = [len(r["input_ids"]) for r in chunk]
        n = max_length if max_length else -(-max(lens) // multiple) * multiple
        real += sum(lens)
        padded += n * len(chunk)
    return real, padded
