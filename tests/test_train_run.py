"""End-to-end smoke training through the CLI: falling loss, run folder, infer after it, LoRA on an
8-bit base, ZeRO-2/ZeRO-3 with 2 processes (torchrun + gloo), resume after SIGKILL."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, copy_project, losses, run_cli

# (conftest sets the HF_*_OFFLINE variables and DS_ACCELERATOR=cpu)
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(ROOT / ".cache" / "torch_extensions"))
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]   # one ninja for JIT

TRAIN = {"script": True, "timeout": 420}     # run_cli: the installed console script, 7 minutes


def mean(xs):
    return sum(xs) / len(xs)


def test_smoke_zero2_falling_loss_run_folder_and_infer(tmp_path):
    proj = copy_project(tmp_path, "stablelm-7b-sft")
    r = run_cli("run", proj, "--smoke", **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run = proj / "runs" / "smoke"
    ls = [v for _, v in sorted(losses(run).items())]
    assert len(ls) == 30
    assert mean(ls[-5:]) < mean(ls[:5]) - 0.15
    for f in ("metrics.jsonl", "loss.png", "resolved_config.json", "env.json", "summary.json", "final/config.json"):
        assert (run / f).is_file(), f
    assert (run / "loss.png").read_bytes()[:4] == b"\x89PNG"
    env = json.loads((run / "env.json").read_text())
    assert env["packages"]["deepspeed"] and env["torch"].startswith("2.") and env["world_size"] == 1 and "git" in env
    resolved = json.loads((run / "resolved_config.json").read_text())
    assert resolved["deepspeed"]["zero_optimization"]["stage"] == 2
    assert resolved["deepspeed"]["optimizer"]["params"]["torch_adam"] is True
    assert r.stdout.count("training in fp32 on CPU") == 1
    assert "torch_adam" in r.stdout
    r = run_cli("infer", proj, "--prompt", "What is a meme?", "--max-new-tokens", "12", **TRAIN)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip()


def test_lora_8bit_trains_only_adapter_and_infers(tmp_path):
    proj = copy_project(tmp_path, "bloomz-mona-lora")
    r = run_cli("run", proj, "--smoke", **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run = proj / "runs" / "smoke"
    s = json.loads((run / "summary.json").read_text())
    assert s["adapter_only"] is True and s["frozen_params_unchanged"] is True
    assert 0 < s["params_trainable"] < s["params_total"] / 10
    ls = [v for _, v in sorted(losses(run).items())]
    assert mean(ls[-5:]) < mean(ls[:5]) - 0.15
    assert (run / "final" / "adapter_config.json").is_file() and not (run / "final" / "model.safetensors").exists()
    code = ("import json,sys; from transformers import AutoModelForCausalLM, BitsAndBytesConfig; "
            "import bitsandbytes as bnb; m = AutoModelForCausalLM.from_pretrained(sys.argv[1], "
            "quantization_config=BitsAndBytesConfig(load_in_8bit=True), device_map='cpu'); "
            "print(sum(isinstance(x, bnb.nn.Linear8bitLt) for x in m.modules()))")
    base = json.loads((run / "final" / "adapter_config.json").read_text())["base_model_name_or_path"]
    out = subprocess.run([sys.executable, "-c", code, base], capture_output=True, text=True, timeout=120)
    assert int(out.stdout.strip().splitlines()[-1]) > 0, out.stderr[-2000:]
    r = run_cli("infer", proj, "--prompt", "今天天气:晴天,日期:双休日,时间:凌晨,提示我去做:买咖啡", "--max-new-tokens", "12",
                **TRAIN)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip()


@pytest.mark.parametrize("name,stage,steps", [("stablelm-7b-sft", "2", 6), ("bloom-zh-3b-sft", "3", 4)])
def test_two_processes_zero(tmp_path, name, stage, steps):
    proj = copy_project(tmp_path, name)
    r = run_cli("run", proj, "--smoke", "--nproc", "2", "--max-steps", steps, **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run = proj / "runs" / "smoke"
    resolved = json.loads((run / "resolved_config.json").read_text())
    assert resolved["deepspeed"]["zero_optimization"]["stage"] == int(stage)
    assert json.loads((run / "env.json").read_text())["world_size"] == 2
    s = json.loads((run / "summary.json").read_text())
    assert s["world_size"] == 2 and s["steps"] == steps
    assert (run / "final" / "model.safetensors").is_file()


# DeepSpeed ZeRO-3 (ziya: the build's assumed config; partitioned parameters in the checkpoint)
# and ZeRO-2 (stablelm: the card's config)
@pytest.mark.parametrize("name,zero", [("ziya-llama-13b-v1", 3), ("stablelm-7b-sft", 2)])
def test_resume_after_sigkill_matches_uninterrupted(tmp_path, name, zero):
    proj = copy_project(tmp_path, name)
    full = tmp_path / "full"
    r = run_cli("run", proj, "--smoke", "--max-steps", 12, "--save-steps", 4, "--output", full, **TRAIN)
    assert r.returncode == 0, r.stderr[-3000:]
    killed = tmp_path / "killed"
    r = run_cli("run", proj, "--smoke", "--max-steps", 12, "--save-steps", 4, "--output", killed,
                env={"CARDREPRO_SIGKILL_AFTER_SAVE": "8"}, **TRAIN)
    assert r.returncode == -9, (r.returncode, r.stderr[-2000:])
    assert (killed / "checkpoint-8").is_dir() and not (killed / "final").exists()
    r = run_cli("run", proj, "--smoke", "--max-steps", 12, "--save-steps", 4, "--output", killed, "--resume",
                **TRAIN)
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = losses(full), losses(killed)
    assert sorted(b) == list(range(1, 13))
    for step in range(9, 13):
        assert abs(a[step] - b[step]) < 1e-5, (step, a[step], b[step])
    assert json.loads((killed / "summary.json").read_text())["final_loss"] == pytest.approx(a[12], abs=1e-5)
    assert json.loads((killed / "resolved_config.json").read_text())["deepspeed"]["zero_optimization"]["stage"] == zero
