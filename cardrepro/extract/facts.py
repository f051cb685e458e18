"""A fact is a value at a spec path with where it came from. Extractors put facts; the first
fact for a path wins unless a later one is marked as overriding."""
from dataclasses import dataclass

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
        self._line_text = {}
        for l in doc.lines:  # a flattened card has many segments on one card line: keep them all
            prev = self._line_text.get(l.no)
            self._line_text[l.no] = f"{prev} {l.text.strip()}" if prev else l.text.strip()

    def text_of(self, line, around=None):
        text = self._line_text.get(line, "")
        if around and len(text) > 160 and around in text:
            i = text.index(around)
            text = text[max(0, i - 60): i + len(around) + 60]
        return text[:160] if text else None

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

    def note(self, path, fact):
        self.extra_provenance[path] = fact
