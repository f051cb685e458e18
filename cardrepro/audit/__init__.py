"""`cardrepro audit`: what a card leaves out, what cannot be had, what contradicts itself, and
what it will cost, as findings with stable codes.

Public API (used by `cardrepro build`):
    from cardrepro.audit import audit_spec, audit_report, render_markdown
    findings = audit_spec(spec)              # list of plain dicts (see findings.py)
    report = audit_report(spec)              # {card, name, findings, counts, score, verdict}
    md = render_markdown(report)             # Markdown for a README or a PR
"""
from __future__ import annotations

from cardrepro.audit import availability, conflicts, cost, derived, hygiene, missing, values
from cardrepro.audit.context import Context
from cardrepro.audit.derive import derive
from cardrepro.audit.findings import counts, score, sort_findings, verdict
from cardrepro.gcpause import paused

FAMILIES = (availability, conflicts, derived, missing, values, cost, hygiene)   # any order: each reads ctx only

__all__ = ["audit_spec", "audit_report", "codes_and_score", "derived_numbers", "render_markdown", "render_text", "render_json"]


def context(spec, brief=False):
    """The rules' view of a spec, with the numbers derived from it (once, frozen). BRIEF: the
    findings are for their codes, severities and families only (a rule may leave out the rest)."""
    ctx = Context(spec, brief=brief)
    ctx.derived = derive(ctx)       # what derive computes through ctx.once, the rules reuse
    return ctx


def derived_numbers(spec):
    """The numbers the audit derives from a spec (derive.Derived: global batch, world size, steps per
    epoch, ...), for `cardrepro diff`."""
    return context(spec).derived


def _unscrubbed(ctx):
    return [f for fam in FAMILIES for f in fam.check(ctx)]


def _findings(ctx):
    return sort_findings(hygiene.scrub_findings(_unscrubbed(ctx)))


def _score(ctx, found):
    return score(found, missing.facts_ratio(ctx), availability.data_ratio(ctx))


@paused
def audit_spec(spec, card_text=None):
    """Findings for one spec (a dict from `cardrepro.spec.parse_card`), most severe first.
    `card_text` is ignored: the audit reads only the spec (kept for older callers)."""
    return _findings(context(spec))


@paused
def audit_report(spec, card_text=None):
    """One card's report: findings, counts, score (formula in findings.py) and a verdict. A
    function of the spec alone (`card_text` is ignored, as in audit_spec)."""
    ctx = context(spec)
    found = _findings(ctx)
    card = (spec or {}).get("card") or {}
    return {
        "card": hygiene.scrub(str(card.get("path") or "")) or None,
        "name": (spec or {}).get("name") or "card",
        "sha256": card.get("sha256"),
        "findings": found,
        "counts": counts(found),
        "score": _score(ctx, found),
        "verdict": verdict(found),
    }


@paused
def codes_and_score(spec):
    """What a corpus row keeps of audit_report(spec): the codes of its findings (sorted, each once)
    and its score. The findings' text is not scrubbed of secrets and paths, nor always written
    (a brief context): no row holds it, and neither changes a code, severity or family."""
    ctx = context(spec, brief=True)
    found = _unscrubbed(ctx)
    return sorted({f["code"] for f in found}), _score(ctx, found)["score"]


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
