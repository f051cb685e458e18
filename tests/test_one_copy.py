"""Each piece of knowledge held once: TrainingArguments' defaults only in data/trainers/hf-trainer.yaml
(the build's assumptions read the profile), the values TrainingArguments leaves open named as
cardrepro's own assumptions, every loop setting written by the build (the trainer has no defaults of
its own), trainer-specific citations in the trainer profiles, one DeepSpeed config module, one
model_family."""
import json

from cardrepro import assume, data
from cardrepro.project.training import TRAINING_KEYS
from conftest import ROOT, run_cli

# HF TrainingArguments names, so that no framework profile (Axolotl's, say) is detected
CARD = """---
base_model: Qwen/Qwen2-1.5B
---
# logging-card

```yaml
base_model: Qwen/Qwen2-1.5B
datasets:
  - path: mhenrichsen/alpaca_2k_test
    type: alpaca
max_seq_length: 512
per_device_train_batch_size: 2
num_train_epochs: 1
logging_steps: 10
learning_rate: 0.0002
```
"""


def build(write_card, tmp_path, text=CARD):
    out = tmp_path / "proj"
    res = run_cli("build", write_card(text), "-o", out)
    assert res.returncode == 0, res.stderr[-2000:]
    return out, json.loads((out / "train_config.json").read_text())


def assumed(tc, path):
    return next(a for a in tc["assumed"] if a["path"] == path)


# ------------------------------------------------------------------ TrainingArguments' defaults: one copy
def test_build_defaults_hold_no_training_arguments_defaults():
    defaults = data.load("build_defaults")
    assert "training_arguments" not in defaults
    hf = data.trainer_profile("hf-trainer")["defaults"]
    for key, entry in defaults["training_assumptions"].items():
        assert entry["source"].startswith("cardrepro:"), key
        assert "value" not in entry or entry["value"] != hf.get(key), f"{key}: a copy of the trainer default"


def test_unstated_training_keys_take_the_hf_trainer_profile_defaults(write_card, tmp_path):
    _, tc = build(write_card, tmp_path)
    hf = data.trainer_profile("hf-trainer")
    renamed = data.load("build_defaults")["training_argument_names"]
    own = data.load("build_defaults")["training_assumptions"]
    stated = {"learning_rate", "per_device_train_batch_size", "num_train_epochs", "logging_steps"}
    for key in set(TRAINING_KEYS) - stated - set(own):
        assert tc["training"][renamed.get(key, key)] == hf["defaults"][key], key
        assert assumed(tc, f"training.{key}")["source"] == hf["assumption"], key


def test_eval_steps_is_a_named_cardrepro_assumption_following_logging_steps(write_card, tmp_path):
    _, tc = build(write_card, tmp_path)
    assert data.trainer_profile("hf-trainer")["defaults"]["eval_steps"] is None
    assert tc["training"]["logging_steps"] == 10 and tc["training"]["eval_steps"] == 10
    entry = assumed(tc, "training.eval_steps")
    assert entry["source"] == data.load("build_defaults")["training_assumptions"]["eval_steps"]["source"]
    silent = write_card(CARD.replace("logging_steps: 10\n", ""), name="silent.md")
    res = run_cli("build", silent, "-o", tmp_path / "silent")
    assert res.returncode == 0, res.stderr[-2000:]
    tc = json.loads((tmp_path / "silent" / "train_config.json").read_text())
    assert tc["training"]["eval_steps"] == tc["training"]["logging_steps"] == 500


def test_a_named_trainer_falls_back_to_its_base_profile():
    spec = {"trainer": {"name": "oa-trainer-sft"}, "training": {}}
    assert assume.base_trainer("oa-trainer-sft") == assume.base_trainer(None) == "hf-trainer"
    value, source = assume.training_argument(spec, "lr_scheduler_type")
    assert value == "linear" and source == "transformers TrainingArguments default (oa-trainer-sft does not set it)"


# ------------------------------------------------------------------ the loop: every value from train_config.json
def test_the_build_writes_every_loop_setting_and_names_the_assumed_ones(write_card, tmp_path):
    import dataclasses
    from cardrepro.train.contract import Loop
    _, tc = build(write_card, tmp_path)
    assert set(tc["loop"]) == {f.name for f in dataclasses.fields(Loop)}
    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(Loop))
    embedded = data.load("build_defaults")["embedded_trainer"]["name"]
    for key in ("random_offset_probability", "use_custom_sampler"):
        assert tc["loop"][key] == data.trainer_profile(embedded)["defaults"][key]
        assert assumed(tc, f"trainer.options.{key}")["source"].startswith(f"default:{embedded} (")


def test_a_loop_setting_missing_from_train_config_stops_the_run(write_card, tmp_path):
    proj, tc = build(write_card, tmp_path)
    del tc["loop"]["random_offset_probability"]
    path = proj / "train_config.json"
    path.write_text(json.dumps(tc, indent=2, sort_keys=True))
    res = run_cli("run", proj, "--dry-run", timeout=300)
    line = next(i for i, l in enumerate(path.read_text().splitlines(), 1) if l.strip().startswith('"loop"'))
    assert res.returncode == 2, res.stdout[-1000:] + res.stderr[-1000:]
    assert f"train_config.json:{line}: loop.random_offset_probability is not set" in res.stderr
