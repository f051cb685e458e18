"""Values that must not pass silently (NaN/infinities, impossible numbers, control characters, file
paths that leave the project) and builds that must not pass a guess off as the card (no base model,
nothing trainable), all through the CLI on real cards written in tmp_path."""
import json
import re

import pytest

from conftest import run_cli

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strict_json(path):
    def refuse(name):
        raise ValueError(f"{path}: {name} is not JSON")
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def hp_card(settings, base_model="EleutherAI/pythia-70m", datasets=("OpenAssistant/oasst1",)):
    """A card whose config block states the base model, the mix and SETTINGS (YAML lines)."""
    lines = ["---", "license: apache-2.0", "---", "# A test model", "", "## Training", "", "```yaml"]
    if base_model:
        lines.append(f"base_model: {base_model}")
    if datasets:
        lines += ["datasets:"] + [f"  - {d}" for d in datasets]
    lines += list(settings) + ["```", ""]
    return "\n".join(lines)


def line_of(text, needle):
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def audit_json(card):
    res = run_cli("audit", card, "--format", "json", "--fail-on", "never")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)["reports"][0]["findings"]


# ------------------------------------------------------------------ values that must not pass silently
def test_infinite_and_impossible_numbers_are_findings_never_output(write_card, tmp_path):
    text = hp_card(["learning_rate: 1e999", "num_train_epochs: 1", "per_device_train_batch_size: 0",
                    "warmup_ratio: 1.5", "weight_decay: .nan"])
    card = write_card(text)
    out = tmp_path / "proj"
    res = run_cli("build", card, "-o", out)
    assert res.returncode == 0, res.stderr
    spec, tc = strict_json(out / "spec.json"), strict_json(out / "train_config.json")
    for key in ("learning_rate", "per_device_train_batch_size", "warmup_ratio", "weight_decay"):
        assert key not in spec["training"], key
        assert f"training.{key}" not in spec["provenance"], key
    dropped = {v["path"]: v for v in spec["hygiene"]["invalid_values"]}
    assert dropped["training.learning_rate"] == {"path": "training.learning_rate", "value": "Infinity",
                                                 "reason": "not a finite number",
                                                 "line": line_of(text, "learning_rate")}
    assert dropped["training.weight_decay"]["value"] == "NaN"
    assert dropped["training.per_device_train_batch_size"]["line"] == line_of(text, "per_device_train_batch_size")
    assert tc["training"]["learning_rate"] == 5e-05 and "warmup_ratio" not in tc["training"]
    assert spec["training"]["num_train_epochs"] == 1
    assert "assumed: training.learning_rate = 5e-05 (" in res.stderr   # the guess is said, not only written

    errors = {f["paths"][0]: f for f in audit_json(card) if f["code"] == "CR230"}
    assert set(errors) == set(dropped)
    assert all(f["severity"] == "error" for f in errors.values())
    assert errors["training.warmup_ratio"]["lines"] == [line_of(text, "warmup_ratio")]
    assert "Infinity" in errors["training.learning_rate"]["message"]
    # the learning rate is reported once, as unusable, not also as "not stated"
    assert not [f for f in audit_json(card) if f["code"] == "CR203"]

    strict = run_cli("build", card, "-o", tmp_path / "strict", "--strict")
    assert strict.returncode == 2 and "CR230" in strict.stderr and strict.stderr.count("\n") == 1
    assert not (tmp_path / "strict").exists()


@pytest.mark.parametrize("setting, path", [
    ("learning_rate: 0", "training.learning_rate"),
    ("learning_rate: -2e-5", "training.learning_rate"),
    ("gradient_accumulation_steps: 0", "training.gradient_accumulation_steps"),
    ("per_device_train_batch_size: -4", "training.per_device_train_batch_size"),
    ("num_gpus: 0", "training.num_gpus"),
])
def test_zero_or_negative_settings_are_audit_errors(write_card, setting, path):
    text = hp_card([setting, "num_train_epochs: 2"])
    card = write_card(text)
    parsed = run_cli("parse", card, "--format", "json")
    assert parsed.returncode == 0, parsed.stderr
    spec = json.loads(parsed.stdout)
    assert path.split(".")[1] not in spec.get("training", {})
    found = [f for f in audit_json(card) if f["code"] == "CR230"]
    assert [(f["paths"], f["severity"], f["lines"]) for f in found] == \
        [([path], "error", [line_of(text, setting.split(":")[0])])]


def test_control_characters_never_reach_scripts_readme_or_audit(write_card, tmp_path):
    text = ("---\nwidget:\n- text: \"\\e[2J\\e]0;pwned\\a\\x9b31mHello\\0 there\\e[0m\"\n---\n"
            + hp_card(["learning_rate: 2e-5", "num_train_epochs: 1", 'lr_scheduler_type: "cosine\\e[2J\\x85"'],
                      datasets=("OpenAssistant/oasst1", '"internal\\e]0;x\\a-chats"')).split("---\n", 2)[2])
    card = write_card(text)
    assert "\\e[2J" in card.read_text()      # the card holds YAML escapes, not the characters themselves
    out = tmp_path / "proj"
    res = run_cli("build", card, "-o", out, "--assume")
    assert res.returncode == 0, res.stderr
    assert not CONTROL.search(res.stdout + res.stderr)
    rendered = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "infer.sh" for p in rendered)
    for p in rendered:
        body = p.read_text(encoding="utf-8")
        assert not CONTROL.search(body), p.relative_to(out)
    assert "\\x1b[2J" in (out / "infer.sh").read_text()     # made visible, not silently changed into something else
    spec = strict_json(out / "spec.json")
    assert spec["training"]["lr_scheduler_type"] == "cosine\x1b[2J\x85"   # the data itself is kept, JSON-escaped
    for fmt in ("text", "markdown", "json"):
        audit = run_cli("audit", card, "--format", fmt, "--fail-on", "never")
        assert audit.returncode == 0 and not CONTROL.search(audit.stdout), fmt


OA_CARD = """---
language: en
---
# OA test card

- **Finetuned from:** [stabilityai/stablelm-base-alpha-7b](https://huggingface.co/stabilityai/stablelm-base-alpha-7b)

command: `deepspeed trainer_sft.py --configs defaults test-cfg --num_train_epochs 1 --deepspeed`

```
test-cfg:
  learning_rate: 1e-5
  datasets:
    - vicuna:
        val_split: 0.05
    - oasst_export:
        input_file_path: {path}
```
"""


@pytest.mark.parametrize("path", ["/etc/passwd", "../../x", "data/../../x", "~/secrets.jsonl"])
def test_dataset_file_paths_that_leave_the_project_are_refused(write_card, tmp_path, path):
    text = OA_CARD.format(path=path)
    card = write_card(text)
    res = run_cli("build", card, "-o", tmp_path / "proj")
    assert res.returncode == 2, res.stdout + res.stderr
    assert "input_file_path" in res.stderr and "data folder" in res.stderr
    assert res.stderr.startswith(f"{card}:{line_of(text, 'input_file_path')}:")
    assert not (tmp_path / "proj").exists()


def test_dataset_file_path_inside_the_project_is_kept(write_card, tmp_path):
    card = write_card(OA_CARD.format(path="exports/2023-04-12_oasst_ready.jsonl.gz"))
    res = run_cli("build", card, "-o", tmp_path / "proj")
    assert res.returncode == 0, res.stderr
    tc = strict_json(tmp_path / "proj" / "train_config.json")
    opts = next(d["options"] for d in tc["datasets"] if d["name"] == "oasst_export")
    assert opts["input_file_path"] == "exports/2023-04-12_oasst_ready.jsonl.gz"


# ------------------------------------------------------------------ never build a guess as if it were the card
QLORA_PROSE = """---
license: apache-2.0
---
# Guanaco-style adapter

We fine-tuned with QLoRA (r=64, alpha=16) for 1 epoch at a learning rate of 2e-4 on one A100,
using the prompt format `### Human: ... ### Assistant: ...`.

```yaml
datasets:
  - OpenAssistant/oasst1
lora_r: 64
lora_alpha: 16
learning_rate: 2e-4
num_train_epochs: 1
```
"""


def test_card_without_base_model_is_refused_unless_assumed(write_card, tmp_path):
    card = write_card(QLORA_PROSE)
    out = tmp_path / "proj"
    res = run_cli("build", card, "-o", out)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.count("\n") == 1 and "base_model.name" in res.stderr and "no base model" in res.stderr
    assert "--assume" in res.stderr and not out.exists()

    res = run_cli("build", card, "-o", out, "--assume")
    assert res.returncode == 0, res.stderr
    assert "assumed: base_model.name = \"huggyllama/llama-7b\" (build default" in res.stderr
    readme = (out / "README.md").read_text(encoding="utf-8")
    first = readme.split("\n## ", 2)[1]        # the README's first section
    assert first.startswith("Warning: this project is built on guesses")
    assert "`base_model.name`: the card states no base model" in first
    assert "| base_model.name | huggyllama/llama-7b |" in first
    tc = strict_json(out / "train_config.json")
    assert tc["training"]["learning_rate"] == 2e-4         # what the card does say is still the card's


def test_card_with_nothing_trainable_is_refused(write_card, tmp_path):
    card = write_card(hp_card(["learning_rate: 2e-5", "num_train_epochs: 3"], datasets=()))
    res = run_cli("build", card, "-o", tmp_path / "proj")
    assert res.returncode == 2, res.stdout + res.stderr
    assert "nothing trainable is left" in res.stderr and "the card names none" in res.stderr
    internal = write_card(hp_card(["learning_rate: 2e-5"], datasets=("our-private-chats",)), name="internal.md")
    res = run_cli("build", internal, "-o", tmp_path / "proj")
    assert res.returncode == 2 and "our-private-chats" in res.stderr, res.stderr
    res = run_cli("build", card, "-o", tmp_path / "proj", "--assume")
    assert res.returncode == 0, res.stderr
    first = (tmp_path / "proj" / "README.md").read_text(encoding="utf-8").split("\n## ", 2)[1]
    assert "`datasets`: nothing trainable is left" in first
