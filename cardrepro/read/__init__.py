"""Read step: card bytes → `Document` (numbered lines and typed blocks)."""
import functools

from cardrepro import data
from cardrepro.gcpause import paused
from cardrepro.read import document, redact, source
from cardrepro.read.yamlish import Shape


@functools.lru_cache(maxsize=None)
def card_shape():
    options, scalars = data.trainer_keys()
    scalars = set(scalars) | {"license", "language", "tags", "pipeline_tag", "library_name"}
    return Shape(labels=data.load("keys").get("labels", {}), item_options=set(options),
                 scalar_keys=scalars, container_keys={"datasets", "datasets_extra", "widget"})


@paused
def read_card(path, data=None):
    """The card at PATH as a Document. DATA: the card's bytes when the caller has them already
    (checked as a file's would be); PATH then only names the card and is not opened. Read with the
    cyclic garbage collector paused (cardrepro/gcpause.py)."""
    raw = source.load_bytes(path) if data is None else source.checked_bytes(path, data)
    text = source.decode(path, raw)
    lines, found = redact.redact_lines(source.card_lines(text))
    return document.scan(str(path), source.sha256(raw), lines, card_shape(), found)
