"""The trainer's command line and resume safety: bad counts and bad train_config.json values are
exit 2 with the key named; --resume skips checkpoints a kill or a full disk left incomplete, says
where it starts, and a finished run is not trained past its end."""
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from conftest import CARDS, ROOT, cli_in_process, losses, run_cli
from cardrepro.errors import CardError
from cardrepro.train import checkpoints
from cardrepro.train import config as config_mod

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(ROOT / ".cache" / "torch_extensions"))
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]   # one ninja for JIT

TRAIN = {"script": True, "timeout": 420}
SMOKE = ("--smoke", "--max-steps", 3, "--save-steps", 1)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """stablelm-7b-sft built by the current code (so train_config.json has the current shape)."""
    out = tmp_path_factory.mktemp("built") / "stablelm-7b-sft"
    r = run_cli("build", CARDS / "stablelm-7b-sft.md", "-o", out, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return out


def edited_copy(project, dest, section, key, value):
    """A copy of PROJECT whose train_config.json has SECTION.KEY = VALUE; returns (copy, line of the key)."""
    p = dest / "p"
    shutil.copytree(project, p, ignore=shutil.ignore_patterns("runs", "smoke"))
    cfg = json.loads((p / "train_config.json").read_text())
    target = cfg
    for part in section.split(".") if section else []:
        target = target[part]
    target[key] = value
    text = json.dumps(cfg, indent=2, sort_keys=True)
    (p / "train_config.json").write_text(text)
    line = config_mod._line_in(text, section, key)
    assert text.splitlines()[line - 1].strip().startswith(f'"{key}":')
    return p, line


def one_line_exit_2(r):
    assert r.returncode == 2, (r.returncode, r.stdout[-1000:], r.stderr[-2000:])
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    return r.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("args,option", [
    (("run", "{p}", "--max-steps", "0"), "--max-steps"),
    (("run", "{p}", "--max-steps", "-3"), "--max-steps"),
    (("run", "{p}", "--save-steps", "0"), "--save-steps"),
    (("run", "{p}", "--nproc", "0"), "--nproc"),
    (("infer", "{p}", "--max-new-tokens", "0", "--prompt", "hi"), "--max-new-tokens"),
    (("infer", "{p}", "--max-new-tokens", "-5", "--prompt", "hi"), "--max-new-tokens"),
])
def test_nonpositive_counts_are_exit_2_naming_the_option(project, args, option):
    r = cli_in_process(*[a.format(p=project) for a in args])
    line = one_line_exit_2(r)
    assert line.startswith(option + ":") and "positive integer" in line, line
    assert not (project / "runs").exists()


@pytest.mark.parametrize("command,section,key,value", [
    ("run", "training", "learning_rate", -1),
    ("run", "smoke", "max_steps", 0),
    ("infer", "generation", "max_new_tokens", -5),
])
def test_bad_train_config_value_is_exit_2_naming_the_key(project, tmp_path, command, section, key, value):
    p, line = edited_copy(project, tmp_path, section, key, value)
    extra = ("--prompt", "hi") if command == "infer" else ("--smoke",)
    out = one_line_exit_2(cli_in_process(command, p, *extra))
    assert out.startswith(f"{p / 'train_config.json'}:{line}: {section}.{key} must be"), out
    assert json.dumps(value) in out
    assert not (p / "runs").exists()


@pytest.mark.parametrize("section,key,value,wanted", [
    ("training", "learning_rate", float("nan"), "positive finite"),
    ("training", "learning_rate", 0, "positive finite"),
    ("training", "per_device_train_batch_size", 0, "positive integer"),
    ("training", "num_train_epochs", "three", "positive finite"),
    ("training", "save_strategy", "sometimes", "one of"),
    ("training", "gradient_accumulation_steps", 2.5, "positive integer"),
    ("training", "seed", True, "integer >= 0"),
    ("training", "adam_beta2", 1.0, "up to (not including) 1"),
    ("training", "logging_steps", 0, "positive integer or a ratio"),
    ("training", "lr_scheduler_type", "cosinus", "one of"),
    ("loop", "dtype", "fp8", "one of fp16, bf16, fp32"),
    ("loop", "max_length", None, "set (not null)"),
    ("smoke.model", "num_layers", 0, "positive integer"),
    ("", "masking", "tokens", "one of oa, assistant"),
])
def test_bad_values_rejected_on_load(project, tmp_path, section, key, value, wanted):
    p, line = edited_copy(project, tmp_path, section, key, value)
    with pytest.raises(CardError) as err:
        config_mod.load(p)
    name = f"{section}.{key}" if section else key
    assert err.value.line == line and err.value.message.startswith(f"{name} must be") and wanted in err.value.message


@pytest.mark.parametrize("section,key,value", [
    ("training", "warmup_steps", 0.1), ("training", "save_steps", 0.25), ("training", "num_train_epochs", 2.5),
    ("training", "save_total_limit", None), ("generation", "top_p", None),
])
def test_values_the_trainer_accepts_still_load(project, tmp_path, section, key, value):
    p, _ = edited_copy(project, tmp_path, section, key, value)
    cfg, _ = config_mod.load(p)
    assert cfg[section][key] == value


def test_seed_projects_pass_the_value_checks(project):
    cfg, _ = config_mod.load(project)
    assert cfg["training"]["learning_rate"] > 0


def test_scheduler_names_match_transformers():
    from transformers.trainer_utils import SchedulerType
    from cardrepro import data
    allowed = data.load("train_config_checks")["training"]["lr_scheduler_type"]
    assert set(allowed) == {s.value for s in SchedulerType} - {"greedy"}


# ---- resume (one short smoke run, copied for each case) ----

@pytest.fixture(scope="module")
def finished_run(project, tmp_path_factory):
    run = tmp_path_factory.mktemp("run") / "smoke"
    r = run_cli("run", project, *SMOKE, "--output", run, **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert [s for s, _ in checkpoints.numbered(run)] == [3, 2, 1]
    return run


def copy_run(finished_run, tmp_path):
    run = tmp_path / "smoke"
    shutil.copytree(finished_run, run)
    return run


def test_resume_of_a_finished_run_says_complete_and_trains_nothing(project, finished_run, tmp_path):
    run = copy_run(finished_run, tmp_path)
    before = (run / "metrics.jsonl").read_text()
    r = cli_in_process("run", project, *SMOKE, "--output", run, "--resume")     # trains nothing: no subprocess
    assert r.returncode == 0, r.stderr[-3000:]
    assert "is complete (step 3, checkpoint-3); nothing to train" in r.stdout
    assert not (run / "checkpoint-4").exists()
    assert (run / "metrics.jsonl").read_text() == before


def test_resume_of_a_finished_run_without_final_restores_it(project, finished_run, tmp_path):
    run = copy_run(finished_run, tmp_path)
    shutil.rmtree(run / "final")
    r = cli_in_process("run", project, *SMOKE, "--output", run, "--resume")     # copies files, trains nothing
    assert r.returncode == 0, r.stderr[-3000:]
    assert "final/ was missing" in r.stdout and "is complete" in r.stdout
    final = run / "final"
    assert (final / "model.safetensors").read_bytes() == (run / "checkpoint-3" / "model.safetensors").read_bytes()
    assert (final / "config.json").is_file() and (final / "tokenizer.json").is_file()
    assert not any(final.glob("global_step*")) and not (final / "trainer_state.json").exists()
    assert not (run / "checkpoint-4").exists()


def test_resume_skips_incomplete_checkpoints_and_says_where_it_starts(project, finished_run, tmp_path):
    run = copy_run(finished_run, tmp_path)
    a = losses(finished_run)
    shutil.rmtree(run / "final")
    (run / "summary.json").unlink()
    (run / "checkpoint-3" / "trainer_state.json").unlink()              # SIGKILL before the state was written
    partial = run / "checkpoint-4"                                      # a full disk: one file, cut short
    partial.mkdir()
    (partial / "model.safetensors").write_bytes((run / "checkpoint-2" / "model.safetensors").read_bytes()[:100])
    r = run_cli("run", project, "--smoke", "--max-steps", 4, "--save-steps", 1, "--output", run, "--resume", **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "skipping checkpoint-4: incomplete (no trainer_state.json)" in r.stdout
    assert "skipping checkpoint-3: incomplete (no trainer_state.json)" in r.stdout
    assert f"--resume: continuing from {run / 'checkpoint-2'} (step 2)" in r.stdout
    b = losses(run)
    assert sorted(b) == [1, 2, 3, 4]
    assert b[3] == pytest.approx(a[3], abs=1e-5)                        # step 3 retrained from checkpoint-2's state
    assert [s for s, _ in checkpoints.numbered(run)] == [4, 3, 2, 1]
    assert all(checkpoints.incomplete_reason(c, s) is None for s, c in checkpoints.numbered(run))
    assert (run / "final" / "model.safetensors").is_file()


def test_truncated_state_or_missing_deepspeed_state_is_incomplete(finished_run, tmp_path):
    run = copy_run(finished_run, tmp_path)
    state = run / "checkpoint-3" / "trainer_state.json"
    state.write_text(state.read_text()[:40])
    shutil.rmtree(run / "checkpoint-2" / (run / "checkpoint-2" / "latest").read_text().strip())
    assert checkpoints.incomplete_reason(run / "checkpoint-3", 3) == "trainer_state.json is unreadable (cut short)"
    assert checkpoints.incomplete_reason(run / "checkpoint-2", 2).startswith("DeepSpeed state global_step2")
    said = []
    assert checkpoints.last_complete(run, said.append) == run / "checkpoint-1"
    assert len(said) == 2 and not (run / "checkpoint-3").exists() and (run / "checkpoint-1").is_dir()


def test_resume_with_no_complete_checkpoint_starts_fresh(project, finished_run, tmp_path):
    run = copy_run(finished_run, tmp_path)
    for _, c in checkpoints.numbered(run):
        (c / "trainer_state.json").unlink()
    r = run_cli("run", project, "--smoke", "--max-steps", 1, "--output", run, "--resume", **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "no complete checkpoint" in r.stdout and "starting fresh" in r.stdout
    assert sorted(losses(run)) == [1]
