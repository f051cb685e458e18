"""Card metadata (front matter, or its translated/flattened forms): licence, languages, the
metadata's dataset list, widget example prompts, library."""
import re

from cardrepro.extract.datasets import MAX_DATASETS
from cardrepro.extract.facts import Fact
from cardrepro.extract.util import prose_lines

_LICENCE_PROSE = re.compile(r"(?i)\*{0,2}licen[sc]e:?\*{0,2}\s*:?.*?\[?(CC[ \-]BY[\w\- .]*?\d\.\d|apache[\- ]2\.0|mit|gpl-?\d\.?\d?|bigscience-[\w\-]+|llama\d?)\b")


def extract(doc, facts):
    for block in doc.of_kind("frontmatter"):
        meta = block.value if isinstance(block.value, dict) else {}
        line = lambda key: block.where.get((key,), block.start)  # noqa: E731
        if meta.get("license"):
            facts.put("licence", str(meta["license"]).lower(), line("license"))
        langs = meta.get("language")
        if langs:
            facts.put("languages", [str(x) for x in (langs if isinstance(langs, list) else [langs])], line("language"))
        if isinstance(meta.get("datasets"), list):
            listed = facts.capped(meta["datasets"], MAX_DATASETS, "metadata_datasets", line("datasets"))
            facts.put("metadata_datasets", [str(d) for d in listed], line("datasets"))
            for i, item in enumerate(listed):
                no = block.where.get(("datasets", i), line("datasets"))
                facts.note(f"metadata_datasets[{i}]", Fact(item, "card", no, facts.text_of(no)))
        if meta.get("library_name"):
            facts.put("library_name", str(meta["library_name"]), line("library_name"))
        if meta.get("base_model"):
            base = meta["base_model"]
            facts.put("base_model.name", base[0] if isinstance(base, list) else str(base), line("base_model"))
        examples = []
        for i, w in enumerate(meta.get("widget") or []):
            text = w.get("text") if isinstance(w, dict) else w
            if isinstance(text, str):
                examples.append({"text": text, "line": block.where.get(("widget", i), line("widget"))})
        if examples:
            facts.put("examples.widget", examples, examples[0]["line"])
    if not facts.has("licence"):
        for no, text in prose_lines(doc):
            m = _LICENCE_PROSE.search(text)
            if m:
                facts.put("licence", re.sub(r"[ \-]+", "-", m.group(1).strip()).lower(), no, text=facts.text_of(no, m.group(0)))
                break
