"""CR6xx: secrets, absolute machine paths and lists cut at the parser's limits. Reported by line
and kind; never emitted as they are: every string of every finding passes through `scrub` before
it is rendered."""
from __future__ import annotations

from cardrepro.audit.findings import finding
from cardrepro.read import redact as R

scrub = R.redact_text
scrub_obj = R.redact_value

# Strings seen to hold no secret and no machine path. Being clean is a property of the string
# alone, and most of a card's findings repeat other cards' words (a corpus audit meets ~10 % new
# text after its first cards), so only the new strings are searched.
_CLEAN = set()
_CLEAN_MAX = 200_000


def scrub_findings(findings):
    """`scrub_obj(findings)`, without its copy when no string of them holds a secret or a machine
    path (nearly every card): then the findings are returned as they are."""
    fresh = [s for s in dict.fromkeys(R._strings_in(findings)) if s not in _CLEAN]
    if fresh and R._texts_with_matches(fresh)[1]:
        return scrub_obj(findings)
    if len(_CLEAN) + len(fresh) > _CLEAN_MAX:
        _CLEAN.clear()
    _CLEAN.update(fresh)
    return findings


def check(ctx):
    hy = ctx.get("hygiene") or {}
    secrets = list(hy.get("secrets") or [])      # the reader records what it redacted
    paths = list(hy.get("absolute_paths") or [])
    out = []
    for s in secrets:  # one finding per secret: its kind and line, never its value
        kind = s.get("kind") or "secret"
        out.append(ctx.finding(
            "CR601", "error",
            f"a credential ({kind}) is published in the card; it is redacted in every output",
            lines=[s.get("line")],
            action="revoke and rotate it now, then remove it from the card and its history",
            basis=["card"], paths=["hygiene.secrets"], data={"kind": kind}))
    for p in paths:
        shown = scrub(str(p.get("path") or ""))
        out.append(ctx.finding(
            "CR602", "warning",
            f"absolute machine path {shown} in the card (shown redacted); it exists only on the "
            f"authors' machine",
            lines=[p.get("line")],
            action="the build replaces it with a path relative to the project (e.g. .cache)",
            basis=["card"], paths=["hygiene.absolute_paths"]))
    out.extend(_truncated(t) for t in hy.get("truncated") or [])
    return out


def _truncated(cut):
    """CR603: a list longer than the parser reads (a command's words, a dataset list)."""
    kept, left = cut.get("kept"), cut.get("left_out")
    return finding(
        "CR603", "warning",
        f"{cut.get('path')}: the card lists {kept + left} entries, more than the parser reads; "
        f"the first {kept} are kept and {left} left out",
        lines=[cut.get("line")],
        action="check the card: no training run lists this many; the spec, audit and build use the first "
               f"{kept} only",
        basis=["card"], paths=["hygiene.truncated", str(cut.get("path"))], data={"kept": kept, "left_out": left})
