"""A card outside the seeds: an Axolotl QLoRA config on Mistral, with a hub dataset the registry
does not know but whose record type the card states."""
import json

from conftest import ROOT, run_cli

CARD = ROOT / "tests" / "fixtures" / "parse" / "axolotl-qlora.md"


def test_axolotl_card_builds_and_its_data_renders(tmp_path):
    out = tmp_path / "proj"
    res = run_cli("build", CARD, "-o", out)
    assert res.returncode == 0, res.stderr
    tc = json.loads((out / "train_config.json").read_text())
    assert tc["architecture"] == "mistral" and tc["method"] == "qlora"
    assert tc["quantization"]["load_in_4bit"] is True
    assert tc["peft"]["target_modules"] == "all-linear" and tc["peft"]["r"] == 32
    ds = tc["datasets"][0]
    assert (ds["name"], ds["hub_id"], ds["format"]) == ("mhenrichsen/alpaca_2k_test", "mhenrichsen/alpaca_2k_test",
                                                         "instruction_input_output")
    assumed = {a["path"]: a["source"] for a in tc["assumed"]}
    assert "record type 'alpaca'" in assumed["datasets[0].format"]
    assert tc["left_out"] == []
    dry = run_cli("run", out, "--dry-run", timeout=300)
    assert dry.returncode == 0, dry.stderr[-1500:]
    assert "every assistant turn and its closing text is trained" in dry.stdout
