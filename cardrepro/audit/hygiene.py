"""CR6xx: secrets and absolute machine paths. Reported by line and kind; never emitted as they
are: every string of every finding passes through `scrub` before it is rendered."""
from __future__ import annotations

from cardrepro.audit.findings import finding
from cardrepro.read import redact as R

scrub = R.redact_text
scrub_obj = R.redact_value


def check(ctx):
    hy = ctx.get("hygiene") or {}
    secrets = list(hy.get("secrets") or [])      # the reader records what it redacted
    paths = list(hy.get("absolute_paths") or [])
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
