"""The spec's `name`: the slug of the card's file name (`cards/StableLM 7B.md` → `stablelm-7b`)."""
import re
from pathlib import Path


def slug(path):
    return re.sub(r"[^a-z0-9]+", "-", Path(path).stem.lower()).strip("-") or "card"
