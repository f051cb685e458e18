"""`cardrepro parse` and `cardrepro schema`."""
import json
import os
import re

import click

from cardrepro import validate
from cardrepro.errors import CardError
from cardrepro.naming import slug
from cardrepro.spec_view import text_view

# `org/name` as the Hub spells repo ids; a name with a card file's suffix is a path, never a model id
MODEL_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
CARD_SUFFIXES = (".md", ".markdown", ".txt")


def dump(obj, fmt):
    if fmt == "json":
        return json.dumps(obj, indent=2, ensure_ascii=False)
    import yaml
    return yaml.safe_dump(obj, allow_unicode=True, sort_keys=False, width=120)


def is_model_id(arg):
    """A Hub model id rather than a card file: no such path, `org/name` shape, no card suffix."""
    return (not os.path.lexists(arg) and MODEL_ID.match(arg) is not None
            and not arg.lower().endswith(CARD_SUFFIXES))


def hub_readme(model_id):
    """The local path of MODEL_ID's README.md, from the Hugging Face cache or downloaded into it
    (huggingface_hub honours HF_HUB_OFFLINE, HF_HOME and HF_HUB_CACHE). Imported here, not at the
    top: a card file never pays for it."""
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
        from huggingface_hub.utils import logging as hf_logging
    except ImportError:
        raise CardError(model_id, 0, "no such file; reading a model id needs huggingface_hub "
                                     "(pip install huggingface_hub)") from None
    hf_logging.set_verbosity_error()  # its retry warnings would break the one-line error
    try:
        return hf_hub_download(model_id, "README.md")
    except LocalEntryNotFoundError:
        offline = " and HF_HUB_OFFLINE forbids downloading it" if _offline() else " and it could not be downloaded"
        raise CardError(model_id, 0, f"no such file, and the model's README.md is not in the Hugging Face cache{offline}") from None
    except (HfHubHTTPError, OSError, ValueError) as err:  # no such repo or file, gated, a bad id, a network error
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise CardError(model_id, 0, f"no such file, and the model's README.md could not be read from the "
                                     f"Hugging Face Hub: {type(err).__name__}: {first}") from None


def _offline():
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "on", "yes", "true")


def parse_model_or_card(arg):
    """The spec of a card file, or of a Hub model's README.md (the spec's name from the model id,
    `org_name` as the corpus names its files; card.path is the file read)."""
    from cardrepro.spec import parse_card
    if not is_model_id(arg):
        return parse_card(arg)
    spec = parse_card(hub_readme(arg))
    spec["name"] = slug(arg.replace("/", "_") + ".md")
    return spec


@click.command(help="Print the spec of a model card (a file, or a Hub model id `org/name` whose README.md is read "
                    "through huggingface_hub and its cache): every training fact with where it came from.")
@click.argument("card", type=click.Path(dir_okay=True))
@click.option("--format", "fmt", type=click.Choice(["json", "yaml", "text"]), default="text", show_default=True,
              help="json/yaml for machines (validates against `cardrepro schema`), text for reading.")
def parse(card, fmt):
    spec = parse_model_or_card(card)
    click.echo(text_view(spec) if fmt == "text" else dump(spec, fmt))


@click.command(help="Print the JSON Schema (2020-12) that every spec validates against.")
def schema():
    click.echo(json.dumps(validate.schema("spec"), indent=2))
