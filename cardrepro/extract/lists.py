"""Settings a card writes as markdown bullets, one `key=value` or `Label: value` a line:

    * learning_rate=5e-5          - **Learning rate:** 1e-5
    * target_modules=['k_proj']   * Weight decay: 0.1

Keys go through the spelling table (data/keys.yaml, extract/canonical.py); a value is a Python or
YAML literal of the type its spec field holds (schemas/spec.schema.json), else it states
nothing (`eval_steps = logging_steps`, `Batch size: 1'024 sequences`). `- key: value` lines the
reader took as a YAML block are read there, not here. A path the card's bullets give two values
(one list per model of a multi-model card) is left out: which one holds, the card does not say.

`read(doc)` is pure: candidates (path, value, line, text, source); `extract` puts them."""
import ast
import bisect
import datetime
import functools
import re

from cardrepro import memo, validate
from cardrepro.extract import canonical
from cardrepro.extract.util import fenced_lines, joined_lines
from cardrepro.read import yamlish, yamlsafe

SOURCE = "list"
SECTIONS = canonical.SETTING_SECTIONS + ("generation",)
MAX_LINE = 400  # characters of a bullet line looked at: settings are short
_PLAIN_SHAPE = yamlish.Shape()
_BULLET = re.compile(r"^\s*[-*+]\s")
# `* key=value`, `- **Label:** value`, `* `key`: value`: the key (letters, digits, spaces, `_.-/`),
# then `=`, `:` or `：`, then the value (bold or code marks around it are dropped).
_SETTING = re.compile(
    r"^\s*[-*+]\s+(?:\*\*|__)?`?(?P<key>[A-Za-z][\w .\-/]{0,48}?)`?\s*(?:\*\*|__)?\s*(?P<sep>[=:：])\s*"
    r"(?:\*\*|__)?\s*`?(?P<value>[^`\s*][^`]*?)`?\s*(?:\*\*|__)?\s*$")


def read(doc):
    """Candidates from every bullet line outside code fences and parsed blocks."""
    in_blocks = None  # worked out at the first setting line: most cards have none
    found = {}  # path -> [candidate]
    text, starts, lines = joined_lines(doc)
    for m in _MARKED.finditer("\n" + text):  # "\n" + text: group 1 starts where its line does
        seen = _bullet_line(m.group(1))
        if not seen:
            continue
        no, line = lines[bisect.bisect_right(starts, m.start(1) - 1) - 1]
        if in_blocks is None:
            in_blocks = _read_elsewhere(doc) | fenced_lines(doc)
        if no in in_blocks:
            continue
        for path, value in thawed_pairs(seen):
            found.setdefault(path, []).append((path, value, no, line.strip(), SOURCE))
    return [c[0] for c in found.values() if len({repr(x[1]) for x in c}) == 1]


# The lines `_bullet_line` may take (a bullet opening with a key's letter, a separator later),
# each whole, in the card's lines joined (util.joined_lines), each after a newline: no line holds
# one, and `[^\S\n]` is a line's `\s`. A pattern that opens with a literal is
# searched for that literal, not tried at every place.
_MARKED = re.compile(r"\n([^\S\n]*[-*+][^\S\n]+(?:\*\*|__)?`?[A-Za-z][^\n]*[=:：][^\n]*)")


@memo.memo(maxsize=1 << 16)
def _bullet_line(text):
    """What one card line is to this reader: the (path, value) its setting states
    (values frozen: see `frozen_pairs`), or () for a line that is no setting bullet. The same lines come
    back card after card (templates, auto-cards): each is read once."""
    if not _BULLET.match(text) or len(text) > MAX_LINE:
        return ()
    m = _SETTING.match(text)
    if not m:
        return ()
    key = m.group("key")
    # a label in words names a generation setting too loosely: `Top K: 4` is a MoE's routing
    sections = SECTIONS if " " not in key.strip() else canonical.SETTING_SECTIONS
    if not may_state(key, sections):
        return ()
    return frozen_pairs(stated(key, parse_value(m.group("value")), sections))


def frozen_pairs(pairs):
    """[(path, value)] as a memo may keep it: a list value as a tuple, marked."""
    return tuple((p, tuple(v), True) if isinstance(v, list) else (p, v, False) for p, v in pairs)


def thawed_pairs(frozen):
    """`frozen_pairs`'s pairs back, each list value a new list (a caller may change it)."""
    return [(p, list(v) if was_list else v) for p, v, was_list in frozen]


def _read_elsewhere(doc):
    """Card lines another reader takes: every line of a parsed block but the items of a YAML
    list (`- learning_rate = 2e-5` is a YAML string; `- lr: 2e-5` a YAML key, read there)."""
    out = set()
    for b in doc.blocks:
        if b.kind == "yaml":
            out.update(l.no for l in b.lines if yamlish.key_line(l.text, _PLAIN_SHAPE))
        else:
            out.update(l.no for l in b.lines)
    return out


def parse_value(raw):
    """A value as a card writes it: a Python literal (`['q_proj', 'v_proj']`, `(0.9, 0.99)`,
    `"cosine"`, `True`) or a YAML scalar (`5e-5`, `cosine`, `true`)."""
    raw = raw.strip().rstrip(",;").strip()
    if raw[:1] in "([\"'":
        try:
            value = ast.literal_eval(raw)
            return list(value) if isinstance(value, tuple) else value
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            pass
    value = _scalar(raw)
    return yamlsafe.scalar(raw) if value is _MUTABLE else value


_MUTABLE = object()
_IMMUTABLE = (str, int, float, bool, type(None), datetime.date, bytes)


@memo.memo(maxsize=1 << 16)
def _scalar(raw):
    """yamlsafe.scalar(raw), kept when immutable (a flow mapping is loaded afresh each time)."""
    value = yamlsafe.scalar(raw)
    return value if isinstance(value, _IMMUTABLE) else _MUTABLE


def stated(key, value, sections=SECTIONS):
    """[(path, value)] that `key` with `value` states through the spelling table, each value of
    the type its spec field holds."""
    labelled = canonical.word_label(key) if " " in key.strip() else None
    out = []
    for path, v in [(labelled, value)] if labelled else canonical.facts(key, value, sections):
        v = fitted(path, v)
        if v is not None:
            out.append((path, v))
    return out


@memo.memo(maxsize=1 << 15)
def may_state(key, sections=SECTIONS):
    """Whether `stated(key, value, sections)` may give anything for some value (else the value
    need not be read)."""
    if " " in key.strip() and canonical.word_label(key):
        return True
    return canonical.states_something(key, sections)


def fitted(path, value):
    """`value` as the spec field at `path` holds it (an integral float for an integer field),
    or None when it is not of that type: a word is no number, a sentence no name."""
    kinds = _types(path)
    if kinds & {"integer", "number"}:
        value = canonical.grouped_int(value)
    if isinstance(value, bool):
        return value if "boolean" in kinds or not kinds else None
    if isinstance(value, float) and "integer" in kinds and "number" not in kinds:
        return int(value) if value.is_integer() else None
    if isinstance(value, (int, float)):
        if value < 0 and path.startswith("training."):
            return None  # `max_steps: -1`: the framework's "not set"
        return value if not kinds or kinds & {"integer", "number"} else None
    if isinstance(value, str):
        return value if (not kinds or "string" in kinds or "enum" in kinds) and _one_word(value) else None
    if isinstance(value, list):
        ok = kinds & {"array"} and all(isinstance(v, str) and _one_word(v) for v in value)
        return value if ok and value else None
    return None


def describes(path, value):
    """Whether `value` is a sentence (words ending in a full stop) where the field at `path` holds a number, a switch or a fixed
    choice: a glossary line defines the setting and states no value of it (TheBloke's GPTQ cards:
    `- Sequence Length: The length of the dataset sequences used for quantisation.`). A sentence
    with a digit in its first sentence may be a value written in words (`Constant learning rate
    of `1e-5`.`), and stays a finding of the wrong type. A field the schema leaves open
    (`quantization.bits`) holds no sentence either."""
    if not isinstance(value, str) or "string" in _types(path):
        return False
    first = _FIRST_SENTENCE.match(value)
    return bool(first) and len(first.group(0).split()) >= 3 and not any(c.isdigit() for c in first.group(0))


_FIRST_SENTENCE = re.compile(r".*?[a-z][.!?](?=\s|$)", re.S)  # words ending in a full stop


_NOT_A_NAME = re.compile(r"[\s\[\](){}<>|]|://")  # spaces, a markdown link, a URL, a placeholder


def _one_word(text):
    return bool(text) and len(text) <= 100 and not _NOT_A_NAME.search(text)


@functools.lru_cache(maxsize=None)
def _types(path):
    """The JSON types the spec schema allows at a dotted path ({"enum"} for an enumeration);
    empty when the schema does not describe the field."""
    node = validate.schema("spec")
    for part in path.split("."):
        node = (node.get("properties") or {}).get(part)
        if node is None:
            return frozenset()
    if "enum" in node:
        return frozenset({"enum"})
    kind = node.get("type")
    return frozenset([kind] if isinstance(kind, str) else kind or [])


def extract(doc, facts):
    for path, value, line, _, source in read(doc):
        facts.put(path, value, line, origin="card", source=source)
