"""CR6xx: secrets and absolute machine paths. Reported by line and kind; never emitted as they
are: every string of every finding passes through `scrub` before it is rendered."""
from __future__ import annotations

from cardrepro.audit.findings import finding
from cardrepro.read import redact as R
from cardrepro.read.source import Line

scrub = R.redact_text
scrub_obj = R.redact_value


def scan_lines(lines):
    """{"secrets": [{line, kind}], "absolute_paths": [{line, path}]} for raw card lines: what the
    reader's redaction finds in them (escaped secrets included), one record per secret."""
    return R.redact_lines([Line(no, text) for no, text in enumerate(lines or [], 1)])[1]


def check(ctx):
    hy = ctx.get("hygiene") or {}
    secrets = list(hy.get("secrets") or [])
    paths = list(hy.get("absolute_paths") or [])
    # the reader records what it redacted in the spec; the card is scanned here only when the
    # spec records nothing (a clean card, or a spec made elsewhere)
    if ctx.card_lines is not None and not (hy.get("secrets") or hy.get("absolute_paths")):
        own = scan_lines(ctx.card_lines)
        secrets, paths = own["secrets"], own["absolute_paths"]
    out = []
    for s in secrets:  # one finding per secret: its kind and line, never its value
        kind = s.get("kind") or "secret"
        out.append(finding(
            "CR601", "error",
            f"a credential ({kind}) is published in the card; it is redacted in every output",
            lines=[s.get("line")],
            action="revoke and rotate it now, then remove it from the card and its history",
            basis=["card"], paths=["hygiene.secrets"], data={"kind": kind}))
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
