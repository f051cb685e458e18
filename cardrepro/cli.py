"""The `cardrepro` command. Subcommands live in cardrepro/commands/ and are imported only when used,
so `parse`, `audit` and `build` never pay for torch."""
import importlib
import os
import sys

import click

from cardrepro import __version__
from cardrepro.errors import CardError

SUBCOMMANDS = {
    "parse": ("cardrepro.commands.parse", "parse"),
    "schema": ("cardrepro.commands.parse", "schema"),
    "audit": ("cardrepro.commands.audit", "audit"),
    "report": ("cardrepro.commands.report", "report"),
    "build": ("cardrepro.commands.build", "build"),
    "regen": ("cardrepro.commands.build", "regen"),
    "diff": ("cardrepro.commands.build", "diff"),
    "run": ("cardrepro.commands.run", "run"),
    "infer": ("cardrepro.commands.run", "infer"),
    "merge": ("cardrepro.commands.merge", "merge"),
    "export": ("cardrepro.commands.export", "export"),
}

HELP = """Compile a model card into a validated spec, an audit, and a runnable project.

\b
  cardrepro parse cards/stablelm-7b-sft.md --format json   # the spec, with provenance
  cardrepro audit cards/*.md                                # gaps, internal data, conflicts, cost
  cardrepro report cards/stablelm-7b-sft.md -o r.html       # the audit as one HTML page
  cardrepro build cards/stablelm-7b-sft.md                  # writes generated/stablelm-7b-sft/
  cardrepro run generated/stablelm-7b-sft --smoke           # trains the tiny embedded default
  cardrepro infer generated/stablelm-7b-sft --prompt "Hi"   # answers in the card's format
"""


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(SUBCOMMANDS)

    def get_command(self, ctx, name):
        if name not in SUBCOMMANDS:
            return None
        module, attr = SUBCOMMANDS[name]
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, help=HELP)
@click.version_option(__version__, prog_name="cardrepro")
def cli():
    pass


def main(argv=None):
    try:
        return cli.main(args=argv, prog_name="cardrepro", standalone_mode=True)
    except CardError as err:
        click.echo(_without_secrets(str(err)), err=True)
        sys.exit(2)
    except Exception as err:  # a bug in cardrepro, not bad input: say so in one line
        if os.environ.get("CARDREPRO_DEBUG"):
            raise
        click.echo(f"cardrepro: internal error: {type(err).__name__}: {_without_secrets(str(err))} "
                   "(set CARDREPRO_DEBUG=1 for the traceback; please report it)", err=True)
        sys.exit(3)


def _without_secrets(message):
    """An error may quote a card's value; a secret in it never reaches the terminal."""
    from cardrepro.read.redact import redact_secrets
    return redact_secrets(message)
