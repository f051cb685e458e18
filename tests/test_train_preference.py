"""Preference stages trained with TRL (cardrepro/train/preference.py, stages.py): Zephyr's SFT then DPO and
Llama3-Chinese-Chat's ORPO smoke-train offline on CPU through `cardrepro run`, the preference stage
with TRL's own trainer on pairs in UltraFeedback-binarized's record format; the loss is finite and the
chosen/rejected reward margin rises. The SFT stage runs the embedded trainer (DeepSpeed ZeRO-3, as for
any project); the TRL stage runs without DeepSpeed."""
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(ROOT / ".cache" / "torch_extensions"))
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]   # one ninja for JIT

REAL = ROOT.parent / "shared" / "realcards" / "cards"
TRAIN = {"script": True, "timeout": 600}


def build(card, out):
    r = run_cli("build", card, "-o", out)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads((Path(out) / "train_config.json").read_text())


@pytest.fixture(scope="module")
def zephyr(tmp_path_factory):
    """The real Zephyr card built once: (project folder, its train_config)."""
    proj = tmp_path_factory.mktemp("zephyr") / "z"
    return proj, build(REAL / "zephyr-7b-beta.md", proj)


def copy_of(project, dest):
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns("runs", "smoke"))
    return dest


def metrics(run_dir):
    recs = [json.loads(l) for l in (Path(run_dir) / "metrics.jsonl").read_text().splitlines() if l.strip()]
    return [r for r in recs if "loss" in r]


def orpo_card(write_card):
    """The real Llama3-8B-Chinese-Chat card (LLaMA-Factory `--stage orpo`), naming its preference data in
    the front matter: the real card leaves `--dataset ${Your_Dataset_Name_or_PATH}` to the reader."""
    text = (REAL / "llama3-8b-chinese-chat-orpo-ds.md").read_text(encoding="utf-8")
    return write_card(text.replace("---\n", "---\ndatasets:\n- HuggingFaceH4/ultrafeedback_binarized\n", 1), "orpo.md")


def test_zephyr_builds_sft_then_dpo_stages(zephyr):
    cfg = zephyr[1]
    sft, dpo = cfg["stages"]
    assert sft == {"method": "sft", "trainer": "embedded", "datasets": ["ultrachat_200k"], "init": "base_model"}
    assert dpo["method"] == "dpo" and dpo["trainer"] == "DPOTrainer" and dpo["init"] == "previous_stage"
    assert dpo["datasets"] == ["ultrafeedback_binarized"] and dpo["reference_model"] == "initial"
    assert dpo["config"] == {"beta": 0.1, "loss_type": ["sigmoid"], "max_length": 1024}
    assumed = {a["path"]: a["source"] for a in cfg["assumed"]}
    assert assumed["stages[-1].beta"].startswith("default:trl")
    assert "datasets" not in assumed          # the reader takes the card's mix (its front matter) as stated


def test_orpo_card_takes_its_sequence_length_and_no_reference_model(tmp_path, write_card):
    cfg = build(orpo_card(write_card), tmp_path / "o")
    (stage,) = cfg["stages"]
    assert stage["method"] == "orpo" and stage["trainer"] == "ORPOTrainer" and stage["init"] == "base_model"
    assert stage["reference_model"] is None
    assert stage["config"]["max_length"] == 8192        # the card's --cutoff_len
    assert stage["config"]["beta"] == 0.05              # the card's --orpo_beta (ORPO's lambda)


def test_preference_card_without_preference_data_is_refused(tmp_path):
    r = run_cli("build", REAL / "llama3-8b-chinese-chat-orpo-ds.md", "-o", tmp_path / "x")
    assert r.returncode == 2 and "orpo stage has no preference data" in r.stderr


@pytest.mark.parametrize("edit, key", [
    (lambda s: s[-1]["config"].update(max_prompt_length=512), "max_prompt_length"),
    (lambda s: s[-1].update(reference="base"), "reference"),
    (lambda s: s[-1].update(trainer="ORPOTrainer"), "DPOTrainer"),
    (lambda s: s[-1].update(datasets=["nowhere"]), "nowhere"),
])
def test_contract_refuses_a_stage_key_the_runner_would_not_consume(tmp_path, zephyr, edit, key):
    proj = copy_of(zephyr[0], tmp_path / "z")
    cfg = json.loads((proj / "train_config.json").read_text())
    edit(cfg["stages"])
    (proj / "train_config.json").write_text(json.dumps(cfg, indent=2))
    r = run_cli("run", proj, "--dry-run")
    assert r.returncode == 2 and key in r.stderr, r.stderr


def test_preference_yaml_names_real_trl_fields():
    import dataclasses

    from cardrepro import data
    from cardrepro.train import preference
    for method, row in data.load("preference")["methods"].items():
        _, config_cls, _ = preference.trl_classes(method)
        fields = {f.name for f in dataclasses.fields(config_cls)}
        assert set(row["card_keys"]) | set(row["fixed"]) | set(row["defaults"]) <= fields, method


def test_pairs_render_in_the_cards_chat_format(zephyr):
    from types import SimpleNamespace

    from cardrepro.train import config as config_mod
    from cardrepro.train import preference
    cfg, project = config_mod.load(zephyr[0])
    pairs = preference.stage_pairs(cfg, project, cfg["stages"][-1], "smoke", [])
    train, val = pairs["ultrafeedback_binarized"]
    assert len(train) + len(val) == 16
    tok = SimpleNamespace(bos_token="<s>")     # mistral: no BOS written, as in the SFT rows (rows.add_bos)
    row = preference.text_rows(cfg, tok, [train[0]], "dpo")[0]
    question = train[0]["prompt"][-1]["content"]
    assert row["prompt"] == f"<|user|>\n{question}</s>\n<|assistant|>\n"
    assert row["chosen"] == train[0]["chosen"] + "</s>" and row["rejected"].endswith("</s>")
    kto = preference.text_rows(cfg, tok, [train[0]], "kto")
    assert [r["label"] for r in kto] == [True, False]


def test_build_and_config_load_never_import_trl(tmp_path):
    code = ("import sys; from cardrepro.cli import main\n"
            f"try: main(['build', {str(REAL / 'zephyr-7b-beta.md')!r}, '-o', {str(tmp_path / 'z')!r}])\n"
            "except SystemExit as e: assert not e.code, e.code\n"
            "from cardrepro.train import config; config.load(" + repr(str(tmp_path / "z")) + ")\n"
            "assert 'trl' not in sys.modules, 'trl imported'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


def assert_finite_and_margin_rises(run_dir, steps):
    recs = metrics(run_dir)
    assert len(recs) == steps
    assert all(math.isfinite(r["loss"]) for r in recs)
    margins = [r["rewards/margins"] for r in recs]
    assert margins[-1] > margins[0]
    assert sum(margins[-5:]) / 5 > sum(margins[:5]) / 5
    return recs


def test_zephyr_smoke_trains_sft_then_dpo_from_the_sft_output(tmp_path, zephyr):
    proj = copy_of(zephyr[0], tmp_path / "z")
    r = run_cli("run", proj, "--smoke", "--max-steps", "15", **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run = proj / "runs" / "smoke"
    sft = run / "stage1-sft"
    assert (sft / "final" / "config.json").is_file() and len(metrics(sft)) == 15
    resolved = json.loads((run / "resolved_config.json").read_text())
    assert resolved["init"] == str(sft / "final")
    assert resolved["stage"]["trainer"] == "DPOTrainer" and resolved["trl_arguments"]["beta"] == 0.1
    assert_finite_and_margin_rises(run, 15)
    assert (run / "final" / "config.json").is_file()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["stage"] == "dpo" and summary["margin_last"] > summary["margin_first"]


def test_orpo_smoke_trains_from_the_tiny_base_without_reference(tmp_path, write_card):
    proj = tmp_path / "o"
    build(orpo_card(write_card), proj)
    r = run_cli("run", proj, "--smoke", **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run = proj / "runs" / "smoke"
    resolved = json.loads((run / "resolved_config.json").read_text())
    assert resolved["init"] == "base_model" and resolved["stage"]["trainer"] == "ORPOTrainer"
    assert resolved["trl_arguments"]["max_length"] == 256     # the smoke profile's sequence length
    assert resolved["trl_arguments"]["beta"] == 0.05          # the card's --orpo_beta reaches ORPOConfig
    assert_finite_and_margin_rises(run, 30)
    assert not (run / "stage1-sft").exists()


# A small card per method: LLaMA-Factory's preference keys in a config block (pref_beta, simpo_gamma,
# kto_chosen_weight), UltraFeedback-binarized pairs; SimPO named in prose, KTO by `stage: kto`.
SMALL_CARD = """---
base_model: mistralai/Mistral-7B-v0.1
datasets:
- HuggingFaceH4/ultrafeedback_binarized
---
# Tiny {name}

Aligned with {name} on UltraFeedback.

```yaml
{stage}finetuning_type: full
template: chatml
pref_beta: 2.0
{own}
learning_rate: 0.00001
```
"""


def small_card(write_card, name, stage, own):
    return write_card(SMALL_CARD.format(name=name, stage=stage, own=own), f"{name.lower()}.md")


def test_simpo_smoke_trains_with_cpo_simpo_loss_and_the_cards_gamma(tmp_path, write_card):
    proj = tmp_path / "s"
    (stage,) = build(small_card(write_card, "SimPO", "", "simpo_gamma: 0.8"), proj)["stages"]
    assert (stage["method"], stage["trainer"], stage["reference_model"]) == ("simpo", "CPOTrainer", None)
    r = run_cli("run", proj, "--smoke", **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run = proj / "runs" / "smoke"
    trl_args = json.loads((run / "resolved_config.json").read_text())["trl_arguments"]
    assert (trl_args["loss_type"], trl_args["cpo_alpha"]) == ("simpo", 0.0)      # SimPO: CPO's simpo loss, no NLL
    assert (trl_args["beta"], trl_args["simpo_gamma"]) == (2.0, 0.8)             # the card's pref_beta, simpo_gamma
    assert_finite_and_margin_rises(run, 30)


def test_kto_smoke_trains_unpaired_rows_against_a_reference(tmp_path, write_card):
    """KTO sees each pair as two unpaired rows (chosen labelled desirable, rejected undesirable;
    preference.text_rows). TRL logs the mean reward of the desirable rows as rewards/chosen and of
    the undesirable ones as rewards/rejected, and their difference as rewards/margins: it must rise,
    and the KL to the frozen reference copy must be measured (non-zero once the policy moves)."""
    proj = tmp_path / "k"
    (stage,) = build(small_card(write_card, "KTO", "stage: kto\n", "kto_chosen_weight: 1.5"), proj)["stages"]
    assert (stage["method"], stage["trainer"], stage["reference_model"]) == ("kto", "KTOTrainer", "initial")
    r = run_cli("run", proj, "--smoke", "--max-steps", "15", **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run = proj / "runs" / "smoke"
    trl_args = json.loads((run / "resolved_config.json").read_text())["trl_arguments"]
    assert (trl_args["beta"], trl_args["desirable_weight"], trl_args["undesirable_weight"]) == (2.0, 1.5, 1.0)
    recs = assert_finite_and_margin_rises(run, 15)
    assert recs[-1]["rewards/chosen"] > recs[-1]["rewards/rejected"]
    assert any(r["kl"] > 0 for r in recs)
