"""`cardrepro export CARD --to axolotl|llamafactory|trl [-o FILE]`. No torch, transformers or TRL import."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from cardrepro.errors import CardError
from cardrepro.export import TARGETS, export_spec


@click.command("export", help="Write the training config of CARD for Axolotl, LLaMA-Factory or TRL "
                              "(stdout, or FILE with its DeepSpeed / chat template files beside it).")
@click.argument("card", type=click.Path(path_type=Path))
@click.option("--to", "target", type=click.Choice(TARGETS), required=True, help="the framework")
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=None,
              help="file to write (default: stdout)")
def export(card: Path, target: str, output: Path | None):
    from cardrepro.printable import escape_controls
    from cardrepro.read.redact import redact_text
    from cardrepro.spec import parse_card
    spec = parse_card(card)
    stem = output.stem if output else spec["name"]
    text, files, cannot = export_spec(spec, target, stem)
    for note in cannot:
        click.echo(escape_controls(redact_text(f"{target} cannot express: {note}")), err=True)
    if output is None:
        for name in files:
            click.echo(f"{target}: {name} is named in the config but written only with -o FILE", err=True)
        click.echo(text, nl=False)
        return
    if output.is_dir():
        raise CardError(output, None, "-o names a folder; give the config file to write")
    _write(output, text)
    for name, body in files.items():
        _write(output.parent / name, redact_text(body))
    click.echo(f"wrote {output}" + "".join(f", {output.parent / n}" for n in files), err=True)


def _write(path: Path, text: str):
    """Whole or not at all: a temporary file in the same folder, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
