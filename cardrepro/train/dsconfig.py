"""Resolve the card's DeepSpeed config for this run (the JSON stays "auto" where the card says so;
HF Trainer fills the autos from TrainingArguments). The ZeRO template is cardrepro.build.dsconfig's."""
import copy
import json
from pathlib import Path

from cardrepro.build.dsconfig import generated_config
from cardrepro.errors import CardError


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
        out = generated_config(int(ds.get("stage") or stage_override or 2))
    if stage_override:
        out["zero_optimization"] = generated_config(int(stage_override))["zero_optimization"]
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
