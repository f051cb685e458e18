"""Settings in markdown bullets (`* r=16`, `- **Learning rate:** 1e-5`), in wide tables (a row or
a column per model size), and package versions (requirement pins, HF auto-card framework lists,
`axolotl version:`), each read through `cardrepro parse` from real card lines (the corpus file
named above each case is in shared/corpus/hub-readmes)."""
import json

from conftest import run_cli


def parse(write_card, text, name="card.md"):
    res = run_cli("parse", write_card(text, name=name), "--format", "json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


# mlabonne_NeuralHermes-2.5-Mistral-7B
NEURALHERMES = """# NeuralHermes 2.5

## Training hyperparameters

**LoRA**:
* r=16
* lora_alpha=16
* lora_dropout=0.05
* bias="none"
* task_type="CAUSAL_LM"
* target_modules=['k_proj', 'gate_proj', 'v_proj', 'up_proj', 'q_proj', 'o_proj', 'down_proj']

**Training arguments**:
* per_device_train_batch_size=4
* gradient_accumulation_steps=4
* gradient_checkpointing=True
* learning_rate=5e-5
* lr_scheduler_type="cosine"
* max_steps=200
* optim="paged_adamw_32bit"
* warmup_steps=100

**DPOTrainer**:
* beta=0.1
* max_prompt_length=1024
* max_length=1536
"""


def test_key_equals_value_bullets(write_card):
    spec = parse(write_card, NEURALHERMES)
    assert spec["peft"]["r"] == 16 and spec["peft"]["lora_alpha"] == 16
    assert spec["peft"]["target_modules"] == ["k_proj", "gate_proj", "v_proj", "up_proj", "q_proj", "o_proj", "down_proj"]
    t = spec["training"]
    assert (t["per_device_train_batch_size"], t["gradient_accumulation_steps"], t["max_steps"], t["warmup_steps"]) == (4, 4, 200, 100)
    assert t["gradient_checkpointing"] is True and t["learning_rate"] == 5e-5
    assert (t["lr_scheduler_type"], t["optim"], t["max_length"]) == ("cosine", "paged_adamw_32bit", 1536)
    assert spec["provenance"]["training.learning_rate"]["line"] == NEURALHERMES.splitlines().index("* learning_rate=5e-5") + 1


def test_label_bullets_and_values_that_state_nothing(write_card):
    # togethercomputer_RedPajama-INCITE-7B-Chat, sambanovasystems_BLOOMChat-176B-v1,
    # dominguesm_legal-bert-ner-base-cased-ptbr, s2593817_sft-sql-embedding, serpdotai_sparsetral-16x7B-v2,
    # togethercomputer_GPT-NeoXT-Chat-Base-20B
    spec = parse(write_card, "# m\n\n- **Learning rate:** 1e-5\n- Global Batch size: 128\n- Weight decay: 0.1\n"
                             "- eval_steps = logging_steps\n- `max_steps`: -1\n- Top K: 4\n"
                             "- **Optimizer:** [8bit-AdamW](https://github.com/TimDettmers/bitsandbytes)\n")
    t = spec["training"]
    assert (t["learning_rate"], t["total_train_batch_size"], t["weight_decay"]) == (1e-5, 128, 0.1)
    assert "eval_steps" not in t and "max_steps" not in t and "optim" not in t  # a name, "not set", a link
    assert "top_k" not in (spec.get("generation") or {})  # a MoE's routing, not sampling


def test_bullets_of_two_models_state_neither(write_card):
    # furusu_ControlNet: one list per model
    spec = parse(write_card, "# ControlNets\n\n### canny\n+ lr: 5e-5\n\n### depth\n+ lr: 1e-5\n")
    assert "learning_rate" not in (spec.get("training") or {})


# stabilityai_stablelm-tuned-alpha-7b: a row per model size; the architecture table beside it
STABLELM = """# StableLM-Tuned-Alpha

| Parameters | Hidden Size | Layers | Heads | Sequence Length |
|------------|-------------|--------|-------|-----------------|
| 3B         | 4096        | 16     | 32    | 4096            |
| 7B         | 6144        | 16     | 48    | 4096            |

### Training Procedure

| Parameters | Batch Size | Learning Rate | Warm-up | Weight Decay | Betas       |
|------------|------------|---------------|---------|--------------|-------------|
| 3B         | 256        | 2e-5          | 50      | 0.01         | (0.9, 0.99) |
| 7B         | 128        | 2e-5          | 100     | 0.01         | (0.9, 0.99) |
"""


def test_wide_table_gives_the_row_of_the_cards_size(write_card):
    t = parse(write_card, STABLELM, name="stablelm-tuned-alpha-7b.md")["training"]
    assert (t["total_train_batch_size"], t["learning_rate"], t["weight_decay"]) == (128, 2e-5, 0.01)
    assert (t["adam_beta1"], t["adam_beta2"]) == (0.9, 0.99)
    assert "max_length" not in t  # the architecture's context, not a training setting


def test_wide_table_of_a_card_without_a_size_gives_nothing(write_card):
    spec = parse(write_card, STABLELM.replace("# StableLM-Tuned-Alpha", "# StableLM"), name="stablelm.md")
    assert "total_train_batch_size" not in (spec.get("training") or {})


# timdettmers_guanaco-65b: a table without outer pipes, a row per size
GUANACO = """# Guanaco

Size| Dataset | Batch Size | Learning Rate | Max Steps | Sequence length
---|---|---|---|---|---
7B | OASST1      | 16 | 2e-4 | 1875 | 512
13B | OASST1     | 16 | 2e-4 | 1875 | 512
33B | OASST1     | 16 | 1e-4 | 1875 | 512
65B | OASST1     | 16 | 1e-4 | 1875 | 512
"""


def test_table_without_outer_pipes(write_card):
    t = parse(write_card, GUANACO, name="guanaco-65b.md")["training"]
    assert (t["learning_rate"], t["max_steps"], t["max_length"], t["total_train_batch_size"]) == (1e-4, 1875, 512, 16)


def test_key_rows_with_a_value_and_remarks(write_card):
    # tiiuae_falcon-7b-instruct: an architecture table gives the vocabulary size only;
    # gradientai_Llama-3-8B-Instruct-Gradient-1048k: one column per training stage gives nothing
    spec = parse(write_card, """# Falcon-7B-Instruct

| **Hyperparameter** | **Value** | **Comment**                            |
|--------------------|-----------|----------------------------------------|
| Layers             | 32        |                                        |
| `d_model`          | 4544      | Increased to compensate for multiquery |
| Vocabulary         | 65024     |                                        |
| Sequence length    | 2048      |                                        |

|                        | 65K       | 262K      | 524k      | 1048k     |
|------------------------|-----------|-----------|-----------|-----------|
| Batch Size             | 1         | 1         | 16         | 8         |
| Gradient Accumulation Steps | 32  | 16        | 1         | 1         |
| Learning Rate          | 2.00E-05  | 2.00E-05  | 2.00E-05  | 2.00E-05  |
""")
    assert spec["tokenizer"]["vocab_size"] == 65024
    assert not spec.get("training")


def test_two_column_table_in_words(write_card):
    # WizardLMTeam_WizardCoder-15B-V1.0
    t = parse(write_card, """# WizardCoder

| Hyperparameter | StarCoder-15B |
|----------------|---------------|
| Batch size     | 512           |
| Learning rate  | 2e-5          |
| Epochs         | 3             |
| Max length     | 2048          |
| Warmup step    | 30            |
| LR scheduler   | cosine        |
""")["training"]
    assert t == {"total_train_batch_size": 512, "learning_rate": 2e-5, "num_train_epochs": 3, "max_length": 2048,
                 "warmup_steps": 30, "lr_scheduler_type": "cosine"}


def test_peft_quantization_config_list(write_card):
    # a PEFT auto-card (peft-gptq-under-bnb-heading in shared/realcards)
    spec = parse(write_card, """---
library_name: peft
---
## Training procedure

The following `bitsandbytes` quantization config was used during training:
- quant_method: gptq
- bits: 4
- group_size: 128
- batch_size: 1
""")
    assert (spec["quantization"]["method"], spec["quantization"]["bits"], spec["quantization"]["group_size"]) == ("gptq", 4, 128)
    assert "total_train_batch_size" not in (spec.get("training") or {})  # GPTQ's calibration batch


def test_framework_versions_list_axolotl_header_and_pins(write_card):
    # trl-dpo-lora-llama32-1b (HF auto-card with colons), senku-70b-qlora (Axolotl header),
    # WizardLMTeam_WizardCoder-15B-V1.0 (pins in a note), fnlp_moss-moon-003-sft (requirements)
    env = parse(write_card, """# m

axolotl version: `0.4.0`

(Note: `deepspeed==0.9.2` and `transformers==4.29.2`)

```
accelerate==0.17.1
torch==1.13.1+cu117
```

### Framework versions

- PEFT 0.18.1
- TRL: 0.27.1
- Datasets: 4.5.0
""")["environment"]
    assert env == {"axolotl": "0.4.0", "deepspeed": "0.9.2", "transformers": "4.29.2", "accelerate": "0.17.1",
                   "torch": "1.13.1+cu117", "peft": "0.18.1", "trl": "0.27.1", "datasets": "4.5.0"}


def test_a_minimum_or_two_pins_state_no_version(write_card):
    # 01-ai_Yi-34B-Chat writes `deepspeed==0.10`; an install section for two CUDA builds pins torch twice
    spec = parse(write_card, "# m\n\n```\npip install torch>=1.13 transformers>=4.30\n```\n\n"
                             "```\npip install torch==1.13.1+cu117\npip install torch==1.13.1+cu116\n```\n")
    assert not spec.get("environment")


def test_interactive_session_is_read_as_code(write_card):
    # fnlp_moss-moon-003-sft: a `>>>` session, its output lines between the prompts
    gen = parse(write_card, """# MOSS

```python
>>> from transformers import AutoTokenizer, AutoModelForCausalLM
>>> inputs = tokenizer(query, return_tensors="pt")
>>> for k in inputs:
...     inputs[k] = inputs[k].cuda()
>>> outputs = model.generate(**inputs, do_sample=True, temperature=0.7, top_p=0.8, repetition_penalty=1.02, max_new_tokens=256)
>>> print(response)
您好！我是MOSS，有什么我可以帮助你的吗？
```
""")["generation"]
    assert gen == {"do_sample": True, "temperature": 0.7, "top_p": 0.8, "repetition_penalty": 1.02, "max_new_tokens": 256}


def test_command_names_its_deepspeed_config(write_card):
    # WizardLMTeam_WizardCoder-15B-V1.0's training command
    spec = parse(write_card, """# WizardCoder

```bash
deepspeed train_wizardcoder.py \\
    --model_name_or_path "bigcode/starcoder" \\
    --learning_rate 2e-5 \\
    --deepspeed configs/deepspeed_config.json \\
    --fp16 True
```
""")
    assert spec["deepspeed"]["config_ref"] == "configs/deepspeed_config.json"
    assert spec["training"]["learning_rate"] == 2e-5
