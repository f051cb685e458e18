"""CR6xx: secrets and absolute machine paths. Reported by line and kind; never emitted as they
are: every string of every finding passes through `scrub` before it is rendered."""
from __future__ import annotations

from cardrepro.audit.findings import finding
from cardrepro.read import redact as R

scrub = R.redact_text
scrub_obj = R.redact_value


def scan_lines(lines):
    """{"secrets": [{line, kind}], "absolute_paths": [{line, path}]} for raw card lines."""
    found = {"secrets": [], "absolute_paths": []}
    for no, text in enumerate(lines or [], 1):
        found["secrets"] += [{"line": no, "kind": kind} for kind in R.secret_kinds(text)]
        found["absolute_paths"] += [{"line": no, "path": path} for path in R.absolute_paths(text)]
    return found


def check(ctx):
    hy = ctx.get("hygiene") or {}
    secrets = list(hy.get("secrets") or [])
    paths = list(hy.get("absolute_paths") or [])
    # the reader records what it redacted in the spec; the card is scanned here only when the
    # spec records nothing (a clean card, or a spec made elsewhere)
    if ctx.card_lines is not None and not hy:
        own = scan_lines(ctx.card_lines)
        secrets, paths = own["secrets"], own["absolute_paths"]
    out = []
    by_line = {}
    for s in secrets:
        by_line.setdefault(s.get("line"), []).append(s.get("kind") or "secret")
    for line, kinds in by_line.items():
        kinds = list(dict.fromkeys(kinds))
        out.append(finding(
            "CR601", "error",
            f"a credential ({', '.join(kinds)}) is published in the card; it is redacted in every output",
            lines=[line],
            action="revoke and rotate it now, then remove it from the card and its history",
            basis=["card"], paths=["hygiene.secrets"], data={"kinds": kinds}))
    for p in paths:
        shown = scrub(str(p.get("path") or ""))
        out.append(finding(
            "CR602", "warning",
            f"absolute machine path {shown} in the card (shown redacted); it exists only on the "
            f"authors' machine",
            lines=[p.get("line")],
            action="the build replaces it with a path relative to the project (e.g. .cache)",
            basis=["card"], paths=["hygiene.absolute_paths"]))
    return out
