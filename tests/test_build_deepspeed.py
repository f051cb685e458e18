"""The resolved DeepSpeed JSONs: filled exactly as Hugging Face's Trainer fills them, and loaded by
DeepSpeed's own config classes (imports transformers + deepspeed once, a few seconds)."""
import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from cardrepro.project.project import render_project
from conftest import ROOT

FIX = Path(__file__).parent / "fixtures" / "build"


def projects():
    """(label, files) for the fixture specs and for every committed seed project."""
    out = []
    for spec in sorted(FIX.glob("*.spec.json")):
        out.append((f"fixture:{spec.stem}", render_project(json.loads(spec.read_text()), None)))
    for lock in sorted((ROOT / "generated").glob("*/cardrepro.lock.json")):
        d = lock.parent
        files = {p.relative_to(d).as_posix(): p.read_bytes() for p in d.rglob("*.json")}
        out.append((f"generated:{d.name}", files))
    return out


PROJECTS = projects()


@pytest.fixture(scope="module")
def ds_modules():
    from deepspeed.runtime.config import DeepSpeedConfig
    from deepspeed.runtime.zero.config import DeepSpeedZeroConfig
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig
    return DeepSpeedConfig, DeepSpeedZeroConfig, HfTrainerDeepSpeedConfig


def _args(training, dtype, world_size):
    warmup = float(training.get("warmup_steps") or 0)
    return SimpleNamespace(
        world_size=world_size, per_device_train_batch_size=training["per_device_train_batch_size"],
        gradient_accumulation_steps=training["gradient_accumulation_steps"], max_grad_norm=training["max_grad_norm"],
        learning_rate=training["learning_rate"], adam_beta1=training["adam_beta1"], adam_beta2=training["adam_beta2"],
        adam_epsilon=training["adam_epsilon"], weight_decay=training["weight_decay"], save_on_each_node=False,
        fp16=dtype == "fp16", fp16_full_eval=False, bf16=dtype == "bf16", bf16_full_eval=False,
        get_warmup_steps=lambda n: int(warmup) if warmup >= 1 else math.ceil(warmup * n))


@pytest.mark.parametrize("label,files", PROJECTS, ids=[p[0] for p in PROJECTS])
def test_resolved_config_matches_hf_trainer_and_loads_in_deepspeed(label, files, ds_modules, monkeypatch):
    DeepSpeedConfig, DeepSpeedZeroConfig, HfTrainerDeepSpeedConfig = ds_modules
    tc = json.loads(files["train_config.json"])
    ds = tc["deepspeed"]
    raw = json.loads(files[ds["config"]])
    resolved = json.loads(files[ds["resolved"]])
    world = ds["world_size"]

    # 1. Hugging Face's own filling of the same "auto" config gives the same resolved config
    hf = HfTrainerDeepSpeedConfig(raw)
    args = _args(tc["training"], tc["loop"]["dtype"], world)
    hf.trainer_config_process(args)
    model = SimpleNamespace(config=SimpleNamespace(hidden_size=ds["hidden_size"]))
    hf.trainer_config_finalize(args, model, ds["total_num_steps"])
    assert json.loads(json.dumps(hf.config)) == resolved

    # 2. DeepSpeed parses it for the declared world size (no process group needed)
    from deepspeed import comm as dist
    monkeypatch.setattr(dist, "get_rank", lambda *a, **k: 0)
    mpu = SimpleNamespace(get_data_parallel_world_size=lambda: world)
    dsc = DeepSpeedConfig(resolved, mpu=mpu)
    assert dsc.zero_optimization_stage == ds["stage"] == resolved["zero_optimization"]["stage"]
    assert dsc.train_batch_size == world * tc["training"]["per_device_train_batch_size"] \
        * tc["training"]["gradient_accumulation_steps"]
    # a config without an optimizer leaves it to HF Trainer (TrainingArguments.optim)
    assert dsc.optimizer_name == ("adamw" if "optimizer" in raw else None)
    assert dsc.gradient_clipping == tc["training"]["max_grad_norm"]
    assert dsc.float16_config.enabled == (tc["loop"]["dtype"] == "fp16")
    zero = DeepSpeedZeroConfig(**resolved["zero_optimization"])
    assert zero.stage == ds["stage"]
    if ds["stage"] == 3:
        assert zero.prefetch_bucket_size == int(0.9 * ds["hidden_size"] ** 2)
        assert zero.param_persistence_threshold == 10 * ds["hidden_size"]
