"""`cardrepro merge RUN [-o DIR]` (the merge itself: cardrepro/train/merge.py)."""
import sys

import click

from cardrepro.commands.run import _env


@click.command(help="Merge a LoRA run's adapter into its base model: a model folder that loads with "
                    "from_pretrained, with the card's chat template (default RUN/merged).")
@click.argument("run_dir", type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None, help="folder to write (default RUN/merged)")
def merge(run_dir, output):
    from cardrepro.train.merge import merge_run
    _env()
    out = merge_run(run_dir, output)
    click.echo(f"merged model: {out} (from_pretrained; tokenizer with the card's chat template)")
    sys.exit(0)
