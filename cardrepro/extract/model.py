"""The base model (what training started from), its architecture, the released checkpoint, and
a stated vocabulary size."""
import re

from cardrepro.extract.prose import hub_id
from cardrepro.extract.util import family_of, joined_lines, number, prose_lines, search_lines

# Ordered by how explicitly the card says "this is what training started from". Each with the
# lower-case literal its matches contain, or a tuple of them (`search_lines` skips a card without it):
# one that all its spellings share is one find where each spelling would be one (`原`, `基`: two).
_BASE_PATTERNS = [
    (re.compile(r"(?i)\*{0,2}(?:finetuned|fine-tuned|trained) from(?: model)?:?\*{0,2}:?\s*"
                r"(?:\[[^\]\n]{1,200}\]\((?P<url>https?://huggingface\.co/[^)\s]{1,300})\)|\[?([\w.\-]+/[\w.\-]+))"),
     "ed from"),
    (re.compile(r"(?i)\bbase[ _]model:?\*{0,2}:?\s*\[?([\w.\-]+/[\w.\-]+)"), ("base model", "base_model")),
    (re.compile(r"(?i)on top of the (?:native |original )?([A-Za-z][\w.\-]*-\d+(?:\.\d+)?[BbMm])\b"), "on top of the "),
    (re.compile(r"(?:原生的|原始的|基于|基於)\s*([A-Za-z][\w.\-]*-\d+(?:\.\d+)?[BbMm])"), ("原", "基")),
]
_TITLE_FAMILY = re.compile(r"^#\s*([A-Z][A-Za-z]+)[\-\s]")
_RELEASED = re.compile(r"(?i)checkpoint:?\*{0,2}:?\s*((\d+)\s*epochs?\s*\((\d+)\s*steps\))")
_VOCAB = [
    (re.compile(r"(?i)vocabulary of size\s*([\d,]+)"), "vocabulary of size"),
    (re.compile(r"([\d,]{4,})\s*大小的[词詞]表"), "大小的"),
    (re.compile(r"(?i)vocab(?:ulary)?[_ ]size\s*(?:of|:|=)?\s*([\d,]+)"), "vocab"),
]
_HUB_LOAD = re.compile(r"model\s*=\s*['\"]([\w.\-]+/[\w.\-]+)['\"]")
_REVISION = re.compile(r"(?:model_)?revision\s*=\s*['\"]([\w.\-]+)['\"]")


def extract(doc, facts):
    lines = prose_lines(doc)
    stated = facts.items.get("base_model.name")
    found = None
    for pat, needle in _BASE_PATTERNS:
        for no, text, m in search_lines(doc, pat, needle):
            name = _named(m)
            if name:
                found = (name, no, m.group(0))
                break
        if found:
            break
    if found and not stated:
        facts.put("base_model.name", found[0], found[1], text=facts.text_of(found[1], found[2]))
    elif found and not _same_model(found[0], stated.value):
        facts.conflicts.append({
            "kind": "prose_vs_command", "path": "base_model.name",
            "values": [{"value": found[0], "origin": "card", "line": found[1]},
                       {"value": stated.value, "origin": stated.origin, "line": stated.line}],
            "resolution": "the training configuration's model is used; the prose names another"})
    if not facts.has("base_model.name"):
        for no, text in lines[:5]:
            m = _TITLE_FAMILY.match(text)
            if m and family_of(m.group(1)):
                facts.put("base_model.name", m.group(1), no, text=facts.text_of(no, m.group(0)))
                break
    for no, text, m in search_lines(doc, _RELEASED, "steps)"):
        facts.put("model.released", {"checkpoint": m.group(1), "epochs": int(m.group(2)), "steps": int(m.group(3))}, no)
        break
    for pat, needle in _VOCAB:
        for no, text, m in search_lines(doc, pat, needle):
            facts.put("tokenizer.vocab_size", number(m.group(1)), no, text=facts.text_of(no, m.group(0)))
            break
    for no, text, m in _hub_loads(doc):
        facts.put("model.hub_id", m.group(1), no)
        r = _REVISION.search(text)
        if r:
            facts.put("model.revision", r.group(1), no)
        break


def _hub_loads(doc):
    """search_lines of _HUB_LOAD, only in a card whose joined lines it matches: a line's match is
    one there (the pattern looks at nothing around it), and a case-sensitive literal head lets
    re's own scan rule out a card faster than trying each of its many `model`s."""
    if not _HUB_LOAD.search(joined_lines(doc)[0]):
        return ()
    return search_lines(doc, _HUB_LOAD, "model")


def _named(m):
    """The model a base-model match names: its Hugging Face link's repository, else its name."""
    if m.groupdict().get("url"):
        return hub_id(m, "model")
    return next(g for g in m.groups() if g)


def _same_model(a, b):
    a, b = str(a).lower(), str(b).lower()
    return a == b or a in b or b in a


def architecture(facts):
    """model_type from the known families, derived from the base model's name (or the model's own)."""
    for path in ("base_model.name", "model.hub_id"):
        name = facts.get(path)
        fam = family_of(name)
        if fam:
            facts.put("base_model.architecture", fam["model_type"], facts.items[path].line, origin="derived",
                      text=name, rule=f"model family '{fam['family']}' (data/model_families.yaml) matches {name!r}")
            return fam
    return None
