"""`build`, `regen` and `run` never delete or overwrite a user's files: output folders that are not
cardrepro's are refused (exit 2, one line), a project is updated file by file in place, and a
tampered lock is never followed. Real folders with real user files in them, through the CLI."""
import errno
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import CARDS, cli_in_process, run_cli

CARD = CARDS / "stablelm-7b-sft.md"
LOCK = "cardrepro.lock.json"


def tree(root: Path) -> dict:
    """Every file under root (hidden ones included) with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def refused(res, *needles, only_line=True):
    """Exit 2 with one line on stderr that says why (only_line=False: the last line, after what the
    trainer's libraries may print when imported)."""
    err = res.stderr.strip()
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "internal error" not in err and (err.count("\n") == 0 or not only_line), err
    err = err.splitlines()[-1]
    for needle in needles:
        assert needle in err, err
    return err


def in_process(*args):
    """The CLI in this process (for monkeypatched failures): (exit code, stdout + stderr)."""
    res = cli_in_process(*args)
    return res.returncode, res.stdout + res.stderr


@pytest.fixture
def project(tmp_path):
    """A built project with a user's notes, runs/ and smoke/ in it."""
    out = tmp_path / "p"
    assert run_cli("build", CARD, "-o", out).returncode == 0
    (out / "NOTES.md").write_text("my notes\n")
    (out / "runs" / "smoke").mkdir(parents=True)
    (out / "runs" / "smoke" / "metrics.jsonl").write_text('{"loss": 1.0}\n')
    (out / "smoke").mkdir()
    (out / "smoke" / "cache.bin").write_bytes(b"\0cache")
    return out


# ------------------------------------------------------------------ build: folders that are not a project
def test_build_refuses_a_folder_with_user_files(tmp_path):
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "thesis.tex").write_text("years of work")
    (mine / "sub" / "data.csv").write_text("1,2\n")
    before = tree(mine)
    refused(run_cli("build", CARD, "-o", mine), "not a cardrepro project", str(mine))
    assert tree(mine) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]       # nothing hidden left next to it


def test_build_into_the_cards_folder_keeps_the_card(tmp_path):
    cards = tmp_path / "cards"
    cards.mkdir()
    card = cards / "stablelm-7b-sft.md"
    shutil.copy(CARD, card)
    refused(run_cli("build", card, "-o", cards), "not a cardrepro project")
    assert card.read_bytes() == CARD.read_bytes() and [p.name for p in cards.iterdir()] == [card.name]


def test_build_dot_refuses_the_working_folder(tmp_path):
    (tmp_path / "work.txt").write_text("keep")
    shutil.copy(CARD, tmp_path / "card.md")
    before = tree(tmp_path)
    refused(run_cli("build", "card.md", "-o", ".", cwd=tmp_path), "not a cardrepro project")
    assert tree(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["card.md", "work.txt"]


def test_build_dot_in_an_empty_folder_builds_there(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    res = run_cli("build", CARD, "-o", ".", cwd=work)
    assert res.returncode == 0, res.stderr
    assert (work / LOCK).is_file() and (work / "train_config.json").is_file()


def test_build_refuses_a_regular_file_at_the_output(tmp_path):
    target = tmp_path / "p"
    target.write_text("not a folder")
    refused(run_cli("build", CARD, "-o", target), "exists and is not a folder")
    assert target.read_text() == "not a folder"


def test_build_under_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "f").write_text("x")
    refused(run_cli("build", CARD, "-o", tmp_path / "f" / "p"), "cannot write the project")
    assert (tmp_path / "f").read_text() == "x"


def test_build_refuses_an_unwritable_folder(tmp_path, monkeypatch):
    """We run as root, so chmod alone does not stop a write: the folder is made read-only with chmod
    and os.access (what the build asks) is made to answer as it would for a normal user."""
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw:
                        False if Path(p) == out and mode & os.W_OK else real_access(p, mode, **kw))
    code, text = in_process("build", CARD, "-o", out)
    out.chmod(0o755)
    assert code == 2 and "folder is not writable" in text and "internal error" not in text
    assert list(out.iterdir()) == []


def test_full_disk_is_a_clear_error_and_keeps_the_project(project, monkeypatch):
    """ENOSPC while the files are written (injected in-process at fsync): exit 2, old version whole."""
    before = tree(project)
    real_fsync, calls = os.fsync, {"n": 0}

    def full(fd):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    code, text = in_process("build", CARD, "-o", project)
    assert code == 2 and "cannot write the project: No space left on device" in text
    assert tree(project) == before                      # every file as it was, no staging folder left


# ------------------------------------------------------------------ build: a cardrepro project
def test_rebuild_replaces_only_what_the_lock_lists(project):
    ino, runs_ino = project.stat().st_ino, (project / "runs").stat().st_ino
    (project / "train_config.json").write_text("{}")             # a generated file, edited: rebuilt
    lock = json.loads((project / LOCK).read_text())
    (project / "old-output.txt").write_text("an older build wrote this")
    (project / "old-edited.txt").write_text("an older build wrote this, then the user changed it")
    lock["files"]["old-output.txt"] = hashlib.sha256(b"an older build wrote this").hexdigest()
    lock["files"]["old-edited.txt"] = "0" * 64
    (project / LOCK).write_text(json.dumps(lock))
    res = run_cli("build", CARD, "-o", project)
    assert res.returncode == 0, res.stderr
    assert f"note: kept {project / 'old-edited.txt'}" in res.stderr
    assert not (project / "old-output.txt").exists()                # the old build's own file, unedited: gone
    assert (project / "old-edited.txt").is_file()
    assert (project / "NOTES.md").read_text() == "my notes\n"
    assert (project / "runs" / "smoke" / "metrics.jsonl").read_text() == '{"loss": 1.0}\n'
    assert (project / "smoke" / "cache.bin").read_bytes() == b"\0cache"
    assert json.loads((project / "train_config.json").read_text())["name"] == "stablelm-7b-sft"
    assert project.stat().st_ino == ino and (project / "runs").stat().st_ino == runs_ino   # never moved
    assert sorted(p.name for p in project.parent.iterdir()) == ["p"]
    assert not [p for p in project.iterdir() if p.name.startswith(".")]


def test_leftovers_of_a_killed_build_are_recovered(project):
    """The old builder swapped folders: .p.tmp-* (the new build) and .p.old-* (the previous project,
    runs/ included) stay behind when it is killed between its two renames."""
    parent = project.parent
    old = parent / ".p.old-k1ll3d00"
    project.rename(old)
    shutil.copytree(old, parent / ".p.tmp-abcd1234", ignore=shutil.ignore_patterns("runs", "smoke", "NOTES.md"))
    res = run_cli("build", CARD, "-o", project)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in parent.iterdir()) == ["p"]
    assert (project / "runs" / "smoke" / "metrics.jsonl").read_text() == '{"loss": 1.0}\n'
    assert (project / "NOTES.md").read_text() == "my notes\n"


def test_a_killed_build_after_the_swap_gives_runs_back(project):
    """Killed after the second rename: the project is the new build and runs/ still sits in .p.old-*."""
    parent = project.parent
    old = parent / ".p.old-k1ll3d01"
    shutil.copytree(project, old)
    shutil.rmtree(project / "runs")
    shutil.rmtree(project / "smoke")
    (project / "NOTES.md").unlink()
    res = run_cli("build", CARD, "-o", project)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in parent.iterdir()) == ["p"]
    assert (project / "runs" / "smoke" / "metrics.jsonl").read_text() == '{"loss": 1.0}\n'
    assert (project / "NOTES.md").read_text() == "my notes\n"
    assert (project / "smoke" / "cache.bin").read_bytes() == b"\0cache"


# ------------------------------------------------------------------ tampered locks
@pytest.mark.parametrize("bad", ["../outside.txt", "/etc/hostname", "a\\..\\b", "link.txt"])
def test_a_tampered_lock_is_refused(tmp_path, bad):
    cards, gen = tmp_path / "cards", tmp_path / "generated"
    cards.mkdir()
    shutil.copy(CARD, cards / CARD.name)
    assert run_cli("regen", cards).returncode == 0
    proj = gen / "stablelm-7b-sft"
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (proj / "link.txt").symlink_to(outside)
    lock = json.loads((proj / LOCK).read_text())
    lock["files"][bad] = "0" * 64
    (proj / LOCK).write_text(json.dumps(lock))
    before = tree(proj)
    for args in (("regen", cards, "--check"), ("regen", cards), ("build", CARD, "-o", proj)):
        refused(run_cli(*args), f"{proj / LOCK}:0: untrusted lock file", repr(bad))
    assert tree(proj) == before and outside.read_text() == "secret"


# ------------------------------------------------------------------ regen over many cards
def test_one_bad_card_does_not_stop_regen(tmp_path):
    cards = tmp_path / "cards"
    cards.mkdir()
    shutil.copy(CARD, cards / "b-good.md")
    (cards / "a-bad.md").write_text("")
    mine = tmp_path / "generated" / "c-blocked"
    mine.mkdir(parents=True)
    (mine / "mine.txt").write_text("user file")
    shutil.copy(CARD, cards / "c-blocked.md")
    res = run_cli("regen", cards)
    assert res.returncode == 2
    assert "rebuilt generated/b-good" in res.stdout.replace(str(tmp_path) + "/", "")
    assert (tmp_path / "generated" / "b-good" / LOCK).is_file()
    errors = res.stderr.strip().splitlines()
    assert len(errors) == 2 and "a-bad.md:1: empty card" in errors[0] and "c-blocked:0: folder is not empty" in errors[1]
    assert (mine / "mine.txt").read_text() == "user file" and [p.name for p in mine.iterdir()] == ["mine.txt"]
    assert "2 card(s) failed" in res.stdout


def test_two_cards_for_one_project_are_refused(tmp_path):
    cards = tmp_path / "cards"
    cards.mkdir()
    shutil.copy(CARD, cards / "a b.md")
    (cards / "a-b.md").write_text(CARD.read_text().replace("StableLM", "StableLM (second)"))
    res = run_cli("regen", cards)
    assert res.returncode == 2
    refused(res, "a-b.md:0: maps to the same project `a-b` as a b.md", "rename one")
    lock = json.loads((tmp_path / "generated" / "a-b" / LOCK).read_text())
    assert lock["card"]["file"] == "a b.md"
    res = run_cli("regen", cards, "--check")                          # not stale forever: the first is fine
    assert "up to date: " in res.stdout and "stale" not in res.stdout
    refused(res, "maps to the same project")


# ------------------------------------------------------------------ run --output
RUN_PROJECT = "bloomz-mona-lora"


@pytest.fixture
def run_project(tmp_path):
    """Built from its card here (generated/ is refreshed only at release time)."""
    out = tmp_path / RUN_PROJECT
    res = run_cli("build", CARDS / f"{RUN_PROJECT}.md", "-o", out)
    assert res.returncode == 0, res.stderr
    return out


def test_run_refuses_a_folder_that_is_not_a_run_of_this_project(tmp_path, run_project):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    other = tmp_path / "other-run"
    other.mkdir()
    (other / "cardrepro-run.json").write_text(json.dumps({"project": "stablelm-7b-sft", "mode": "smoke"}))
    (other / "metrics.jsonl").write_text("{}\n")
    afile = tmp_path / "afile"
    afile.write_text("x")
    project_before = tree(run_project)
    for target, why in ((mine, "is not a run folder of bloomz-mona-lora"), (other, "is not a run folder"),
                        (run_project, "is not a run folder"), (afile, "exists and is not a folder")):
        before = tree(target) if target.is_dir() else target.read_bytes()
        res = cli_in_process("run", run_project, "--smoke", "--max-steps", 1, "--output", target)
        refused(res, f"{target}:0: ", why, only_line=False)
        assert (tree(target) if target.is_dir() else target.read_bytes()) == before
    assert tree(run_project) == project_before


def test_run_clears_its_own_run_folder(tmp_path, run_project):
    """A folder marked as a run of this project (an earlier run's leftovers) is cleared and reused."""
    out = tmp_path / "out"
    (out / "checkpoint-9").mkdir(parents=True)
    (out / "checkpoint-9" / "stale.bin").write_bytes(b"old")
    (out / "cardrepro-run.json").write_text(json.dumps({"project": RUN_PROJECT, "mode": "smoke"}))
    res = run_cli("run", run_project, "--smoke", "--max-steps", 1, "--output", out, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert not (out / "checkpoint-9").exists() and (out / "final").is_dir()
    assert json.loads((out / "cardrepro-run.json").read_text()) == {"project": RUN_PROJECT, "mode": "smoke"}
