"""`cardrepro diff OLD.md NEW.md` (parser replaced by the JSON-spec stand-in)."""
import json
import sys
import types
from pathlib import Path

import pytest

from cardrepro.project.diff import diff_specs, flatten
from cardrepro.cli import main

FIX = Path(__file__).parent / "fixtures" / "build"
sys.path.insert(0, str(FIX))
import fake_cards  # noqa: E402


@pytest.fixture
def cards(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cardrepro.spec", types.SimpleNamespace(parse_card=fake_cards.parse_card))
    import cardrepro.project.diff as diff
    monkeypatch.setattr(diff, "run_audit", lambda spec, card=None: None)
    spec = json.loads((FIX / "stablelm-7b-sft.spec.json").read_text())
    spec.pop("card")
    # a stated GPU count: else the batch change below changes the world size the card implies (and the launch scripts)
    spec["training"]["num_gpus"] = 4
    old = tmp_path / "old" / "stablelm-7b-sft.md"
    new = tmp_path / "new" / "stablelm-7b-sft.md"
    old.parent.mkdir()
    new.parent.mkdir()
    old.write_text(json.dumps(spec))
    spec["training"]["per_device_train_batch_size"] = 8
    spec["provenance"]["training.per_device_train_batch_size"]["line"] = 191
    spec["datasets"][1]["options"]["max_val_set"] = 900
    spec["datasets"].pop()
    new.write_text(json.dumps(spec))
    monkeypatch.chdir(tmp_path)
    return old, new


def test_diff_lists_fields_lines_and_files(cards, capsys):
    old, new = cards
    try:
        code = main(["diff", str(old), str(new)])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr().out
    assert code == 1                                    # as `git diff --exit-code`: the specs differ
    assert "training.per_device_train_batch_size: 4 -> 8  (card line 190 -> 191)" in out
    assert "datasets[1].options.max_val_set: 800 -> 900" in out
    assert 'datasets[4]: {"availability": "public", "name": "code_alpaca"' in out and '} -> (absent)' in out
    assert "datasets[4].name" not in out
    files_line = [line for line in out.splitlines() if line.startswith("generated files that would change")][0]
    for f in ("train_config.json", "deepspeed/ds_config.resolved.json", "spec.json", "README.md"):
        assert f in files_line
    assert "chat_template.jinja" not in files_line and "launch/torchrun.sh" not in files_line


def test_no_changes(cards, capsys):
    old, _ = cards
    try:
        code = main(["diff", str(old), str(old)])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr().out
    assert not code
    assert "no spec-level changes" in out and "would change: none" in out and "derived" not in out


def test_flatten_and_types():
    assert flatten({"a": {"b": [1, {"c": 2}]}, "e": {}}) == {"a.b[0]": 1, "a.b[1].c": 2, "e": {}}
    changes = diff_specs({"training": {"x": 1}}, {"training": {"x": 1.0}})
    assert [c["path"] for c in changes] == ["training.x"]        # 1 -> 1.0 is a change of type
    changes = diff_specs({"peft": None}, {"peft": {"r": 8, "lora_alpha": 16}})
    assert [(c["path"], c["new"]) for c in changes] == [("peft", {"r": 8, "lora_alpha": 16})]
    changes = diff_specs({"a": {"k": [1, 2]}}, {"a": {"k": [1]}, "b": 3})
    assert [(c["path"], c["in_old"], c["in_new"]) for c in changes] == [("a.k[1]", True, False), ("b", False, True)]


def test_inserted_dataset_is_one_change_with_its_card_line():
    """Named entries are matched by name: inserting one dataset does not shift every later one."""
    from cardrepro.spec import parse_card
    old = parse_card(Path(__file__).parent.parent / "cards" / "bloom-zh-3b-sft.md")
    new = json.loads(json.dumps(old))
    new["datasets"].insert(7, {"name": "alpaca", "options": {}, "availability": "public"})
    new["provenance"]["datasets[7]"] = {"origin": "card", "line": 57, "text": "- alpaca"}
    changes = [c for c in diff_specs(old, new) if c["path"].startswith("datasets")]
    assert changes == [{"path": "datasets[7]", "old": None, "new": new["datasets"][7], "in_old": False,
                        "in_new": True, "old_line": None, "new_line": 57}]
    argv = [c for c in diff_specs(old, dict(old, command=dict(old["command"], args=["--x"]))) if c["path"].startswith("command")]
    assert argv[0]["path"] == "command.args[0]"  # argv stays positional
