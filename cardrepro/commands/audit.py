"""`cardrepro audit CARD... [--format text|json|markdown|html] [--fail-on error|warning|never] [-o FILE]`

Exit 0 when no finding reaches --fail-on (default error), 1 when one does, 2 when a card is bad
input: its `FILE:LINE: msg` goes to stderr and the other cards are still audited.

`cardrepro audit --corpus PATH [--scheduler ADDRESS] [--workers N] [--out ROWS.parquet] [--summary FILE.md]`:
every card of a corpus on Dask (cardrepro/corpus/); Dask is imported on that path only."""
from __future__ import annotations

import sys

import click

from cardrepro.errors import CardError


def _parse(path):
    try:
        from cardrepro.spec import parse_card
    except ImportError as err:  # the parser is not installed
        raise CardError(path, None, f"cannot parse cards: {err}") from None
    return parse_card(path)


@click.command("audit")
@click.argument("cards", nargs=-1, required=False, type=click.Path(dir_okay=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "html"]), default="text",
              show_default=True, help="Report format (html: one card's page, as `cardrepro report`).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the report to this file instead of stdout.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default="error",
              show_default=True, help="Exit 1 when a finding of this severity or worse is found.")
@click.option("--corpus", type=click.Path(), default=None,
              help="Audit a whole corpus on Dask instead: a folder of *.md cards or of parquet files "
                   "(modelId, card, library_name, createdAt, ...); one row per card to --out, a coverage summary.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --corpus: a dask.distributed scheduler (tcp://host:8786); default a local process pool.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="With --corpus and no --scheduler: processes in the local pool (default: the CPU count).")
@click.option("--out", "rows_out", type=click.Path(dir_okay=False), default=None,
              help="With --corpus: the rows' parquet file (default CORPUS-NAME.audit.parquet).")
@click.option("--summary", type=click.Path(dir_okay=False), default=None,
              help="With --corpus: the coverage summary (Markdown; its plots in the folder of the same "
                   "name); default --out with .md.")
def audit(cards, fmt, fail_on, output, corpus, scheduler, workers, rows_out, summary):
    """Audit model cards for reproducibility: missing facts, unavailable data, conflicts,
    derived facts and cost. Several cards give one report each and a summary table."""
    from cardrepro.audit import audit_report
    from cardrepro.audit import render
    from cardrepro.audit.findings import reaches

    if corpus is not None:
        _audit_corpus(cards, corpus, scheduler, workers, rows_out, summary)
    if not cards:
        raise click.UsageError("give one or more cards, or --corpus PATH")
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
    from cardrepro.commands.report import emit
    emit(out, output)
    failed = any(reaches(r["findings"], fail_on) for r in reports)
    sys.exit(2 if bad else 1 if failed else 0)


def _audit_corpus(cards, corpus, scheduler, workers, rows_out, summary):
    if cards:
        raise click.UsageError("give cards or --corpus PATH, not both")
    from cardrepro.corpus.engine import run   # Dask loads here only
    sys.exit(run(corpus, rows_out, summary, scheduler, workers))
