"""The extractors' fast paths give what the plain versions gave (parse throughput, same results):
each test keeps the plain version as it was and compares the two on texts built from real card
lines and the characters that make folding and line ends tricky."""
import itertools
import re

from hypothesis import given, settings, strategies as st

from cardrepro import data, resolve
from cardrepro.extract import canonical, mix, prompt, prose, training_stages, util
from cardrepro.read.document import Block, Document
from cardrepro.read.source import Line, fold_case

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
    joined, starts = resolve._joined_lines(doc)[:2]
    folded = resolve._folded_lines(doc)  # the non-empty lines, or all when folding lengthens them
    for name in DETECTED:
        assert resolve._words_evidence(*folded, name) == _words_evidence_as_it_was(doc, joined, starts, name)


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


# --- prose: the narrative lines by stretches between fences; only lines holding a needle read

_FENCE_LINE = re.compile(r"^\s*(```|~~~)")


def _fences_toggled(doc):
    """(opening, closing or None) indices of the fences a reader that toggles at every fence line
    finds: the reader's Document.fences on these texts, which hold no other block."""
    marks = [i for i, line in enumerate(doc.lines) if _FENCE_LINE.match(line.text)]
    return [(a, b) for a, b in itertools.zip_longest(marks[::2], marks[1::2])]


def _narrative_lines_as_it_was(doc):
    in_blocks = {l.no for b in doc.blocks for l in b.lines}
    out, fenced = [], False
    for line in doc.lines:
        if ("```" in line.text or "~~~" in line.text) and _FENCE_LINE.match(line.text):
            fenced = not fenced
            continue
        if fenced or line.no in in_blocks or line.text.count("|") >= 2 or not line.text.strip():
            continue
        out.append((line.no, line.text))
    return out


def _prose_read_as_it_was(doc):
    lines = prose.narrative_lines(doc)
    folded = fold_case("\n".join(t for _, t in lines))
    active = [r for r in prose.rows() if any(n in folded for n in r.needles)]
    any_needle = re.compile("|".join(re.escape(n) for n in sorted({n for r in active for n in r.needles})) or r"(?!)")
    out = []
    for no, text in lines:
        low_line = fold_case(text)
        if not any_needle.search(low_line):
            continue
        in_line = [r for r in active if any(n in low_line for n in r.needles)]
        for raw in prose.sentences(text) if in_line else ():
            raw = raw[:prose.MAX_SENTENCE]
            low = fold_case(raw)
            plain = prose._unlinked(raw)
            for row in in_line:
                if any(n in low for n in row.needles):
                    out.extend(prose._stated_once(row, raw if row.keep_links else plain, no))
    return out


PROSE = ["```", "```python", "~~~", "  ```", "| a | b |", "a | b", "trained for 3 epochs", "learning rate of 2e-5",
         "batch size 32", "on 8 A100 GPUs", "LoRA rank 16, alpha 32", "lora_dropout 0.05", "训练3轮",
         "a fine-tuned version of [x/y](https://huggingface.co/x/y) on the z dataset. ", "max length 2048; "]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_texts(PROSE, max_size=16), st.sets(st.integers(1, 12), max_size=4))
def test_the_sentences_read_are_the_ones_the_line_by_line_reading_read(text, block_lines):
    doc = _doc(text)
    doc.fences = _fences_toggled(doc)
    doc.blocks.append(Block("yaml", 1, [l for l in doc.lines if l.no in block_lines]))
    assert prose._narrative_lines(doc) == _narrative_lines_as_it_was(doc)
    assert prose._read(doc) == _prose_read_as_it_was(doc)


# --- util.fold_joined (training_stages, prose): the card folded whole, its lines found again when one changed length

def _fold_joined_as_it_was(texts):
    whole = "\n".join(texts)
    if not whole.isascii():
        texts = [fold_case(t) for t in texts]
        whole = "\n".join(texts)
    return whole.lower(), list(itertools.accumulate((len(t) + 1 for t in texts), initial=0))


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.lists(_texts(["ΑΣ", "Σ", "ς", "İstanbul", "DPO"], max_size=5), max_size=6))
def test_the_folded_sentences_are_the_lines_folded_one_by_one(texts):
    texts = [t.replace("\n", " ") for t in texts]
    assert util.fold_joined(texts) == _fold_joined_as_it_was(texts)


# --- util.lines_searched: a pattern tried only where its heads stand, each line on its own

LINKS = ["huggingface.co/datasets/", "HuggingFace.co/Datasets/x", "trained on org/data", "on the `a/b`",
         "on\n", "con a/b", "ON  the x/y", "GPT4生成 10 条指令", "GPT4 生成3条指令",
         "<|user|>Hi<|assistant|>", "### Human: hi ### Assistant:", "USER:", "user:", "问：", "<human>:"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(_texts(LINKS, max_size=5).map(lambda t: t.replace("\n", " ")), max_size=8))
def test_the_lines_a_pattern_is_searched_in_are_the_ones_it_matches(texts):
    for pattern in (mix._MAY_NAME, re.compile("GPT4[^。]{0,40}生成\\s*(\\d+)\\s*条指令"), re.compile(r"(?m)^on"),
                    prompt._example_pattern()[1]):  # the user markers a prose example opens with
        assert util.lines_searched(texts, pattern) == [i for i, t in enumerate(texts) if pattern.search(t)]


# --- util.lines_holding (prose, training_stages): a find per needle instead of a search per line

HELD = ["DPO", "dpo", "lora", "QLoRA", "LoRA-Adapter", "epochs", "训练3轮", "batch size"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(_texts(HELD, max_size=5).map(lambda t: t.replace("\n", " ")), max_size=8),
       st.lists(st.sampled_from(["dpo", "lora", "epoch", "轮", "a", "i", "ς", "σ", "s"]), max_size=4))
def test_the_lines_holding_a_needle_are_the_ones_whose_fold_holds_it(texts, needles):
    folded, starts = util.fold_joined(texts)
    expected = [i for i, t in enumerate(texts) if any(n in fold_case(t) for n in needles)]
    assert util.lines_holding(folded, starts, needles) == expected


# --- util.needles_in: a needle holding another looked for only where that one stands

REAL_NEEDLE_LINE = "The model was fine-tuned on 8 A100 GPUs with a learning rate of 2e-5 (以 Qwen 为基座)."


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_texts([REAL_NEEDLE_LINE.lower(), *prose._needles(), "fine-tune", "a1", "为基"], max_size=10),
       st.lists(st.sampled_from([*prose._needles(), "a", "", "ne-t", "为"]), max_size=12, unique=True))
def test_the_needles_found_are_the_ones_the_text_holds(text, needles):
    needles = tuple(needles)
    assert util.needles_in(text, needles) == [n for n in needles if n in text]


def test_the_needles_of_a_real_line_are_found():
    text = fold_case(REAL_NEEDLE_LINE)
    assert util.needles_in(text, prose._needles()) == [n for n in prose._needles() if n in text]
    assert {"a10", "a100", "fine-tuned", "fine-tuned on", "为基座", "learning rate", "gpu"} <= set(util.needles_in(text, prose._needles()))


# --- Facts: each card line's text, a flattened card's segments joined

def _line_texts_as_it_was(lines):
    out = {}
    for l in lines:
        prev = out.get(l.no)
        out[l.no] = f"{prev} {l.text.strip()}" if prev else l.text.strip()
    return out


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(1, 5), _texts(["| lr | 2e-5 |", "# Title", ""], max_size=4)), max_size=10))
def test_the_line_texts_are_the_segments_joined_as_before(pairs):
    from cardrepro.extract.facts import _line_text
    lines = [Line(no, text) for no, text in sorted(pairs, key=lambda p: p[0])]
    as_it_was = _line_texts_as_it_was(lines)
    assert [_line_text(lines, no) for no in range(0, 7)] == [as_it_was.get(no, "") for no in range(0, 7)]
    assert _line_text(lines, None) == ""


# --- settings: a Python block's calls found in the nodes the reader listed, not a new ast.walk

def test_the_listed_nodes_are_ast_walks_on_real_cards():
    import ast
    from cardrepro.read import read_card
    from conftest import ROOT
    shared = ROOT.parent / "shared"
    cards = sorted((shared / "realcards" / "cards").glob("*.md")) + sorted((shared / "corpus" / "hub-readmes").glob("*.md"))[::40]
    blocks = [b for card in cards for b in read_card(card).of_kind("python")]
    assert len(blocks) > 20
    for b in blocks:
        assert b.nodes() == list(ast.walk(b.value))
