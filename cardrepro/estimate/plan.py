"""The per-GPU memory of a spec's run: its inputs (model, micro batch, sequence length, world
size, ZeRO stage), each stated or assumed through cardrepro/assume.py, and the arithmetic of
memory.py on them. The audit reports it (CR502/CR504); the project draws it (memory.svg)."""
from __future__ import annotations

from cardrepro import assume
from cardrepro.estimate import memory as M
from cardrepro.paths import get


def is_lora(spec):
    return bool(get(spec, "peft.type") or str(get(spec, "method") or "").lower() in ("lora", "qlora"))


def memory(spec):
    """{canon, cfg, breakdown, micro, seq, assumed, flash, gc, act, lora, world, world_how,
    world_source, stage, rows} for a spec whose base model has a known config and whose micro
    batch and sequence length are stated (a LoRA card's are assumed); None otherwise. `rows` is
    the ZeRO/offload table of full training (empty for LoRA)."""
    canon, cfg, _ = assume.model_config(spec)
    if not cfg:
        return None
    bd = M.param_breakdown(cfg, vocab_size=get(spec, "tokenizer.vocab_size"))
    micro = get(spec, "training.per_device_train_batch_size")
    seq = get(spec, "training.max_length")
    lora = is_lora(spec)
    assumed = []
    if lora and not micro:
        micro = assume.training_argument(spec, "per_device_train_batch_size")[0]
        assumed.append(f"micro batch {micro} assumed (CR205)")
    if lora and not seq:
        seq = assume.max_length(spec)[0] or cfg.get("max_position_embeddings")
        assumed.append(f"sequence length {seq} assumed (CR207)")
    if not micro or not seq:
        return None
    flash = bool(get(spec, "trainer.options.use_flash_attention") or get(spec, "training.use_flash_attention"))
    heads = int(cfg["num_attention_heads"])
    act = {g: M.activations(bd, seq, micro, heads, bd["vocab_size"], gradient_checkpointing=g,
                            flash_attention=flash) for g in (False, True)}
    world, world_source = assume.world_size(spec)
    world_how = ("stated" if world_source is None else
                 "implied" if world_source == assume.IMPLIED_WORLD_SOURCE else "assumed")
    stage = get(spec, "deepspeed.stage")
    rows = [] if lora else M.zero_rows(bd["total"], bd["largest_layer"], world, stage, act)
    return {"canon": canon, "cfg": cfg, "breakdown": bd, "micro": micro, "seq": seq, "assumed": assumed,
            "flash": flash, "gc": bool(get(spec, "training.gradient_checkpointing")), "act": act, "lora": lora,
            "world": world, "world_how": world_how, "world_source": world_source, "stage": stage, "rows": rows}
