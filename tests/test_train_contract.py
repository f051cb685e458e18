"""The build↔train contract: train_config.json `training` is TrainingArguments(**training) verbatim,
`loop` is what the loop reads by name, and nothing a project writes is silently ignored. The card's
schedule (cosine, warmup ratio) and optimizer reach the trainer; a generated DeepSpeed config leaves
optimizer and scheduler to TrainingArguments."""
import dataclasses
import json
import math
import os
import sys
from pathlib import Path

import pytest

from conftest import CARDS, GENERATED, ROOT, cli_in_process, run_cli

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(ROOT / ".cache" / "torch_extensions"))
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]

AXOLOTL = ROOT / "tests" / "fixtures" / "parse" / "axolotl-qlora.md"
# top-level sections of train_config.json and who reads them (cardrepro/train, the README, the launchers)
SECTIONS = {"name", "architecture", "base_model", "method", "card_method", "trainer", "prompt", "tokenizer",
            "masking", "datasets", "left_out", "training", "loop", "deepspeed", "peft", "quantization",
            "generation", "inference", "smoke", "assumed", "notes"}
COSINE_CARD = """---
base_model: Qwen/Qwen2-1.5B
---
# cosine-card

```yaml
base_model: Qwen/Qwen2-1.5B
datasets:
  - path: mhenrichsen/alpaca_2k_test
    type: alpaca
sequence_len: 512
micro_batch_size: 2
num_epochs: 1
optimizer: adamw_torch
lr_scheduler: cosine
warmup_ratio: 0.1
learning_rate: 0.0002
```
"""


def build(card, out):
    res = run_cli("build", card, "-o", out)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads((out / "train_config.json").read_text())


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """Fresh builds of the seed cards and the Axolotl fixture: {name: project folder}."""
    root = tmp_path_factory.mktemp("fresh")
    out = {}
    for card in [*sorted(CARDS.glob("*.md")), AXOLOTL]:
        build(card, root / card.stem)
        out[card.stem] = root / card.stem
    return out


def assert_every_key_consumed(tc, where):
    from transformers import TrainingArguments
    from cardrepro.train.contract import Loop
    ta_fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    assert set(tc) <= SECTIONS, f"{where}: sections nobody reads: {sorted(set(tc) - SECTIONS)}"
    assert set(tc["training"]) <= ta_fields, f"{where}: not TrainingArguments fields: {sorted(set(tc['training']) - ta_fields)}"
    loop_fields = {f.name for f in dataclasses.fields(Loop)}
    assert set(tc["loop"]) <= loop_fields, f"{where}: loop keys the loop never reads: {sorted(set(tc['loop']) - loop_fields)}"


def test_fresh_builds_write_only_keys_the_trainer_consumes(fresh):
    from cardrepro.train import config as config_mod
    from cardrepro.train.train import hyperparameters
    from transformers import TrainingArguments
    for name, proj in fresh.items():
        tc = json.loads((proj / "train_config.json").read_text())
        assert_every_key_consumed(tc, name)
        cfg, _ = config_mod.load(proj)
        args = TrainingArguments(output_dir=str(proj / "out"), **hyperparameters(cfg, "full"))
        for key, value in tc["training"].items():       # every value arrives as written
            assert getattr(args, key) == value or str(getattr(args, key)) == str(value), (name, key)


@pytest.mark.parametrize("name", sorted(p.name for p in GENERATED.iterdir() if (p / "train_config.json").is_file()))
def test_committed_projects_write_only_keys_the_trainer_consumes(name):
    assert_every_key_consumed(json.loads((GENERATED / name / "train_config.json").read_text()), f"generated/{name}")


def test_a_key_the_trainer_ignores_stops_the_run(fresh, tmp_path):
    proj = tmp_path / "p"
    build(CARDS / "stablelm-7b-sft.md", proj)
    path = proj / "train_config.json"
    tc = json.loads(path.read_text())
    tc["training"]["sort_by_length"] = True            # an OA option, no TrainingArguments field
    path.write_text(json.dumps(tc, indent=2, sort_keys=True))
    res = cli_in_process("run", proj, "--dry-run")
    line = next(i for i, l in enumerate(path.read_text().splitlines(), 1) if '"sort_by_length"' in l)
    assert res.returncode == 2, res.stdout[-1000:] + res.stderr[-1000:]
    assert f"train_config.json:{line}: training.sort_by_length is not a TrainingArguments field" in res.stderr


def test_card_options_the_trainer_cannot_apply_are_noted(fresh):
    tc = json.loads((fresh["stablelm-7b-sft"] / "train_config.json").read_text())
    note = next(n for n in tc["notes"] if n.startswith("Trainer options"))
    for option in ("`use_flash_attention: true`", "`sort_by_length: false`", "`samples_mixing: false`",
                   "`rng_seed: 2703368087`"):
        assert option in note
    assert tc["loop"]["random_offset_probability"] == 0.8 and tc["loop"]["use_custom_sampler"] is False


def test_optim_and_schedule_reach_training_arguments(fresh):
    from cardrepro.train import config as config_mod
    from cardrepro.train.train import hyperparameters, runtime_overrides
    from transformers import TrainingArguments
    proj = fresh["axolotl-qlora"]
    tc = json.loads((proj / "train_config.json").read_text())
    assert tc["training"]["optim"] == "adamw_bnb_8bit" and tc["training"]["lr_scheduler_type"] == "cosine"
    cfg, _ = config_mod.load(proj)
    args = TrainingArguments(output_dir=str(proj / "out"), **hyperparameters(cfg, "full"))
    assert (args.optim, args.lr_scheduler_type, args.warmup_steps) == ("adamw_bnb_8bit", "cosine", 10)
    notices = []                                        # a CPU run cannot use bitsandbytes' optimizer, and says so
    over = runtime_overrides(cfg, "smoke", {}, proj / "out", None, True, 1, 0, notices)
    assert over["optim"] == "adamw_torch" and any("adamw_bnb_8bit" in n for n in notices)


def test_generated_deepspeed_config_leaves_optimizer_and_scheduler_to_the_trainer(fresh):
    proj = fresh["bloomz-mona-lora"]                    # no DeepSpeed JSON in the card: a generated ZeRO-2
    tc = json.loads((proj / "train_config.json").read_text())
    ds = tc["deepspeed"]
    generated = json.loads((proj / ds["config"]).read_text())
    resolved = json.loads((proj / ds["resolved"]).read_text())
    assert ds["assumed"] and "optimizer" not in generated and "scheduler" not in generated
    assert generated["zero_optimization"]["reduce_bucket_size"] == "auto"
    assert ds["hidden_size"] == 2048                    # bigscience/bloomz-1b7
    assert resolved["zero_optimization"]["reduce_bucket_size"] == 2048 * 2048
    card_ds = json.loads((fresh["stablelm-7b-sft"] / "deepspeed" / "ds_config.card.json").read_text())
    assert card_ds["scheduler"]["type"] == "WarmupDecayLR"  # a card's own JSON is kept as stated


def test_cosine_card_smoke_run_warms_up_then_follows_cosine(tmp_path):
    card = tmp_path / "cosine.md"
    card.write_text(COSINE_CARD)
    proj = tmp_path / "p"
    tc = build(card, proj)
    assert tc["training"]["lr_scheduler_type"] == "cosine" and tc["training"]["warmup_steps"] == 0.1
    assert tc["training"]["optim"] == "adamw_torch"
    res = run_cli("run", proj, "--smoke", script=True, timeout=420)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    run = proj / "runs" / "smoke"
    resolved = json.loads((run / "resolved_config.json").read_text())
    ta = resolved["training_arguments"]
    assert (ta["optim"], ta["lr_scheduler_type"], ta["warmup_steps"]) == ("adamw_torch", "cosine", 0.1)
    assert "scheduler" not in resolved["deepspeed"] and "optimizer" not in resolved["deepspeed"]
    recs = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines() if l.strip()]
    lrs = {r["step"]: r["learning_rate"] for r in recs if "learning_rate" in r}
    total, peak = ta["max_steps"], ta["learning_rate"]
    warmup = math.ceil(0.1 * total)
    assert sorted(lrs) == list(range(1, total + 1))
    for step, lr in lrs.items():                        # logged after optimizer step `step`: schedule at step-1
        t = step - 1
        want = peak * t / warmup if t < warmup else peak * 0.5 * (1 + math.cos(math.pi * (t - warmup) / (total - warmup)))
        assert lr == pytest.approx(want, rel=1e-6, abs=1e-12), (step, lr, want)
    linear_mid = peak * (1 - (total // 2 - 1 - warmup) / (total - warmup))
    assert lrs[total // 2] != pytest.approx(linear_mid, rel=0.01)   # not the linear decay it used to be
