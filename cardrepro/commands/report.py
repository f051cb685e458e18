"""`cardrepro report CARD [-o report.html]`: the card's audit as one HTML page (stdout without -o)."""
from __future__ import annotations

import os
from pathlib import Path

import click

from cardrepro.errors import CardError


def emit(page: str, output) -> None:
    """The page on stdout, or written whole to `output` (never a half-written file)."""
    if not output:
        click.echo(page, nl=False)
        return
    out = Path(output)
    if out.is_dir():
        raise CardError(str(out), None, "is a directory: name the HTML file to write")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")   # created as any file is (umask), then renamed
    try:
        fh = open(tmp, "x", encoding="utf-8")
    except OSError as err:
        raise CardError(str(out), None, f"cannot write: {err.strerror or err}") from None
    try:
        with fh:
            fh.write(page)
        os.replace(tmp, out)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise CardError(str(out), None, f"cannot write: {err.strerror or err}") from None


@click.command("report")
@click.argument("card", type=click.Path(dir_okay=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="The HTML file to write (default: stdout).")
def report(card, output):
    """One card's audit as a self-contained HTML page: the card's text with every extracted value
    highlighted and linked to its spec path, the findings beside their lines, the assumptions and
    the memory chart. No script, no network."""
    from cardrepro.report import html_report
    from cardrepro.spec import parse_card

    emit(html_report(parse_card(card)), output)
