"""`cardrepro diff OLD.md NEW.md`: what changed in the spec, with card lines, and which generated
files would change."""
from __future__ import annotations

import json
from pathlib import Path

from cardrepro.project.project import LOCK_NAME, normalize_spec, render_project, run_audit
from cardrepro.paths import flatten

IGNORED_TOP = ("provenance", "card", "name")


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


def _keyed(items, path):
    """Lists matched by identity rather than position: dicts by `name`, or dataset names."""
    if items and all(isinstance(x, dict) and isinstance(x.get("name"), str) for x in items):
        keys = [x["name"] for x in items]
    elif items and path.endswith("datasets") and all(isinstance(x, str) for x in items):
        keys = list(items)
    else:
        return None
    return keys if len(set(keys)) == len(keys) else None


def _walk(a, b, pa, pb, out):
    """Changed paths as (old path, new path, old, new); a subtree present on one side only is
    reported once, whole. Named list items (datasets) are matched by name, so an insertion shows
    as one added entry, not as every later entry changing."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            _walk(a.get(k, _ABSENT), b.get(k, _ABSENT), f"{pa}.{k}" if pa else str(k), f"{pb}.{k}" if pb else str(k), out)
    elif isinstance(a, list) and isinstance(b, list):
        ka, kb = _keyed(a, pa), _keyed(b, pb)
        if ka is not None and kb is not None and type(a[0]) is type(b[0]):
            for key in kb + [k for k in ka if k not in kb]:
                ia = ka.index(key) if key in ka else None
                ib = kb.index(key) if key in kb else None
                _walk(a[ia] if ia is not None else _ABSENT, b[ib] if ib is not None else _ABSENT,
                      f"{pa}[{ia if ia is not None else ib}]", f"{pb}[{ib if ib is not None else ia}]", out)
            return
        for i in range(max(len(a), len(b))):
            _walk(a[i] if i < len(a) else _ABSENT, b[i] if i < len(b) else _ABSENT, f"{pa}[{i}]", f"{pb}[{i}]", out)
    elif a is _ABSENT or b is _ABSENT or a != b or type(a) is not type(b):
        out.append((pa, pb, a, b))


def diff_specs(old: dict, new: dict) -> list[dict]:
    a = {k: v for k, v in old.items() if k not in IGNORED_TOP}
    b = {k: v for k, v in new.items() if k not in IGNORED_TOP}
    prov_a, prov_b = old.get("provenance") or {}, new.get("provenance") or {}
    found = []
    _walk(a, b, "", "", found)
    changes = []
    for path_a, path_b, va, vb in sorted(found, key=lambda t: t[1]):
        changes.append({"path": path_b if vb is not _ABSENT else path_a,
                        "old": None if va is _ABSENT else va, "new": None if vb is _ABSENT else vb,
                        "in_old": va is not _ABSENT, "in_new": vb is not _ABSENT,
                        "old_line": _line(prov_a, path_a) if va is not _ABSENT else None,
                        "new_line": _line(prov_b, path_b) if vb is not _ABSENT else None})
    return changes


def changed_files(old: dict, new: dict, old_findings=None, new_findings=None) -> list[str]:
    fa = render_project(old, old_findings)
    fb = render_project(new, new_findings)
    fa.pop(LOCK_NAME, None)
    fb.pop(LOCK_NAME, None)
    return sorted(p for p in set(fa) | set(fb) if fa.get(p) != fb.get(p))


# what each derived number is, for the text output
DERIVED = {"global_batch": "global batch (per-device batch x accumulation x GPUs)",
           "world_size": "GPUs the launchers are written for",
           "steps_per_epoch": "optimizer steps per epoch"}


def planned_numbers(spec: dict) -> dict:
    """The numbers the audit derives from a spec (derive.py) and the GPU count the build plans for
    (assume.world_size: stated, implied by the card's batch numbers, or the default)."""
    from cardrepro import assume
    from cardrepro.audit import derived_numbers
    derived = derived_numbers(spec)
    return {"global_batch": derived.global_batch, "world_size": assume.world_size(spec)[0],
            "steps_per_epoch": derived.steps_per_epoch}


def derived_changes(old: dict, new: dict) -> list[dict]:
    """Derived numbers that differ: a change of one stated value can move them silently (a larger
    per-device batch under a stated global batch halves the implied GPU count)."""
    a, b = planned_numbers(old), planned_numbers(new)
    return [{"name": key, "old": a[key], "new": b[key]} for key in DERIVED if a[key] != b[key]]


def diff_cards(old_path, new_path) -> dict:
    """The whole comparison as one JSON-ready document; `differ` is what sets the exit status."""
    from cardrepro.spec import parse_card
    parsed = [parse_card(Path(old_path)), parse_card(Path(new_path))]
    findings = [run_audit(spec) for spec in parsed]   # before normalize_spec drops the card's folder
    old, new = (normalize_spec(spec) for spec in parsed)
    changes = diff_specs(old, new)
    files = changed_files(old, new, *findings)
    differ = bool(changes or files)
    return {"old": str(old_path), "new": str(new_path), "differ": differ, "changes": changes,
            "derived": derived_changes(old, new), "files": files + [LOCK_NAME] if differ else []}


def _where(c: dict) -> str:
    if c["old_line"] is None and c["new_line"] is None:
        return ""
    if c["old_line"] == c["new_line"]:
        return f"  (card line {c['old_line']})"
    return f"  (card line {c['old_line'] if c['old_line'] is not None else '-'} -> " \
           f"{c['new_line'] if c['new_line'] is not None else '-'})"


def text_lines(doc: dict) -> list[str]:
    lines = [f"--- {doc['old']}", f"+++ {doc['new']}"]
    if not doc["changes"]:
        lines.append("no spec-level changes")
    for c in doc["changes"]:
        old_s = _show(c["old"]) if c["in_old"] else "(absent)"
        new_s = _show(c["new"]) if c["in_new"] else "(absent)"
        lines.append(f"{c['path']}: {old_s} -> {new_s}{_where(c)}")
    for d in doc["derived"]:
        lines.append(f"derived {d['name']}: {_show(d['old'])} -> {_show(d['new'])}  ({DERIVED[d['name']]})")
    files = [f for f in doc["files"] if f != LOCK_NAME]
    lines.append("generated files that would change: " + (", ".join(files) if files else "none")
                 + (f" (and {LOCK_NAME})" if doc["differ"] else ""))
    return lines
