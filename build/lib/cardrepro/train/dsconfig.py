"""Resolve the card's DeepSpeed config for this run (the JSON stays "auto" where the card says so;
HF Trainer fills the autos from TrainingArguments)."""
import copy
import json
from pathlib import Path

from cardrepro.errors import CardError

BASE = {
    "fp16": {"enabled": "auto", "loss_scale": 0, "loss_scale_window": 1000, "initial_scale_power": 16,
             "hysteresis": 2, "min_loss_scale": 1},
    "bf16": {"enabled": "auto"},
    "optimizer": {"type": "AdamW", "params": {"lr": "auto", "betas": "auto", "eps": "auto", "weight_decay": "auto"}},
    "scheduler": {"type": "WarmupDecayLR", "params": {"warmup_min_lr": "auto", "warmup_max_lr": "auto",
                                                      "warmup_num_steps": "auto", "total_num_steps": "auto"}},
    "gradient_accumulation_steps": "auto", "gradient_clipping": "auto", "steps_per_print": 2000,
    "train_batch_size": "auto", "train_micro_batch_size_per_gpu": "auto", "wall_clock_breakdown": False,
}
ZERO = {
    2: {"stage": 2, "allgather_partitions": True, "allgather_bucket_size": 1e9, "overlap_comm": False,
        "reduce_scatter": True, "reduce_bucket_size": 1e9, "contiguous_gradients": True},
    3: {"stage": 3, "overlap_comm": True, "contiguous_gradients": True, "sub_group_size": 1e9,
        "reduce_bucket_size": "auto", "stage3_prefetch_bucket_size": "auto",
        "stage3_param_persistence_threshold": "auto", "stage3_max_live_parameters": 1e9,
        "stage3_max_reuse_distance": 1e9, "stage3_gather_16bit_weights_on_model_save": True},
}


def resolve(cfg, project, mode, on_cpu, notices, stage_override=None):
    """The DeepSpeed dict for TrainingArguments(deepspeed=...), or None."""
    ds = cfg.get("deepspeed")
    if not ds and not stage_override:
        return None
    ds = ds or {}
    raw = ds.get("config")
    if isinstance(raw, str):
        path = Path(project) / raw
        if not path.is_file():
            raise CardError(cfg["_path"], None, f"deepspeed config {raw} not found in the project")
        try:
            out = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise CardError(path, err.lineno, f"invalid JSON: {err.msg}") from None
    elif isinstance(raw, dict):
        out = copy.deepcopy(raw)
    else:
        stage = int(ds.get("stage") or stage_override or 2)
        out = {**copy.deepcopy(BASE), "zero_optimization": copy.deepcopy(ZERO[stage])}
    if stage_override:
        out["zero_optimization"] = copy.deepcopy(ZERO[int(stage_override)])
    if on_cpu:
        for key in ("fp16", "bf16"):
            if isinstance(out.get(key), dict) and out[key].get("enabled") not in (False, "auto"):
                out[key]["enabled"] = False
        zo = out.get("zero_optimization", {})
        for k in ("offload_optimizer", "offload_param"):
            if isinstance(zo.get(k), dict) and zo[k].get("pin_memory"):
                zo[k]["pin_memory"] = False
        if mode == "smoke" and isinstance(out.get("optimizer"), dict) and "offload_optimizer" not in zo:
            out["optimizer"].setdefault("params", {})["torch_adam"] = True
            notices.append('smoke on CPU: DeepSpeed optimizer uses "torch_adam": true (torch AdamW, '
                           "skips the ~48 s fused_adam JIT compile); the full run uses the card's fused AdamW")
    return out
