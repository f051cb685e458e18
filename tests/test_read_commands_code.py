"""Command lines and Python code as real cards write them (cardrepro/extract/command.py, code.py).
Every card text below is copied from a published card (named in the test)."""
import json

from conftest import run_cli
from cardrepro.extract import code, command
from cardrepro.read import read_card
from cardrepro.spec import parse_card

# hiyouga/Baichuan-7B-sft: LLaMA-Factory, env prefix, continuation lines, a bare switch at the end
BAICHUAN = """# Baichuan-7B-sft
```bash
CUDA_VISIBLE_DEVICES=0 python src/cli_demo.py \\
    --template default \\
    --model_name_or_path hiyouga/baichuan-7b-sft
```

You could reproduce our results with the following scripts using LLaMA-Factory:

```bash
CUDA_VISIBLE_DEVICES=0 python src/train_bash.py \\
    --stage sft \\
    --model_name_or_path baichuan-inc/baichuan-7B \\
    --do_train \\
    --finetuning_type lora \\
    --lora_rank 16 \\
    --output_dir baichuan_lora \\
    --per_device_train_batch_size 8 \\
    --lr_scheduler_type cosine \\
    --learning_rate 5e-5 \\
    --num_train_epochs 2.0 \\
    --fp16
```
"""

# fnlp/moss-moon-003-sft: accelerate launch with launcher options before the script, shell
# variables (one of them arithmetic), tabs, and a stray quote after the last value
MOSS = """# MOSS
```bash
num_machines=4
num_processes=$((num_machines * 8))
machine_rank=0

accelerate launch \\
\t--config_file ./configs/sft.yaml \\
\t--num_processes $num_processes \\
\t--num_machines $num_machines \\
\t--machine_rank $machine_rank \\
\t--deepspeed_multinode_launcher standard finetune_moss.py \\
\t--model_name_or_path fnlp/moss-moon-003-base \\
\t--n_epochs 2 \\
\t--train_bsz_per_gpu 4 \\
\t--learning_rate 0.000015 \\
\t--save_step 2000"
```
"""


def test_llamafactory_command_gives_its_flags_with_their_lines(write_card):
    spec = parse_card(write_card(BAICHUAN))
    assert spec["command"] == {"launcher": "python", "script": "src/train_bash.py",
                               "args": spec["command"]["args"]}
    assert spec["command"]["args"][:2] == ["--stage", "sft"]
    t = spec["training"]
    assert (t["per_device_train_batch_size"], t["lr_scheduler_type"], t["learning_rate"], t["num_train_epochs"]) \
        == (8, "cosine", 5e-5, 2.0)
    assert t["dtype"] == "fp16" and t["num_gpus"] == 1  # `--fp16`; CUDA_VISIBLE_DEVICES=0
    assert spec["peft"]["type"] == "lora" and spec["peft"]["r"] == 16
    # the training command's model, not the demo command's released one
    assert spec["base_model"]["name"] == "baichuan-inc/baichuan-7B"
    prov = spec["provenance"]
    assert prov["training.learning_rate"]["line"] == 20 and prov["training.learning_rate"]["origin"] == "cli"
    assert "--learning_rate 5e-5" in prov["training.learning_rate"]["text"]
    assert prov["peft.r"]["line"] == 16


def test_accelerate_launcher_options_and_shell_variables(write_card):
    spec = parse_card(write_card(MOSS))
    assert spec["command"]["launcher"] == "accelerate" and spec["command"]["script"] == "finetune_moss.py"
    t = spec["training"]
    assert t["num_gpus"] == 32  # --num_processes $((num_machines * 8)) is the world size
    assert (t["num_train_epochs"], t["per_device_train_batch_size"], t["learning_rate"], t["save_steps"]) \
        == (2, 4, 1.5e-5, 2000)
    assert spec["base_model"]["name"] == "fnlp/moss-moon-003-base"


def test_torchrun_records_launcher_and_script_and_world(tmp_path):
    # lm-sys/FastChat as cards quote it (FuseAI/FuseChat-7B-VaRM)
    card = tmp_path / "c.md"
    card.write_text("# m\n```bash\ntorchrun --nproc_per_node=8 --master_port=20001 /train/train.py \\\n"
                    "  --model_name_or_path \"openchat/openchat_3.5\" \\\n  --bf16 True \\\n"
                    "  --num_train_epochs 3 \\\n  --model_max_length 2048 \\\n  --gradient_checkpointing True\n```\n")
    r = run_cli("parse", card, "--format", "json")
    assert r.returncode == 0, r.stderr
    spec = json.loads(r.stdout)
    assert spec["command"]["launcher"] == "torchrun" and spec["command"]["script"] == "/train/train.py"
    t = spec["training"]
    assert (t["num_gpus"], t["dtype"], t["num_train_epochs"], t["max_length"], t["gradient_checkpointing"]) \
        == (8, "bf16", 3, 2048, True)
    assert spec["base_model"]["name"] == "openchat/openchat_3.5"


def test_nnodes_multiplies_and_unknown_counts_say_nothing(write_card):
    # allenai/OLMo-7B, with a second node added
    doc = read_card(write_card("# m\n`torchrun --nnodes=2 --nproc_per_node=8 scripts/train.py configs/o.yaml --lr 4e-4`\n"))
    [cmd] = command.commands(doc)
    assert command.world_size(cmd) == 16 and cmd.script == "scripts/train.py"
    # microsoft/deberta-v3-base: `${num_gpus}` defined above is used; an undefined one is no value
    doc = read_card(write_card("# m\n```bash\nnum_gpus=8\n\npython -m torch.distributed.launch --nproc_per_node=${num_gpus} \\\n"
                               "  run_glue.py --do_train --learning_rate 3e-6\n```\n"
                               "```bash\ntorchrun --nproc_per_node {number of gpus} \\\n  train.py --learning_rate $LR\n```\n"))
    first, second = command.commands(doc)
    assert command.world_size(first) == 8 and first.launcher == "python -m torch.distributed.launch"
    assert command.world_size(second) is None
    assert [c[:2] for c in command.candidates(second)] == []


def test_serving_and_eval_commands_give_no_training_facts(write_card):
    # Qwen/Qwen-72B-Chat (fastchat worker), parler-tts-mini-expresso (annotation under accelerate),
    # WizardCoder-33B-V1.1 (eval with --num_gpus)
    doc = read_card(write_card(
        "# m\n```bash\npython -m fastchat.serve.vllm_worker --model-path Qwen/Qwen-72B-Chat --trust-remote-code "
        "--tensor-parallel-size 4 --dtype bfloat16\n```\n"
        "```sh\naccelerate launch ./dataspeech/run_prompt_creation_expresso.py \\\n"
        "  --model_name_or_path \"mistralai/Mistral-7B-Instruct-v0.2\" \\\n  --per_device_eval_batch_size 32 \\\n"
        "  --load_in_4bit \\\n  --push_to_hub\n```\n"
        "```bash\nCUDA_VISIBLE_DEVICES=0,1,2,3 python humaneval_gen_vllm.py --model ${model} \\\n"
        "    --start_index 0 --end_index 164 --num_gpus 4 --overwrite\n```\n"))
    assert len(command.commands(doc)) == 3
    assert command.read(doc) == []
    assert command.training_command(doc) is None


def test_inference_script_gives_sampling_settings_only(write_card):
    # neuralmagic/Meta-Llama-3.1-8B-Instruct-quantized.w4a16
    doc = read_card(write_card("# m\n```\npython codegen/generate.py --model neuralmagic/m --bs 16 --temperature 0.2 "
                               "--n_samples 50 --resume --root \".\" --dataset humaneval\n```\n"))
    assert [c[:2] for c in command.read(doc)] == [("generation.temperature", 0.2)]


def test_version_lines_and_prose_are_no_commands(write_card):
    # Senku-70B: `axolotl version: `0.4.0``; prose that names a program
    doc = read_card(write_card("# m\naxolotl version: `0.4.0`\n\nWe used python 3.10 and deepspeed to train.\n"))
    assert command.commands(doc) == []


# MoritzLaurer/DeBERTa-v3-base-mnli-fever-anli: the training code, names bound to literals
TRAINER_CODE = """# m
## Training procedure
```python
lr = 2e-05
training_args = TrainingArguments(
    num_train_epochs=3,              # total number of training epochs
    learning_rate=lr,
    per_device_train_batch_size=32,  # batch size per device during training
    warmup_ratio=0.1,                # number of warmup steps for learning rate scheduler
    weight_decay=0.06,               # strength of weight decay
    fp16=True,                       # mixed precision training
    output_dir=get_dir(),
)
model = AutoModelForSequenceClassification.from_pretrained("microsoft/deberta-v3-base")
trainer = Trainer(model=model, args=training_args)
```
"""


def test_training_arguments_keywords_are_read_with_ast(write_card):
    spec = parse_card(write_card(TRAINER_CODE))
    t = spec["training"]
    assert (t["num_train_epochs"], t["learning_rate"], t["per_device_train_batch_size"], t["warmup_ratio"],
            t["weight_decay"], t["dtype"]) == (3, 2e-05, 32, 0.1, 0.06, "fp16")
    assert spec["base_model"]["name"] == "microsoft/deberta-v3-base"
    assert spec["provenance"]["training.learning_rate"]["line"] == 7  # `learning_rate=lr`


def test_lora_and_bnb_config_in_training_code(write_card):
    # trl-dpo-lora style training script
    doc = read_card(write_card(
        "# m\n```python\nbnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=\"nf4\", "
        "bnb_4bit_compute_dtype=torch.bfloat16)\n"
        "peft_config = LoraConfig(r=16, lora_alpha=16, lora_dropout=0.05, bias=\"none\", task_type=\"CAUSAL_LM\",\n"
        "    target_modules=['k_proj', 'gate_proj', 'v_proj', 'up_proj', 'q_proj', 'o_proj', 'down_proj'])\n"
        "args = DPOConfig(max_steps=200, optim=\"paged_adamw_32bit\", max_length=1536)\n```\n"))
    got = {p: v for p, v, *_ in code.read(doc)}
    assert got["peft.r"] == 16 and got["peft.lora_alpha"] == 16 and got["peft.type"] == "lora"
    assert got["peft.target_modules"][0] == "k_proj"
    assert got["quantization.load_in_4bit"] is True and got["quantization.bnb_4bit_compute_dtype"] == "bfloat16"
    assert got["training.max_steps"] == 200 and got["training.max_length"] == 1536


def test_fine_tuning_example_of_the_released_model_is_no_training_fact(write_card):
    # state-spaces/mamba-130m-hf: "PEFT finetuning example" loads the model the usage snippet loads
    doc = read_card(write_card(
        "# Mamba\n## Generation\n```python\n>>> model = MambaForCausalLM.from_pretrained(\"state-spaces/mamba-130m-hf\")\n```\n"
        "## PEFT finetuning example\n```python\nmodel = AutoModelForCausalLM.from_pretrained(\"state-spaces/mamba-130m-hf\")\n"
        "training_args = TrainingArguments(num_train_epochs=3, learning_rate=2e-3)\n"
        "lora_config =  LoraConfig(r=8, target_modules=[\"x_proj\", \"embeddings\"], task_type=\"CAUSAL_LM\", bias=\"none\")\n"
        "trainer = SFTTrainer(model=model, args=training_args, peft_config=lora_config)\n```\n"))
    assert code.read(doc) == []


def test_usage_code_gives_generation_but_not_a_base_model(write_card):
    # moss-moon-003-sft usage; guanaco-65b loads 4-bit for inference only
    doc = read_card(write_card(
        "# m\n```python\nmodel = AutoModelForCausalLM.from_pretrained(\"fnlp/moss-moon-003-sft\", trust_remote_code=True)\n"
        "quantization_config=BitsAndBytesConfig(load_in_4bit=True)\n"
        "outputs = model.generate(**inputs, do_sample=True, temperature=0.7, top_p=0.8, repetition_penalty=1.02, "
        "max_new_tokens=256)\n```\n"))
    got = {p: v for p, v, *_ in code.read(doc)}
    assert got == {"generation.do_sample": True, "generation.temperature": 0.7, "generation.top_p": 0.8,
                   "generation.repetition_penalty": 1.02, "generation.max_new_tokens": 256}
