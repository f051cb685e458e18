"""DeepSpeed configs, the one module that holds them: the card's JSON as stated, a generated one
(the ZeRO template of data/build_defaults.yaml) where the card has none, the offline resolution of
every "auto" by Hugging Face Trainer's rules (transformers `HfTrainerDeepSpeedConfig.trainer_config_process`
/ `trainer_config_finalize`) for a declared world size, and the config a run hands to
TrainingArguments (`for_run`: the autos left to HF Trainer, adjusted for CPU). Pure Python: no
deepspeed or transformers import (tests compare against them)."""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import jsonschema

from cardrepro.project.data import build_defaults, deepspeed_schema
from cardrepro.errors import CardError
from cardrepro.extract import canonical


def generated_config(stage: int) -> dict:
    gen = build_defaults()["deepspeed_generated"]
    cfg = copy.deepcopy(gen["common"])
    zero = gen["zero_optimization"].get(str(stage))
    if zero is None:
        raise CardError("<build>", None, f"no generated DeepSpeed config for ZeRO stage {stage}")
    cfg["zero_optimization"] = copy.deepcopy(zero)
    return cfg


def total_optimizer_steps(num_examples: int, world_size: int, micro: int, accum: int, epochs: float) -> int:
    """HF Trainer: ceil(epochs * max(1, floor(ceil(N / world / micro) / accum)))."""
    per_rank_batches = math.ceil(num_examples / world_size / micro)
    per_epoch = max(per_rank_batches // accum, 1)
    return math.ceil(epochs * per_epoch)


def _set_auto(node: dict, key: str, value, filled: list, path: str):
    if isinstance(node, dict) and node.get(key) == "auto":
        node[key] = value
        filled.append(path)


_CAST = {"int": int, "float": float}


def _fill(node: dict, ds_key: str, training: dict, filled: list):
    """An "auto" at `ds_key` from the TrainingArguments value it holds (data/keys.yaml deepspeed_config)."""
    field, kind = canonical.deepspeed_field(ds_key)
    _set_auto(node, ds_key.rsplit(".", 1)[-1], _CAST[kind](training[field]), filled, ds_key)


def warmup_steps(training: dict, total_num_steps: int) -> int:
    """TrainingArguments.get_warmup_steps: warmup_steps >= 1 is a step count, below 1 a ratio."""
    warmup = float(training.get("warmup_steps") or 0)
    return int(warmup) if warmup >= 1 else math.ceil(total_num_steps * warmup)


def resolve_autos(config: dict, *, world_size: int, training: dict, dtype: str | None, hidden_size: int | None,
                  total_num_steps: int) -> tuple[dict, list[str]]:
    """Fill every "auto" the way HF Trainer does. `training` holds TrainingArguments names.
    Returns (resolved config, filled dotted paths)."""
    cfg = copy.deepcopy(config)
    filled: list[str] = []
    micro = int(training["per_device_train_batch_size"])
    accum = int(training["gradient_accumulation_steps"])
    dtype = dtype or "fp32"

    _fill(cfg, "train_micro_batch_size_per_gpu", training, filled)
    _fill(cfg, "gradient_accumulation_steps", training, filled)
    _set_auto(cfg, "train_batch_size", world_size * micro * accum, filled, "train_batch_size")
    _fill(cfg, "gradient_clipping", training, filled)
    opt = (cfg.get("optimizer") or {}).get("params")
    if isinstance(opt, dict):
        _fill(opt, "optimizer.params.lr", training, filled)
        _set_auto(opt, "betas", [float(training["adam_beta1"]), float(training["adam_beta2"])], filled,
                  "optimizer.params.betas")
        _fill(opt, "optimizer.params.eps", training, filled)
        _fill(opt, "optimizer.params.weight_decay", training, filled)
    sched = (cfg.get("scheduler") or {}).get("params")
    if isinstance(sched, dict):
        _set_auto(sched, "warmup_min_lr", 0, filled, "scheduler.params.warmup_min_lr")
        _fill(sched, "scheduler.params.warmup_max_lr", training, filled)
    if isinstance(cfg.get("fp16"), dict):
        _set_auto(cfg["fp16"], "enabled", dtype == "fp16", filled, "fp16.enabled")
    if isinstance(cfg.get("bf16"), dict):
        _set_auto(cfg["bf16"], "enabled", dtype == "bf16", filled, "bf16.enabled")

    zero = cfg.get("zero_optimization")
    if isinstance(zero, dict):
        keys = ["reduce_bucket_size", "stage3_prefetch_bucket_size", "stage3_param_persistence_threshold"]
        if any(zero.get(k) == "auto" for k in keys):
            if not hidden_size:
                raise CardError("<build>", None, "hidden_size unknown: cannot fill DeepSpeed bucket sizes")
            _set_auto(zero, "reduce_bucket_size", hidden_size * hidden_size, filled,
                      "zero_optimization.reduce_bucket_size")
            if zero.get("stage") == 3:
                _set_auto(zero, "stage3_prefetch_bucket_size", int(0.9 * hidden_size * hidden_size), filled,
                          "zero_optimization.stage3_prefetch_bucket_size")
                _set_auto(zero, "stage3_param_persistence_threshold", 10 * hidden_size, filled,
                          "zero_optimization.stage3_param_persistence_threshold")
    if isinstance(sched, dict):
        _set_auto(sched, "total_num_steps", int(total_num_steps), filled, "scheduler.params.total_num_steps")
        warmup = warmup_steps(training, total_num_steps)
        _set_auto(sched, "warmup_num_steps", max(1, warmup), filled, "scheduler.params.warmup_num_steps")
    return cfg, filled


def find_auto(node, prefix="") -> list[str]:
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out += find_auto(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += find_auto(v, f"{prefix}[{i}]")
    elif node == "auto":
        out.append(prefix)
    return out


def validate(config: dict, where: str, *, resolved: bool):
    """Check a DeepSpeed config against schemas/deepspeed.schema.json (+ no "auto" left when resolved)."""
    validator = jsonschema.Draft202012Validator(deepspeed_schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        loc = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise CardError(where, None, f"DeepSpeed config invalid at {loc}: {err.message}")
    if resolved:
        left = find_auto(config)
        if left:
            raise CardError(where, None, f"resolved DeepSpeed config still has \"auto\" at {', '.join(left)}")


def for_run(cfg, project, mode, on_cpu, notices, stage_override=None):
    """The DeepSpeed dict a run of the project passes to TrainingArguments(deepspeed=...), or None:
    the project's JSON as written (HF Trainer fills its "auto"s), the generated template where it
    has none, another ZeRO stage where the run asks for one."""
    ds = cfg.get("deepspeed")
    if not ds and not stage_override:
        return None
    ds = ds or {}
    raw = ds.get("config")
    if isinstance(raw, str):
        out = _project_json(cfg, Path(project) / raw, raw)
    elif isinstance(raw, dict):
        out = copy.deepcopy(raw)
    else:
        out = generated_config(int(ds.get("stage") or stage_override or 2))
    if stage_override:
        out["zero_optimization"] = generated_config(int(stage_override))["zero_optimization"]
    if on_cpu:
        _for_cpu(out, mode, notices)
    return out


def _project_json(cfg, path, raw):
    if not path.is_file():
        raise CardError(cfg["_path"], None, f"deepspeed config {raw} not found in the project")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise CardError(path, err.lineno, f"invalid JSON: {err.msg}") from None


def _for_cpu(out, mode, notices):
    """No fp16/bf16 and no pinned memory on CPU; torch AdamW for a smoke run (no fused_adam JIT)."""
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
