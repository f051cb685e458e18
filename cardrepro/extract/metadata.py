"""Card metadata (front matter, or its translated/flattened forms): licence, languages, the
metadata's dataset list, widget example prompts, library. Key spellings: data/keys.yaml metadata."""
import re

from cardrepro.extract import canonical
from cardrepro.extract.datasets import MAX_DATASETS
from cardrepro.extract.facts import Fact
from cardrepro.extract.util import prose_lines

_LICENCE_PROSE = re.compile(r"(?i)\*{0,2}licen[sc]e:?\*{0,2}\s*:?.*?\[?(CC[ \-]BY[\w\- .]*?\d\.\d|apache[\- ]2\.0|mit|gpl-?\d\.?\d?|bigscience-[\w\-]+|llama\d?)\b")


def extract(doc, facts):
    for block in doc.of_kind("frontmatter"):
        meta = block.value if isinstance(block.value, dict) else {}
        written = {canonical.fold(k): k for k in meta}
        for folded, path in canonical.metadata_paths().items():
            key = written.get(folded)
            if key is not None:
                _PUT[path](facts, block, key, meta[key])
    if not facts.has("licence"):
        for no, text in prose_lines(doc):
            m = _LICENCE_PROSE.search(text)
            if m:
                facts.put("licence", re.sub(r"[ \-]+", "-", m.group(1).strip()).lower(), no, text=facts.text_of(no, m.group(0)))
                break


def _line(block, key):
    return block.where.get((key,), block.start)


def _licence(facts, block, key, value):
    if value:
        facts.put("licence", str(value).lower(), _line(block, key))


def _languages(facts, block, key, value):
    if value:
        facts.put("languages", [str(x) for x in (value if isinstance(value, list) else [value])], _line(block, key))


def _datasets(facts, block, key, value):
    if not isinstance(value, list):
        return
    listed = facts.capped(value, MAX_DATASETS, "metadata_datasets", _line(block, key))
    facts.put("metadata_datasets", [str(d) for d in listed], _line(block, key))
    for i, item in enumerate(listed):
        no = block.where.get((key, i), _line(block, key))
        facts.note(f"metadata_datasets[{i}]", Fact(item, "card", no, facts.text_of(no)))


def _library(facts, block, key, value):
    if value:
        facts.put("library_name", str(value), _line(block, key))


def _base_model(facts, block, key, value):
    if value:
        facts.put("base_model.name", value[0] if isinstance(value, list) else str(value), _line(block, key))


def _widget(facts, block, key, value):
    examples = []
    for i, w in enumerate(value if isinstance(value, list) else []):
        text = w.get("text") if isinstance(w, dict) else w
        if isinstance(text, str):
            examples.append({"text": text, "line": block.where.get((key, i), _line(block, key))})
    if examples:
        facts.put("examples.widget", examples, examples[0]["line"])


# How each spec path a front-matter key fills takes its value.
_PUT = {"licence": _licence, "languages": _languages, "metadata_datasets": _datasets,
        "library_name": _library, "base_model.name": _base_model, "examples.widget": _widget}
