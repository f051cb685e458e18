"""JSON blocks (fenced or not) with duplicate keys reported with their line."""
import json
import re

from cardrepro.read.redact import redact_value
from cardrepro.read.yamlsafe import SURROGATE, MAX_DEPTH, MAX_INT_DIGITS


def load(text):
    """Returns (value, duplicate key names), every string of the value (keys too) redacted as
    decoded. Raises json.JSONDecodeError."""
    dups = []

    def pairs(items):
        out = {}
        for k, v in items:
            if k in out:
                dups.append(k)
            out[k] = v
        return out

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_int=_int)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    check_value(value)
    return redact_value(value), dups


def _int(text):
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits")
    return int(text)


def check_value(value):
    """Raises ValueError for a decoded value that later stages cannot take: nested deeper than
    MAX_DEPTH, or holding a lone surrogate (`"\\ud800"` decodes to no character, so no UTF-8)."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(v, str):
            if SURROGATE.search(v):
                raise ValueError(f"{ascii(SURROGATE.search(v).group(0))[1:-1]} is a lone surrogate, not a character")
        elif isinstance(v, dict):
            stack.extend((x, depth + 1) for kv in v.items() for x in kv)
        elif isinstance(v, (list, tuple)):
            stack.extend((x, depth + 1) for x in v)


_BRACKET_OR_STRING = re.compile(r'[\\"{}\[\]]')


def object_ends(lines):
    """{index of a line that starts with `{`: index of the line that closes that `{`}, for all
    such lines in one pass: brackets outside strings are matched with a stack. A JSON string
    never spans lines, so each line starts outside one (which makes every start's scan a part
    of this single one instead of a scan of its own to the end of the card)."""
    ends, stack = {}, []  # stack: the line index of each open bracket, or None when its line doesn't start with it
    for i, line in enumerate(lines):
        if "{" not in line and "}" not in line and "[" not in line and "]" not in line:
            continue
        opens_line = line.lstrip().startswith("{")
        in_str, escaped = False, -1  # escaped: the position of a character a backslash escapes
        for m in _BRACKET_OR_STRING.finditer(line):  # the characters that matter, not every one
            ch, at = m.group(), m.start()
            if in_str:
                if at == escaped:
                    continue
                if ch == "\\":
                    escaped = at + 1
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch in "{[":
                stack.append(i if opens_line else None)
                opens_line = False
            elif ch in "}]" and stack:
                start = stack.pop()
                if start is not None:
                    ends[start] = i
    return ends
