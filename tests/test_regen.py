"""`cardrepro regen`: rebuild only stale projects; `--check` rebuilds nothing and exits 1.

The parser and the audit are replaced by stand-ins (tests/fixtures/build/fake_cards.py: a card is
a JSON spec file) so that each staleness reason can be produced on purpose."""
import json
import shutil
import sys
import types
from pathlib import Path

import pytest

from cardrepro.cli import main

FIX = Path(__file__).parent / "fixtures" / "build"
sys.path.insert(0, str(FIX))
import fake_cards  # noqa: E402


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """tmp/cards/{stablelm-7b-sft,bloomz-mona-lora}.md (JSON specs), fake parser, fixed findings."""
    cards = tmp_path / "cards"
    cards.mkdir()
    for name in ("stablelm-7b-sft", "bloomz-mona-lora"):
        spec = json.loads((FIX / f"{name}.spec.json").read_text())
        spec.pop("card", None)
        (cards / f"{name}.md").write_text(json.dumps(spec, indent=1, sort_keys=True))
    monkeypatch.setitem(sys.modules, "cardrepro.spec", types.SimpleNamespace(parse_card=fake_cards.parse_card))
    findings = {"value": [{"code": "CR100", "severity": "info", "message": "x", "lines": [1], "action": "y"}]}
    import cardrepro.project.project as project
    import cardrepro.project.regen as regen
    monkeypatch.setattr(project, "run_audit", lambda spec, card=None: findings["value"])
    monkeypatch.setattr(regen, "run_audit", lambda spec, card=None: findings["value"])
    monkeypatch.chdir(tmp_path)
    return types.SimpleNamespace(root=tmp_path, cards=cards, gen=tmp_path / "generated", findings=findings)


def run(args, capsys):
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code or 0, out.out + out.err


def mtimes(d: Path):
    return {p: p.stat().st_mtime_ns for p in d.rglob("*") if p.is_file()}


def test_check_reports_missing_projects_then_regen_builds_them(repo, capsys):
    code, out = run(["regen", "cards", "--check"], capsys)
    assert code == 1
    assert "stale: generated/stablelm-7b-sft: not built" in out and "stale: generated/bloomz-mona-lora" in out
    assert not repo.gen.exists()                                   # --check builds nothing
    code, out = run(["regen", "cards"], capsys)
    assert code == 0 and out.count("rebuilt") == 2
    assert (repo.gen / "stablelm-7b-sft" / "train_config.json").is_file()
    code, out = run(["regen", "cards", "--check"], capsys)
    assert code == 0 and out.count("up to date") == 2


def test_only_the_changed_card_is_rebuilt(repo, capsys):
    run(["regen", "cards"], capsys)
    other = mtimes(repo.gen / "bloomz-mona-lora")
    card = repo.cards / "stablelm-7b-sft.md"
    spec = json.loads(card.read_text())
    spec["training"]["learning_rate"] = 2e-5
    card.write_text(json.dumps(spec, indent=1, sort_keys=True))
    code, out = run(["regen", "cards", "--check"], capsys)
    assert code == 1
    assert "stale: generated/stablelm-7b-sft: card bytes changed; spec changed" in out
    assert "up to date: generated/bloomz-mona-lora" in out and "1 stale project(s)" in out
    code, out = run(["regen", "cards"], capsys)
    assert code == 0 and "rebuilt generated/stablelm-7b-sft: card bytes changed" in out
    assert "rebuilt generated/bloomz-mona-lora" not in out
    assert mtimes(repo.gen / "bloomz-mona-lora") == other
    assert json.loads((repo.gen / "stablelm-7b-sft" / "train_config.json").read_text())["training"][
        "learning_rate"] == 2e-5


def test_card_bytes_alone_make_a_project_stale(repo, capsys):
    run(["regen", "cards"], capsys)
    card = repo.cards / "bloomz-mona-lora.md"
    card.write_text(card.read_text() + "\n")                     # same spec, different bytes
    code, out = run(["regen", "cards", "--check"], capsys)
    assert code == 1 and "stale: generated/bloomz-mona-lora: card bytes changed" in out
    assert "spec changed" not in out.split("bloomz-mona-lora:")[1].splitlines()[0]


def test_version_findings_and_edits_make_projects_stale(repo, capsys, monkeypatch):
    run(["regen", "cards"], capsys)
    import cardrepro.project.regen as regen
    monkeypatch.setattr(regen, "__version__", "99.0")
    code, out = run(["regen", "cards", "--check"], capsys)
    assert code == 1 and out.count("cardrepro version changed (0.1.0 -> 99.0)") == 2
    monkeypatch.setattr(regen, "__version__", "0.1.0")
    # Same card bytes and code: up to date without parsing. Findings only change with the code.
    repo.findings["value"] = []
    code, out = run(["regen", "cards", "--check"], capsys)
    assert code == 0
    real = regen.generator_fingerprint
    monkeypatch.setattr(regen, "generator_fingerprint", lambda: "the audit code changed")
    code, out = run(["regen", "cards", "--check"], capsys)
    assert code == 1 and out.count("audit findings changed") == 2
    monkeypatch.setattr(regen, "generator_fingerprint", real)
    run(["regen", "cards"], capsys)
    (repo.gen / "stablelm-7b-sft" / "launch" / "torchrun.sh").write_text("echo edited\n")
    (repo.gen / "bloomz-mona-lora" / "cardrepro.lock.json").unlink()
    code, out = run(["regen", "cards", "--check"], capsys)
    assert code == 1
    assert "generated files edited or missing: launch/torchrun.sh" in out
    assert "bloomz-mona-lora: cardrepro.lock.json missing or unreadable" in out
    code, out = run(["regen", "cards"], capsys)    # a folder without a lock is not cardrepro's to overwrite
    assert code == 2 and "generated/bloomz-mona-lora:0: folder is not empty and is not a cardrepro project" in out
    assert "echo edited" not in (repo.gen / "stablelm-7b-sft" / "launch" / "torchrun.sh").read_text()
    shutil.rmtree(repo.gen / "bloomz-mona-lora")
    code, out = run(["regen", "cards"], capsys)
    assert code == 0 and "rebuilt generated/bloomz-mona-lora: not built" in out


def test_bad_input_exits_2_with_one_line(repo, capsys):
    code, out = run(["regen", "no-such-dir", "--check"], capsys)
    assert code == 2 and out.strip().count("\n") == 0 and "no-such-dir:0: cards folder not found" in out
    code, out = run(["build", "cards/missing.md"], capsys)
    assert code == 2 and out.strip() == "cards/missing.md:0: card not found"
    (repo.cards / "broken.md").write_text("{not json")
    code, out = run(["regen", "cards", "--check"], capsys)
    assert code == 2 and out.strip().splitlines()[-1].startswith("cards/broken.md:1:")


def test_build_command_writes_default_folder(repo, capsys):
    code, out = run(["build", "cards/stablelm-7b-sft.md"], capsys)
    assert code == 0 and out.splitlines()[0] == "built generated/stablelm-7b-sft"   # stdout; the assumed: lines are on stderr
    lock = json.loads((repo.gen / "stablelm-7b-sft" / "cardrepro.lock.json").read_text())
    assert lock["card"]["file"] == "stablelm-7b-sft.md"
    code, out = run(["build", "cards/stablelm-7b-sft.md", "-o", "elsewhere/p"], capsys)
    assert code == 0 and (repo.root / "elsewhere" / "p" / "README.md").is_file()
    assert "| CR100 | info | x | 1 | y |" in (repo.root / "elsewhere" / "p" / "README.md").read_text()
    shutil.rmtree(repo.gen)


def test_projects_are_matched_to_cards_by_their_lock(repo, capsys):
    """--projects: every folder holding a lock is judged against the card its lock names."""
    run(["build", "cards/stablelm-7b-sft.md", "-o", "runs/a"], capsys)
    run(["build", "cards/stablelm-7b-sft.md", "-o", "runs/b"], capsys)
    (repo.root / "runs" / "notes").mkdir()                                  # no lock: not a project
    code, out = run(["regen", "cards", "--projects", "runs", "--check"], capsys)
    assert code == 0 and "up to date: runs/a" in out and "up to date: runs/b" in out
    assert "note: cards/bloomz-mona-lora.md has no project in the folders given" in out
    assert "runs/notes" not in out and not repo.gen.exists()
    card = repo.cards / "stablelm-7b-sft.md"
    spec = json.loads(card.read_text())
    spec["training"]["learning_rate"] = 3e-5
    card.write_text(json.dumps(spec, indent=1, sort_keys=True))
    code, out = run(["regen", "cards", "--projects", "runs/a", "--check"], capsys)   # one project, given itself
    assert code == 1 and "stale: runs/a: card bytes changed; spec changed" in out and "runs/b" not in out
    code, out = run(["regen", "cards", "--projects", "runs"], capsys)
    assert code == 0 and out.count("rebuilt runs/") == 2
    for p in ("a", "b"):
        tc = json.loads((repo.root / "runs" / p / "train_config.json").read_text())
        assert tc["training"]["learning_rate"] == 3e-5


def test_projects_whose_card_is_gone_are_noted_not_built(repo, capsys):
    run(["build", "cards/bloomz-mona-lora.md", "-o", "runs/old"], capsys)
    lock_path = repo.root / "runs" / "old" / "cardrepro.lock.json"
    lock = json.loads(lock_path.read_text())
    lock["card"]["file"] = "renamed-away.md"
    lock_path.write_text(json.dumps(lock))
    before = mtimes(repo.root / "runs" / "old")
    code, out = run(["regen", "cards", "--projects", "runs"], capsys)
    assert code == 0 and "note: runs/old has no card in cards" in out
    assert mtimes(repo.root / "runs" / "old") == before


def test_projects_bad_input_exits_2(repo, capsys):
    code, out = run(["regen", "cards", "--projects", "no-such-dir"], capsys)
    assert code == 2 and "no-such-dir:0: projects folder not found" in out
    code, out = run(["regen", "cards", "--projects", "cards", "--generated", "generated"], capsys)
    assert code == 2 and "not both" in out
    run(["build", "cards/stablelm-7b-sft.md", "-o", "runs/a"], capsys)
    (repo.cards / "stablelm-7b-sft.md").write_text("{not json")
    code, out = run(["regen", "cards", "--projects", "runs"], capsys)
    assert code == 2 and "cards/stablelm-7b-sft.md:1:" in out
