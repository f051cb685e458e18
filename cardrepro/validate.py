"""Every spec is checked against schemas/spec.schema.json before it leaves the parser. A value no
run can use (NaN, an infinity, one the schema or data/audit_rules.yaml `value_rules` refuses, one
of the wrong type) is an error of that value, not of the card: it is dropped from the spec and
recorded, with its card line, under hygiene.invalid_values, which the audit reports (CR230)."""
import functools
import json
import math
import re
import sys
from pathlib import Path

from cardrepro import data, memo
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
    """The schema's errors in `doc`, in path order. A spec goes first through the validator compiled
    from the schema (cardrepro/_spec_validator.py): one that fits costs neither jsonschema's import
    (3-4.5x `python -c pass`) nor its walk; jsonschema names the errors of one that does not."""
    if name == "spec" and fits(doc):
        return []
    walked = _misfitting(doc) if name == "spec" else doc
    found = sorted(validator(name).iter_errors(walked), key=lambda e: list(e.path))
    for e in found:
        if not e.path:
            e.instance = doc    # a required key missing: the error is the spec's, not the walked copy's
    return found


# A stand-in for each key the spec schema requires, that fits it: `_misfitting` puts them where
# the spec's own value fits, so that jsonschema walks only the values that do not.
STAND_INS = {"name": "card", "card": {"path": "card.md", "sha256": "0" * 64}, "provenance": {}}


def _misfitting(spec):
    """The spec with only its top-level values that do not fit the schema (the required ones that
    fit replaced by STAND_INS): the same errors as the spec's, without a walk of what fits (most
    of a spec is its provenance). The schema's root has no rule across its properties, so a
    property's errors are those of its value alone."""
    fits = compiled_fits()
    if not isinstance(spec, dict) or not fits(STAND_INS):
        return spec
    kept = {}
    for key, value in spec.items():
        if key in STAND_INS and fits({**STAND_INS, key: value}):
            kept[key] = STAND_INS[key]
        elif key not in schema("spec")["properties"] or fits({**STAND_INS, key: value}):
            continue            # a key the schema does not name, or one that fits: no error
        else:
            kept[key] = value
    return kept


def fits(doc):
    """compiled_fits()(doc), its walk of the provenance (most of a spec) done by `_provenance_fits`:
    each record of the usual shape is passed at once; any other sends the whole spec to the
    compiled check."""
    prov = doc.get("provenance") if type(doc) is dict else None
    if type(prov) is not dict or not _provenance_fits(prov):
        return compiled_fits()(doc)
    return compiled_fits()({**doc, "provenance": {}})


# a provenance record's keys (schema: origin, line and text required, rule allowed, no other)
RECORD_KEYS = (frozenset({"origin", "line", "text"}), frozenset({"origin", "line", "text", "rule"}))


def _provenance_fits(prov):
    """True when every record is a plain dict of RECORD_KEYS whose values fit the schema; False
    when one is not of that usual shape (it may still fit: the compiled check decides)."""
    for rec in prov.values():
        if type(rec) is not dict or rec.keys() not in RECORD_KEYS:
            return False
        line, text = rec["line"], rec["text"]
        if not ((type(line) is int and line >= 0) or line is None) or not (type(text) is str or text is None):
            return False
        if type(rec["origin"]) is not str or not _origin_fits(rec["origin"]) or type(rec.get("rule", "")) is not str:
            return False
    return True


@memo.memo(maxsize=256)
def _origin_fits(origin):
    """The schema's origin pattern, run as jsonschema runs it (a card's origins are a few strings)."""
    pattern = schema("spec")["properties"]["provenance"]["additionalProperties"]["properties"]["origin"]["pattern"]
    return re.search(pattern, origin) is not None


COMPILED = Path(__file__).with_name("_spec_validator.py")
REGENERATE = "python -m cardrepro.validate --regenerate"


@functools.lru_cache(maxsize=None)
def compiled_fits():
    from cardrepro._spec_validator import fits
    return fits


# fastjsonschema's output, edited to read the schema as jsonschema reads it (the two then accept
# the same specs): (text in the generated code, its replacement, why)
SOURCE_EDITS = (
    ("from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException\n",
     "\n\nclass JsonSchemaValueException(ValueError):\n    pass\n",
     "the module stands alone: fastjsonschema is needed only to regenerate it"),
    ("list, tuple", "list", "jsonschema's array is a list, not a tuple"),
)
# fastjsonschema anchors a pattern's `$` at the very end (\Z); jsonschema runs the pattern as
# written with Python's re.search, where `$` also matches before a final newline
PATTERNS_AS_WRITTEN = ("\n\n# the patterns as written, as jsonschema runs them\n"
                       "REGEX_PATTERNS = {pattern: re.compile(pattern) for pattern in REGEX_PATTERNS}\n")
# jsonschema writes the messages of a refused spec, so the compiled code only raises (a fifth less
# code to compile where no .pyc is kept, as under PYTHONDONTWRITEBYTECODE)
MESSAGE = re.compile(r"(raise JsonSchemaValueException)\(.*\)$", re.M)
FITS = '''

def fits(doc):
    """True when `doc` fits the schema (no message: jsonschema names the errors)."""
    try:
        ROOT(doc)
    except JsonSchemaValueException:
        return False
    return True
'''


def compiled_source(schema_doc=None):
    """The text of cardrepro/_spec_validator.py: fastjsonschema's compile of the spec schema (or of
    `schema_doc`) with SOURCE_EDITS and PATTERNS_AS_WRITTEN, and a `fits(doc)`."""
    import fastjsonschema
    code = fastjsonschema.compile_to_code(schema_doc or schema("spec"), use_default=False,
                                          detailed_exceptions=False)
    for old, new, why in SOURCE_EDITS:
        if old not in code:
            raise RuntimeError(f"fastjsonschema {fastjsonschema.VERSION} wrote no {old!r} to edit ({why})")
        code = code.replace(old, new)
    code = MESSAGE.sub(r"\1", code)
    if "\nREGEX_PATTERNS = {" in code:
        code += PATTERNS_AS_WRITTEN
    root = re.search(r"^def (validate_\w+)\(", code, re.M).group(1)  # the schema's own function comes first
    header = (f'"""The spec schema\'s validator: fastjsonschema {fastjsonschema.VERSION}\'s compile of '
              f'schemas/spec.schema.json, edited\nby cardrepro.validate.compiled_source. Generated: do not edit; '
              f'regenerate with `{REGENERATE}`\n(tests/test_validator.py fails while this file and a fresh '
              f'compile differ)."""\n')
    return header + code + FITS.replace("ROOT", root)


def _dotted(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def card_line(spec, parts):
    """The card line of the value at `parts` (or of its nearest parent with a line), 0 if none."""
    prov = spec.get("provenance", {})
    for n in range(len(parts), 0, -1):
        p = prov.get(_dotted(parts[:n]))
        if p and p.get("line"):
            return p["line"]
    return 0


INT64_MAX = 2 ** 63 - 1
NOT_SCANNED = ("card", "hygiene", "provenance")


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _shown(x):
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    if isinstance(x, float) and math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)


@functools.lru_cache(maxsize=None)
def value_rules():
    out = []
    for rule in data.load("audit_rules").get("value_rules") or []:
        pattern = re.escape(rule["path"]).replace(r"\[\*\]", r"\[\d+\]")
        out.append((re.compile(pattern + "$"), rule))
    return tuple(out)


def _breaks(rule, x):
    return (("above" in rule and not x > rule["above"]) or ("min" in rule and x < rule["min"])
            or ("max" in rule and x > rule["max"]))


def _numbers(value, parts):
    """[(path parts, number)] of the numbers in `value` (at `parts`), in document order."""
    if _is_number(value):
        return [(parts, value)]
    out = []
    if isinstance(value, (dict, list)):
        _numbers_in(value, parts, out)
    return out


_TEXT = frozenset({str, type(None)})


def _numbers_in(container, parts, out):
    # the strings and nulls that most of a spec holds are passed over without a call (a list of
    # 7,000 languages at once); the plain types are told apart by `type` before any isinstance
    is_dict = isinstance(container, dict)
    if set(map(type, container.values() if is_dict else container)) <= _TEXT:
        return
    for k, v in container.items() if is_dict else enumerate(container):
        kind = type(v)
        if kind is str or v is None:
            continue
        if kind is int or kind is float:
            out.append((parts + (k,), v))
        elif kind is dict or kind is list or isinstance(v, (dict, list)):
            _numbers_in(v, parts + (k,), out)
        elif _is_number(v):
            out.append((parts + (k,), v))


def _why_unusable(dotted, x):
    if isinstance(x, float) and not math.isfinite(x):
        return "not a finite number"
    if isinstance(x, int) and abs(x) > INT64_MAX:
        return "beyond what a 64-bit integer holds"
    rules = value_rules()
    for i in _rules_at(dotted):
        if _breaks(rules[i][1], x):
            return rules[i][1]["why"]
    return None


@memo.memo(maxsize=1 << 12)
def _rules_at(dotted):
    """The indexes in value_rules() of the rules whose path matches `dotted` (a spec's number
    paths recur from card to card)."""
    return tuple(i for i, (pattern, _) in enumerate(value_rules()) if pattern.match(dotted))


def bad_values(spec):
    """[(path parts, value, why)] for the numbers in `spec` that no run can use (the spec is not changed)."""
    out = []
    for key, value in spec.items():
        if key in NOT_SCANNED or type(value) is str:
            continue
        for parts, x in _numbers(value, (key,)):
            why = _why_unusable(_dotted(parts), x)
            if why:
                out.append((parts, x, why))
    return out


def _drop(spec, parts, value, why):
    """Remove the value at `parts` (a list item takes its whole list: a list with a hole would say
    something else) and record it under hygiene.invalid_values."""
    target = list(parts)
    while target and not isinstance(target[-1], str):
        target.pop()
    container = spec
    for p in target[:-1]:
        container = container[p] if isinstance(container, (dict, list)) else None
    if not target or not isinstance(container, dict) or target[-1] not in container:
        return
    line = card_line(spec, list(parts))
    del container[target[-1]]
    gone = _dotted(target)
    prov = spec.get("provenance") or {}
    for key in [k for k in prov if k == gone or k.startswith((gone + ".", gone + "["))]:
        del prov[key]
    spec.setdefault("hygiene", {}).setdefault("invalid_values", []).append(
        {"path": _dotted(list(parts)), "value": clip(_shown(value)), "reason": why, "line": line})
    if "provenance" in spec:
        spec["provenance"] = spec.pop("provenance")     # keep provenance last, after hygiene


def drop_unusable_values(spec):
    """Drop the numbers no run can use; returns the schema errors left, in path order. The schema
    is walked once for a spec that fits it (a spec of many provenance entries costs one pass)."""
    for parts, value, why in bad_values(spec):
        _drop(spec, parts, value, why)
    found = errors(spec)
    refused = [e for e in found if _is_number(e.instance) and e.path and e.path[0] not in NOT_SCANNED]
    for e in refused:
        _drop(spec, list(e.path), e.instance, f"the spec schema refuses it: {message(e)}")
    return errors(spec) if refused else found


MAX_DROPS = 1000  # schema errors dropped per spec; each drop removes a value, so the loop ends


def check(spec, path):
    """Drop the numbers no run can use, then every value that does not fit the schema (a value of
    the wrong type: "Constant learning rate of `1e-5`." as a learning rate), each recorded under
    hygiene.invalid_values with its card line, the rest of the card kept. Only a spec the parser
    built wrong at its top is refused (CardError at the first error's line)."""
    left = drop_unusable_values(spec)
    for _ in range(MAX_DROPS):
        droppable = [e for e in left if e.path and e.path[0] not in NOT_SCANNED]
        if not droppable:
            break
        before = len(left)
        e = droppable[0]
        _drop(spec, list(e.path), e.instance, f"the spec schema refuses it: {message(e)}")
        left = errors(spec)
        if len(left) >= before and any(list(x.path) == list(e.path) for x in left):
            break  # nothing could be dropped there
    if left:
        e = left[0]
        parts = list(e.path)
        raise CardError(path, card_line(spec, parts), f"{_dotted(parts) or 'spec'}: {message(e)}")


MAX_QUOTED = 80  # characters of a card value an error message repeats


def clip(text, limit=MAX_QUOTED):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def message(e):
    """The schema error's message, the value it quotes clipped to MAX_QUOTED characters (a
    5,000-digit value is not repeated whole)."""
    quoted = repr(e.instance)
    return e.message.replace(quoted, clip(quoted)) if len(quoted) > MAX_QUOTED else e.message


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(prog="python -m cardrepro.validate")
    ap.add_argument("--regenerate", action="store_true", help=f"rewrite {COMPILED.name} from the spec schema")
    ap.add_argument("--output", type=Path, default=COMPILED, help="where to write it (default: %(default)s)")
    a = ap.parse_args(argv)
    if not a.regenerate:
        ap.error("nothing to do: pass --regenerate")
    a.output.write_text(compiled_source(), encoding="utf-8")
    print(f"wrote {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
