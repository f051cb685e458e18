"""Facts stated in sentences (cardrepro/extract/prose.py, data/prose.yaml): every pattern row's
real card lines read to their values; lines that only look like training facts read to nothing;
and through `cardrepro parse`, the values land in the spec with the card line they came from."""
import json

import pytest

from cardrepro import data
from cardrepro.extract import prose
from cardrepro.read import read_card
from conftest import run_cli

EXAMPLES = [(i, ex) for i, row in enumerate(data.load("prose")["rows"]) for ex in row["examples"]]


def _read(write_card, *lines):
    return prose.read(read_card(write_card("# A card\n\n" + "\n\n".join(lines) + "\n")))


def test_every_row_has_a_real_line():
    for row in data.load("prose")["rows"]:
        assert row["examples"], row["pattern"]
        assert all(ex["card"].startswith("corpus/") and ex["line"] for ex in row["examples"])


@pytest.mark.parametrize("index,example", EXAMPLES, ids=[f"{ex['card']}:{i}" for i, ex in EXAMPLES])
def test_row_reads_its_real_line(write_card, index, example):
    row = data.load("prose")["rows"][index]
    got = {(c.path, c.value) for c in _read(write_card, example["line"])}
    want = row["values"].items() if "values" in row else [(row["path"], example["value"])]
    for path, value in want:
        assert (path, value) in got, (path, value, got)


NOT_FACTS = [
    # stablelm-tuned-alpha-7b: a learning-rate table header
    "| Parameters | Batch Size | Learning Rate | Warm-up | Weight Decay | Betas       |",
    # guanaco: a table the reader does not take as one (no leading pipe)
    "7B | OASST1      | 16 | 2e-4 | 1875 | 512",
    "The model was evaluated for 3 epochs of evaluation on the held-out split.",
    # moss-moon-003-sft: GPUs to run the model, not to train it
    "`moss-moon` models have 16B parameters, allowing users to perform inference on a single A100 GPU or "
    "2 NVIDIA 3090 GPUs with FP16 precision, and on a single NVIDIA 3090 GPU with INT-4/8 precision.",
    # 01-ai_Yi-34B: what fine-tuning would need
    "For full parameter fine-tuning, you'll need 8 GPUs each with 80 GB; however, more economical solutions "
    "like Lora require less.",
    # stabilityai_stablelm-2-zephyr-1_6b: 8 per node, on 8 nodes
    "`StableLM 2 Zephyr 1.6B` was trained on the Stability AI cluster across 8 nodes with 8 A100 80GBs GPUs "
    "for each nodes.",
    # SimianLuo_LCM_Dreamshaper_v7: GPU hours
    "Distilled from Dreamshaper v7 fine-tune of Stable-Diffusion v1-5 with only 4,000 training iterations "
    "(~32 A100 GPU Hours).",
    # facebook_opt-1.3b: a GPU count of the family's 175B model
    "The 175B model was trained on 992 *80GB A100 GPUs*.",
    # mosaicml_mpt-7b-storywriter: two sequence lengths in one sentence
    "Although the model was trained with a sequence length of 2048 and finetuned with a sequence length of 65536,",
    # emilyalsentzer_Bio_ClinicalBERT: 5 · 10−5 is no 5
    "We used a learning rate of 5 · 10−5 for pre-training our models.",
    # EleutherAI_pythia: a batch size in tokens
    "All model sizes are now trained with uniform batch size of 2M tokens.",
    # bertin-roberta: a downstream evaluation
    "We also trained the beta model on the SQUAD dataset, achieving exact match 50.96 and F1 68.74 "
    "(sequence length 128).",
    # michellejieli_NSFW_text_classifier: a link to the docs is no model
    "The model is a fine-tuned version of [DistilBERT](https://huggingface.co/docs/transformers/model_doc/distilbert).",
    "This model is a fine-tuned version of [gpt2](https://huggingface.co/gpt2) on an unknown dataset.",
    "This model is a fine-tuned version of [Qwen/Qwen2-0.5B](https://huggingface.co/Qwen/Qwen2-0.5B) on the "
    "generator dataset.",
]


@pytest.mark.parametrize("line", NOT_FACTS)
def test_lines_that_state_no_training_fact(write_card, line):
    got = [(c.path, c.value) for c in _read(write_card, line) if c.path != "base_model.name"]
    assert got == []


def test_a_value_for_some_model_sizes_is_not_this_cards(write_card):
    # guanaco-65b: the dropout is 0.1 up to 13B and 0.05 above, r and alpha hold for all
    line = ("We set LoRA $r=64$, $\\alpha=16$. We also use Adam beta2 of 0.999, max grad norm of 0.3 and LoRA "
            "dropout of 0.1 for models up to 13B and 0.05 for 33B and 65B models.")
    got = {c.path: c.value for c in _read(write_card, line)}
    assert got == {"peft.r": 64, "peft.lora_alpha": 16, "training.adam_beta2": 0.999, "training.max_grad_norm": 0.3}


def test_code_fences_and_blocks_are_not_prose(write_card):
    fenced = "```\nWe trained for 3 epochs with a learning rate of 2e-4 on 8 A100s.\n```"
    assert _read(write_card, fenced) == ()
    said = "We trained for 3 epochs with a learning rate of 2e-4 on 8 A100s."
    assert {(c.path, c.value) for c in _read(write_card, said)} == {
        ("training.num_train_epochs", 3), ("training.learning_rate", 2e-4), ("training.num_gpus", 8)}


def test_parse_puts_prose_facts_with_their_line(write_card):
    card = write_card(
        "# distilbert-imdb\n\n"
        "This model is a fine-tuned version of [distilbert-base-uncased](https://huggingface.co/distilbert-base-uncased) "
        "on the imdb dataset.\n\n"
        "The fine-tuning process was performed with a 4096 sequence length on an 8x H100 80GB machine.\n\n"
        "We set LoRA $r=64$, $\\alpha=16$ and trained with 4-bit QLoRA finetuning for 3 epochs.\n")
    res = run_cli("parse", card, "--format", "json")
    assert res.returncode == 0, res.stderr
    spec = json.loads(res.stdout)
    assert spec["base_model"]["name"] == "distilbert-base-uncased"
    assert [d["name"] for d in spec["datasets"]] == ["imdb"]
    assert spec["training"]["max_length"] == 4096 and spec["training"]["num_gpus"] == 8
    assert spec["training"]["num_train_epochs"] == 3
    assert spec["peft"]["r"] == 64 and spec["peft"]["lora_alpha"] == 16 and spec["peft"]["type"] == "lora"
    assert spec["quantization"]["load_in_4bit"] is True and spec["method"] == "qlora"
    prov = spec["provenance"]
    assert prov["training.max_length"]["line"] == 5 and "4096 sequence length" in prov["training.max_length"]["text"]
    assert prov["datasets[0]"]["line"] == 3


def test_prose_only_fills_gaps(write_card):
    card = write_card("# card\n\n- learning_rate: 1e-05\n\nWe trained with a learning rate of 2e-4.\n")
    res = run_cli("parse", card, "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["training"]["learning_rate"] == 1e-05


def test_one_phase_of_a_schedule_is_not_the_schedule(write_card):
    # jetmoe_jetmoe-8b: a constant phase, then decay
    line = "Phase 1 uses a constant learning rate with linear warmup and is trained on 1 trillion tokens."
    assert not [c for c in _read(write_card, line) if c.path == "training.lr_scheduler_type"]
