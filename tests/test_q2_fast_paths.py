"""Q2's fast paths give what the plain versions gave: a line's prose rows picked from the needles
it holds (a table from needle to rows, each row checked for its held needles only), the method
sentences and the narrative lines found in the card's one folded text. Each test keeps the plain
version as it was and compares the two."""
from hypothesis import given, settings, strategies as st

from cardrepro import memo
from cardrepro.extract import prose, training_stages, util
from cardrepro.read.document import Block, Document
from cardrepro.read.source import Line, fold_case

TRICKY = ["\n", " ", "  ", "-", ":", "İ", "ı", "ſ", "Σ", "\u212a", "i\u0307", "A", "a", ". ", "; ", "。", "```", "~~~"]


def _doc(text, block_kind=None, block_lines=()):
    lines = [Line(i + 1, t) for i, t in enumerate(text.split("\n"))]
    doc = Document("card.md", "", lines, [], {})
    if block_lines:
        doc.blocks.append(Block(block_kind, 1, [l for l in lines if l.no in block_lines]))
    return doc


def _texts(pieces, max_size=14):
    return st.lists(st.one_of(st.sampled_from(pieces + TRICKY), st.text(max_size=3)), max_size=max_size).map("".join)


# --- prose.line_facts: the rows of a line chosen through the needles it holds

def _line_facts_as_it_was(text, held):
    in_line = [r for r in prose.rows() if any(n in held for n in r.needles)]
    out = []
    for raw in prose.sentences(text) if in_line else ():
        raw = raw[:prose.MAX_SENTENCE]
        low = fold_case(raw)
        plain = None
        for row in in_line:
            if not any(n in low for n in row.needles):
                continue
            if plain is None:
                plain = prose._unlinked(raw)
            out.extend((c.path, c.value, c.text) for c in prose._stated_once(row, raw if row.keep_links else plain, 0))
    return tuple(out)


# lines of Hub cards
REAL_PROSE_LINE = ("This model is a fine-tuned version of [microsoft/mdeberta-v3-base](https://huggingface.co/microsoft/mdeberta-v3-base) "
                   "on the [ai4privacy/pii-masking-200k](https://huggingface.co/datasets/ai4privacy/pii-masking-200k) dataset.")
REAL_DPO_LINE = ("MistralTrix-v1 is an zyh3826/GML-Mistral-merged-v1 model that has been further fine-tuned with Direct Preference "
                 "Optimization (DPO) using Intel's dataset for neural-chat-7b-v3-1.")
PROSE = [REAL_PROSE_LINE, "trained for 3 epochs", "learning rate of 2e-5", "batch size 32", "on 8 A100 GPUs",
         "on 4 H100s", "LoRA rank 16, alpha 32", "lora_dropout 0.05", "训练3轮", "max length 2048; ", "8-bit", "4bit"]


def _held(text):
    return frozenset(n for n in prose._needles() if n in fold_case(text))


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_texts(PROSE, max_size=10).map(lambda t: t.replace("\n", " ")))
def test_a_lines_facts_are_the_ones_every_row_holding_a_needle_gave(text):
    held = _held(text)
    assert prose.line_facts.__wrapped__(text, held) == _line_facts_as_it_was(text, held)


def test_a_real_line_states_its_base_model_and_dataset():
    held = _held(REAL_PROSE_LINE)
    facts = prose.line_facts.__wrapped__(REAL_PROSE_LINE, held)
    assert facts == _line_facts_as_it_was(REAL_PROSE_LINE, held)
    assert ("datasets", "ai4privacy/pii-masking-200k") in {(p, v) for p, v, _ in facts}
    assert [r for r, _ in prose._rows_holding(held)] == [r for r in prose.rows() if any(n in held for n in r.needles)]
    assert all(set(needles) <= held for _, needles in prose._rows_holding(held))


# --- util.folded_prose_lines: fold_joined of the prose lines, from the card's one folded text

@settings(max_examples=400, deadline=None, derandomize=True)
@given(_texts(["ΑΣ", "Σ", "İstanbul", "DPO", "  ", "\n\n"], max_size=10))
def test_the_folded_prose_lines_are_the_prose_lines_folded_and_joined(text):
    doc = _doc(text)
    folded, starts, places = util.folded_prose_lines(doc)
    assert (folded, starts) == util.fold_joined([t for _, t in util.prose_lines(doc)])
    assert places is (util._head_places(doc) if folded is util.folded_text(doc) else None)


# --- training_stages._Sentences: the method sentences found in the card's one folded text,
# the lines of Python and JSON blocks passed over (they were left out of a text of their own)

def _first_as_it_was(doc, key):
    code = {l.no for b in doc.of_kind("python", "json") for l in b.lines}
    lines = [(no, text) for no, text in util.prose_lines(doc) if no not in code]
    folded, starts = util.fold_joined([text for _, text in lines])
    for i in util.lines_holding(folded, starts, training_stages._needles(key)):
        no, text = lines[i]
        if hit := training_stages.first_statement(text, key):
            return no, hit[1]
    return None


METHODS = [REAL_PROSE_LINE, REAL_DPO_LINE, "fine-tuned with ORPO", "a reward model trained on", "4-bit QLoRA tuning",
           "performed supervised fine-tuning", "has not been aligned with RLHF", "LoRA adapter", "\n", "\n\n"]
KEYS = [*training_stages._method_regexes()[0], "reward_prose", "fine_tuned"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_texts(METHODS, max_size=12), st.sampled_from(["python", "json", "yaml"]), st.sets(st.integers(1, 10), max_size=4))
def test_the_first_method_sentence_is_the_one_the_text_without_code_gave(text, kind, block_lines):
    memo.clear()
    doc = _doc(text, kind, block_lines)
    sentences = training_stages._Sentences(doc)
    for key in KEYS:
        hit = sentences.first(doc, key)
        assert (hit[1:] if hit else None) == _first_as_it_was(doc, key)


def test_a_real_dpo_line_in_a_python_block_states_no_method():
    line = REAL_DPO_LINE
    doc = _doc("# Card\n" + line)
    assert training_stages._Sentences(doc).first(doc, "dpo")[1] == 2
    doc = _doc("# Card\n" + line, "python", {2})
    assert training_stages._Sentences(doc).first(doc, "dpo") is None


# --- training_stages._title: the first `# ` line found by one find in the joined prose lines

REAL_TITLE = "# Reward model trained from human feedback"


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_texts([REAL_TITLE, "# ", "#", " # x", "## y", "\n# z", "\n\n"], max_size=10))
def test_the_title_is_the_first_line_starting_with_a_hash_and_a_space(text):
    doc = _doc(text)
    assert training_stages._title(doc) == next((l for l in doc.lines if l.text.startswith("# ")), None)


def test_a_real_reward_model_title_states_a_reward_model():
    doc = _doc("---\nlicense: mit\n---\n\n" + REAL_TITLE + "\n\nText.")
    assert training_stages._title(doc) == (5, REAL_TITLE)
    assert training_stages._stated_methods(doc)["reward_model"] == (5, REAL_TITLE)
