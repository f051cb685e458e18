"""Top-level front-matter sections that no extractor reads, left unbuilt.

`model-index:` (a model's evaluation results, MTEB tables) is often most of a card's front matter
— 7.8 of the 9.3 MB of front matter in the Hub corpus — and building its value (nodes, Python
objects, redaction, the card line of every key) was most of the time spent reading cards, for a
value no extractor reads. Its lines stay in Block.lines, so a later reader can still read them.

Leaving the value out must not change anything else the block reports: whether the front matter
loads at all (a malformed section makes the whole block malformed), its refusals (alias bombs,
depth, size, lone surrogates), its duplicate keys and the card line of every other key. `span`
vouches for all of that without building the value: line by line for a section in the plain
block style most are written in, else from one pass of the YAML parser's events over the whole
block; the rest of the block is then loaded with the section's lines blank (yamlish.load_block).
Where it cannot vouch (aliases, tags, a duplicate key inside the section, a key written where the
line search would not find it...), it returns None and the block is loaded whole, as before."""
import functools
import re
from dataclasses import dataclass

import yaml
from yaml.events import (AliasEvent, CollectionEndEvent, DocumentStartEvent, MappingStartEvent,
                         ScalarEvent, SequenceStartEvent)

from cardrepro import memo
from cardrepro.read import yamlsafe

KEY = "model-index"
_STR = "tag:yaml.org,2002:str"
_SAFE_TAGS = {_STR, "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"}
_NUMBER_CHARS = frozenset("0123456789.eE+-")


@dataclass
class Span:
    first: int  # 0-based line of the section's `key:`
    end: int  # 0-based line after its last line
    spare_nodes: int = 0  # nodes the section holds that the load of the rest must leave room for


class _Cannot(Exception):
    """The section is not certain to load as plain data: load the block whole."""


def span(text, key):
    """The lines of the top-level `key:` section of the YAML text when leaving its value out is
    certain to change nothing but that value (see the module's docstring), else None."""
    if f"{key}:" not in text or yamlsafe.SURROGATE.search(text) or not _breaks_are_newlines(text):
        return None
    if yamlsafe.too_many_aliases(text):
        return None  # the whole load refuses it
    lines = text.split("\n")
    found = _plain_span(text, lines, key)
    if found is not None:
        return found
    loader = yamlsafe.CardLoader(text)
    try:
        return _span(loader, lines, key, "\\" in text)
    except (_Cannot, yaml.YAMLError):
        return None
    finally:
        loader.dispose()


def _span(loader, lines, key, escapes):
    """One pass over the parser's events (no nodes, no values): where the section is, and
    whether the value the loader would build from it is plain data that raises nothing."""
    get = loader.get_event
    nodes, first = _to_section(get, key)
    if first is None:
        return None
    nodes += _section(get, loader, lines, escapes)
    end, rest = _after_section(get, key)
    if nodes + rest > yamlsafe.MAX_NODES:
        return None
    return Span(first, len(lines) if end is None else end)


def _to_section(get, key):
    """Events up to the section's key: (nodes met, the key's line) or (nodes, None) when the
    block has no such top-level key. The block must be one block mapping."""
    while type(get()) is not DocumentStartEvent:
        pass
    root = get()
    if type(root) is not MappingStartEvent or root.flow_style:
        raise _Cannot
    nodes, depth, is_key = 1, 1, True
    while True:
        event = get()
        kind = type(event)
        if kind is AliasEvent:
            raise _Cannot  # an alias's size and target need the nodes
        if kind is ScalarEvent:
            nodes += 1
            if depth == 1:
                if is_key and event.value == key:
                    if event.style or event.tag is not None or event.start_mark.column != 0:
                        raise _Cannot
                    return nodes, event.start_mark.line
                is_key = not is_key
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if depth == 1:
                if is_key:
                    raise _Cannot  # a key that is a collection
                is_key = True
            nodes += 1
            depth += 1
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
            if depth == 0:
                return nodes, None


def _section(get, loader, lines, escapes):
    """The events of the section's value; returns how many nodes it holds. Raises _Cannot for
    anything the loader could refuse or raise on, a duplicate key, or a key that does not open
    its line (the line search for the keys in the section would leave the section). One loop
    without a call per event: a section can have 100,000 of them."""
    resolvers, nodes = loader.yaml_implicit_resolvers, 0
    stack = []  # open collections: [is a mapping, next scalar is a key, keys seen]
    while True:
        event = get()
        kind = type(event)
        if kind is ScalarEvent:
            nodes += 1
            if event.anchor is not None or event.tag is not None:
                raise _Cannot
            value, top = event.value, stack[-1] if stack else None
            if top is not None and top[0]:
                top[1] = not top[1]
                if not top[1]:  # a key
                    if event.style or value in top[2] or (value[:1] in resolvers and _plain_tag(value) != _STR):
                        raise _Cannot
                    top[2].add(value)
                    mark = event.start_mark
                    if lines[mark.line][:mark.column].strip() not in ("", "-"):
                        raise _Cannot
                    continue
            if event.style:
                if escapes and event.style == '"' and yamlsafe.SURROGATE.search(value):
                    raise _Cannot
            elif value[:1] in resolvers and not _plain_value_safe(value):
                raise _Cannot
            if not stack:
                return nodes
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            nodes += 1
            if event.anchor is not None or event.tag is not None or len(stack) + 3 > yamlsafe.MAX_DEPTH:
                raise _Cannot
            if stack and stack[-1][0]:
                if stack[-1][1]:
                    raise _Cannot  # a key that is a collection
                stack[-1][1] = True
            stack.append([kind is MappingStartEvent, True, set()])
        elif isinstance(event, CollectionEndEvent):
            stack.pop()
            if not stack:
                return nodes
        else:
            raise _Cannot  # an alias


def _after_section(get, key):
    """The events after the section: (the line of the next top-level key or None, the nodes
    they hold)."""
    end, nodes, depth, is_key = None, 0, 1, True
    while True:
        event = get()
        if event is None:
            return end, nodes
        kind = type(event)
        if kind is AliasEvent:
            raise _Cannot
        if kind is ScalarEvent:
            nodes += 1
            if depth == 1:
                if is_key:
                    _later_key(event, key)
                    end = event.start_mark.line if end is None else end
                is_key = not is_key
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if depth == 1 and is_key:
                raise _Cannot
            is_key = True if depth == 1 else is_key
            nodes += 1
            depth += 1
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
        elif kind is DocumentStartEvent:
            raise _Cannot  # the loader refuses a second document


def _later_key(event, key):
    """A top-level key after the section, which must start its line; the line search looks for
    it as str(key), which is its text when it is a str. The section's key again would make the
    value the later section's, which the whole load locates from the first one's lines."""
    value = event.value
    if event.tag is not None or (not event.style and _plain_tag(value) != _STR) or event.start_mark.column != 0:
        raise _Cannot
    if value == key:
        raise _Cannot


# The line path: a section written in the plain block style of nearly every model-index
# (`- name: x`, `  results:`, `    value: 62.0`) is checked line by line, without the parser.
_ROOT_KEY = re.compile(r"[A-Za-z_][\w.\-]*:(?: |$)")
_ENTRY = re.compile(r"( *)(- +)?(?:([A-Za-z_][\w\-]{0,200}):(?: +(.*))?|(.+))")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`\\")
_PLAIN_FIRST = frozenset("abcdeghijklmpqrsuvwxzABCDEGHIJKLMPQRSUVWXZ_/(")  # neither indicators nor resolvers' first characters
_DECIMAL = re.compile(r"[0-9]+\.?[0-9]*")  # a plain number float() reads, which _check_value passes
_DIGITS = frozenset("0123456789")
# a secret the reader redacted from a card line (`verifyToken: [REDACTED:assigned_secret]`, in
# evaluation results): YAML reads it as a flow list of one str
_REDACTED = re.compile(r"\[REDACTED:[a-z_]+\]")
_DECIMALS = re.compile(rf"\[{_DECIMAL.pattern}(?:, {_DECIMAL.pattern})*\]")  # per-fold scores


def _plain_span(text, lines, key):
    """The section's Span when it is written in the plain block style (every line a comment, a
    `key: value`, `key:`, `- key: value`, `- key:` or `- value` line, in consistent block
    indentation, with plain keys met once per mapping and plain or simply quoted values): such a
    section parses, and its value raises nothing. Its spare_nodes are the nodes of its value
    beyond the one the null left in its place stands for. None where it is not so written;
    the parser's events then decide. The caller checks that the rest loads with `key` a
    top-level key (not inside a quoted or flow value before it)."""
    if text.count(key) != 1 or "\t" in text:
        return None
    try:
        first = lines.index(f"{key}:")
    except ValueError:
        return None
    start = next((t for t in lines if t.strip() and not t.lstrip().startswith("#")), "")
    if not _ROOT_KEY.match(start):
        return None  # the block is not a block mapping at column 0
    end = first + 1
    while end < len(lines) and (not lines[end] or lines[end][0] in " #" or lines[end].startswith("- ")):
        end += 1
    try:
        nodes = _plain_section(lines[first + 1:end])
    except _Cannot:
        return None
    return Span(first, end, nodes)


def _plain_section(lines):
    """The nodes of the section's value but its root, or _Cannot. Frames: [column, is a mapping,
    keys seen]; the section's own mapping entry is the frame at column 0, its value pending.
    Written for speed: a section can have 100,000 lines. What a line says by itself (its parts,
    and whether its key and value are plain) comes from _line_entry, memoised across cards; a
    line that ends `: <decimal>` says what it would say with the number 0 in its place (the
    number is a plain value, whatever comes before it), so that the memo keeps one entry for
    `    value: 0` rather than one per score. The common line (the next `key: value` of the
    mapping the line before was in) skips the frame checks, which could change nothing for it."""
    stack, pending, nodes = [[0, True, None]], True, 0
    top, seen = stack[0], None
    entry, decimal = _line_entry, _DECIMAL.fullmatch
    for text in lines:
        if not text:
            continue
        if text[-1] in _DIGITS:  # most such lines are `key: <number>`, each number new
            head, sep, tail = text.rpartition(": ")
            parts = entry(head + ": 0") if sep and decimal(tail) else entry(text)
        else:
            parts = entry(text)
        if not parts:
            if parts is None:
                continue  # a comment
            raise _Cannot
        indent, dash, key, value_nodes = parts
        if not (key and not dash and not pending and indent == top[0] and top[1] and seen is top[2]):
            if pending:
                pending = False
                if indent > top[0] or dash and indent == top[0]:
                    if len(stack) + 4 > yamlsafe.MAX_DEPTH:
                        raise _Cannot
                    top = [indent, not dash, set()]
                    stack.append(top)
            while top[0] > indent or (not dash and not top[1] and top[0] == indent and len(stack) > 1):
                stack.pop()
                top = stack[-1]
            if top[0] != indent or top[1] == bool(dash) or len(stack) == 1:
                raise _Cannot  # not where the block it continues has its entries
            if not key:
                nodes += 1
                continue
            if dash:  # `- key: ...`: an entry that is a mapping, at the key's column
                if len(stack) + 4 > yamlsafe.MAX_DEPTH:
                    raise _Cannot
                top = [indent + len(dash), True, set()]
                stack.append(top)
                nodes += 1
            seen = top[2]
        if key in seen:
            raise _Cannot
        seen.add(key)
        nodes += 1 + (value_nodes or 1)  # a pending value's collection is one node
        if not value_nodes:
            pending = True
    return nodes


@memo.memo(maxsize=1 << 14)
def _line_entry(text):
    """What a non-empty section line says by itself: (indent, dash, key, the nodes of its value:
    0 when none follows on the line) for a `key: value`, `key:`, `- key: ...` or `- value` line
    (key "" for the last); None for a comment; False for a line no plain section holds (a line
    that continues a scalar, a key the loader would not read as a str, a value it could read as
    other than one plain or quoted scalar, an empty flow list, a redacted secret or a flow list
    of numbers, or refuse). A pure function of the text, and section lines repeat from card to card
    (`      type: text-generation`): memoised."""
    spaces, dash, key, value, item = _ENTRY.fullmatch(text).groups(default="")
    if not (dash or key):
        return None if text.lstrip().startswith("#") else False
    try:
        if not key:
            _check_value(item)
        elif key[:1] in _RESOLVERS and _plain_tag(key) != _STR:
            return False
        elif value and not _DECIMAL.fullmatch(value):
            if _REDACTED.fullmatch(value):
                return len(spaces), dash, key, 2  # a flow list of one str
            if _DECIMALS.fullmatch(value):
                return len(spaces), dash, key, 2 + value.count(",")  # a flow list of numbers
            if value != "[]":  # `results: []`: one node, like a scalar
                _check_value(value)
    except _Cannot:
        return False
    return len(spaces), dash, key, 1 if value else 0


def _check_value(value):
    """A scalar value on one line that the loader reads as one plain or quoted scalar and
    builds without raising; else _Cannot."""
    c = value[0]
    if c in _PLAIN_FIRST:
        if ": " in value or " #" in value or value[-1] == ":":
            raise _Cannot
        return
    if c in "\"'":
        if len(value) < 2 or value[-1] != c or c in value[1:-1] or "\\" in value:
            raise _Cannot
        return
    if (c in _INDICATORS and not (c == "-" and value[1:2] not in ("", " "))) or ": " in value \
            or value.endswith(":") or " #" in value:
        raise _Cannot
    if c in _RESOLVERS and not _plain_value_safe(value):
        raise _Cannot


class _Resolver(yaml.resolver.BaseResolver):
    yaml_implicit_resolvers = yamlsafe.CardLoader.yaml_implicit_resolvers


_RESOLVER = _Resolver()
_RESOLVERS = _Resolver.yaml_implicit_resolvers  # by first character
_BUILDER = yamlsafe.CardLoader("")  # its constructors, to try building a scalar


@functools.lru_cache(maxsize=4096)
def _plain_tag(value):
    """The tag the loader gives a plain scalar (keys and short values repeat: cached)."""
    return _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))


def _plain_value_safe(value):
    """Whether the loader builds the plain scalar without raising (an int like `0b_` or a date
    like 2023-02-30 raise ValueError, which the whole load would raise too). A number that
    float() reads is safe as whatever it resolves to (int, float or str)."""
    if _NUMBER_CHARS.issuperset(value) and _is_plain_number(value):
        return True
    tag = _plain_tag(value)
    if tag in _SAFE_TAGS:
        return True
    try:
        _BUILDER.yaml_constructors[tag](_BUILDER, yaml.ScalarNode(tag, value))
    except Exception:  # whatever it is, the whole load meets it too
        return False
    return True


def _is_plain_number(value):
    try:
        float(value)
    except ValueError:
        return False
    return True


def _breaks_are_newlines(text):
    """Whether the parser's line numbers are the text's "\\n" lines (YAML also breaks lines at
    \\r, NEL and the Unicode line and paragraph separators)."""
    return not any(c in text for c in "\r\x85\u2028\u2029")
