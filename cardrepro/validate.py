"""Every spec is checked against schemas/spec.schema.json before it leaves the parser."""
import functools
import json
from pathlib import Path

from cardrepro.errors import CardError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


@functools.lru_cache(maxsize=None)
def schema(name="spec"):
    path = SCHEMA_DIR / f"{name}.schema.json"
    if not path.exists():
        path = Path(__file__).parent / "schemas" / f"{name}.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def validator(name="spec"):
    import jsonschema
    return jsonschema.Draft202012Validator(schema(name))


def errors(doc, name="spec"):
    return sorted(validator(name).iter_errors(doc), key=lambda e: list(e.path))


def check(spec, path):
    errs = errors(spec)
    if errs:
        e = errs[0]
        where = "/".join(map(str, e.path))
        raise CardError(path, 0, f"internal: spec does not validate at /{where}: {e.message}")
