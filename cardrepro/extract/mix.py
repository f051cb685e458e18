"""The training mix: which datasets the card says the model was trained on, from each kind of
card text that states one (data/training_data.yaml). `read` is pure: one candidate per source
that states a mix (its entries in card order), strongest first; `choose` takes the strongest and
lets the front matter name a sentence's dataset exactly (`refine`)."""
import functools
import itertools
import operator
import re
from typing import NamedTuple

from cardrepro import data, memo
from cardrepro.extract import canonical, command, prose
from cardrepro.extract import datasets as ds_extract

_HUB_DATASET = re.compile(r"https?://huggingface\.co/datasets/(?P<id>[A-Za-z0-9][\w.\-]*(?:/[A-Za-z0-9][\w.\-]*)?)")
_LINK = re.compile(r"\[(?P<text>[^\]\n]{1,200})\]\((?P<url>[^)\s]{1,300})\)")
# a link that opens an item of a list written as prose: at the line's start, or after `.`, `;`, `:`
# or `, and`
_ITEM_START = re.compile(r"(?:^|[.;:]\s*|,\s+)(?:and\s+)?(?:[-*+]\s+)?$", re.I)
# a line that may name a dataset: a datasets link, or a hub id after "on"; its first letter looked
# ahead for (a scan, not a try at every place), the run before `/` not given back (`/` is not in
# it): 1.5x faster than the plain `huggingface\.co/datasets/|\bon\s+(?:the\s+)?`?[\w.\-]+/[\w.\-]`
_MAY_NAME = re.compile(r"(?=[hHoO])(?:huggingface\.co/datasets/|\bon\s+(?:the\s+)?`?[\w.\-]++/[\w.\-])", re.I)
_NOT_REPO = {"tree", "blob", "resolve", "viewer", "discussions", "raw"}
_MARKUP = re.compile(r"[*_`]")
_PATH_SLOT = re.compile(r"(?:^|/)(?:your[\w-]*|path/to)/", re.I)  # `/your/path/to/data.json`: a slot to fill


class Candidate(NamedTuple):
    path: str  # always "datasets"
    value: list  # entries {name, options, line, match}
    line: int
    text: str
    source: str  # the kind of card text (extract/facts.py SOURCES)
    reader: str  # which reader found it (training_data.yaml precedence)


@functools.lru_cache(maxsize=None)
def _conf():
    conf = data.load("training_data")
    s = conf["sentence"]
    return {**conf, "re": {k: re.compile(s[k]) for k in ("verb", "stop", "not_context", "available",
                                                        "id_after_on", "counted", "preposition", "joiner")}}


def entry(name, line, match, options=None):
    return {"name": name, "options": dict(options or {}), "line": line, "match": match}


def hub_dataset(url):
    """`org/name` (or a bare `name`) of a Hugging Face datasets link, else None."""
    m = _HUB_DATASET.match(url or "")
    if not m:
        return None
    parts = m.group("id").split("/")
    if len(parts) == 2 and parts[1] in _NOT_REPO:
        parts = parts[:1]
    return "/".join(parts)


# --- commands -------------------------------------------------------------------------------

def command_mix(doc):
    """`--dataset a,b,c` / `--dataset_name X` / `--data_path F` of the card's first training
    command that names one (keys.yaml `datasets`)."""
    for cmd in command.commands(doc):
        if not command.is_training(cmd):
            continue
        out = []
        for key, raw in cmd.flags:
            if not isinstance(raw, str) or canonical.path(key, ("datasets",)) != "datasets.name":
                continue
            no, _ = cmd.where(key)
            for name in (n.strip() for n in raw.split(",")):
                if name and not command.is_placeholder(name) and not _PATH_SLOT.search(name):
                    out.append(entry(name, no, name))
        if out:
            return out
    return []


# --- tables ---------------------------------------------------------------------------------

def _header(cell):
    return _MARKUP.sub("", cell).strip().lower()


def _cell_name(cell):
    """A table cell's dataset: the hub id of its datasets link, else its link text, else its text."""
    m = _LINK.search(cell)
    if m:
        return hub_dataset(m.group("url")) or _MARKUP.sub("", m.group("text")).strip()
    return _MARKUP.sub("", cell).strip()


def table_mix(doc):
    """The rows of the first table whose first column names data and another its share
    ("Data source | Fraction | Tokens")."""
    conf = _conf()["table"]
    for block in doc.of_kind("table"):
        rows = block.value or []
        if len(rows) < 2:
            continue
        if not rows[0][1] or _header(rows[0][1][0]) not in conf["name_headers"]:  # most tables: one cell read
            continue
        if not any(_header(c) in conf["share_headers"] for c in rows[0][1][1:]):
            continue
        out = []
        for no, cells in rows[1:ds_extract.MAX_DATASETS + 1]:
            name = _cell_name(cells[0]) if cells else ""
            if (name and name.lower() not in conf["not_names"] and not re.fullmatch(r"[\d.,%\s]+", name)
                    and all(e["name"] != name for e in out)):  # subsets of one dataset: one entry
                out.append(entry(name, no, cells[0].strip()))
        if out:
            return out
    return []


# --- sentences ------------------------------------------------------------------------------

def _paragraphs(doc):
    """[[(line, sentence), ...], ...]: the card's paragraphs of running text that can name a
    dataset (a datasets link, or "on org/name"), split into sentences."""
    lines = prose.narrative_lines(doc)
    out, end = [], 0
    for i in _naming_lines(lines):
        if i < end:  # in the paragraph before
            continue
        start, end = i, i + 1
        while start > 0 and lines[start - 1][0] + 1 == lines[start][0]:
            start -= 1
        while end < len(lines) and lines[end][0] == lines[end - 1][0] + 1:
            end += 1
        out.append([(no, s) for no, text in lines[start:end] for s in _sentences(text)])
    return out


def _naming_lines(lines):
    """Indices of the lines _MAY_NAME finds in: each of its ways holds a `/`."""
    texts = map(operator.itemgetter(1), lines)
    slashed = itertools.compress(range(len(lines)), map(operator.contains, texts, itertools.repeat("/")))  # in C
    return [i for i in slashed if _may_name(lines[i][1])]


@memo.memo(maxsize=1 << 15)
def _may_name(text):
    return _MAY_NAME.search(text) is not None


@memo.memo(maxsize=1 << 14)
def _sentences(text):
    return tuple(prose.sentences(text))


def _plain(text):
    return prose._LINK_TARGET.sub("]", text)


def _links_after(sentence, start, reach=None):
    """(hub id, link markdown) of the datasets links that follow `start` in `sentence`: the first
    within `reach` characters of running text (link targets aside) after a preposition ("on",
    "using", ...), each next one joined to the one before by a list word ("and", ","); up to the
    words that turn to other data (evaluation)."""
    res = _conf()["re"]
    stop = res["stop"].search(sentence, start)
    end = stop.start() if stop else len(sentence)
    out, last = [], start
    for m in _LINK.finditer(sentence, start, end):
        name = hub_dataset(m.group("url"))
        gap = _plain(sentence[last:m.start()])
        if out:
            ok = len(gap) <= _conf()["sentence"]["join_chars"] and res["joiner"].fullmatch(gap)
        else:
            ok = reach is None or (len(gap) <= reach and res["preposition"].search(gap))
        if not ok:
            if out:
                break
            continue
        if name:
            out.append((name, m.group(0)))
            last = m.end()
        elif out:
            break
    return out


def _counted(paragraph, k, n):
    """The first n links of the paragraph from sentence k on that open a list item, when
    exactly n do."""
    found = []
    for no, sentence in paragraph[k:]:
        for m in _LINK.finditer(sentence):
            if _ITEM_START.search(sentence[:m.start()]):
                name = hub_dataset(m.group("url")) or m.group("text").strip("` ")
                found.append(entry(name, no, m.group(0)))
    return found if len(found) == n else []


def _sentence_entries(paragraph, k):
    """The datasets sentence k of a paragraph says the model was trained on."""
    conf = _conf()
    res = conf["re"]
    no, sentence = paragraph[k]
    if res["not_context"].search(sentence):
        return []
    if res["available"].search(sentence):
        return [entry(name, no, md) for name, md in _links_after(sentence, 0)]
    verb = res["verb"].search(sentence)
    if not verb:
        return []
    counted = res["counted"].search(sentence, verb.end())
    if counted:
        n = conf["sentence"]["numbers"].get(counted.group("n").lower()) or int(counted.group("n"))
        return _counted(paragraph, k, n)
    found = []
    for v in res["verb"].finditer(sentence):
        found = [entry(name, no, md) for name, md in _links_after(sentence, v.end(), conf["sentence"]["reach"])]
        if found:
            break
    if not found:
        named = res["id_after_on"].search(prose._LINK_TARGET.sub("]", sentence), verb.end() - 1)
        if named:
            found = [entry(named.group("id"), no, named.group("id"))]
    return found


def sentence_mix(doc):
    """Every dataset the card's sentences say it was trained on, in card order, once each."""
    needles = _conf()["sentence"]["needles"]
    out, seen = [], set()
    for paragraph in _paragraphs(doc):
        for k, (_, sentence) in enumerate(paragraph):
            low = sentence.lower()
            if not any(n in low for n in needles):
                continue
            for e in _sentence_entries(paragraph, k):
                if e["name"].lower() not in seen:
                    seen.add(e["name"].lower())
                    out.append(e)
    for e in prose.datasets(doc):  # data/prose.yaml: "a fine-tuned version of X on the Y dataset"
        if e["name"].lower() not in seen:
            seen.add(e["name"].lower())
            out.append(e)
    return sorted(out, key=lambda e: e["line"])


# --- front matter ---------------------------------------------------------------------------

def frontmatter_mix(doc):
    for block in doc.of_kind("frontmatter"):
        meta = block.value if isinstance(block.value, dict) else {}
        paths = canonical.metadata_paths()  # built on each call: once per card, not per key
        key = next((k for k in meta if paths.get(canonical.fold(k)) == "metadata_datasets"), None)
        items = meta.get(key) if key is not None else None
        if isinstance(items, list):
            line = block.where.get((key,), block.start)
            return [entry(str(d), block.where.get((key, i), line), str(d))
                    for i, d in enumerate(items[:ds_extract.MAX_DATASETS]) if isinstance(d, (str, int))]
    return []


# --- the mix --------------------------------------------------------------------------------

_READERS = {"cli": (command_mix, "cli"), "table": (table_mix, "table"), "prose": (sentence_mix, "prose"),
            "frontmatter": (frontmatter_mix, "frontmatter")}


def read(doc, extra=None):
    """One candidate per reader that finds a mix, in the precedence of training_data.yaml.
    `extra`: {reader name: (entries, source)} found by other modules (a config block, a stage)."""
    out = []
    for name in _conf()["precedence"]:
        if extra and name in extra:
            entries, source = extra[name]
        elif name in _READERS:
            fn, source = _READERS[name]
            entries = fn(doc)
        else:
            continue
        if entries:
            out.append(Candidate("datasets", entries, entries[0]["line"], entries[0].get("match") or entries[0]["name"], source, name))
    return out


def _folded(name):
    return re.sub(r"[^a-z0-9]", "", str(name).split("/")[-1].lower())


def refine(entries, metadata):
    """Entries with a sentence's dataset replaced by the front matter entry that names its exact
    hub repository (`stingning/ultrachat` -> `HuggingFaceH4/ultrachat_200k`), when exactly one
    front matter entry does."""
    least = _conf()["refine"]["min_chars"]
    out = []
    for e in entries:
        short = _folded(e["name"])
        hits = [m for m in metadata if len(short) >= least and _folded(m["name"]).startswith(short)]
        if len(hits) == 1 and hits[0]["name"] != e["name"]:
            e = {**hits[0], "refines": e}
        out.append(e)
    return out


def choose(candidates):
    """The strongest candidate's entries, a sentence's refined by the front matter, or []."""
    if not candidates:
        return [], None
    best = candidates[0]
    entries = best.value
    if best.reader == "prose":
        fm = next((c.value for c in candidates if c.reader == "frontmatter"), [])
        entries = refine(entries, fm)
    return entries, best
