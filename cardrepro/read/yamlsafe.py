"""YAML as data only: `yaml.SafeLoader` plus exponent floats (`8e-6`, YAML 1.2 style), duplicate
keys reported rather than silently overwritten, and a cap on aliases (no alias bombs)."""
import re

import yaml

from cardrepro.read.redact import redact_value

MAX_ALIASES = 50

_FLOAT = re.compile(r"^[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)[eE][-+]?\d+$")


class DuplicateKey(Exception):
    def __init__(self, key, line, first_line):
        super().__init__(f"duplicate key {key!r}")
        self.key, self.line, self.first_line = key, line, first_line


class YamlTooComplex(Exception):
    pass


_ALIAS = re.compile(r"(?:^|[\s\[{,])\*[^\s\[\]{},]+")


class CardLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml's parser where available; the constructor (duplicate keys) and resolver stay Python."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates = []

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                continue
            if key in seen:
                self.duplicates.append(DuplicateKey(key, key_node.start_mark.line, seen[key]))
            else:
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


CardLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def load(text):
    """Returns (value, duplicates), every string of the value (keys too) redacted as decoded.
    Raises yaml.YAMLError or YamlTooComplex."""
    if "&" in text and len(_ALIAS.findall(text)) > MAX_ALIASES:  # aliases need anchors
        raise YamlTooComplex(f"more than {MAX_ALIASES} YAML aliases (alias bomb?)")
    loader = CardLoader(text)
    try:
        value = loader.get_single_data()
        return redact_value(value), loader.duplicates
    finally:
        loader.dispose()


_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
_DEC = re.compile(r"^[-+]?(?:\d[\d_]*)?\.\d*(?:[eE][-+]?\d+)?$")
_PLAIN = re.compile(r"^[A-Za-z_/][\w./\-]*$")
_BOOLS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}


def scalar(text):
    """One YAML scalar as the card writes it (`8e-6`, `"a,b"`, `true`, `0.05`)."""
    text = text.strip()
    if not text:
        return None
    if _INT.match(text):
        return int(text.replace("_", ""))
    if _DEC.match(text) and any(c.isdigit() for c in text) or _FLOAT.match(text):
        return float(text.replace("_", ""))
    if _PLAIN.match(text):
        low = text.lower()
        if low in _BOOLS:
            return _BOOLS[low]
        if low in ("null", "~"):
            return None
        return text
    try:
        value, _ = load(text)
    except (yaml.YAMLError, YamlTooComplex):
        return text
    if isinstance(value, (dict, list)) and not text.startswith(("{", "[")):
        return text
    return value
