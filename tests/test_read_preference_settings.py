"""A preference method's own settings (data/preference.yaml card_keys: beta, max_prompt_length, ...)
read from the card wherever it states them (a hyperparameter list, a command, a framework config, old
TRL trainer keywords), into the spec's training section, then into the built project's TRL stage
config; a card that trains no preference method keeps none of them."""
import json

from conftest import ROOT, run_cli
from cardrepro.spec import parse_card

REAL = ROOT.parent / "shared" / "realcards" / "cards"
DPO_INTRO = "# Tiny DPO\n\nFine-tuned with Direct Preference Optimization (DPO).\n\n"


def test_neuralhermes_dpotrainer_list_gives_beta_and_prompt_length():
    spec = parse_card(REAL / "neuralhermes-2.5-dpo-lora.md")   # `* beta=0.1` under **DPOTrainer**
    assert (spec["method"], spec["training"]["beta"]) == ("dpo", 0.1)
    assert spec["training"]["max_prompt_length"] == 1024 and spec["training"]["max_length"] == 1536
    assert spec["provenance"]["training.beta"]["text"] == "* beta=0.1"


def test_llamafactory_orpo_beta_flag():
    spec = parse_card(REAL / "llama3-8b-chinese-chat-orpo-ds.md")   # `--orpo_beta 0.05 \`
    assert (spec["method"], spec["training"]["beta"]) == ("orpo", 0.05)
    assert spec["provenance"]["training.beta"]["origin"] == "cli"


def test_old_trl_trainer_keywords_in_code(write_card):
    # CultriX/MistralTrix-v1's training code (the corpus card writes it unfenced)
    card = write_card(DPO_INTRO + "```python\ndpo_trainer = DPOTrainer(\n    model,\n    ref_model,\n"
                      "    args=training_args,\n    beta=0.1,\n    max_prompt_length=1024,\n"
                      "    max_length=1536,\n)\n```\n")
    spec = parse_card(card)
    training = spec["training"]
    assert (training["beta"], training["max_prompt_length"], training["max_length"]) == (0.1, 1024, 1536)
    assert "max_length" not in (spec.get("generation") or {})  # the trainer's length, not generate()'s


def test_llamafactory_config_pref_beta(write_card):
    # LLaMA-Factory's DPO/KTO example configs (examples/train_lora/*_dpo.yaml) as cards embed them
    card = write_card(DPO_INTRO + "```yaml\nstage: dpo\nfinetuning_type: lora\npref_beta: 0.1\n"
                      "simpo_gamma: 0.5\nkto_chosen_weight: 1.0\n```\n")
    training = parse_card(card)["training"]
    assert (training["beta"], training["simpo_gamma"], training["desirable_weight"]) == (0.1, 0.5, 1.0)


def test_a_card_training_no_preference_method_keeps_none(write_card):
    # mio/amadeus (an ESPnet speech model): `loss_type: mse` in its training config is no DPO loss
    card = write_card("# Speech\n\nTrained with this config:\n\n```yaml\nbatch_type: numel\n"
                      "optim: adam\nmodel_conf:\n        loss_type: mse\n```\n")
    spec = parse_card(card)
    assert spec.get("method") not in ("dpo", "orpo", "simpo", "kto")
    assert "loss_type" not in spec.get("training", {}) and spec["training"]["optim"] == "adam"


def test_card_beta_and_prompt_length_reach_the_project(tmp_path, write_card):
    """The card's beta goes into the DPO stage's TRL config (no `assumed` entry); its
    max_prompt_length, which TRL 1.16 dropped, becomes a README note, not silence."""
    text = (REAL / "neuralhermes-2.5-dpo-lora.md").read_text(encoding="utf-8")
    card = write_card(text.replace("mlabonne/chatml_dpo_pairs", "HuggingFaceH4/ultrafeedback_binarized").
                      replace("* beta=0.1", "* beta=0.25"), "nh.md")
    r = run_cli("build", card, "-o", tmp_path / "p")
    assert r.returncode == 0, r.stderr
    cfg = json.loads((tmp_path / "p" / "train_config.json").read_text())
    stage = cfg["stages"][-1]
    assert stage["config"]["beta"] == 0.25 and stage["config"]["max_length"] == 1536
    assert "stages[-1].beta" not in {a["path"] for a in cfg["assumed"]}
    assert "`max_prompt_length: 1024` has no place in TRL's DPOConfig" in (tmp_path / "p" / "README.md").read_text()


def test_neuralhermes_dpo_data_is_registered_without_a_guessed_format(tmp_path):
    """mlabonne/chatml_dpo_pairs is in the registry as the card shows it (public on the Hub, DPO
    pairs in ChatML) with no record format: the card shows none, so the build still refuses to
    guess a loader for its DPO stage."""
    from cardrepro import data
    spec = parse_card(REAL / "neuralhermes-2.5-dpo-lora.md")
    (ds,) = spec["datasets"]
    assert (ds["name"], ds["availability"]) == ("mlabonne/chatml_dpo_pairs", "public")
    key, entry = data.registry_entry(ds["name"])
    assert key == "chatml_dpo_pairs" and entry["format"] is None and entry["sample"] is None
    r = run_cli("build", REAL / "neuralhermes-2.5-dpo-lora.md", "-o", tmp_path / "p")
    assert r.returncode == 2 and "the dpo stage has no preference data the build can load" in r.stderr
