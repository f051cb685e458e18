"""A fact is a value at a spec path with where it came from. Extractors put facts; the first
fact for a path wins unless a later one is marked as overriding."""
import re
from dataclasses import dataclass

SHOWN = 160  # characters of a card line a provenance entry quotes
AROUND = 60  # characters kept either side of the words the fact rests on, in a longer line
LONG_LINE = 4096
_TOKEN = re.compile(r"[^\s:=|,;\"'`()\[\]{}<>]+")  # an option `--lr`, a key before `:`, a value

# The kinds of card text a value can be read from (Fact.source).
SOURCES = ("cli", "config", "code", "table", "list", "frontmatter", "prose")


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


class Facts:
    def __init__(self, doc):
        self.doc = doc
        self.items = {}  # path -> Fact, insertion ordered
        self.extra_provenance = {}  # path -> Fact, for list entries (datasets[0]) etc.
        self.conflicts = []
        self.truncated = []  # {path, line, kept, left_out}: lists cut at a limit (hygiene.truncated)
        self._line_text = {}
        self._tokens = {}  # line -> {token: offset of its first occurrence}, for long lines
        for l in doc.lines:  # a flattened card has many segments on one card line: keep them all
            prev = self._line_text.get(l.no)
            self._line_text[l.no] = f"{prev} {l.text.strip()}" if prev else l.text.strip()

    def text_of(self, line, around=None):
        text = self._line_text.get(line, "")
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
        if value is None:
            return False
        if path in self.items and not override:
            return False
        if text is None:
            text = self.text_of(line, around or (str(value) if isinstance(value, (str, int, float)) else None))
        self.items[path] = Fact(value, origin, line, text, rule, source)
        return True

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
