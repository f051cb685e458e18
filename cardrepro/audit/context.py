"""What every rule reads: the spec (tolerant of absent keys), its provenance, the numbers derived
from it once (derive.py), and the data files (dataset registry, model configs, audit rules). Never
the card file: the audit is a function of the spec."""
from __future__ import annotations

import fnmatch

from cardrepro import assume, data
from cardrepro.audit import findings
from cardrepro.estimate.schedule import mix, registry_key
from cardrepro.paths import get


def load_yaml(name):
    """A data file of cardrepro/data/ by file name (`audit_rules.yaml`)."""
    return data.load(name.rsplit(".", 1)[0])


def rules():
    return load_yaml("audit_rules.yaml")


def registry():
    return load_yaml("datasets.yaml")


def _norm(name):
    return str(name).strip().lower()


def registry_entry(name):
    key = registry_key(name)
    return (key, (registry() or {}).get(key)) if key else (None, None)


model_config = data.model_config


def trainer_doc(trainer, topic):
    """Where a trainer profile (data/trainers/ `docs`), else the profile it is a diff on, documents
    `topic`; the base trainer's when the card names no known trainer; None when none does."""
    name = trainer if trainer in data.trainer_profiles() else assume.base_trainer(None)
    while name:
        raw = data.load(f"trainers/{name}")
        if (raw.get("docs") or {}).get(topic):
            return raw["docs"][topic]
        name = raw.get("base")
    return None


def matches(name, patterns):
    return any(fnmatch.fnmatch(_norm(name), _norm(p)) for p in patterns or [])


class Context:
    def __init__(self, spec, derived=None, brief=False):
        self.spec = spec if isinstance(spec, dict) else {}
        self.prov = self.spec.get("provenance") or {}
        self.derived = derived          # derive.Derived (frozen), read by the rules
        self.brief = brief              # findings need only their code, severity and family
        self._once = {}
        self._mix = None

    def once(self, fn):
        """fn(self), computed the first time it is asked for: for a result that both a rule and the
        score read (a pure function of the spec, so who asks first changes nothing)."""
        if fn not in self._once:
            self._once[fn] = fn(self)
        return self._once[fn]

    def finding(self, code, severity, message, **parts):
        """findings.finding(code, severity, message, **parts); in a brief context only what a
        corpus row reads (findings.brief): the text is neither made visible nor kept."""
        if self.brief:
            return findings.brief(code, severity)
        return findings.finding(code, severity, message, **parts)

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
        """[(index, dataset dict)] of the mix (estimate.schedule.mix), worked out once per spec."""
        if self._mix is None:
            self._mix = mix(self.spec)
        return list(self._mix)

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
