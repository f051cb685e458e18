"""The dataset registry (cardrepro/data/datasets.yaml): name/alias -> entry."""

from cardrepro import data

SAMPLES = data.DATA_DIR / "samples"


def lookup(name):
    """Registry entry (with 'key') for a trainer name, alias or hub id; None if unknown."""
    key, entry = data.registry_entry(name)
    return {"key": key, **entry} if key else None
