"""`cardrepro diff OLD.md NEW.md`: what changed in the spec, with card lines, and which generated
files would change."""
from __future__ import annotations

import json
from pathlib import Path

from cardrepro.build.project import normalize_spec, render_project, run_audit

IGNORED_TOP = ("provenance", "card", "name")


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


def _line(prov: dict, path: str):
    """The card line of `path` or of its nearest ancestor with provenance."""
    p = path
    while p:
        rec = prov.get(p)
        if isinstance(rec, dict) and rec.get("line") is not None:
            return rec["line"]
        cut = max(p.rfind("."), p.rfind("["))
        p = p[:cut] if cut > 0 else ""
    return None


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


_ABSENT = object()


def _walk(a, b, path, out):
    """Changed paths; a subtree present on one side only is reported once, whole."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            _walk(a.get(k, _ABSENT), b.get(k, _ABSENT), f"{path}.{k}" if path else str(k), out)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            _walk(a[i] if i < len(a) else _ABSENT, b[i] if i < len(b) else _ABSENT, f"{path}[{i}]", out)
    elif a is _ABSENT or b is _ABSENT or a != b or type(a) is not type(b):
        out.append((path, a, b))


def diff_specs(old: dict, new: dict) -> list[dict]:
    a = {k: v for k, v in old.items() if k not in IGNORED_TOP}
    b = {k: v for k, v in new.items() if k not in IGNORED_TOP}
    pa, pb = old.get("provenance") or {}, new.get("provenance") or {}
    found = []
    _walk(a, b, "", found)
    changes = []
    for path, va, vb in sorted(found, key=lambda t: t[0]):
        changes.append({"path": path, "old": None if va is _ABSENT else va, "new": None if vb is _ABSENT else vb,
                        "in_old": va is not _ABSENT, "in_new": vb is not _ABSENT,
                        "old_line": _line(pa, path), "new_line": _line(pb, path)})
    return changes


def changed_files(old: dict, new: dict, old_findings=None, new_findings=None) -> list[str]:
    fa = render_project(old, old_findings)
    fb = render_project(new, new_findings)
    fa.pop("cardrepro.lock.json", None)
    fb.pop("cardrepro.lock.json", None)
    return sorted(p for p in set(fa) | set(fb) if fa.get(p) != fb.get(p))


def diff_cards(old_path, new_path) -> list[str]:
    from cardrepro.spec import parse_card
    old, new = normalize_spec(parse_card(Path(old_path))), normalize_spec(parse_card(Path(new_path)))
    lines = [f"--- {old_path}", f"+++ {new_path}"]
    changes = diff_specs(old, new)
    if not changes:
        lines.append("no spec-level changes")
    for c in changes:
        old_s = _show(c["old"]) if c["in_old"] else "(absent)"
        new_s = _show(c["new"]) if c["in_new"] else "(absent)"
        if c["old_line"] is None and c["new_line"] is None:
            where = ""
        elif c["old_line"] == c["new_line"]:
            where = f"  (card line {c['old_line']})"
        else:
            where = f"  (card line {c['old_line'] if c['old_line'] is not None else '-'} -> " \
                    f"{c['new_line'] if c['new_line'] is not None else '-'})"
        lines.append(f"{c['path']}: {old_s} -> {new_s}{where}")
    files = changed_files(old, new, run_audit(old, old_path), run_audit(new, new_path))
    lines.append("generated files that would change: " + (", ".join(files) if files else "none")
                 + (" (and cardrepro.lock.json)" if files or changes else ""))
    return lines
