"""Data files shipped with cardrepro (registries, profiles, label maps), loaded once."""
import functools
import hashlib
import marshal
import os
import sys
import tempfile
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).parent
# Parsed data files, marshalled, like Python's own .pyc files (and tagged like them): building them from YAML is most
# of a cold `cardrepro audit`. Named by a hash of the YAML bytes, so an edited file is never
# served stale; a folder that cannot be written (a read-only install) only means no cache.
CACHE_DIR = DATA_DIR / "__pycache__"


@functools.lru_cache(maxsize=None)
def load(name):
    """`load("model_families")`, `load("trainers/oa-trainer-sft")`: the parsed YAML file."""
    path = DATA_DIR / f"{name}.yaml"
    if not path.exists():
        return {}
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()[:20]
    cached = CACHE_DIR / f"{name.replace('/', '--')}.{sys.implementation.cache_tag}.{digest}.marshal"
    try:
        return marshal.loads(cached.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        pass
    value = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    _store(cached, value)
    return value


def _store(path, value):
    try:
        blob = marshal.dumps(value)  # ValueError for what marshal cannot hold (e.g. dates): no cache
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
        for old in path.parent.glob(path.name.rsplit(".", 2)[0] + ".*.marshal"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, ValueError):
        pass


@functools.lru_cache(maxsize=None)
def trainer_profiles():
    """Every trainer profile by name, each with its base's knowledge folded in (trainer_profile)."""
    return {p.stem: trainer_profile(p.stem) for p in sorted((DATA_DIR / "trainers").glob("*.yaml"))}


INHERIT = "inherit"  # a trainer profile's default stated at its base profile's value


@functools.lru_cache(maxsize=None)
def trainer_profile(name):
    """A profile of data/trainers/ as its trainer runs: a diff on its `base` (hf-trainer.yaml holds
    TrainingArguments' defaults) takes the base's precedence unless it states one, and a default
    it marks `inherit` takes the base's value."""
    own = load(f"trainers/{name}")
    if not own.get("base"):
        return own
    base = trainer_profile(own["base"])
    defaults = {k: base["defaults"][k] if v == INHERIT else v for k, v in (own.get("defaults") or {}).items()}
    return {**own, "precedence": own.get("precedence") or base.get("precedence"), "defaults": defaults}


@functools.lru_cache(maxsize=None)
def trainer_keys():
    """(per-dataset option names, scalar config keys) the trainer profiles know: words that help
    the reader shape a de-indented config block, whichever trainer wrote it."""
    options, scalars = set(), set()
    for p in trainer_profiles().values():
        options.update(p.get("dataset_options", []))
        scalars.update(k for k, v in (p.get("defaults") or {}).items() if not isinstance(v, (dict, list)))
    return frozenset(options), frozenset(scalars)


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


@functools.lru_cache(maxsize=None)
def _model_index():
    """(models, aliases by lower-case name, model key by lower-case name) of model_configs.yaml."""
    configs = load("model_configs")
    models = configs.get("models") or {}
    aliases = {str(k).strip().lower(): v for k, v in (configs.get("aliases") or {}).items()}
    return models, aliases, {str(k).strip().lower(): k for k in models}


def model_config(name):
    """(canonical name, config) from model_configs.yaml for a base model name, alias or hub id
    (`huggyllama/llama-13b` finds `llama-13b` by its last part); (None, None) if unknown."""
    if not name:
        return None, None
    models, aliases, lower = _model_index()
    n = str(name).strip().lower()
    for cand in (n, n.rsplit("/", 1)[-1]):
        if cand in lower:
            return lower[cand], models[lower[cand]]
        if cand in aliases and aliases[cand] in models:
            return aliases[cand], models[aliases[cand]]
    return None, None
