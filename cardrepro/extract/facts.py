"""A fact is a value at a spec path with where it came from. Extractors put facts; every fact
put is kept as a candidate for its path, and the winner is the candidate whose kind of card text
(`Fact.source`) comes first in the trainer profile's precedence (cardrepro/resolve.py), the first
put among equals. `items` holds the winner so far, so that extractors can read earlier facts."""
import bisect
import operator
import re
from dataclasses import dataclass

SHOWN = 160  # characters of a card line a provenance entry quotes
AROUND = 60  # characters kept either side of the words the fact rests on, in a longer line
LONG_LINE = 4096
_TOKEN = re.compile(r"[^\s:=|,;\"'`()\[\]{}<>]+")  # an option `--lr`, a key before `:`, a value

# The kinds of card text a value can be read from (Fact.source), and the two kinds of value no
# card text states: one derived from other facts, one a trainer's documented default.
SOURCES = ("cli", "config", "code", "table", "list", "frontmatter", "prose")
FILLERS = ("derived", "default")
_BLOCK_SOURCE = {"frontmatter": "frontmatter", "yaml": "config", "json": "config", "python": "code",
                 "shell": "cli", "table": "table"}
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


@dataclass
class Fact:
    value: object
    origin: str  # card | cli | default:<profile> | derived
    line: int | None
    text: str | None
    rule: str | None = None
    source: str | None = None  # the kind of card text it was read from (SOURCES); precedence is by source

    def provenance(self):
        out = {"origin": self.origin, "line": self.line, "text": self.text}
        if self.rule:
            out["rule"] = self.rule
        return out


_NO = operator.attrgetter("no")


def _line_text(lines, no):
    """The text of card line `no` in `lines` (in card order), stripped, "" if none; a flattened
    card has many segments on one card line, joined by a space (an empty segment adds nothing
    but it). Found by bisection: a card has thousands of lines and a few facts."""
    if no is None:
        return ""
    i, n = bisect.bisect_left(lines, no, key=_NO), len(lines)
    if i == n or lines[i].no != no:
        return ""
    if i + 1 == n or lines[i + 1].no != no:  # a line a number, as nearly every card
        return lines[i].text.strip()
    text = ""
    while i < n and lines[i].no == no:
        segment = lines[i].text.strip()
        text = f"{text} {segment}" if text else segment
        i += 1
    return text


def _holds(lines, no):
    """Whether `lines` (in card order) hold a line numbered `no`."""
    if not lines or not lines[0].no <= no <= lines[-1].no:
        return False
    return lines[bisect.bisect_left(lines, no, key=_NO)].no == no


class Facts:
    def __init__(self, doc, precedence=SOURCES + FILLERS):
        self.doc = doc
        # source -> rank; an entry of the precedence may be a group of sources that rank alike
        self.rank = {source: i for i, entry in enumerate(precedence)
                     for source in (entry if isinstance(entry, (list, tuple)) else [entry])}
        self.items = {}  # path -> the winning Fact so far, insertion ordered
        self.candidates = {}  # path -> every Fact put for it, in the order put
        self._block_source = {}  # card line -> kind of the block holding it, as asked
        self.extra_provenance = {}  # path -> Fact, for list entries (datasets[0]) etc.
        self.conflicts = []
        self.truncated = []  # {path, line, kept, left_out}: lists cut at a limit (hygiene.truncated)
        self._tokens = {}  # line -> {token: offset of its first occurrence}, for long lines

    def _text(self, line):
        return _line_text(self.doc.lines, line)

    def text_of(self, line, around=None):
        text = self._text(line)
        if around and len(text) > SHOWN:
            i = self._offset(line, text, around)
            if i >= 0:
                text = text[max(0, i - AROUND): i + len(around) + AROUND]
        return text[:SHOWN] if text else None

    def _offset(self, line, text, around):
        """Where `around` first stands in the line. A line longer than LONG_LINE (a command of
        60,000 options) has its tokens indexed once and `around` is looked up as a whole token
        first: one pass over the line, not a scan of it per fact."""
        if len(text) <= LONG_LINE:
            return text.find(around)
        tokens = self._tokens.get(line)
        if tokens is None:
            tokens = self._tokens[line] = {}
            for m in _TOKEN.finditer(text):
                tokens.setdefault(m.group(), m.start())
        i = tokens.get(around)
        return text.find(around) if i is None else i

    def put(self, path, value, line=None, origin="card", text=None, rule=None, override=False, around=None,
            source=None):
        """Keep the fact as a candidate for `path`; True if it is the winner so far (it outranks
        the current one, or `override` says the extractor replaces its own earlier value)."""
        if value is None:
            return False
        if text is None:
            text = self.text_of(line, around or (str(value) if isinstance(value, (str, int, float)) else None))
        fact = Fact(value, origin, line, text, rule, source or self.source_of(origin, line))
        if override:
            self.candidates[path] = [fact]
        else:
            self.candidates.setdefault(path, []).append(fact)
        current = self.items.get(path)
        if current is not None and not override and self.rank_of(fact) >= self.rank_of(current):
            return False
        self.items[path] = fact
        return True

    def rank_of(self, fact):
        return self.rank.get(fact.source, len(self.rank))

    def source_of(self, origin, line):
        """The kind of card text at `line`, for a fact its reader did not tag: a default or a
        derived value by its origin, else the block holding the line, else a list item or prose."""
        if origin.startswith("default:"):
            return "default"
        if origin in FILLERS or origin == "cli":
            return origin
        if not line:
            return "prose"
        kind = self._block_kind(line)
        if kind in (None, "config") and _LIST_ITEM.match(self._text(line)):
            return "list"
        return kind or "prose"

    def _block_kind(self, line):
        """The kind of text (_BLOCK_SOURCE) of the first block holding `line`; None outside
        blocks. Each line asked once, each block's lines looked up by number (a block's lines
        go in card order), not every block line of the card mapped."""
        kinds = self._block_source
        if line not in kinds:
            kinds[line] = next((_BLOCK_SOURCE.get(b.kind) for b in self.doc.blocks if _holds(b.lines, line)), None)
        return kinds[line]

    def get(self, path, default=None):
        f = self.items.get(path)
        return f.value if f else default

    def has(self, path):
        return path in self.items

    def capped(self, items, limit, path, line):
        """The first `limit` of `items`; a longer list is recorded as cut, with how many entries
        were left out (hygiene.truncated, audit CR603), so that its size cannot drive the parse."""
        if len(items) > limit:
            self.truncated.append({"path": path, "line": line, "kept": limit, "left_out": len(items) - limit})
        return items[:limit]

    def note(self, path, fact):
        self.extra_provenance[path] = fact
