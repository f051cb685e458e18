"""Control characters (C0 except newline and tab, DEL, C1) made visible: a card's YAML escapes
("\\e[2J", "\\x00") must never reach a terminal through a script, a README or an audit."""
from __future__ import annotations

import re

CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    r"""`\x1b` for ESC, and so on: visible, inert, and still says what the card held."""
    if text.isprintable():      # every control character is unprintable: most text skips the regex
        return text
    return CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def escape_controls_obj(value):
    """escape_controls over every string (keys included) of a JSON-like value."""
    if isinstance(value, str):
        return escape_controls(value)
    if isinstance(value, dict):
        return {escape_controls_obj(k): escape_controls_obj(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape_controls_obj(v) for v in value]
    return value
