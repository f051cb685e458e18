"""The extractors' fast paths give what the plain versions gave (parse throughput, same results):
each test keeps the plain version as it was and compares the two on texts built from real card
lines and the characters that make folding and line ends tricky."""
import re

from hypothesis import given, settings, strategies as st

from cardrepro import data, resolve
from cardrepro.extract import canonical, training_stages
from cardrepro.read.document import Document
from cardrepro.read.source import Line

TRICKY = ["\n", " ", "  ", "\t", "-", "*", ":", "İ", "ı", "ſ", "Σ", "\u212a", "i\u0307", "A", "a"]


def _doc(text):
    lines = [Line(i + 1, t) for i, t in enumerate(text.split("\n"))]
    return Document("card.md", "", lines, [], {})


def _texts(pieces, max_size=14):
    return st.lists(st.one_of(st.sampled_from(pieces + TRICKY), st.text(max_size=3)), max_size=max_size).map("".join)


# --- resolve.named_framework: a find per word instead of one alternation of them all

def _words_evidence_as_it_was(doc, text, starts, name):
    rule = data.trainer_profile(name)["detect"]
    alternatives = [re.escape(w.casefold()) for w in rule.get("words") or ()]
    alternatives += [r"^[ \t]*" + re.escape(w.casefold()) + r"[ \t]*$" for w in rule.get("lines") or ()]
    m = re.compile("|".join(alternatives), re.M).search(text) if alternatives else None
    return doc.lines[resolve.bisect.bisect_right(starts, m.start()) - 1].no if m else None


DETECTED = [name for name, p in data.trainer_profiles().items() if (p.get("detect") or {}).get("words")]
WORDS = [w for name in DETECTED for key in ("words", "lines") for w in data.trainer_profile(name)["detect"].get(key) or ()]
REAL_WORDS = ["- Transformers 4.40.1", "Built with Axolotl", "  - llama-factory", "- llama-factory  ",
              "This model was trained with SFT.", "The following hyperparameters were used during training:"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_texts(WORDS + REAL_WORDS))
def test_the_words_of_a_framework_are_found_where_the_alternation_found_them(text):
    doc = _doc(text)
    joined, starts = resolve._joined_lines(doc)
    for name in DETECTED:
        assert resolve._words_evidence(doc, joined, starts, name) == _words_evidence_as_it_was(doc, joined, starts, name)


# --- training_stages._sections: only the lines a stage word stands in are searched for one

def _sections_as_it_was(doc):
    heads_re, ends_re = training_stages._section_words()
    lines = [(l.no, l.text) for l in doc.lines if l.text.strip()]
    heads = []
    for idx, (no, text) in enumerate(lines):
        if len(text) > 80:
            continue
        low = text.lower().strip()
        if len(low) > 60:
            continue
        m = heads_re.search(low)
        if m:
            heads.append((idx, m.lastgroup))
        elif heads and ends_re.search(low):
            heads.append((idx, None))
    out = []
    for (i, method), nxt in zip(heads, heads[1:] + [(len(lines), None)]):
        if method:
            out.append((method, lines[i:nxt[0]], lines[i][0]))
    return out if len({m for m, _, _ in out}) >= 2 else []


STAGE_WORDS = [w for words in data.load("training_stages")["stages"].values() for w in words]
STAGE_WORDS += data.load("training_stages")["section_end"] + [
    "## Continual Pre-training", "### Supervised Fine-tuning (SFT)", "## 有监督微调", "## Usage", "x" * 70]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_texts(STAGE_WORDS, max_size=20))
def test_stage_sections_are_the_ones_the_line_by_line_search_found(text):
    assert training_stages._sections(_doc(text)) == _sections_as_it_was(_doc(text))


# --- canonical.fold: each spelling folded once

@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.one_of(_texts(["Learning Rate", "**lr**", "-", "_", "  "]), st.integers(), st.booleans(), st.none(),
                 st.floats(allow_nan=False)))
def test_a_folded_key_is_what_the_pattern_gave(key):
    expected = re.sub(r"[\s\-_]+", "_", str(key).strip().strip("*").strip()).lower()
    assert canonical.fold(key) == expected
    assert canonical.fold(key) == expected  # the second time, from the memo
