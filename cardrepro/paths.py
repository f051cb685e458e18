"""The one dotted-path helper: `datasets[3].options.val_split` into a spec (or any nested
dict/list), and the card line a spec path came from."""
from __future__ import annotations

import re

from cardrepro import memo

_PATH_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@memo.memo(maxsize=8192)
def _keys(path):
    """The keys (str) and list indexes (int) of a dotted path; a spec's paths recur in every card."""
    return tuple(int(idx) if idx else key for key, idx in _PATH_RE.findall(path))


def get(obj, path, default=None):
    """get(spec, "datasets[3].options.val_split"); `default` for a missing or None value."""
    cur = obj
    for key in _keys(path):
        if type(key) is int:
            if not isinstance(cur, list) or key >= len(cur):
                return default
        elif not isinstance(cur, dict) or key not in cur:
            return default
        cur = cur[key]
    return default if cur is None else cur


def line(spec, path):
    """The card line the spec's provenance gives for `path`, or None."""
    rec = ((spec or {}).get("provenance") or {}).get(path)
    ln = rec.get("line") if isinstance(rec, dict) else None
    return ln if isinstance(ln, int) else None


def flatten(value, prefix="", out=None) -> dict:
    """Leaf values by dotted path (list items as [i]); empty containers are leaves."""
    out = {} if out is None else out
    if isinstance(value, dict) and value:
        for k in value:
            flatten(value[k], f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = value
    return out
