"""The dataset registry (cardrepro/data/datasets.yaml): name/alias -> entry."""
from functools import lru_cache
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent.parent / "data"
REGISTRY = DATA / "datasets.yaml"
SAMPLES = DATA / "samples"


@lru_cache(maxsize=1)
def entries():
    return yaml.safe_load(REGISTRY.read_text(encoding="utf-8"))


def lookup(name):
    """Registry entry (with 'key') for a trainer name or alias, case-insensitive; None if unknown."""
    reg = entries()
    low = name.lower()
    for key, entry in reg.items():
        if key.lower() == low or low in [a.lower() for a in entry.get("aliases") or []]:
            return {"key": key, **entry}
    return None
