"""Where a compiled pattern's matches can begin, read from the pattern itself: the case-folded
literal text every match starts with (up to HEAD_LENGTHS[0] characters), or a line start (`(?m)^`),
or the text's start (`^`, `\\A`). A literal beyond ASCII counts only when it has no case (`训`):
it matches itself alone and folds to itself. `search_lines` then tries the pattern only at those
places instead of at every character of the card, and finds the same matches
(tests/test_extract_heads.py).

`re` tries a case-insensitive pattern that opens with an alternation (`(?i)(?<!\\w)(llama|qwen|...)`)
at every position; the heads let a plain-string scan of the folded text rule most positions out."""
import functools
import re
from dataclasses import dataclass

from cardrepro.extract import literals

try:  # the parser behind re.compile; without it every pattern is searched the plain way
    from re import _constants as _sre
    from re import _parser as _sre_parse
    from _sre import unicode_iscased as _unicode_iscased  # what re.compile asks of a literal
except ImportError:  # pragma: no cover
    _sre = _sre_parse = None

# longer heads rule out more places (`datasets`, not every `data`), but a pattern's character
# classes multiply their number: the longest of these that keeps at most MAX_HEADS of them
HEAD_LENGTHS = (16, 8, 4)
MAX_HEADS = 64  # more distinct heads than this: the scan for them would cost what it saves
_MAX_STEPS = 5000  # parse items followed per pattern: a bound on the work for a pathological one
LINE_START = object()
TEXT_START = object()


class _Unknown(Exception):
    """A match may start with any character: the pattern has no heads."""


@dataclass(frozen=True)
class Heads:
    texts: tuple  # lower-case literals; every match, case-folded, starts with one of them
    line_start: bool  # a match may start where a line starts
    text_start: bool  # a match may start at position 0
    # (`(?m)^\s*[-*]?\s*name`) a match starts at a line start, then characters of the lead
    # (whitespace when `lead_space`, line ends included, and `lead_chars`), then one of `texts`
    lead: bool = False
    lead_space: bool = False
    lead_chars: str = ""

    def places(self, folded, line_starts, seen=None):
        """Sorted positions of `folded` (the case-folded text) where a match may begin. `seen`:
        {head: its positions} for this text, kept between patterns that share heads."""
        out = set(line_starts) if self.line_start else {0} if self.text_start else set()
        seen = {} if seen is None else seen
        for text in self.texts:
            at = seen.get(text)
            if at is None:
                at = seen[text] = _positions(folded, text)
            if self.lead:
                for i in at:
                    out.update(self._line_starts_before(folded, i))
            else:
                out.update(at)
        return sorted(out)

    def _line_starts_before(self, folded, i):
        """The line starts from which only lead characters come before position i."""
        while True:
            if i == 0 or folded[i - 1] == "\n":
                yield i
            if i == 0:
                return
            c = folded[i - 1]
            if not (c in self.lead_chars or (self.lead_space and c.isspace())):
                return
            i -= 1


def _positions(text, literal):
    """Every position of `literal` in `text`, overlapping ones too (a plain find is faster than
    one pattern of all the heads). An ASCII text holds no literal beyond ASCII: str.isascii() is
    a flag of the string, so that costs no scan."""
    if text.isascii() and not literal.isascii():
        return []
    out, i = [], text.find(literal)
    while i != -1:
        out.append(i)
        i = text.find(literal, i + 1)
    return out


@functools.lru_cache(maxsize=None)
def heads(pattern):
    """The Heads of a compiled str pattern, or None when a match may start anywhere (or empty):
    the longest heads (HEAD_LENGTHS) of which there are at most MAX_HEADS."""
    if _sre_parse is None or not isinstance(pattern.pattern, str):
        return None
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    except (re.error, RecursionError):
        return None
    if parsed.getwidth()[0] == 0:  # an empty match: finditer's rules for those are not followed here
        return None
    found = _heads_of(list(parsed.data), bool(pattern.flags & re.MULTILINE))
    for text in found.texts if found is not None else ():
        literals.register(text)  # the card's one literal pass finds it from the next card on
    return found


def _heads_of(items, multiline):
    for way in (_line_led, _heads_within):  # line-led heads first: they rule out more lines
        for limit in HEAD_LENGTHS:
            try:
                found = way(items, multiline, limit)
            except (_Unknown, RecursionError):
                continue
            if found is not None:
                return found
    return None


def _heads_within(items, multiline, limit):
    """The Heads of a pattern's parse items, each at most `limit` characters; None when a match
    may start anywhere or there are more than MAX_HEADS of them."""
    found = _Walk(multiline, limit).heads(items, "")
    texts = _shortest(h for h in found if isinstance(h, str))
    if "" in texts or len(texts) > MAX_HEADS:
        return None
    return Heads(texts, LINE_START in found, TEXT_START in found)


def _line_led(items, multiline, limit):
    """The Heads of a pattern that opens with `(?m)^`, then optional runs of whitespace or of
    characters without case, then literal text (`^\\s*[-*]?\\s*(?:torch|peft)`); else None."""
    if not (multiline and items and items[0] == (_sre.AT, _sre.AT_BEGINNING)):
        return None
    space, chars, rest = False, set(), items[1:]
    while rest and rest[0][0] in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and rest[0][1][0] == 0:
        sub = list(rest[0][1][2].data)
        entries = sub[0][1] if len(sub) == 1 and sub[0][0] is _sre.IN else sub
        for kind, value in entries:
            if kind is _sre.CATEGORY and value is _sre.CATEGORY_SPACE:
                space = True
            elif kind is _sre.LITERAL and value < 128 and chr(value).lower() == chr(value).upper():
                chars.add(chr(value))
            else:
                return None
        rest = rest[1:]
    found = _Walk(multiline, limit).heads(rest, "")
    texts = _shortest(h for h in found if isinstance(h, str))
    if not all(isinstance(h, str) for h in found) or "" in texts or len(texts) > MAX_HEADS:
        return None
    if any(t[0] in chars or t[0].isspace() for t in texts):  # the lead could eat into a head
        return None
    return Heads(texts, False, False, True, space, "".join(sorted(chars)))


def _shortest(texts):
    """The texts, less those that start with another of them (`trl=` when `trl` is there)."""
    out = []
    for t in sorted(set(texts), key=len):
        if not any(t.startswith(o) for o in out):
            out.append(t)
    return tuple(sorted(out))


class _Walk:
    """The set of heads of a sequence of parse items: literal prefixes (folded) and the anchors
    LINE_START / TEXT_START. A head is a superset claim: every match starts with one of them."""

    def __init__(self, multiline, limit):
        self.multiline = multiline
        self.limit = limit
        self.steps = 0

    def heads(self, items, done):
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise _Unknown
        if len(done) >= self.limit or not items:
            return {done}
        op, av = items[0]
        rest = items[1:]
        if op is _sre.LITERAL:
            return self._chars([av], rest, done)
        if op is _sre.IN:
            if any(kind is not _sre.LITERAL for kind, _ in av):
                return {done}
            return self._chars([c for _, c in av], rest, done)
        if op is _sre.BRANCH:
            return set().union(*(self.heads(list(alt.data) + rest, done) for alt in av[1]))
        if op is _sre.SUBPATTERN:
            _, add_flags, del_flags, sub = av
            if (add_flags | del_flags) & re.MULTILINE:
                return {done}
            return self.heads(list(sub.data) + rest, done)
        if op is _sre.ATOMIC_GROUP:
            return self.heads(list(av.data) + rest, done)
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            return self._repeat(op, av, rest, done)
        if op is _sre.AT:
            return self._anchor(av, rest, done)
        if op in (_sre.ASSERT, _sre.ASSERT_NOT):  # zero-width: the match starts with what follows
            return self.heads(rest, done)
        return {done}

    def _chars(self, codes, rest, done):
        if not all(c < 128 or not _unicode_iscased(c) for c in codes):
            return {done}  # a cased letter beyond ASCII: its fold may move (`Σ`) or match others
        chars = {chr(c).lower() for c in codes}
        return set().union(*(self.heads(rest, done + c) for c in sorted(chars)))

    def _repeat(self, op, av, rest, done):
        lo, hi, sub = av
        if hi == 0:
            return self.heads(rest, done)
        again = [(op, (max(lo - 1, 0), hi if hi == _sre.MAXREPEAT else hi - 1, sub))]
        out = self.heads(list(sub.data) + again + rest, done)
        return out | self.heads(rest, done) if lo == 0 else out

    def _anchor(self, code, rest, done):
        if done or code not in (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING):
            return self.heads(rest, done)  # \b, $ ...: zero-width, the match goes on with what follows
        return {LINE_START if code is _sre.AT_BEGINNING and self.multiline else TEXT_START}
