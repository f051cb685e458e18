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


def diff_specs(old: dict, new: dict) -> list[dict]:
    a = flatten({k: v for k, v in old.items() if k not in IGNORED_TOP})
    b = flatten({k: v for k, v in new.items() if k not in IGNORED_TOP})
    pa, pb = old.get("provenance") or {}, new.get("provenance") or {}
    changes = []
    for path in sorted(set(a) | set(b)):
        if path in a and path in b and a[path] == b[path] and type(a[path]) is type(b[path]):
            continue
        changes.append({"path": path, "old": a.get(path), "new": b.get(path), "in_old": path in a,
                        "in_new": path in b, "old_line": _line(pa, path), "new_line": _line(pb, path)})
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
        where_old = f"line {c['old_line']}" if c["old_line"] is not None else "no card line"
        where_new = f"line {c['new_line']}" if c["new_line"] is not None else "no card line"
        old_s = _show(c["old"]) if c["in_old"] else "(absent)"
        new_s = _show(c["new"]) if c["in_new"] else "(absent)"
        lines.append(f"{c['path']}: {old_s} -> {new_s}  (old {where_old}; new {where_new})")
    files = changed_files(old, new, run_audit(old, old_path), run_audit(new, new_path))
    lines.append("generated files that would change: " + (", ".join(files) if files else "none")
                 + (" (and cardrepro.lock.json)" if files or changes else ""))
    return lines
