"""parse, audit, build and regen (and every command module, `run`/`infer` and `merge` too) never import torch,
transformers, datasets, deepspeed, peft or accelerate."""
import subprocess
import sys

import pytest

from conftest import CARDS

HEAVY = ["torch", "transformers", "datasets", "deepspeed", "peft", "accelerate"]
CARD = str(CARDS / "stablelm-7b-sft.md")
# each case: the code the fresh interpreter runs (TMP is the test's tmp_path), then what it must leave behind
CASES = {
    "parse": ("main(['parse', {card!r}, '--format', 'json'])", None),
    "audit": ("main(['audit', {card!r}, '--fail-on', 'never'])", None),
    "build": ("main(['build', {card!r}, '-o', {tmp!r} + '/p'])", "p/train_config.json"),
    "regen": ("main(['regen', {cards!r}, '--generated', {tmp!r} + '/g', '--check'])", None),
    "run-command-module": ("import cardrepro.commands.run", None),
    "every-command-module": ("import importlib, cardrepro.cli\n    "
                             "[importlib.import_module(m) for m, _ in cardrepro.cli.SUBCOMMANDS.values()]", None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_path_is_light(tmp_path, case):
    call, leaves = CASES[case]
    code = ("import sys\nfrom cardrepro.cli import main\n"
            "try:\n    " + call.format(card=CARD, cards=str(CARDS), tmp=str(tmp_path)) + "\n"
            "except SystemExit:\n    pass\n"
            f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
            "print('HEAVY', heavy)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert res.returncode == 0 and "HEAVY []" in res.stdout, res.stdout[-1000:] + res.stderr[-1000:]
    if leaves:
        assert (tmp_path / leaves).is_file()


def test_every_subcommand_lives_in_commands():
    from cardrepro.cli import SUBCOMMANDS
    modules = {module for module, _ in SUBCOMMANDS.values()}
    assert modules and all(m.startswith("cardrepro.commands.") for m in modules), modules
