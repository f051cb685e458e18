"""The spec's `name`: the slug of the card's file name (`cards/StableLM 7B.md` → `stablelm-7b`)."""
import re
from pathlib import Path


def slug(path):
    stem = (path if isinstance(path, Path) else Path(path)).stem     # a Path is not parsed again
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "card"
