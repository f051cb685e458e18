"""What users of other tools expect, through the CLI on real cards: `diff` as `git diff --exit-code`
with a JSON form and the derived numbers it moves; one `audit --format json` shape for one card or
many; a project README that names the folder it was built into; `regen` finding `build -o` projects
through their lock files."""
import json
import shlex
import shutil

import pytest

from conftest import CARDS, run_cli

CARD = "stablelm-7b-sft.md"
BATCH_LINE = "per_device_train_batch_size: 4 |"       # card line 190; the card also states a global batch


@pytest.fixture
def two_versions(tmp_path):
    """old/ and new/ copies of the stablelm card; new/ raises the per-device batch from 4 to 8."""
    text = (CARDS / CARD).read_text(encoding="utf-8")
    assert text.count(BATCH_LINE) == 1
    for folder, body in (("old", text), ("new", text.replace(BATCH_LINE, "per_device_train_batch_size: 8 |"))):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / CARD).write_text(body, encoding="utf-8")
    return tmp_path / "old" / CARD, tmp_path / "new" / CARD


# ------------------------------------------------------------------------------------------- diff
def test_diff_json_exits_1_and_shows_the_gpu_count_it_halves(two_versions):
    old, new = two_versions
    res = run_cli("diff", old, new, "--format", "json")
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    assert doc["differ"] is True
    assert [(c["path"], c["old"], c["new"], c["old_line"], c["new_line"]) for c in doc["changes"]] == [
        ("training.per_device_train_batch_size", 4, 8, 190, 190)]
    # the stated global batch (32) now implies 2 GPUs instead of 4: the launchers change with it
    assert {"name": "world_size", "old": 4, "new": 2} in doc["derived"]
    assert all(d["old"] != d["new"] for d in doc["derived"])
    assert "launch/torchrun.sh" in doc["files"] and "cardrepro.lock.json" in doc["files"]
    assert "chat_template.jinja" not in doc["files"]


def test_diff_text_names_the_derived_change(two_versions):
    res = run_cli("diff", *two_versions)
    assert res.returncode == 1, res.stderr
    assert "training.per_device_train_batch_size: 4 -> 8  (card line 190)" in res.stdout
    assert "derived world_size: 4 -> 2" in res.stdout


def test_diff_of_equal_cards_exits_0(two_versions):
    old, _ = two_versions
    res = run_cli("diff", old, old, "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert (doc["differ"], doc["changes"], doc["derived"], doc["files"]) == (False, [], [], [])


def test_diff_of_a_missing_card_exits_2(tmp_path, two_versions):
    res = run_cli("diff", two_versions[0], tmp_path / "nope.md", "--format", "json")
    assert res.returncode == 2 and res.stderr.strip().startswith(str(tmp_path / "nope.md"))


# ------------------------------------------------------------------------------------------ audit
def test_audit_json_has_one_shape_for_one_card_or_many():
    one = run_cli("audit", CARDS / CARD, "--format", "json", "--fail-on", "never")
    many = run_cli("audit", CARDS / CARD, CARDS / "bloomz-mona-lora.md", "--format", "json", "--fail-on", "never")
    assert one.returncode == 0 and many.returncode == 0, one.stderr + many.stderr
    one, many = json.loads(one.stdout), json.loads(many.stdout)
    assert set(one) == set(many) == {"tool", "version", "reports", "summary"}
    (report,) = one["reports"]
    assert one["summary"] == [{"name": report["name"], "errors": report["counts"]["error"],
                               "warnings": report["counts"]["warning"], "info": report["counts"]["info"],
                               "score": report["score"]["score"]}]
    assert [s["name"] for s in many["summary"]] == ["stablelm-7b-sft", "bloomz-mona-lora"]


# ------------------------------------------------------------------------------ README and folder
def _readme(project):
    return (project / "README.md").read_text(encoding="utf-8")


def test_readme_names_a_folder_inside_the_current_directory(tmp_path):
    res = run_cli("build", CARDS / CARD, "-o", "sub/x", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    readme = _readme(tmp_path / "sub" / "x")
    assert "cardrepro run sub/x --smoke" in readme and "sub/x/launch/torchrun.sh" in readme
    assert "generated/" not in readme and "holds `" not in readme


def test_readme_of_a_folder_outside_names_only_the_folder(tmp_path):
    (tmp_path / "here").mkdir()
    for parent in ("a", "b"):
        res = run_cli("build", CARDS / CARD, "-o", tmp_path / parent / "my run", cwd=tmp_path / "here")
        assert res.returncode == 0, res.stderr
    readme = _readme(tmp_path / "a" / "my run")
    assert str(tmp_path) not in readme and "generated/" not in readme
    assert "The commands below run from the folder that holds `'my run'/`." in readme
    assert readme == _readme(tmp_path / "b" / "my run")          # no machine path in the bytes
    pip = next(line for line in readme.splitlines() if line.startswith("pip install -r "))
    assert (tmp_path / "a" / shlex.split(pip)[-1]).is_file()     # the quoted path works in a shell


def test_readme_of_the_default_folder_is_unchanged(tmp_path):
    shutil.copy(CARDS / CARD, tmp_path / CARD)
    res = run_cli("build", CARD, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "cardrepro run generated/stablelm-7b-sft --smoke" in _readme(tmp_path / "generated" / "stablelm-7b-sft")


# ------------------------------------------------------------------------------------------ regen
def test_regen_finds_a_project_built_with_o_through_its_lock(tmp_path):
    (tmp_path / "cards").mkdir()
    card = tmp_path / "cards" / CARD
    shutil.copy(CARDS / CARD, card)
    assert run_cli("build", card, "-o", "runs/mine", cwd=tmp_path).returncode == 0
    card.write_text(card.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    check = run_cli("regen", "cards", "--projects", "runs", "--check", cwd=tmp_path)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "stale: runs/mine: card bytes changed" in check.stdout
    rebuilt = run_cli("regen", "cards", "--projects", "runs", cwd=tmp_path)
    assert rebuilt.returncode == 0 and "rebuilt runs/mine: card bytes changed" in rebuilt.stdout
    assert not (tmp_path / "generated").exists()                 # --projects builds nothing new
    again = run_cli("regen", "cards", "--projects", "runs/mine", "--check", cwd=tmp_path)
    assert again.returncode == 0 and "up to date: runs/mine" in again.stdout
    assert "cardrepro run runs/mine --smoke" in _readme(tmp_path / "runs" / "mine")


def test_regen_help_documents_projects():
    res = run_cli("regen", "--help")
    assert res.returncode == 0 and "--projects" in res.stdout and "cardrepro.lock.json" in res.stdout
