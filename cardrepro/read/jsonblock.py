"""JSON blocks (fenced or not) with duplicate keys reported with their line."""
import json

from cardrepro.read.redact import redact_value


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

    return redact_value(json.loads(text, object_pairs_hook=pairs)), dups


def find_object_end(lines, start):
    """Index of the line that closes the `{` opened on lines[start], counting braces outside strings."""
    depth, in_str, esc = 0, False, False
    for i in range(start, len(lines)):
        for ch in lines[i]:
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch in "{[":
                depth += 1
            elif ch in "}]":
                depth -= 1
                if depth == 0:
                    return i
    return None
