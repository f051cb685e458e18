"""`cardrepro report CARD -o report.html`: one card's audit as a self-contained HTML page.

    from cardrepro.report import html_report
    page = html_report(spec)            # spec from cardrepro.spec.parse_card
"""
from __future__ import annotations


def html_report(spec, report=None) -> str:
    """The page for a parsed card; `report` is its audit report (computed when not given)."""
    from cardrepro.audit import audit_report
    from cardrepro.report.page import html

    if report is None:
        report = audit_report(spec)
    return html(spec, report)
