"""parse, audit, build and regen never import torch, transformers, datasets or deepspeed."""
import subprocess
import sys

HEAVY = ["torch", "transformers", "datasets", "deepspeed", "peft", "accelerate"]


def test_parse_path_is_light():
    code = ("import sys; from cardrepro.cli import main\n"
            "try:\n    main(['parse', 'cards/stablelm-7b-sft.md', '--format', 'json'])\nexcept SystemExit:\n    pass\n"
            f"bad = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "sys.stderr.write(repr(bad))\nassert not bad, bad")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-500:]
