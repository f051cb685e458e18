"""Data files shipped with cardrepro (registries, profiles, label maps), loaded once."""
import functools
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).parent


@functools.lru_cache(maxsize=None)
def load(name):
    """`load("model_families")`, `load("trainers/oa-trainer-sft")`: the parsed YAML file."""
    path = DATA_DIR / f"{name}.yaml"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


def trainer_profiles():
    return {p.stem: load(f"trainers/{p.stem}") for p in sorted((DATA_DIR / "trainers").glob("*.yaml"))}


@functools.lru_cache(maxsize=None)
def _registry_index():
    index = {}
    for key, entry in load("datasets").items():
        if isinstance(entry, dict):
            for name in [key, *(entry.get("aliases") or []), entry.get("hub_id")]:
                if name:
                    index.setdefault(str(name).strip().lower(), key)
    return index


def registry_entry(name):
    """(registry key, entry) for a dataset name, alias or hub id, case-insensitive; (None, None)
    if the registry (datasets.yaml) does not know it."""
    key = _registry_index().get(str(name or "").strip().lower())
    return (key, load("datasets")[key]) if key else (None, None)


def model_family(name):
    """The entry of model_families.yaml whose patterns match a model name, or None."""
    low = str(name or "").lower()
    if not low:
        return None
    return next((f for f in load("model_families").get("families", []) if any(m in low for m in f["match"])), None)
