"""What every rule reads: the spec (tolerant of absent keys), its provenance, the card's lines,
and the data files (dataset registry, model configs, audit rules)."""
from __future__ import annotations

import fnmatch
import re

from cardrepro import data

_PATH_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def load_yaml(name):
    """A data file of cardrepro/data/ by file name (`audit_rules.yaml`)."""
    return data.load(name.rsplit(".", 1)[0])


def rules():
    return load_yaml("audit_rules.yaml")


def registry():
    return load_yaml("datasets.yaml")


def model_configs():
    return load_yaml("model_configs.yaml")


def get(obj, path, default=None):
    """get(spec, "datasets[3].options.val_split")"""
    cur = obj
    for key, idx in _PATH_RE.findall(path):
        if idx:
            if not isinstance(cur, list) or int(idx) >= len(cur):
                return default
            cur = cur[int(idx)]
        else:
            if not isinstance(cur, dict) or key not in cur:
                return default
            cur = cur[key]
    return default if cur is None else cur


def _norm(name):
    return str(name).strip().lower()


def registry_key(name):
    """The registry key for a dataset name, alias or hub id, or for the last part of a hub id
    (`org/alpaca` -> alpaca); None if unknown."""
    if not name:
        return None
    return data.registry_entry(name)[0] or data.registry_entry(str(name).rsplit("/", 1)[-1])[0]


def registry_entry(name):
    key = registry_key(name)
    return (key, (registry() or {}).get(key)) if key else (None, None)


model_config = data.model_config


def lora_targets(model_type):
    """PEFT's default LoRA targets for an architecture (data/build_defaults.yaml lora)."""
    tm = (load_yaml("build_defaults.yaml").get("lora") or {}).get("target_modules") or {}
    return (tm.get("by_architecture") or {}).get(model_type)


def model_family(name):
    """Candidates when the name is a family without a size ("BLOOMZ")."""
    if not name:
        return None
    fams = {_norm(k): v for k, v in (model_configs().get("families") or {}).items()}
    n = _norm(name)
    return fams.get(n) or fams.get(n.rsplit("/", 1)[-1])


def matches(name, patterns):
    return any(fnmatch.fnmatch(_norm(name), _norm(p)) for p in patterns or [])


class Context:
    def __init__(self, spec, card_text=None):
        self.spec = spec if isinstance(spec, dict) else {}
        self.prov = self.spec.get("provenance") or {}
        self.card_lines = (card_text.splitlines() if card_text is not None else None)
        self.derived = {}          # values derived by one family and used by another
        self.facts = {"required": 0, "stated": 0, "defaulted": 0}
        self.data_scores = []

    # --- values and provenance
    def get(self, path, default=None):
        return get(self.spec, path, default)

    def origin(self, path):
        p = self.prov.get(path)
        return (p or {}).get("origin") if isinstance(p, dict) else None

    def line(self, path):
        p = self.prov.get(path)
        ln = p.get("line") if isinstance(p, dict) else None
        return ln if isinstance(ln, int) else None

    def lines(self, *paths):
        out = []
        for path in paths:
            ln = self.line(path)
            if ln:
                out.append(ln)
        return out

    def is_default(self, path):
        o = self.origin(path) or ""
        return o.startswith("default")

    def default_profile(self, path):
        o = self.origin(path) or ""
        return o.split(":", 1)[1] if o.startswith("default:") else None

    def stated(self, path):
        """The card (or its command, or a derivation from card values) states the value."""
        return self.get(path) is not None and not self.is_default(path)

    @property
    def name(self):
        return self.spec.get("name") or "card"

    @property
    def trainer(self):
        return self.get("trainer.name")

    def datasets(self):
        ds = self.get("datasets") or []
        out = []
        for i, d in enumerate(ds):
            if isinstance(d, str):
                d = {"name": d}
            if isinstance(d, dict) and d.get("name"):
                out.append((i, d))
        return out

    def stage_datasets(self):
        """Datasets named per stage (ziya): [(stage index, dataset index, dict)]."""
        out = []
        for si, st in enumerate(self.get("stages") or []):
            if not isinstance(st, dict):
                continue
            for di, d in enumerate(st.get("datasets") or []):
                if isinstance(d, str):
                    d = {"name": d}
                if isinstance(d, dict) and d.get("name"):
                    out.append((si, di, d))
        return out

    def base_model(self):
        return self.get("base_model.name")

    def method(self):
        return (self.get("method") or "").lower() or None

    def find_lines(self, text, near=None):
        """Card lines that contain `text` (the first at or after line `near` when given)."""
        if not self.card_lines or not text:
            return []
        hits = [i for i, t in enumerate(self.card_lines, 1) if str(text) in t]
        if near:
            after = [i for i in hits if i >= near]
            hits = after[:1] or hits[:1]
        return hits[:1]

    def card_line(self, n):
        if self.card_lines and 0 < n <= len(self.card_lines):
            return self.card_lines[n - 1]
        return None
