"""`cardrepro audit CARD... [--format text|json|markdown] [--fail-on error|warning|never]`

Exit 0 when no finding reaches --fail-on (default error), 1 when one does, 2 for bad input
(a CardError: cli.py prints `FILE:LINE: msg`)."""
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
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="Report format.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default="error",
              show_default=True, help="Exit 1 when a finding of this severity or worse is found.")
def audit(cards, fmt, fail_on):
    """Audit model cards for reproducibility: missing facts, unavailable data, conflicts,
    derived facts and cost. Several cards give one report each and a summary table."""
    from cardrepro.audit import audit_report
    from cardrepro.audit import render
    from cardrepro.audit.findings import reaches

    specs = [(path, _parse(path)) for path in cards]          # bad input fails before any output
    reports = []
    for path, spec in specs:
        report = audit_report(spec)     # reads the card at spec.card.path
        if not report.get("card"):
            report["card"] = str(path)
        reports.append(report)
    if fmt == "json":
        out = render.to_json(reports)
    elif fmt == "markdown":
        out = render.markdown(reports)
    else:
        out = render.text(reports)
    click.echo(out, nl=False)
    failed = any(reaches(r["findings"], fail_on) for r in reports)
    sys.exit(1 if failed else 0)
