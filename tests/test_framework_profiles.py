"""Framework profiles (cardrepro/data/trainers/): where a card's own words name its framework
(Axolotl, LLaMA-Factory, TRL, the HF Trainer auto-card), that framework's documented defaults fill
what the card leaves open, with `default:<framework>` origin and a provenance citing the
framework's source; a value the card states is never replaced."""
import json

import pytest

from conftest import CARDS, ROOT, run_cli
from cardrepro import data
from cardrepro import resolve
from cardrepro.read import read_card

REAL = ROOT.parent / "shared" / "realcards" / "cards"
CORPUS = ROOT.parent / "shared" / "corpus" / "hub-readmes"
FRAMEWORKS = ["axolotl", "llama-factory", "trl-sft", "trl-dpo"]


@pytest.fixture(scope="module")
def parsed():
    """The spec of a card through `cardrepro parse --format json`, each card parsed once."""
    cache = {}

    def _parse(path):
        if path not in cache:
            r = run_cli("parse", path, "--format", "json")
            assert r.returncode == 0, r.stderr
            cache[path] = json.loads(r.stdout)
        return cache[path]
    return _parse


def _value(spec, path):
    section, field = path.split(".")
    return (spec.get(section) or {}).get(field)


def _origin(spec, path):
    return (spec["provenance"].get(path) or {}).get("origin")


def _filled(spec, path, framework, value, cited):
    """The path holds the framework's default, and its provenance cites the framework's source."""
    prov = spec["provenance"][path]
    assert _value(spec, path) == value, (path, _value(spec, path))
    assert prov["origin"] == f"default:{framework}", prov
    assert cited in prov["text"], prov
    assert prov.get("rule"), prov  # the why


def _defaults(spec):
    return {p for p, v in spec["provenance"].items() if str(v.get("origin")).startswith("default:")}


def test_axolotl_badge_fills_axolotl_defaults_and_no_learning_rate(parsed):
    spec = parsed(REAL / "openhermes-2.5-mistral-7b.md")
    _filled(spec, "training.num_train_epochs", "axolotl", 1.0, "src/axolotl/utils/schemas/training.py@067b021c:267")
    _filled(spec, "training.max_length", "axolotl", 512, "src/axolotl/utils/schemas/config.py@067b021c")
    _filled(spec, "training.per_device_train_batch_size", "axolotl", 1, "training.py@067b021c:77-78")
    assert "Built with Axolotl" in open(REAL / "openhermes-2.5-mistral-7b.md", encoding="utf-8").read()
    # Axolotl's learning_rate is a required field: no default, so the card has none
    assert _value(spec, "training.learning_rate") is None


def test_axolotl_config_card_keeps_every_stated_value(parsed):
    spec = parsed(REAL / "senku-70b-qlora.md")
    stated = {"training.learning_rate": 2.0e-4, "training.per_device_train_batch_size": 2,
              "training.gradient_accumulation_steps": 4, "training.num_train_epochs": 1,
              "training.max_length": 8192, "training.optim": "adamw_bnb_8bit",
              "training.lr_scheduler_type": "cosine", "training.gradient_checkpointing": True}
    for path, value in stated.items():
        assert _value(spec, path) == value, path
        assert not str(_origin(spec, path)).startswith("default"), (path, spec["provenance"][path])


def test_axolotl_config_block_alone_names_axolotl(write_card, tmp_path):
    """An Axolotl config without the badge: its keys name the framework; the eval batch is
    derived from the card's own micro_batch_size, as Axolotl documents."""
    card = write_card("# m\n\n```yaml\nbase_model: org/base\nsequence_len: 2048\nmicro_batch_size: 4\n"
                      "learning_rate: 0.0001\n```\n")
    r = run_cli("parse", card, "--format", "json")
    assert r.returncode == 0, r.stderr
    spec = json.loads(r.stdout)
    assert spec["training"]["learning_rate"] == 1.0e-4 and spec["training"]["max_length"] == 2048
    _filled(spec, "training.per_device_eval_batch_size", "axolotl", 4, "training.py@067b021c:89-94")
    assert "micro_batch_size" in spec["provenance"]["training.per_device_eval_batch_size"]["rule"]
    _filled(spec, "training.num_train_epochs", "axolotl", 1.0, "training.py@067b021c:267")


def test_llama_factory_lora_alpha_is_twice_the_cards_rank(parsed):
    spec = parsed(REAL / "baichuan-7b-sft-lf.md")
    assert spec["peft"]["r"] == 16 and not _origin(spec, "peft.r").startswith("default")
    _filled(spec, "peft.lora_alpha", "llama-factory", 32, "finetuning_args.py@ff6d4d12")
    assert "lora_rank * 2" in spec["provenance"]["peft.lora_alpha"]["rule"]
    _filled(spec, "training.max_length", "llama-factory", 2048, "data_args.py@ff6d4d12:46-47")
    # stated: 0.5, where TrainingArguments' default is 1.0
    assert spec["training"]["max_grad_norm"] == 0.5
    assert not _origin(spec, "training.max_grad_norm").startswith("default")


def test_llama_factory_full_finetune_gets_no_lora_defaults(parsed):
    spec = parsed(REAL / "lf-law-sft-qwen25-full.md")
    assert spec["method"] == "sft"
    assert "peft" not in spec  # LoRA defaults only for a card that trains LoRA adapters
    _filled(spec, "training.max_length", "llama-factory", 2048, "data_args.py@ff6d4d12")
    _filled(spec, "training.weight_decay", "llama-factory", 0.0, "transformers")
    assert "Seq2SeqTrainingArguments" in spec["provenance"]["training.weight_decay"]["rule"]
    # the card's warmup is a ratio: no default step count beside it
    assert spec["training"]["warmup_ratio"] == 0.1 and "warmup_steps" not in spec["training"]


def test_trl_dpo_defaults(parsed):
    spec = parsed(REAL / "trl-dpo-lora-llama32-1b.md")
    _filled(spec, "training.learning_rate", "trl-dpo", 1.0e-6, "trl==1.16.0 trl/trainer/dpo_config.py:156-157")
    _filled(spec, "training.gradient_checkpointing", "trl-dpo", True, "trl/trainer/base_config.py:62-63")
    assert spec["method"] == "dpo"


def test_trl_dpo_card_keeps_its_stated_values(parsed):
    spec = parsed(REAL / "zephyr-7b-beta.md")
    assert spec["training"]["learning_rate"] == 5.0e-7
    assert not _origin(spec, "training.learning_rate").startswith("default")
    _filled(spec, "training.max_length", "trl-dpo", 1024, "dpo_config.py:195-196")
    assert "warmup_steps" not in spec["training"]  # the card states a warmup ratio


def test_trl_sft_outranks_the_auto_card_it_wrote(write_card):
    card = write_card("# m\n\nThis model was trained with SFT.\n\n### Training hyperparameters\n\n"
                      "The following hyperparameters were used during training:\n- learning_rate: 0.0003\n"
                      "- train_batch_size: 4\n- seed: 7\n")
    r = run_cli("parse", card, "--format", "json")
    assert r.returncode == 0, r.stderr
    spec = json.loads(r.stdout)
    assert spec["training"]["learning_rate"] == 3.0e-4 and spec["training"]["seed"] == 7
    _filled(spec, "training.logging_steps", "trl-sft", 10, "trl/trainer/base_config.py:55-56")
    _filled(spec, "training.max_length", "trl-sft", 1024, "sft_config.py:202-203")


def test_hf_auto_card_fills_training_arguments_defaults(parsed):
    card = CORPUS / "transformersbook_pegasus-samsum.md"
    spec = parsed(card)
    _filled(spec, "training.weight_decay", "hf-trainer", 0.0, "transformers src/transformers/training_args.py")
    _filled(spec, "training.max_grad_norm", "hf-trainer", 1.0, "training_args.py")
    stated = {"training.warmup_steps": 500, "training.gradient_accumulation_steps": 16, "training.num_train_epochs": 1}
    for path, value in stated.items():
        assert _value(spec, path) == value and not _origin(spec, path).startswith("default"), path
    assert "max_steps" not in spec["training"]  # -1 is a sentinel, not a value


def test_no_framework_named_no_defaults(write_card):
    card = write_card("# m\n\nWe fine-tuned with a learning rate of 2e-5 for 3 epochs.\n")
    r = run_cli("parse", card, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert _defaults(json.loads(r.stdout)) == set()


def test_seed_cards_name_no_framework_by_their_words():
    for card in sorted(CARDS.glob("*.md")):
        assert resolve.named_framework(read_card(card)) == (None, None), card.name


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_every_default_cites_its_source_and_says_why(name):
    own = data.load(f"trainers/{name}")
    profile = data.trainer_profile(name)
    assert profile["detect"]["words"] or profile["detect"].get("config_keys")
    for key, entry in own["defaults"].items():
        if entry == data.INHERIT:
            assert own["inherits"] and key in data.trainer_profile("hf-trainer")["defaults"], key
            continue
        assert "@" in entry["source"] or "==" in entry["source"], (key, entry)
        assert entry["why"] and ("value" in entry or "from" in entry), (key, entry)
