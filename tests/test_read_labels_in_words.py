"""Hyperparameters listed in words on real cards (issue 12): the spellings of data/keys.yaml and
the schedule names the trainer accepts. Each case is a real card line (the card named beside it)."""
import pytest

from conftest import parsed

from cardrepro.extract import canonical


def _spec(write_card, text):
    return parsed(write_card(text))


def _training(write_card, *lines):
    spec = _spec(write_card, "# A card\n\n## Training\n\n" + "\n".join(lines) + "\n")
    return spec.get("training") or {}, spec.get("peft") or {}


def test_a_qlora_hyperparameter_list_in_words(write_card):
    # BatsResearch_bonito-v1
    training, peft = _training(write_card, "We use the following hyperparameters: ",
                               "  - Q-LoRA rank (r): 64 ", "  - Optimizer: Paged AdamW ",
                               "  - Learning rate scheduler: linear ", "  - Max. learning rate: 1e-04",
                               "  - Min. learning rate: 0 ", "  - Max. gradient norm: 0.3 ",
                               "  - Effective batch size: 16 ", "  - Num. steps: 100,000")
    assert training["learning_rate"] == 1e-4          # the max, not the min
    assert training["lr_scheduler_type"] == "linear"
    assert training["max_grad_norm"] == 0.3
    assert training["total_train_batch_size"] == 16
    assert training["max_steps"] == 100000


@pytest.mark.parametrize("line,field,value", [
    ("- **Gradient Accumulations**: 2", "gradient_accumulation_steps", 2),        # CompVis_stable-diffusion-v1-4
    ("- **Finetuning steps:** 2000", "max_steps", 2000),                           # bigscience_bloomz-3b
    ("- Number of epochs: 5", "num_train_epochs", 5),                              # tabularisai_robust-sentiment-analysis
    ("- **Learning Rate Schedule**: cosine", "lr_scheduler_type", "cosine"),       # Deci_DeciCoder-1b
    ("- Learning Rate Scheduler: Cosine Schedule with Warmup", "lr_scheduler_type", "cosine"),  # sambanovasystems_BLOOMChat-176B-v1
])
def test_a_listed_hyperparameter_in_words(write_card, line, field, value):
    training, _ = _training(write_card, line, "- Weight decay: 0.1")
    assert training[field] == value


def test_a_table_row_names_the_schedule_as_the_trainer_does(write_card):
    # amd_AMD-Llama-135m
    training, _ = _training(write_card, "| Hyperparameter | Value |", "|---|---|",
                            "| Learning rate schedule | Cosine |", "| AdamW weight decay | 0.1 |")
    assert training["lr_scheduler_type"] == "cosine"


@pytest.mark.parametrize("said,name", [
    ("Cosine", "cosine"), ("Cosine Schedule with Warmup", "cosine"),
    ("Constant schedule with warmup", "constant_with_warmup"), ("Linear decay", "linear"),
    ("Cosine with restarts", "cosine_with_restarts"), ("polynomial", "polynomial"),
    ("cosine_with_min_lr", "cosine_with_min_lr"),                                  # nothingiisreal_MN-12B-Celeste-V1.9
    # two schedules, or none the trainer has: as written (the audit names a value it cannot use)
    ("linear warmup, then cosine decay", "linear warmup, then cosine decay"), ("WSD", "WSD"),
])
def test_a_schedule_as_written_is_the_trainer_schedule_it_names(said, name):
    assert canonical.scheduler(said) == name


def test_settings_listed_as_python_assignments(write_card):
    # deepset_tinyroberta-squad2: the hyperparameters as assignments; its `temperature` is the
    # distillation's, beside training settings, not a generation setting
    spec = _spec(write_card, "# A card\n\n## Hyperparameters\n\n```\nbatch_size = 96\nn_epochs = 4\n"
                 'base_LM_model = "deepset/tinyroberta-squad2-step1"\nmax_seq_len = 384\nlearning_rate = 3e-5\n'
                 "lr_schedule = LinearWarmup\nwarmup_proportion = 0.2\ntemperature = 1.5\n```\n")
    assert spec["training"]["learning_rate"] == 3e-5 and spec["training"]["num_train_epochs"] == 4
    assert "temperature" not in (spec.get("generation") or {})


def test_a_generation_preset_as_assignments(write_card):
    # elinas_alpaca-30b-lora-int4: a text-generation-webui preset
    spec = _spec(write_card, "# A card\n\n```\ndo_sample=True\ntemperature=0.95\ntop_p=1\ntop_k=40\n"
                 "num_beams=1\nrepetition_penalty=1.1\n```\n")
    assert spec["generation"]["temperature"] == 0.95 and spec["generation"]["top_k"] == 40
    assert "training" not in spec


def test_a_script_states_its_settings_through_its_calls_only(write_card):
    spec = _spec(write_card, "# A card\n\n```python\nimport torch\nlearning_rate = 3e-5\n"
                 "model = load('x')\n```\n")
    assert "learning_rate" not in (spec.get("training") or {})


@pytest.mark.parametrize("line", [
    "Our model is based on the Apache-2.0 license and fully supports free commercial use.",   # DMetaSoul_Dmeta-embedding-zh
    "The model is built on SigLip-400M and Qwen2-7B with a total of 8B parameters.",          # openbmb_MiniCPM-V-2_6
    "The model is based on the BERT architecture.",
])
def test_what_this_model_is_based_on_that_names_no_base_model(write_card, line):
    spec = _spec(write_card, f"# A card\n\n{line}\n")
    assert (spec.get("base_model") or {}).get("name") is None


def test_a_full_weight_fine_tune_is_sft(write_card):
    # cognitivecomputations_dolphin-2.9-llama3-8b
    spec = _spec(write_card, "# A card\n\nThe base model has 8k context, and the full-weight fine-tuning was "
                 "with 4k sequence length.\n")
    assert spec["method"] == "sft"
    # what a user may do is not how the model was trained (01-ai_Yi-34B)
    spec = _spec(write_card, "# A card\n\nThe GPU memory needed for fine-tuning 34B FP16 hinges on the specific "
                 "fine-tuning method employed. For full parameter fine-tuning, you'll need 8 GPUs each with 80 GB.\n")
    assert spec.get("method") is None
