"""Every spec is checked against schemas/spec.schema.json before it leaves the parser."""
import functools
import json
from pathlib import Path

from cardrepro.errors import CardError

SCHEMA_DIR = Path(__file__).parent / "schemas"  # the repo's schemas/ (a link in a checkout, files in a wheel)


@functools.lru_cache(maxsize=None)
def schema(name="spec"):
    path = SCHEMA_DIR / f"{name}.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def validator(name="spec"):
    import jsonschema
    return jsonschema.Draft202012Validator(schema(name))


def errors(doc, name="spec"):
    return sorted(validator(name).iter_errors(doc), key=lambda e: list(e.path))


def _dotted(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def check(spec, path):
    """Raise CardError at the card line of the first value that does not fit the schema."""
    if validator("spec").is_valid(spec):
        return
    e = errors(spec)[0]
    parts = list(e.path)
    prov = spec.get("provenance", {})
    line = 0
    for n in range(len(parts), 0, -1):
        p = prov.get(_dotted(parts[:n]))
        if p and p.get("line"):
            line = p["line"]
            break
    raise CardError(path, line, f"{_dotted(parts) or 'spec'}: {e.message}")
