import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CARDS = ROOT / "cards"
GENERATED = ROOT / "generated"                         # the projects `cardrepro build` wrote
SEEDS = ["stablelm-7b-sft", "bloom-zh-3b-sft", "bloomz-mona-lora", "ziya-llama-13b-v1"]
CLI = str(Path(sys.executable).parent / "cardrepro")   # the installed console script

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DS_ACCELERATOR", "cpu")


HUB_CORPUS = ROOT.parent / "shared" / "corpus" / "hub-readmes"


def read_docs(every):
    """(path, Document) of the seed cards and of every `every`-th Hub corpus card the reader reads
    (a card it refuses has nothing to compare)."""
    from cardrepro.read import read_card
    for path in sorted(CARDS.glob("*.md")) + sorted(HUB_CORPUS.glob("*.md"))[::every]:
        try:
            yield path, read_card(path)
        except Exception:
            continue


def built_and_checked_specs(paths):
    """(name, spec as built, spec as checked) per card; a card the checker refuses keeps only its
    built spec (checked None)."""
    import copy

    from cardrepro import validate
    from cardrepro.errors import CardError
    from cardrepro.spec import build_spec
    out = []
    for p in paths:
        try:
            built = build_spec(p)
        except CardError:
            continue
        checked = copy.deepcopy(built)
        try:
            validate.check(checked, p)
        except CardError:
            checked = None
        out.append((p.name, built, checked))
    return out


def run_cli(*args, cwd=None, timeout=120, env=None, script=False):
    """Run `cardrepro ARGS` as a user would; returns CompletedProcess (text).

    `python -m cardrepro` by default, the installed console script with script=True; cwd defaults to
    the checkout; env entries are added to os.environ."""
    cmd = [CLI] if script else [sys.executable, "-m", "cardrepro"]
    return subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT,
                          timeout=timeout, env={**os.environ, **env} if env else None)


def parsed(card):
    """`cardrepro parse CARD --format json` as a user runs it: the spec, after checking it exits 0."""
    r = run_cli("parse", card, "--format", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def cli_in_process(*args, cwd=None):
    """`cardrepro ARGS` through cardrepro.cli.main in this process; returns CompletedProcess (text).

    For checks of what a command says, exits with and writes, not of how its process behaves: it
    saves the interpreter start and, for `run`/`infer`, ~6 s CPU of torch/peft imports per call.
    Never for a command that trains: the trainer sets up torch.distributed in its process."""
    from cardrepro.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(cwd or ROOT):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    return subprocess.CompletedProcess(["cardrepro", *map(str, args)], code or 0, out.getvalue(), err.getvalue())


def copy_project(dest_dir, name):
    """A private copy of generated/NAME at DEST_DIR/NAME, without its run folders and smoke cache."""
    p = Path(dest_dir) / name
    shutil.copytree(GENERATED / name, p, ignore=shutil.ignore_patterns("runs", "smoke"))
    return p


def losses(run_dir, by_step=True):
    """The training losses in RUN_DIR/metrics.jsonl: {step: loss}, or (by_step=False) the list in file order."""
    text = (Path(run_dir) / "metrics.jsonl").read_text()
    recs = [r for r in (json.loads(l) for l in text.splitlines() if l.strip()) if "loss" in r]
    return {r["step"]: r["loss"] for r in recs} if by_step else [r["loss"] for r in recs]


def hf_render(template: str, messages, add_generation_prompt=True) -> str:
    """Render a chat template the way transformers does."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=add_generation_prompt)


@pytest.fixture
def write_card(tmp_path):
    def _write(text, name="card.md", raw=None):
        p = tmp_path / name
        if raw is not None:
            p.write_bytes(raw)
        else:
            p.write_text(text, encoding="utf-8")
        return p
    return _write
