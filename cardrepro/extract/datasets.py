"""The dataset mix: names and per-dataset options in card order, and each dataset's
availability from the registry and from the card's own words."""
import bisect
import re

from cardrepro import data
from cardrepro.extract.util import joined_lines, line_starts, prose_lines, prose_lines_searched

WINDOW = 15  # characters around a dataset's name in which "internal" must appear
MAX_DATASETS = 1000  # entries of a dataset list read (real cards list at most a few hundred)
# a name that is a path on the machine that trained: redacted (`<local>/x.jsonl`, read/redact.py),
# absolute, relative, home, or a data file
_LOCAL_PATH = re.compile(r"^(?:<local>|/|\./|\.\./|~/)|\.(?:jsonl?|csv|tsv|parquet|arrow|txt)(?:\.gz)?$", re.I)


def _said_lines(doc):
    """(lower-cased text, start offsets, prose-line indices) of the lines where a dataset can be
    called internal: a line with an internal or remove word, and the line before it (a sentence
    split over two lines). Built once per card; each name is then looked for in these lines
    only, not in the whole card."""
    return doc.derived("datasets.internal_said_lines", _find_said_lines)


def _find_said_lines(doc):
    conf = data.load("training_stages")
    said = _lines_holding(doc, conf["internal_words"] + conf["remove_words"])
    if not said:  # most cards
        return "", [0], []
    lines = prose_lines(doc)
    nos = [no for no, _ in lines] + [None]
    index = [i for i in range(len(lines)) if nos[i] in said or nos[i + 1] in said]
    lowered = [lines[i][1].lower() for i in index]
    return "\n".join(lowered), line_starts(lowered), index


def _lines_holding(doc, words):
    """Numbers of the prose lines that hold one of the words (literals without a line end): a
    find per word in the card's joined text."""
    text, starts, lines = joined_lines(doc)
    said = set()
    for word in words:
        at = text.find(word)
        while at != -1:
            i = bisect.bisect_right(starts, at) - 1
            said.add(lines[i][0])
            at = text.find(word, starts[i + 1] if i + 1 < len(starts) else len(text))
    return said


def _lines_naming(doc, name):
    """Indices into prose_lines(doc) of the _said_lines that contain `name`, case aside."""
    text, starts, index = _said_lines(doc)
    needle = name.lower()
    if not needle or "\n" in needle:
        return []
    found, pos = [], text.find(needle)
    while pos != -1:
        k = bisect.bisect_right(starts, pos) - 1
        found.append(index[k])
        pos = text.find(needle, starts[k + 1])
    return found


def card_says_internal(doc, name):
    """(line, text) of a card line that calls `name` internal or says to remove it."""
    conf = data.load("training_stages")
    words = conf["internal_words"] + conf["remove_words"]
    lines = prose_lines(doc)
    hits = _lines_naming(doc, name)
    if not hits:  # most names: no line to read, no pattern to build
        return None
    named = re.compile(r"(?<![A-Za-z0-9_\-])" + re.escape(name) + r"(?![A-Za-z0-9_\-])", re.I)
    for i in hits:
        no, text = lines[i]
        for m in named.finditer(text):
            window = text[max(0, m.start() - WINDOW): m.end() + WINDOW]
            if any(w in window for w in words) and not re.match(r"^\s*-\s*" + re.escape(name), text):
                return no, text
    # a sentence split over two lines: "包含内部数据集ikala" / ",复现时需移除该数据集"
    for i in hits:
        if i + 1 == len(lines):
            continue
        (no, text), nxt = lines[i], lines[i + 1][1]
        both = text + nxt
        if (re.search(re.escape(name) + r"\s*$", text, re.I) and any(w in both for w in words)
                and not re.match(r"^\s*-\s*" + re.escape(name), text)):
            return no, text
    return None


def availability(doc, name, options, stated=None):
    """(availability, line, rule)."""
    said = card_says_internal(doc, name)
    if said:
        return "internal", said[0], "the card says so"
    if stated:
        return "internal", None, "the card says it was collected internally"
    key, entry = data.registry_entry(name)
    if entry:
        av = entry.get("availability", "unknown")
        if av in ("internal", "unreleased"):
            return "internal", None, f"registry entry '{key}': {av}"
        if av == "public":
            return "public", None, f"registry entry '{key}'"
    if (options or {}).get("input_file_path"):
        return "local_path", None, "read from a local input_file_path"
    if _LOCAL_PATH.search(name):
        return "local_path", None, "the name is a file path on the training machine"
    return "unknown", None, "not in the registry and the card does not say"


def phrase_datasets(doc):
    """Datasets the card describes without naming (data/dataset_phrases.yaml)."""
    out = []
    whole = joined_lines(doc)[0]
    for p in data.load("dataset_phrases").get("phrases", []):
        pat = re.compile(p["pattern"])
        if _blind_to_line_ends(p["pattern"]) and not pat.search(whole):  # then no line holds it
            continue
        for i in prose_lines_searched(doc, pat)[:1]:
            no, text = prose_lines(doc)[i]
            m = pat.search(text)
            options = {p["option"]: int(m.group(1))} if p.get("option") and m.groups() else {}
            out.append({"name": p["dataset"], "options": options, "line": no, "match": m.group(0)})
    return out


_LINE_SENSITIVE = re.compile(r"\\[bBAZ]|\(\?<?[=!]|(?<!\[)\^|\$|\(\?[a-z]*m")  # what sees a line's start or end


def _blind_to_line_ends(pattern):
    """Whether a pattern that matches in a line also matches in the card's lines joined: true
    when it holds no anchor, word boundary or look-around (each of which sees a line's start or
    end), nor a multi-line flag."""
    return not _LINE_SENSITIVE.search(pattern)


def config_datasets(doc):
    """The mix of a training config the card includes: Axolotl's `datasets: [{path, type}]`,
    LLaMA-Factory's `dataset: a,b`, or a plain `datasets:` list of names."""
    out = []
    for block in doc.of_kind("yaml"):
        value = block.value if isinstance(block.value, dict) else {}
        items = value.get("datasets")
        if isinstance(value.get("dataset"), str):
            items = [n.strip() for n in value["dataset"].split(",") if n.strip()]
            key = "dataset"
        else:
            key = "datasets"
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            no = block.where.get((key, i)) or block.where.get((key,)) or block.start
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                out.append({"name": item["path"], "options": {k: v for k, v in item.items() if k != "path"}, "line": no})
            elif isinstance(item, str):
                out.append({"name": item, "options": {}, "line": no})
        if out:
            return out
    return out
