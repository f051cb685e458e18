"""`cardrepro build`, `regen`, `diff`. No torch / transformers / deepspeed import on these paths."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from cardrepro.errors import CardError


def _parse(card: Path) -> dict:
    from cardrepro.spec import parse_card
    return parse_card(card)


@click.command("build", help="Write a runnable reproduction project for CARD (default: generated/<name>/).")
@click.argument("card", type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=None,
              help="project folder to write (default: generated/<card name>)")
@click.option("--assume", is_flag=True,
              help="build even when the card states no base model or leaves no loadable dataset; the README "
                   "then opens with the values cardrepro guessed")
@click.option("--strict", is_flag=True, help="refuse to build when the audit reports errors (for CI)")
def build(card: Path, output: Path | None, assume: bool, strict: bool):
    from cardrepro.project.project import build_project
    out = build_project(card, output, assume=assume, strict=strict)
    for line in assumed_lines(out):
        click.echo(line, err=True)
    click.echo(f"built {out}")


def assumed_lines(project: Path) -> list[str]:
    """`assumed: path = value (source)` for every assumption in the project's train_config.json."""
    import json

    from cardrepro.printable import escape_controls
    tc = json.loads((project / "train_config.json").read_text(encoding="utf-8"))
    return [escape_controls(f"assumed: {a['path']} = {json.dumps(a['value'], ensure_ascii=False)} ({a['source']})")
            for a in tc.get("assumed") or []]


@click.command("regen", help="Rebuild the projects whose card, cardrepro version, spec, audit or build "
                             "templates changed (from each project's cardrepro.lock.json). By default each "
                             "card's project is GENERATED/<card name>; a project built with `build -o` is "
                             "found with --projects: the folders given and their direct subfolders are "
                             "searched for cardrepro.lock.json, and each project found is rebuilt in place "
                             "from the card in CARDS_DIR its lock names (card.file).")
@click.argument("cards_dir", required=False, default="cards", type=click.Path(path_type=Path))
@click.option("--generated", "generated", type=click.Path(path_type=Path), default=None,
              help="folder of built projects (default: generated/ next to CARDS_DIR)")
@click.option("--projects", "projects", multiple=True, type=click.Path(path_type=Path),
              help="a project folder, or a folder of projects, built with -o (repeatable); replaces the "
                   "GENERATED/<card name> lookup, and builds no project that is not there yet")
@click.option("--check", is_flag=True, help="rebuild nothing; exit 1 listing stale projects")
def regen(cards_dir: Path, generated: Path | None, projects: tuple[Path, ...], check: bool):
    from cardrepro.project.regen import regen_all
    if projects and generated:
        raise click.UsageError("give --generated or --projects, not both")
    outcome = regen_all(cards_dir, generated, projects=projects, check=check, echo=click.echo,
                        warn=lambda line: click.echo(line, err=True))
    if outcome.failed:
        sys.exit(2)
    if check and outcome.stale:
        sys.exit(1)


@click.command("diff", help="Spec-level changes between two versions of a card, the derived numbers they move "
                            "(global batch, GPU count, steps per epoch) and the generated files that would "
                            "change. Exit status as `git diff --exit-code`: 0 when nothing differs, 1 when "
                            "the specs or the generated files differ, 2 for a bad card.")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: {old, new, differ, changes, derived, files}")
def diff(old: Path, new: Path, fmt: str):
    import json

    from cardrepro.project.diff import diff_cards, text_lines
    doc = diff_cards(old, new)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for line in text_lines(doc):
            click.echo(line)
    if doc["differ"]:
        sys.exit(1)


__all__ = ["build", "regen", "diff", "CardError"]
