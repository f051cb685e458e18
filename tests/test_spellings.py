"""One spelling table (cardrepro/data/keys.yaml, read only by cardrepro/extract/canonical.py): each
family of spellings with lines as real cards and configs write them, through `cardrepro parse`,
and no other module of the package holding a map of spellings."""
import ast
import json
from pathlib import Path

import pytest

from cardrepro import data
from cardrepro.extract import canonical
from conftest import CARDS, ROOT, run_cli

PACKAGE = ROOT / "cardrepro"


def parse(write_card, text):
    res = run_cli("parse", write_card(text), "--format", "json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


# nlp-waseda/roberta-base-japanese-with-auto-jumanpp: an older HF auto-card list (`Adam with`
# names no TrainingArguments optimizer), `training_steps`, `Native AMP`
AUTOCARD_OLD = """# roberta-base-japanese-with-auto-jumanpp

The following hyperparameters were used during pretraining:
- learning_rate: 1e-4
- per_device_train_batch_size: 256
- distributed_type: multi-GPU
- num_devices: 8
- gradient_accumulation_steps: 2
- total_train_batch_size: 4096
- max_seq_length: 128
- optimizer: Adam with betas=(0.9,0.999) and epsilon=1e-08
- lr_scheduler_type: linear
- training_steps: 700000
- warmup_steps: 10000
- mixed_precision_training: Native AMP
"""

# FinLoRA xbrl_extract (shared/realcards): a newer auto-card list, the optimizer as OptimizerNames
AUTOCARD_NEW = """# xbrl_extract

### Training hyperparameters

The following hyperparameters were used during training:
- learning_rate: 0.0001
- train_batch_size: 1
- eval_batch_size: 1
- seed: 42
- distributed_type: multi-GPU
- num_devices: 4
- gradient_accumulation_steps: 8
- total_train_batch_size: 32
- total_eval_batch_size: 4
- optimizer: Use OptimizerNames.ADAMW_TORCH_FUSED with betas=(0.9,0.999) and epsilon=1e-08 and optimizer_args=No additional optimizer arguments
- lr_scheduler_type: cosine
- lr_scheduler_warmup_steps: 10
- num_epochs: 1
"""


def test_hf_autocard_old_list(write_card):
    spec = parse(write_card, AUTOCARD_OLD)
    t = spec["training"]
    assert t["max_steps"] == 700000 and t["dtype"] == "fp16"
    assert (t["adam_beta1"], t["adam_beta2"], t["adam_epsilon"]) == (0.9, 0.999, 1e-08)
    assert "optim" not in t            # `Adam with ...` names no TrainingArguments optim: nothing invented
    assert t["num_gpus"] == 8 and t["total_train_batch_size"] == 4096 and t["max_length"] == 128
    assert spec["provenance"]["training.dtype"]["text"] == "- mixed_precision_training: Native AMP"


def test_hf_autocard_optimizer_names(write_card):
    t = parse(write_card, AUTOCARD_NEW)["training"]
    assert t["optim"] == "adamw_torch_fused"
    assert (t["adam_beta1"], t["adam_beta2"], t["adam_epsilon"]) == (0.9, 0.999, 1e-08)
    assert t["per_device_train_batch_size"] == 1 and t["per_device_eval_batch_size"] == 1
    assert t["warmup_steps"] == 10 and t["num_train_epochs"] == 1 and t["num_gpus"] == 4


@pytest.mark.parametrize("line, optim", [
    # lf-law-sft-qwen25-full (shared/realcards): the optim name as TrainingArguments spells it
    ("- optimizer: Use adamw_torch with betas=(0.9,0.999) and epsilon=1e-08 and optimizer_args=No additional "
     "optimizer arguments", "adamw_torch"),
    # a plain name (nomic/Axolotl-style lists)
    ("- optimizer: paged_adamw_8bit", "paged_adamw_8bit"),
])
def test_optimizer_values(write_card, line, optim):
    spec = parse(write_card, f"# m\n\nThe following hyperparameters were used during training:\n- learning_rate: 2e-05\n{line}\n")
    assert spec["training"]["optim"] == optim


# Senku-70B (shared/realcards/senku-70b-qlora.md): an Axolotl config
AXOLOTL = """# Senku-70B
```yaml
base_model: 152334H/miqu-1-70b-sf
load_in_8bit: false
load_in_4bit: true
adapter: qlora
sequence_len: 8192
lora_r: 32
lora_alpha: 16
lora_dropout: 0.05
lora_target_modules:
  - gate_proj
  - down_proj
  - up_proj
gradient_accumulation_steps: 4
micro_batch_size: 2
num_epochs: 1
optimizer: adamw_bnb_8bit
lr_scheduler: cosine
learning_rate: 0.0002
bf16: auto
deepspeed: deepspeed_configs/zero3_bf16.json
```
"""


def test_axolotl_config(write_card):
    spec = parse(write_card, AXOLOTL)
    t, peft, q = spec["training"], spec["peft"], spec["quantization"]
    assert (t["max_length"], t["per_device_train_batch_size"], t["num_train_epochs"]) == (8192, 2, 1)
    assert (t["optim"], t["lr_scheduler_type"], t["dtype"]) == ("adamw_bnb_8bit", "cosine", "bf16")
    assert peft["type"] == "lora" and peft["r"] == 32
    assert peft["target_modules"] == ["gate_proj", "down_proj", "up_proj"]   # the list, not its first item
    assert q["load_in_4bit"] is True and q["method"] == "bitsandbytes"
    assert spec["deepspeed"]["config_ref"] == "deepspeed_configs/zero3_bf16.json" and spec["deepspeed"]["stage"] == 3


# LLaMA-Factory examples/train_qlora/llama3_lora_sft_otfq.yaml, as a card quotes it
LLAMA_FACTORY_YAML = """# llama3 qlora
```yaml
### model
model_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct
quantization_bit: 4

### method
stage: sft
do_train: true
finetuning_type: lora
lora_rank: 8
lora_target: q_proj,v_proj

### dataset
dataset: identity,alpaca_en_demo
template: llama3
cutoff_len: 2048

### train
per_device_train_batch_size: 1
gradient_accumulation_steps: 8
learning_rate: 1.0e-4
num_train_epochs: 3.0
lr_scheduler_type: cosine
warmup_ratio: 0.1
bf16: true
```
"""


def test_llama_factory_config(write_card):
    spec = parse(write_card, LLAMA_FACTORY_YAML)
    t, peft, q = spec["training"], spec["peft"], spec["quantization"]
    assert (t["max_length"], t["per_device_train_batch_size"], t["warmup_ratio"], t["dtype"]) == (2048, 1, 0.1, "bf16")
    assert peft["type"] == "lora" and peft["r"] == 8 and peft["target_modules"] == ["q_proj", "v_proj"]
    assert q["load_in_4bit"] is True and q["method"] == "bitsandbytes"


# shenzhi-wang/Llama3-8B-Chinese-Chat: a LLaMA-Factory command
LLAMA_FACTORY_COMMAND = """# Llama3-8B-Chinese-Chat
```bash
deepspeed --num_gpus 8 src/train_bash.py \\
    --deepspeed ${Your_Deepspeed_Config_Path} \\
    --stage orpo \\
    --do_train \\
    --model_name_or_path meta-llama/Meta-Llama-3-8B-Instruct \\
    --dataset ${Your_Dataset_Name_or_PATH} \\
    --template llama3 \\
    --finetuning_type full \\
    --per_device_train_batch_size 1 \\
    --gradient_accumulation_steps 16 \\
    --learning_rate 3e-6 \\
    --max_steps -1 \\
    --bf16 true \\
    --cutoff_len 8192 \\
    --optim paged_adamw_32bit
```
"""


def test_llama_factory_command(write_card):
    spec = parse(write_card, LLAMA_FACTORY_COMMAND)
    t = spec["training"]
    assert (t["max_length"], t["per_device_train_batch_size"], t["optim"], t["dtype"]) == (8192, 1, "paged_adamw_32bit", "bf16")
    assert t["num_gpus"] == 8 and "max_steps" not in t
    assert spec["base_model"]["name"] == "meta-llama/Meta-Llama-3-8B-Instruct"


def test_chinese_labels():
    """bloom-zh-3b-sft (a seed card): `许可证:bigscience-openrail-m`, `语言:`, `数据集:` metadata lines."""
    res = run_cli("parse", CARDS / "bloom-zh-3b-sft.md", "--format", "json")
    spec = json.loads(res.stdout)
    assert spec["licence"] == "bigscience-openrail-m" and spec["provenance"]["licence"]["line"] == 1
    assert spec["metadata_datasets"][0] == "OpenAssistant/oasst1"
    assert spec["provenance"]["metadata_datasets[0]"]["line"] == 13


def test_chinese_training_labels(write_card):
    spec = parse(write_card, "许可证:apache-2.0\n学习率: 2e-5\n训练轮数: 3\n\n# 模型\n")
    assert spec["training"]["learning_rate"] == 2e-5 and spec["training"]["num_train_epochs"] == 3


def test_deepspeed_keys_audit(write_card):
    """A card's DeepSpeed JSON that disagrees with its TrainingArguments: CR322 names the key."""
    card = write_card("# m\n\n```bash\ndeepspeed train.py --deepspeed ds.json --per_device_train_batch_size 4 "
                      "--max_grad_norm 1.0\n```\n\n```json\n{\n  \"train_micro_batch_size_per_gpu\": 8,\n"
                      "  \"gradient_clipping\": 0.5,\n  \"zero_optimization\": {\"stage\": 2}\n}\n```\n")
    res = run_cli("audit", card, "--format", "json", "--fail-on", "never")
    assert res.returncode == 0, res.stderr
    findings = json.loads(res.stdout)["reports"][0]["findings"]
    found = {tuple(f["paths"]) for f in findings if f["code"] == "CR322"}
    assert ("deepspeed.config.train_micro_batch_size_per_gpu", "training.per_device_train_batch_size") in found
    assert ("deepspeed.config.gradient_clipping", "training.max_grad_norm") in found


def test_canonical_paths():
    assert canonical.path("Micro-Batch Size") == "training.per_device_train_batch_size"
    assert canonical.path("**learning rate**") == "training.learning_rate"
    assert canonical.path("model_name_or_path", ("base_model",)) == "base_model.name"
    assert canonical.path("top_p", ("generation",)) == "generation.top_p"
    assert canonical.path("output_dir") is None
    assert canonical.facts("mixed_precision_training", "Native AMP") == [("training.dtype", "fp16")]
    assert canonical.facts("dtype", "auto") == []      # no training dtype: stated nothing
    assert canonical.facts("bf16", False) == [] and canonical.facts("bf16", "auto") == [("training.dtype", "bf16")]
    assert canonical.trainer_path("oa-trainer-sft", "model_name") == "base_model.name"
    assert ("gradient_clipping", "training.max_grad_norm", "float") in canonical.deepspeed_keys()


def _aliases():
    """Every spelling in the table that is not the spec's own name for the field."""
    out = set()
    for name in ("training", "peft", "quantization", "base_model"):
        out |= {k for k, field in data.load("keys")[name].items() if k != field}
    out |= set(data.load("keys")["labels"])
    return out


def _maps_of_spellings(tree, aliases):
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):   # {spelling: name}
            pairs = [(k.value, v.value) for k, v in zip(node.keys, node.values)
                     if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and isinstance(v.value, str)]
            named = sorted(k for k, _ in pairs if k in aliases)
            if named:
                yield node.lineno, named
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2 and all(isinstance(e, ast.Constant) for e in node.elts):
            a, b = (e.value for e in node.elts)
            if a in aliases and isinstance(b, str) and "." in b:
                yield node.lineno, [a, b]


def _string_constants(text):
    return {n.value for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_no_other_module_maps_spellings():
    aliases = _aliases()
    assert {"micro_batch_size", "cutoff_len", "学习率", "train_micro_batch_size_per_gpu"} <= aliases
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "extract" / "canonical.py":
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}:{no}: {what}" for no, what in _maps_of_spellings(ast.parse(text), aliases)]
        found += [f"{path.relative_to(ROOT)}: {label}" for label in _string_constants(text) & set(data.load("keys")["labels"])]
    assert found == []
    for name in ("labels",):
        assert not (PACKAGE / "data" / f"{name}.yaml").exists()
    assert all("spec_paths" not in p for p in data.trainer_profiles().values())


def test_the_finder_finds(tmp_path):
    """The check above flags a module that maps spellings (so its silence means something)."""
    bad = "KEYS = {'micro_batch_size': 'per_device_train_batch_size'}\nPAIRS = [('gradient_clipping', 'training.max_grad_norm')]\n"
    assert [no for no, _ in _maps_of_spellings(ast.parse(bad), _aliases())] == [1, 2]
