"""`cardrepro export CARD --to axolotl|llamafactory|trl`: TRL's own classes load the TRL export;
the Axolotl and LLaMA-Factory exports use only their framework's keys (data/export/*.yaml) and,
embedded in a card as their users do, parse back to the card's values."""
import dataclasses
import os

import pytest
import yaml

from conftest import CARDS, ROOT, run_cli
from cardrepro import data
from cardrepro.export import core
from cardrepro.paths import get
from cardrepro.spec import parse_card

REAL = ROOT.parent / "shared" / "realcards" / "cards"
REAL_CARDS = ["senku-70b-qlora", "openhermes-2.5-mistral-7b", "baichuan-7b-sft-lf", "lf-law-sft-qwen25-full",
              "llama3-8b-chinese-chat-orpo-ds", "trl-dpo-lora-llama32-1b", "zephyr-7b-beta"]
SEED_CARDS = sorted(p.stem for p in CARDS.glob("*.md"))

# A LoRA SFT card as an Axolotl user writes one: every compared value stated, a ChatML prompt, a
# registry dataset (dolly15k) and a Hub one.
LORA_CARD = """---
license: apache-2.0
---
# Tiny chat LoRA

Fine-tuned with LoRA on a 4-bit base. Prompt format:

```
<|im_start|>system
You are helpful.<|im_end|>
<|im_start|>user
{prompt}<|im_end|>
<|im_start|>assistant
```

Hyperparameters:

```yaml
base_model: mistralai/Mistral-7B-v0.1
load_in_4bit: true
adapter: qlora
lora_r: 16
lora_alpha: 32
lora_dropout: 0.05
lora_target_modules:
  - q_proj
  - k_proj
  - v_proj
sequence_len: 4096
micro_batch_size: 4
gradient_accumulation_steps: 8
num_epochs: 3
learning_rate: 0.0002
lr_scheduler: cosine
warmup_ratio: 0.03
bf16: true
datasets:
  - path: databricks/databricks-dolly-15k
  - path: teknium/OpenHermes-2.5
```
"""

COMPARED = ["base_model.name", "training.learning_rate", "training.num_train_epochs",
            "training.per_device_train_batch_size", "training.gradient_accumulation_steps",
            "training.max_length", "training.lr_scheduler_type", "training.warmup_ratio", "training.dtype",
            "peft.r", "peft.lora_alpha", "peft.lora_dropout", "peft.target_modules",
            "quantization.load_in_4bit"]


def _export(card, target, out):
    res = run_cli("export", card, "--to", target, "-o", out)
    assert res.returncode == 0, res.stderr
    return yaml.safe_load(out.read_text(encoding="utf-8")), res.stderr


def _embedded(tmp_path, config_text, name):
    """The config in a card, in a ```yaml fence, as Axolotl and LLaMA-Factory users publish it."""
    card = tmp_path / name
    card.write_text(f"# Reproduced\n\nTrained with this config:\n\n```yaml\n{config_text}```\n", encoding="utf-8")
    return parse_card(card)


def _dataset_keys(spec):
    """Dataset names with registry aliases folded to the registry key (`dolly15k` = its Hub id)."""
    return [data.registry_entry(d["name"])[0] or d["name"] for d in spec.get("datasets") or []]


@pytest.fixture
def lora_card(tmp_path):
    p = tmp_path / "tiny-chat-lora.md"
    p.write_text(LORA_CARD, encoding="utf-8")
    return p


def test_the_card_states_what_the_round_trip_compares(lora_card):
    spec = parse_card(lora_card)
    assert all(get(spec, p) is not None for p in COMPARED), [p for p in COMPARED if get(spec, p) is None]
    assert core.named_format(spec["prompt"]) == ("chatml", True)


# ---- TRL: its own parser and classes load the export


def _trl_load(config_path, method):
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import importlib

    import trl
    entry = data.load("export/trl")["methods"][method]
    cls = getattr(importlib.import_module(entry.get("module", "trl")), entry["config"])
    parser = trl.TrlParser((trl.ScriptArguments, cls, trl.ModelConfig, trl.DatasetMixtureConfig))
    # use_cpu: the file is for GPUs (bf16); this machine has none, and TrainingArguments checks
    return parser.parse_args_and_config(args=["--config", str(config_path), "--use_cpu", "true"]), cls


def test_trl_export_loads_with_trl_classes(lora_card, tmp_path):
    out = tmp_path / "tiny.yaml"
    exported, _ = _export(lora_card, "trl", out)
    (script, config, model, _), cls = _trl_load(out, "qlora")
    assert cls.__name__ == "SFTConfig" and type(config) is cls
    assert model.model_name_or_path == "mistralai/Mistral-7B-v0.1"
    assert (model.use_peft, model.lora_r, model.lora_alpha, model.lora_dropout) == (True, 16, 32, 0.05)
    assert model.lora_target_modules == ["q_proj", "k_proj", "v_proj"] and model.load_in_4bit is True
    assert model.dtype == "bfloat16" and config.bf16 is True
    assert config.learning_rate == 2e-4 and config.num_train_epochs == 3 and config.max_length == 4096
    assert (config.per_device_train_batch_size, config.gradient_accumulation_steps) == (4, 8)
    assert config.lr_scheduler_type.value == "cosine"
    assert config.warmup_steps == 0.03  # transformers 5: a warmup_steps below 1 is the ratio
    assert exported["datasets"] == [{"path": "databricks/databricks-dolly-15k"}, {"path": "teknium/OpenHermes-2.5"}]
    template = (tmp_path / config.chat_template_path).read_text(encoding="utf-8")
    from conftest import hf_render
    assert hf_render(template, [{"role": "user", "content": "Hi"}]) == \
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


@pytest.mark.parametrize("card", ["trl-dpo-lora-llama32-1b", "zephyr-7b-beta", "llama3-8b-chinese-chat-orpo-ds",
                                  "senku-70b-qlora", "lf-law-sft-qwen25-full"])
def test_trl_export_of_real_cards_loads(card, tmp_path):
    spec = parse_card(REAL / f"{card}.md")
    out = tmp_path / f"{card}.yaml"
    exported, _ = _export(REAL / f"{card}.md", "trl", out)
    (script, config, model, _), cls = _trl_load(out, spec["method"])
    assert cls.__name__ == {"dpo": "DPOConfig", "orpo": "ORPOConfig"}.get(spec["method"], "SFTConfig")
    assert model.model_name_or_path == spec["base_model"]["name"]
    for path, attr in (("training.learning_rate", "learning_rate"), ("training.num_train_epochs", "num_train_epochs"),
                       ("training.per_device_train_batch_size", "per_device_train_batch_size"),
                       ("training.max_length", "max_length")):
        if get(spec, path) is not None:
            assert getattr(config, attr) == get(spec, path), path


def test_trl_keys_are_fields_of_the_installed_classes():
    import importlib

    import trl
    conf = data.load("export/trl")
    fields = lambda cls: {f.name for f in dataclasses.fields(cls)}  # noqa: E731
    for method, entry in conf["methods"].items():
        cls = getattr(importlib.import_module(entry.get("module", "trl")), entry["config"])
        keys = set(conf["config_keys"]) | set(entry.get("extra") or {})
        assert keys <= fields(cls), (method, keys - fields(cls))
    assert set(conf["sft_keys"]) <= fields(trl.SFTConfig)
    assert set(conf["model_keys"]) <= fields(trl.ModelConfig)
    assert set(conf["script_keys"]) <= fields(trl.ScriptArguments)
    assert set(conf["mixture_keys"]) <= fields(trl.DatasetMixtureConfig)
    from transformers.training_args import OptimizerNames
    assert set(data.load("export/common")["optimizers"]) <= {o.value for o in OptimizerNames}


# ---- Axolotl and LLaMA-Factory: their own key sets, and the round trip


@pytest.mark.parametrize("target", ["axolotl", "llamafactory"])
@pytest.mark.parametrize("card", [CARDS / f"{c}.md" for c in SEED_CARDS] + [REAL / f"{c}.md" for c in REAL_CARDS],
                         ids=lambda p: p.stem)
def test_exports_use_only_the_frameworks_keys(card, target, tmp_path):
    exported, _ = _export(card, target, tmp_path / f"out{data.load('export/' + target)['suffix']}")
    conf = data.load(f"export/{target}")
    assert set(exported) <= set(conf["keys"]), set(exported) - set(conf["keys"])
    for item in exported.get("datasets") or []:
        assert set(item) <= set(conf["dataset_keys"]), item


def test_axolotl_round_trip(lora_card, tmp_path):
    spec = parse_card(lora_card)
    out = tmp_path / "tiny.yml"
    exported, _ = _export(lora_card, "axolotl", out)
    assert exported["chat_template"] == "chatml" and exported["adapter"] == "qlora"
    back = _embedded(tmp_path, out.read_text(encoding="utf-8"), "axolotl-card.md")
    assert {p: get(back, p) for p in COMPARED} == {p: get(spec, p) for p in COMPARED}
    assert _dataset_keys(back) == _dataset_keys(spec)
    assert core.named_format(back["prompt"]) == ("chatml", True)


def test_llamafactory_round_trip(lora_card, tmp_path):
    spec = parse_card(lora_card)
    out = tmp_path / "tiny.yaml"
    exported, _ = _export(lora_card, "llamafactory", out)
    assert (exported["stage"], exported["finetuning_type"], exported["template"]) == ("sft", "lora", "chatml")
    assert exported["quantization_bit"] == 4 and exported["lora_target"] == "q_proj,k_proj,v_proj"
    back = _embedded(tmp_path, out.read_text(encoding="utf-8"), "lf-card.md")
    assert {p: get(back, p) for p in COMPARED} == {p: get(spec, p) for p in COMPARED}
    assert _dataset_keys(back) == _dataset_keys(spec)
    assert core.named_format(back["prompt"]) == ("chatml", True)


def test_llamafactory_round_trip_of_all_linear_targets(lora_card, tmp_path):
    """`lora_target: all` is LLaMA-Factory's all-linear: it reads back as the card's all-linear."""
    card = tmp_path / "all-linear.md"
    card.write_text(LORA_CARD.replace("lora_target_modules:\n  - q_proj\n  - k_proj\n  - v_proj\n",
                                      "lora_target_linear: true\n"), encoding="utf-8")
    assert parse_card(card)["peft"]["target_modules"] == "all-linear"
    out = tmp_path / "all.yaml"
    exported, _ = _export(card, "llamafactory", out)
    assert exported["lora_target"] == "all"
    back = _embedded(tmp_path, out.read_text(encoding="utf-8"), "lf-card.md")
    assert (back["peft"]["target_modules"], back["base_model"]["name"]) == ("all-linear", "mistralai/Mistral-7B-v0.1")


# A real LLaMA-Factory config as cards publish it (LLaMA-Factory examples/train_lora/*.yaml keys)
LF_CONFIG = """### model
model_name_or_path: Qwen/Qwen2.5-7B-Instruct

### method
stage: sft
do_train: true
finetuning_type: lora
lora_target: all
template: qwen
cutoff_len: 2048
"""


def test_model_keys_are_read_only_in_a_framework_config(tmp_path):
    """`model_name_or_path:` names the base model in a LLaMA-Factory config, not as a local folder
    nor in a config block of no framework's own keys (an evaluation or serving config)."""
    lf = _embedded(tmp_path, LF_CONFIG, "lf.md")
    assert (lf["base_model"]["name"], lf["peft"]["target_modules"]) == ("Qwen/Qwen2.5-7B-Instruct", "all-linear")
    assert lf["provenance"]["base_model.name"]["line"] == 7   # the config's own line
    local = _embedded(tmp_path, LF_CONFIG.replace("Qwen/Qwen2.5-7B-Instruct", "/data/models/qwen"), "local.md")
    assert "base_model" not in local
    other = _embedded(tmp_path, "model_name_or_path: Qwen/Qwen2.5-7B-Instruct\nmax_new_tokens: 512\n", "eval.md")
    assert "base_model" not in other


# ---- comments, stderr, stdout, secrets


def test_unstated_values_carry_their_source_and_stated_ones_do_not(lora_card, tmp_path):
    out = tmp_path / "tiny.yml"
    _export(lora_card, "axolotl", out)
    lines = out.read_text(encoding="utf-8").splitlines()
    comment_before = {l.split(":", 1)[0]: lines[i - 1] for i, l in enumerate(lines) if l and l[0].isalpha()}
    assert "transformers TrainingArguments default" in comment_before["max_grad_norm"]
    assert "max_grad_norm, not stated by the card" in comment_before["max_grad_norm"]
    for stated in ("learning_rate", "lora_r", "sequence_len", "base_model"):
        assert not comment_before[stated].startswith(f"# {stated},"), stated


def test_what_the_framework_cannot_express_goes_to_stderr(tmp_path):
    card = REAL / "senku-70b-qlora.md"
    _, err = _export(card, "llamafactory", tmp_path / "senku.yaml")
    assert "llamafactory cannot express: dataset 'Open-Orca/SlimOrca' options conversation, type" in err
    assert "data/dataset_info.json" in err
    _, err = _export(CARDS / "bloom-zh-3b-sft.md", "axolotl", tmp_path / "bloom.yml")
    assert "cannot express: dataset 'ikala'" in err  # the card's internal dataset
    assert "oa-trainer-sft option" in err or "option" in err


def test_stdout_without_output_file_and_no_side_files(lora_card, tmp_path):
    res = run_cli("export", lora_card, "--to", "trl", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert yaml.safe_load(res.stdout)["learning_rate"] == 2e-4
    assert "written only with -o FILE" in res.stderr
    assert list(tmp_path.iterdir()) == [lora_card]


def test_card_deepspeed_json_is_written_beside_the_config(tmp_path):
    card = tmp_path / "ds.md"
    card.write_text(LORA_CARD + '\n```json\n{"zero_optimization": {"stage": 2}, "train_batch_size": "auto"}\n```\n',
                    encoding="utf-8")
    exported, _ = _export(card, "axolotl", tmp_path / "ds.yml")
    assert exported["deepspeed"] == "ds.deepspeed.json"
    assert yaml.safe_load((tmp_path / "ds.deepspeed.json").read_text())["zero_optimization"] == {"stage": 2}


def test_no_absolute_path_in_the_export(tmp_path):
    card = tmp_path / "local.md"
    card.write_text(LORA_CARD.replace("- path: teknium/OpenHermes-2.5", "- path: /home/alice/data/train.jsonl"),
                    encoding="utf-8")
    out = tmp_path / "local.yml"
    _export(card, "axolotl", out)
    text = out.read_text(encoding="utf-8")
    assert "/home/alice" not in text and "- path: <local>/train.jsonl" in text


def test_unknown_target_and_bad_card_are_input_errors(lora_card, tmp_path):
    res = run_cli("export", lora_card, "--to", "megatron")
    assert res.returncode == 2
    missing = tmp_path / "missing.md"
    res = run_cli("export", missing, "--to", "trl")
    assert res.returncode == 2 and res.stderr.strip().startswith(str(missing))
    res = run_cli("export", lora_card, "--to", "trl", "-o", tmp_path)
    assert res.returncode == 2 and "-o names a folder" in res.stderr
