"""The environment lock written into each run folder."""
import importlib.metadata as md
import os
import platform
import subprocess
import sys
from pathlib import Path

PACKAGES = ("torch", "transformers", "datasets", "accelerate", "peft", "deepspeed", "bitsandbytes",
            "tokenizers", "safetensors", "huggingface_hub", "numpy", "matplotlib", "tqdm", "cardrepro")


def git_commit():
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip() != ""
        return {"commit": sha or None, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def collect(world_size):
    import torch
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = md.version(p)
        except md.PackageNotFoundError:
            versions[p] = None
    return {
        "python": sys.version.split()[0], "platform": platform.platform(), "packages": versions,
        "torch": torch.__version__, "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available(),
        "world_size": world_size, "cpu_count": os.cpu_count(),
        "env": {k: os.environ.get(k) for k in ("DS_ACCELERATOR", "OMP_NUM_THREADS", "HF_HUB_OFFLINE", "TORCH_EXTENSIONS_DIR")},
        "git": git_commit(),
    }
