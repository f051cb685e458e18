"""YAML as data only: `yaml.SafeLoader` plus exponent floats (`8e-6`, YAML 1.2 style), duplicate
keys reported rather than silently overwritten, and a cap on aliases (no alias bombs)."""
import datetime
import gc
import itertools
import re

import yaml

from cardrepro.read.redact import redact_value

MAX_ALIASES = 50
MAX_NODES = 200_000  # nodes of a block's value with its aliases expanded
MAX_DEPTH = 100
MAX_INT_DIGITS = 100  # a longer run of digits is kept as text (int() refuses over 4300)
SURROGATE = re.compile("[\ud800-\udfff]")

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


    def resolve(self, kind, value, implicit):
        # most scalars of a large block ("- org/ds12") start with a character no implicit
        # resolver is keyed by: their tag is the default one, as the resolver would find it
        if (kind is yaml.ScalarNode and not self.yaml_path_resolvers and None not in self.yaml_implicit_resolvers
                and (not implicit[0] or value[:1] not in self.yaml_implicit_resolvers)):
            return self.DEFAULT_SCALAR_TAG
        return super().resolve(kind, value, implicit)

    def construct_yaml_int(self, node):
        if sum(c.isdigit() for c in node.value) > MAX_INT_DIGITS:
            return node.value
        return super().construct_yaml_int(node)


CardLoader.add_constructor("tag:yaml.org,2002:int", CardLoader.construct_yaml_int)
CardLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def load(text, spare_nodes=0):
    """Returns (value, duplicates), every string of the value (keys too) redacted as decoded.
    Raises yaml.YAMLError or YamlTooComplex, also when the value leaves fewer than `spare_nodes`
    of the MAX_NODES a block may have (room for a part loaded apart)."""
    if too_many_aliases(text):
        raise YamlTooComplex(f"more than {MAX_ALIASES} YAML aliases (alias bomb?)")
    loader = CardLoader(text)
    # the cyclic garbage collector paused while the value is built: a large block makes up to
    # MAX_NODES nodes and as many objects, and each collection on the way would walk every
    # object made so far (a third of the time of a 1 MB block); inline, not a context manager,
    # as most blocks are small and it is entered once per block
    enabled = gc.isenabled()
    gc.disable()
    try:
        node = loader.get_single_node()
        if node is None:
            return None, loader.duplicates
        _check_size(node, spare_nodes)
        value = _construct(loader, node)
        return redact_value(value), loader.duplicates
    finally:
        if enabled:
            gc.enable()
        loader.dispose()


def _construct(loader, node):
    """The node's value. A scalar the YAML parser accepts but cannot build (`0b_`, the date
    `2023-02-30`) makes the block malformed, as a syntax error would: the caller reads it another way."""
    try:
        return loader.construct_document(node)
    except (ValueError, OverflowError) as err:
        raise yaml.constructor.ConstructorError(None, None, f"cannot build a value: {err}") from None


def too_many_aliases(text):
    return "&" in text and len(_ALIAS.findall(text)) > MAX_ALIASES  # aliases need anchors


def _check_size(root, spare_nodes=0):
    """A few aliases can stand for an exponential number of nodes (each alias of a list of
    aliases...): what counts is the size of the value once every alias is expanded, which each
    later stage walks."""
    if not _within_limits(root, MAX_NODES - spare_nodes):
        _refuse(root)
        raise YamlTooComplex(f"YAML value expands to more than {MAX_NODES - spare_nodes} nodes")


def _within_limits(root, max_nodes=MAX_NODES):
    """Whether the value, its aliases expanded, has at most MAX_NODES nodes and MAX_DEPTH
    levels and no lone surrogate: a walk of every node as later stages will, which stops once
    past MAX_NODES (so it is bounded, aliases or not)."""
    count, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > max_nodes or depth > MAX_DEPTH:
            return False
        if isinstance(node, yaml.ScalarNode):
            if SURROGATE.search(node.value):
                return False
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else itertools.chain.from_iterable(node.value)
            stack.extend(zip(children, itertools.repeat(depth + 1)))
    return True


def _refuse(root):
    """Raises YamlTooComplex for a value past a limit, saying which. Sizes are summed per node,
    each node once, so this is linear in the text."""
    size, depth, open_ = {}, {}, set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in size:
            continue
        if not children_done and id(node) in open_:
            raise YamlTooComplex("YAML value holds itself through an alias (it would never end)")
        children = _children(node)
        if children_done:
            size[id(node)] = 1 + sum(size[id(c)] for c in children)
            depth[id(node)] = 1 + max((depth[id(c)] for c in children), default=0)
            if size[id(node)] > MAX_NODES:
                raise YamlTooComplex(f"YAML value expands to more than {MAX_NODES} nodes (alias bomb?)")
            if depth[id(node)] > MAX_DEPTH:
                raise YamlTooComplex(f"YAML nested deeper than {MAX_DEPTH} levels")
            continue
        open_.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)


def _children(node):
    if isinstance(node, yaml.ScalarNode) and SURROGATE.search(node.value):
        raise YamlTooComplex(f"{ascii(SURROGATE.search(node.value).group(0))[1:-1]} is a lone surrogate, not a character")
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
_DEC = re.compile(r"^[-+]?(?:\d[\d_]*)?\.\d*(?:[eE][-+]?\d+)?$")
_PLAIN = re.compile(r"^[A-Za-z_/][\w./\-]*$")
_BOOLS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}
# Words with spaces between (`More information needed`, `Apache 2.0`): a plain scalar that no
# implicit resolver takes (none is keyed by a letter but bool's and null's single words), which
# the loader would give back as it is, redacted
_WORDS = re.compile(r"^[A-Za-z][A-Za-z0-9.,()+/-]* [A-Za-z0-9 .,()+/-]*$")
# A number then letters (`13B`, `1.3B`, `1550 M`, `11 billion`): of the resolvers keyed by a
# digit, int and float end their matches in a digit or `.` (hex, which may end in a letter,
# starts with 0) and timestamp needs a `-`, so none takes it: the loader gives back the text
_SIZE = re.compile(r"^[1-9][0-9]*(?:\.[0-9]+)? ?[A-Za-z]+$")
# a date (`2024-05-13`): the loader's timestamp, a date; an impossible one cannot be built,
# which makes the text stay text
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


def scalar(text):
    """One YAML scalar as the card writes it (`8e-6`, `"a,b"`, `true`, `0.05`)."""
    text = text.strip()
    if not text:
        return None
    if _INT.match(text):
        return int(text.replace("_", "")) if len(text) <= MAX_INT_DIGITS else text
    if _DEC.match(text) and any(c.isdigit() for c in text) or _FLOAT.match(text):
        return float(text.replace("_", ""))
    if _PLAIN.match(text):
        low = text.lower()
        if low in _BOOLS:
            return _BOOLS[low]
        if low in ("null", "~"):
            return None
        return text
    if _WORDS.match(text) or _SIZE.match(text) or text == "-":  # `-`: a list, so the text
        return redact_value(text)
    if date := _DATE.match(text):
        try:
            return datetime.date(*map(int, date.groups()))
        except ValueError:
            return text
    try:
        value, _ = load(text)
    except (yaml.YAMLError, YamlTooComplex):
        return text
    if isinstance(value, (dict, list)) and not text.startswith(("{", "[")):
        return text
    return value
