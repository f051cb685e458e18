"""cardrepro: a Hugging Face model card compiled into a spec with provenance, an audit, and a project.

Public API (imported on first use, so `import cardrepro` and the CLI's start stay light):
    from cardrepro import parse_card, audit_spec
    spec = parse_card("cards/stablelm-7b-sft.md")   # dict; CardError (exit 2 in the CLI) for bad input
    spec = parse_card("org_model.md", raw_bytes)    # bytes read already: the name is not opened
    findings = audit_spec(spec)                     # list of finding dicts, most severe first
"""
import importlib

__version__ = "0.1.0"

_API = {
    "parse_card": "cardrepro.spec",
    "audit_spec": "cardrepro.audit",
    "audit_report": "cardrepro.audit",
    "CardError": "cardrepro.errors",
}
__all__ = ["__version__", *_API]


def __getattr__(name):
    if name not in _API:
        raise AttributeError(f"module 'cardrepro' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_API})
