"""Data files the build reads (all under cardrepro/data/, plus schemas/deepspeed.schema.json).

Missing optional files (another stage's data) read as empty, so a build still works while the
project grows; what was missing is visible in the fingerprint and the README."""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path


from cardrepro import data

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PACKAGE_DIR / "data"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
SCHEMAS_DIR = PACKAGE_DIR / "schemas"



def build_defaults() -> dict:
    return data.load("build_defaults")


def dataset_registry() -> dict:
    return data.load("datasets")


@functools.lru_cache(maxsize=None)
def deepspeed_schema() -> dict:
    with open(SCHEMAS_DIR / "deepspeed.schema.json", encoding="utf-8") as fh:
        return json.load(fh)


@functools.lru_cache(maxsize=None)
def generator_fingerprint() -> str:
    """sha256 over everything a build's bytes depend on besides the card: the parse, audit and build
    code (not the trainer), the templates, the data files and the schemas."""
    h = hashlib.sha256()
    files = sorted(p for p in PACKAGE_DIR.rglob("*.py") if "train" not in p.relative_to(PACKAGE_DIR).parts[:1])
    files += sorted(p for p in TEMPLATES_DIR.rglob("*") if p.is_file())
    files += sorted(p for p in DATA_DIR.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json", ".jsonl"))
    files += sorted(SCHEMAS_DIR.glob("*.json"))
    for path in files:
        if "__pycache__" in path.parts:
            continue
        rel = path.relative_to(PACKAGE_DIR.parent).as_posix()
        h.update(rel.encode() + b"\0")
        h.update(path.read_bytes() if path.is_file() else b"<missing>")
        h.update(b"\0")
    return h.hexdigest()
