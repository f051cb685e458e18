"""`cardrepro audit`: what a card leaves out, what cannot be had, what contradicts itself, and
what it will cost, as findings with stable codes.

Public API (used by `cardrepro build`):
    from cardrepro.audit import audit_spec, audit_report, render_markdown
    findings = audit_spec(spec)              # list of plain dicts (see findings.py)
    report = audit_report(spec)              # {card, name, findings, counts, score, verdict}
    md = render_markdown(report)             # Markdown for a README or a PR
"""
from __future__ import annotations

from pathlib import Path

from cardrepro.audit import availability, conflicts, cost, derived, hygiene, missing, values
from cardrepro.audit.context import Context
from cardrepro.audit.findings import counts, score, sort_findings, verdict

FAMILIES = (availability, conflicts, derived, missing, values, cost, hygiene)   # derived before missing: CR210 cites CR404

__all__ = ["audit_spec", "audit_report", "render_markdown", "render_text", "render_json"]


def _card_text(spec, card_text):
    if card_text is not None:
        return card_text
    path = ((spec or {}).get("card") or {}).get("path")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _run(spec, card_text=None):
    ctx = Context(spec, _card_text(spec, card_text))
    found = []
    for fam in FAMILIES:
        found.extend(fam.check(ctx))
    return ctx, sort_findings(hygiene.scrub_obj(found))


def audit_spec(spec, card_text=None):
    """Findings for one spec (a dict from `cardrepro.spec.parse_card`), most severe first."""
    return _run(spec, card_text)[1]


def audit_report(spec, card_text=None):
    """One card's report: findings, counts, score (formula in findings.py) and a verdict."""
    ctx, found = _run(spec, card_text)
    f = ctx.facts
    facts_ratio = (f["stated"] + 0.5 * f["defaulted"]) / f["required"] if f["required"] else 1.0
    data_ratio = (sum(ctx.data_scores) / len(ctx.data_scores)) if ctx.data_scores else 0.0
    card = (spec or {}).get("card") or {}
    return {
        "card": hygiene.scrub(str(card.get("path") or "")) or None,
        "name": (spec or {}).get("name") or "card",
        "sha256": card.get("sha256"),
        "findings": found,
        "counts": counts(found),
        "score": score(found, facts_ratio, data_ratio),
        "verdict": verdict(found),
    }


def render_markdown(report_or_findings, spec=None, heading_level=2):
    from cardrepro.audit.render import markdown_report

    if isinstance(report_or_findings, list):
        report = {"name": (spec or {}).get("name") or "card", "card": None,
                  "findings": report_or_findings, "counts": counts(report_or_findings),
                  "score": None, "verdict": verdict(report_or_findings)}
    else:
        report = report_or_findings
    return markdown_report(report, heading_level=heading_level)


def render_text(reports):
    from cardrepro.audit.render import text

    return text(reports)


def render_json(reports):
    from cardrepro.audit.render import to_json

    return to_json(reports)
