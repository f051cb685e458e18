"""Training facts a card states in sentences ("a learning rate of 2e-5 for 3 epochs on 8 A100s",
"a fine-tuned version of [X](…) on the Y dataset"), read with the patterns of data/prose.yaml.
`read` is pure: the candidates, in card order; `extract` puts them (prose is the weakest source,
so it runs after the other extractors and only fills gaps); `datasets` gives the dataset mix
entries the spec's `datasets` are built from."""
import functools
import re
from typing import NamedTuple

from cardrepro import data, memo
from cardrepro.extract import literals
from cardrepro.extract.util import fenced_lines, fold_joined, lines_holding, needles_in, prose_lines
from cardrepro.read.source import fold_case, line_texts

MAX_SENTENCE = 2000  # characters of a sentence the patterns see
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])")
_LINK_TARGET = re.compile(r"\]\([^)\s]*\)")
_URL = re.compile(r"https?://\S+")
_LONG_CODE = re.compile(r"`[^`\n]{30,}`")  # a file or spec name, not words
_HUB_URL = re.compile(r"^https?://huggingface\.co/(?P<datasets>datasets/)?(?P<path>[^?#\s]+)")
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.\-]*(?:/[\w.\-]*[A-Za-z0-9])?")
_NOT_REPO = {"tree", "blob", "resolve", "discussions", "commit", "raw", "viewer"}


class Candidate(NamedTuple):
    path: str
    value: object
    line: int
    text: str  # the words that state it
    source: str = "prose"


class _Row(NamedTuple):
    paths: dict  # spec path -> constant value, or None: the matched value
    needles: tuple
    pattern: re.Pattern
    type: str | None
    context: re.Pattern | None
    not_context: tuple
    not_before: re.Pattern | None
    after_not: re.Pattern | None
    keep_links: bool


def _gpu_alternation():
    names = sorted(data.load("training_stages").get("gpus", []), key=len, reverse=True)
    return "|".join(re.escape(g) for g in names)


def _expand(pattern, macros):
    for name, body in macros.items():
        pattern = pattern.replace("{" + name + "}", f"(?:{body})")
    return pattern


@functools.lru_cache(maxsize=None)
def rows():
    conf = data.load("prose")
    macros = dict(conf["macros"], gpu=_gpu_alternation())
    contexts = {k: re.compile(v) for k, v in conf["contexts"].items()}
    gpu_needles = tuple(g.lower() for g in data.load("training_stages").get("gpus", []))
    out = []
    for r in conf["rows"]:
        needles = tuple(r["needles"])
        if "{gpu}" in r["pattern"] and needles == ("gpu",):
            needles = gpu_needles
        paths = r["values"] if "values" in r else {r["path"]: None}
        out.append(_Row(paths, needles, re.compile(_expand(r["pattern"], macros)), r.get("type"),
                        contexts.get(r.get("context")), _names(r.get("not_context"), contexts),
                        re.compile(r["not_before"]) if r.get("not_before") else None,
                        contexts.get(r.get("after_not")), bool(r.get("keep_links"))))
    return tuple(out)


def _names(names, contexts):
    """The patterns a row's guard names (one name or a list)."""
    if not names:
        return ()
    return tuple(contexts[n] for n in ([names] if isinstance(names, str) else names))


def narrative_lines(doc):
    """(line number, text) of the card's running text: not front matter, a parsed block (YAML,
    JSON, code, command, table), a code fence's body, or a table row the reader did not take
    as a table (`7B | OASST1 | 16 | 2e-4`)."""
    return doc.derived("prose.narrative_lines", _narrative_lines)


def _narrative_lines(doc):
    skipped = {l.no for b in doc.blocks for l in b.lines} | fenced_lines(doc)
    return [line for line in prose_lines(doc) if line[0] not in skipped and line[1].count("|") < 2]


def sentences(text):
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def _unlinked(sentence):
    return _LONG_CODE.sub(" ", _URL.sub(" ", _LINK_TARGET.sub("]", sentence)))


def hub_id(m, kind):
    """The hub id a match names: its Hugging Face link's repository, else its `id` token."""
    url = m.groupdict().get("url")
    if url:
        u = _HUB_URL.match(url)
        if not u or bool(u.group("datasets")) != (kind == "datasets"):
            return None
        parts = []
        if u.group("path").split("/")[0] in data.load("prose").get("not_hub_paths", []):
            return None
        for p in u.group("path").split("/"):
            if not p or p in _NOT_REPO or len(parts) == 2:
                break
            parts.append(p)
        ident = "/".join(parts)
    else:
        ident = m.groupdict().get("id")
    if not ident or not _HUB_ID.fullmatch(ident):
        return None
    if ident.lower() in data.load("prose").get("not_dataset_names", []):
        return None
    return ident


def _number(text, kind):
    if text[:1].isalpha():  # a number word (data/prose.yaml number_words)
        return data.load("prose")["number_words"][text.lower()]
    text = text.replace(",", "").replace(" ", "").replace("−", "-")
    if kind == "count" and text[-1] in "kK":
        value = float(text[:-1]) * 1000
        return int(value) if value == int(value) else None
    if kind in ("int", "count"):
        return int(text)
    if kind == "float":
        return float(text)
    return float(text) if any(c in text for c in ".eE") else int(text)


def _value(row, path, m):
    if row.paths[path] is not None:
        return row.paths[path]
    if row.type == "hub_id":
        return hub_id(m, "datasets" if path == "datasets" else "model")
    try:
        return _number(m.group("v"), row.type)
    except (ValueError, OverflowError, IndexError):
        return None


def _matches(row, sentence):
    """The matches of a row in one sentence that its guards let through."""
    if row.context and not row.context.search(sentence):
        return
    if any(p.search(sentence) for p in row.not_context):
        return
    for m in row.pattern.finditer(sentence):
        if row.not_before and row.not_before.search(sentence[max(0, m.start() - 40):m.start()]):
            continue
        if row.after_not and row.after_not.match(sentence[m.end():m.end() + 40].lstrip()):
            continue
        yield m


def read(doc):
    """Every fact the card's sentences state, as candidates in card order."""
    return doc.derived("prose.candidates", lambda d: tuple(_read(d)))


def _read(doc):
    lines = narrative_lines(doc)
    folded, starts = fold_joined(list(line_texts(lines)))
    held = {}  # line index: the needles its fold holds
    places = literals.positions_of(_needles(), folded)  # None: found by plain finds
    for needle in needles_in(folded, _needles()) if places is None else [n for n in _needles() if places[n]]:
        for i in lines_holding(folded, starts, (needle,), places):
            held.setdefault(i, []).append(needle)
    out = []
    for i in sorted(held):
        no, text = lines[i]
        out.extend(Candidate(path, value, no, said) for path, value, said in line_facts(text, frozenset(held[i])))
    return out


@memo.memo(maxsize=1 << 14)
def line_facts(text, held):
    """((spec path, value, the words that state it), ...) that one line's sentences state, in
    order: a pure function of the line, which Hub cards repeat (templates, generated sections).
    `held`: the needles of _needles() that the line's fold holds (a function of the line too).
    A row whose needles are not in the line is in none of its sentences (fold_case maps each
    character on its own, but for a final sigma, which no needle holds)."""
    in_line = _rows_holding(held)
    out = []
    for raw in sentences(text) if in_line else ():
        raw = raw[:MAX_SENTENCE]
        low = fold_case(raw)
        plain = None
        for row, needles in in_line:
            if not any(n in low for n in needles):
                continue
            if plain is None:
                plain = _unlinked(raw)
            out.extend((c.path, c.value, c.text) for c in _stated_once(row, raw if row.keep_links else plain, 0))
    return tuple(out)


def _rows_holding(held):
    """((row, its needles among `held`), ...) for the rows of which `held` holds a needle, in
    rows() order: a sentence of the line can hold no needle its line does not hold."""
    at = _rows_of_needle()
    indices = sorted({i for n in held for i in at.get(n, ())})
    table = rows()
    return [(table[i], tuple(n for n in table[i].needles if n in held)) for i in indices]


@functools.lru_cache(maxsize=None)
def _rows_of_needle():
    """{needle: the indices in rows() of the rows it is a needle of}."""
    out = {}
    for i, r in enumerate(rows()):
        for n in r.needles:
            out.setdefault(n, []).append(i)
    return out


@functools.lru_cache(maxsize=None)
def _needles():
    """Every row's needles, each once."""
    return tuple(dict.fromkeys(n for r in rows() for n in r.needles))


def _stated_once(row, sentence, no):
    """The row's candidates in one sentence; a path the sentence gives two values ("trained
    with a sequence length of 2048 and finetuned with 65536") is left out: which one holds for
    this model, the sentence does not say."""
    found = {}
    for m in _matches(row, sentence):
        for path in row.paths:
            value = _value(row, path, m)
            if value is not None:
                found.setdefault(path, []).append(Candidate(path, value, no, m.group(0)))
    return [c[0] for c in found.values() if len({x.value for x in c}) == 1]


def _put_peft_type(facts):
    if facts.has("peft.type"):
        return
    f = next((f for p, f in facts.items.items() if p.startswith("peft.")), None)
    if f:
        facts.put("peft.type", "lora", f.line, origin="derived", text=f.text,
                  rule="LoRA fields (r, alpha, ...) are stated", source=f.source)


def _put_quant_method(facts):
    """A 4/8-bit base the sentences state is a bitsandbytes one (the spec needs a method)."""
    if facts.has("quantization.method"):
        return
    f = next((f for p, f in facts.items.items() if p.startswith("quantization.load_in_") and f.value is True), None)
    if f:
        facts.put("quantization.method", "bitsandbytes", f.line, origin="derived", text=f.text,
                  rule="4-bit and 8-bit bases (QLoRA, load_in_4bit/8bit) are bitsandbytes quantization",
                  source=f.source)


def extract(doc, facts):
    """Put the first candidate for each spec path the other sources left open."""
    for c in read(doc):
        if c.path != "datasets":
            facts.put(c.path, c.value, c.line, around=c.text, source=c.source)
    _put_peft_type(facts)
    _put_quant_method(facts)


def datasets(doc):
    """The datasets the card's sentences name, as dataset mix entries (extract/datasets.py's shape)."""
    out, seen = [], set()
    for c in read(doc):
        if c.path == "datasets" and c.value not in seen:
            seen.add(c.value)
            out.append({"name": c.value, "options": {}, "line": c.line, "match": c.text})
    return out
