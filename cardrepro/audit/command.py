"""`cardrepro audit CARD... [--format text|json|markdown|html] [--fail-on error|warning|never] [-o FILE]`

Exit 0 when no finding reaches --fail-on (default error), 1 when one does, 2 when a card is bad
input: its `FILE:LINE: msg` goes to stderr and the other cards are still audited."""
from __future__ import annotations

import sys

import click

from cardrepro.errors import CardError


def _parse(path):
    try:
        from cardrepro.spec import parse_card
    except ImportError as err:  # the parser stage is not installed
        raise CardError(path, None, f"cannot parse cards: {err}") from None
    return parse_card(path)


@click.command("audit")
@click.argument("cards", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "html"]), default="text",
              show_default=True, help="Report format (html: one card's page, as `cardrepro report`).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the report to this file instead of stdout.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default="error",
              show_default=True, help="Exit 1 when a finding of this severity or worse is found.")
def audit(cards, fmt, fail_on, output):
    """Audit model cards for reproducibility: missing facts, unavailable data, conflicts,
    derived facts and cost. Several cards give one report each and a summary table."""
    from cardrepro.audit import audit_report
    from cardrepro.audit import render
    from cardrepro.audit.findings import reaches

    if fmt == "html" and len(cards) != 1:
        raise click.UsageError("--format html is one card's page: give exactly one card")
    reports, specs, bad = [], [], 0
    for path in cards:
        try:
            spec = _parse(path)
            report = audit_report(spec)     # reads the spec only, never the card
        except CardError as err:  # one bad card: say so and audit the others
            click.echo(str(err), err=True)
            bad += 1
            continue
        if not report.get("card"):
            report["card"] = str(path)
        reports.append(report)
        specs.append(spec)
    if not reports:
        sys.exit(2)
    if fmt == "json":
        out = render.to_json(reports)
    elif fmt == "markdown":
        out = render.markdown(reports)
    elif fmt == "html":
        from cardrepro.report import html_report
        out = html_report(specs[0], reports[0])
    else:
        out = render.text(reports)
    from cardrepro.report.command import emit
    emit(out, output)
    failed = any(reaches(r["findings"], fail_on) for r in reports)
    sys.exit(2 if bad else 1 if failed else 0)
