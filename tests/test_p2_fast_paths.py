"""P2's fast paths give what the plain versions gave: the method sentences read line by line
through a memo, the stage heads looked for in the card's one folded text (no lowered text when
none stands there), a needle looked for once per card, an ASCII text not searched for a literal
beyond ASCII. Each test keeps the plain version as it was and compares the two."""
import re

from hypothesis import given, settings, strategies as st

from cardrepro import memo
from cardrepro.extract import heads, prose, training_stages, util
from cardrepro.read.document import Block, Document
from cardrepro.read.source import Line, fold_case

TRICKY = ["\n", " ", "  ", "-", ":", "İ", "ı", "ſ", "Σ", "\u212a", "i\u0307", "A", "a", ". ", "; ", "。"]


def _doc(text, code_lines=()):
    lines = [Line(i + 1, t) for i, t in enumerate(text.split("\n"))]
    doc = Document("card.md", "", lines, [], {})
    if code_lines:
        doc.blocks.append(Block("python", 1, [l for l in lines if l.no in code_lines]))
    return doc


def _texts(pieces, max_size=14):
    return st.lists(st.one_of(st.sampled_from(pieces + TRICKY), st.text(max_size=3)), max_size=max_size).map("".join)


# --- training_stages: the first sentence stating each method, read per line through a memo

def _stated_as_it_was(doc):
    """_said_methods, _reward_model's sentences and _fine_tuned's as they were: every sentence of
    every line holding a needle, searched in card order."""
    code = {l.no for b in doc.of_kind("python", "json") for l in b.lines}
    lines = [(no, t) for no, t in util.prose_lines(doc) if no not in code]

    def matching(pattern, needles, hint=None):
        for i, (no, text) in enumerate(lines):
            if not any(n in fold_case(text) for n in needles):
                continue
            text = training_stages._LINK_URL.sub("]", text)
            for j, s in enumerate(x for x in training_stages._SENTENCE_END.split(text) if x.strip()):
                m = pattern.search(s) if hint is None or hint.search(s) else None
                if m:
                    yield (i, j), no, s, m

    said, negation, _ = training_stages._method_regexes()
    found = {}
    for order, (method, pat) in enumerate(said.items()):
        for i, no, s, m in matching(pat, training_stages._needles(method), training_stages._name_regexes()[method]):
            if not negation.search(s[: m.end()]):
                found[method] = (i, order, no, m.group(0))
                break
    out = {method: (no, t) for method, (_, _, no, t) in sorted(found.items(), key=lambda kv: kv[1][:2])}
    for _, no, _, m in matching(training_stages._methods_regex("reward_prose"), training_stages._needles("reward_prose")):
        out["reward"] = (no, m.group(0))
        break
    for _, no, s, m in matching(training_stages._methods_regex("fine_tuned"), training_stages._needles("fine_tuned")):
        if not negation.search(s[: m.end()]):
            out["fine_tuned"] = (no, m.group(0))
            break
    return out


def _stated_now(doc):
    out = training_stages._said_methods(doc)
    sentences = training_stages._sentences(doc)
    for key, name in (("reward_prose", "reward"), ("fine_tuned", "fine_tuned")):
        if hit := sentences.first(doc, key):
            out[name] = hit[1:]
    return out


REAL_METHOD_LINE = "This model is a fine-tuned version of [mistralai/Mistral-7B-v0.1](https://huggingface.co/mistralai/Mistral-7B-v0.1) trained with DPO."
METHOD_PIECES = [REAL_METHOD_LINE, "fine-tuned with Direct Preference Optimization (DPO)", "using ORPO",
                 "4-bit QLoRA tuning", "performed supervised fine-tuning", "has not been aligned with RLHF",
                 "trained with KTO", "SimPO training", "a reward model trained on", "LoRA adapter", "DPO", "RLHF"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_texts(METHOD_PIECES, max_size=12), st.sets(st.integers(1, 6), max_size=2))
def test_the_methods_stated_are_the_ones_the_sentence_by_sentence_search_found(text, code_lines):
    memo.clear()
    doc = _doc(text, code_lines)
    assert _stated_now(doc) == _stated_as_it_was(_doc(text, code_lines))
    assert _stated_now(_doc(text, code_lines)) == _stated_now(doc)  # the second time, from the memo


def test_a_real_method_line_states_dpo_and_a_fine_tune():
    memo.clear()
    doc = _doc("# Card\n" + REAL_METHOD_LINE)
    assert _stated_now(doc) == _stated_as_it_was(doc)
    assert _stated_now(doc)["dpo"] == (2, "fine-tuned version of [mistralai/Mistral-7B-v0.1] trained with DPO")
    assert "fine_tuned" in _stated_now(doc)


# --- prose: one line's facts are a function of the line, kept in a memo across cards

REAL_PROSE_LINE = "The model was fine-tuned on 8 A100 GPUs with a learning rate of 2e-5 for 3 epochs."


def test_a_real_lines_facts_are_read_once_and_the_same_the_second_time():
    memo.clear()
    first = prose._read(_doc("# Card\n" + REAL_PROSE_LINE))
    again = prose._read(_doc("other\n\n" + REAL_PROSE_LINE))
    assert {(c.path, c.value) for c in first} >= {("training.learning_rate", 2e-5), ("training.num_train_epochs", 3), ("training.num_gpus", 8)}
    assert [(c.path, c.value, c.text) for c in first] == [(c.path, c.value, c.text) for c in again]
    assert [c.line for c in again] == [3] * len(again)
    assert prose.line_facts.cache_info().hits >= 1


# --- util.line_indices: the card's one folded text, the lowered text only where a head stands

def _line_indices_as_it_was(doc, pattern):
    return [i for i, (_, t) in enumerate(util.prose_lines(doc)) if pattern.search(t.lower())]


STAGE_PIECES = ["## Continual Pre-training", "### Supervised Fine-tuning (SFT)", "## 有监督微调", "human feedback training",
                "İİ", "continual pretraining"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_texts(STAGE_PIECES, max_size=12))
def test_the_lines_a_stage_word_stands_in_are_the_ones_the_line_search_found(text):
    heads_re, ends_re = training_stages._section_words()
    for pattern in (heads_re, ends_re, re.compile(r"(?m)^#+ "), re.compile("pre-?training|i\u0307")):
        assert util.line_indices(_doc(text), pattern) == _line_indices_as_it_was(_doc(text), pattern)


# --- util.search_lines: a needle looked for once per card

def _search_as_it_was(doc, pattern, needle):
    lines = util.prose_lines(doc)
    folded = fold_case("\n".join(t for _, t in lines))
    if needle is not None and not any(n in folded for n in (needle if isinstance(needle, tuple) else (needle,))):
        return []
    text = "\n".join(t for _, t in lines)
    out = []
    for m in pattern.finditer(text):
        i = sum(1 for k in range(len(lines)) if sum(len(t) + 1 for _, t in lines[:k]) <= m.start()) - 1
        no, line = lines[i]
        start = sum(len(t) + 1 for _, t in lines[:i])
        m = pattern.search(line) if "\n" in m.group(0) else pattern.search(line, m.start() - start)
        if m:
            out.append((no, m.span(), m.group(0)))
    return out


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_texts(["--stage dpo", "stage: sft", "finetuning_type: lora", "quantization_bit: 4", "Stage", "问:"], max_size=12))
def test_the_searches_of_a_card_find_what_they_found_with_a_scan_per_needle(text):
    options = training_stages._method_regexes()[2]
    doc = _doc(text)
    for pattern, needle in ((options["stage_option"], "stage"), (options["four_bit_option"], "quantization_bit"),
                            (options["finetuning_option"], ("finetuning_type", "问:")), (options["stage_option"], None)):
        got = [(no, m.span(), m.group(0)) for no, _, m in util.search_lines(doc, pattern, needle)]
        assert got == _search_as_it_was(_doc(text), pattern, needle)


# --- heads._positions: an ASCII text holds no literal beyond ASCII

@settings(max_examples=500, deadline=None, derandomize=True)
@given(_texts(["问:", "问", "ab", "a"], max_size=8), st.sampled_from(["问:", "问", "ab", "a", "ı", "İ"]))
def test_the_positions_of_a_literal_are_every_place_it_stands(text, literal):
    assert heads._positions(text, literal) == [i for i in range(len(text)) if text.startswith(literal, i)]
