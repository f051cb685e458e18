import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CARDS = ROOT / "cards"
SEEDS = ["stablelm-7b-sft", "bloom-zh-3b-sft", "bloomz-mona-lora", "ziya-llama-13b-v1"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DS_ACCELERATOR", "cpu")


def run_cli(*args, cwd=None, timeout=120):
    """Run `cardrepro ARGS` as a user would; returns CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", "cardrepro", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=timeout)


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
