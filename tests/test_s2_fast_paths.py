"""S2's fast paths give what the plain versions gave: the card's non-blank lines and where each
starts in their joined text made in C, the view `prose_lines_holding` reads in one look-up, a
card line's text that a Facts finds by bisection instead of a table of every line. Each test keeps the plain version as it was and
compares the two."""
import itertools

from hypothesis import given, settings, strategies as st

from cardrepro.extract import code, command, training_stages, util
from cardrepro.extract.facts import Facts
from cardrepro.read.document import Document
from cardrepro.read.source import Line, fold_case

TRICKY = ["\n", " ", "  ", "\t", "-", "İ", "ı", "ſ", "Σ", "\u212a", "i\u0307", "A", "a", "```", "\u3000", "\x0c"]
# a line of a Hub card (the lines of the tests are built around it)
REAL_LINE = "This model is a fine-tuned version of [gpt2](https://huggingface.co/gpt2) on the wikitext dataset."


def _texts(max_size=14):
    pieces = st.one_of(st.sampled_from(TRICKY + [REAL_LINE, "lora", "dpo"]), st.text(max_size=3))
    return st.lists(pieces, max_size=max_size).map("".join)


def _doc(text, numbers=None):
    texts = text.split("\n")
    lines = [Line(no, t) for no, t in zip(numbers or range(1, len(texts) + 1), texts)]
    return Document("card.md", "", lines, [], {})


def _joined_as_it_was(doc):
    lines = [l for l in doc.lines if l.text.strip()]
    texts = [t for _, t in lines]
    starts = list(itertools.accumulate((len(t) + 1 for t in texts), initial=0))
    starts.pop()
    return "\n".join(texts), starts, lines


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_texts())
def test_the_joined_prose_lines_are_the_ones_the_plain_loops_made(text):
    doc = _doc(text)
    assert util.joined_lines(doc) == _joined_as_it_was(doc)
    assert util.prose_lines(doc) == _joined_as_it_was(doc)[2]
    assert util.folded_text(doc) == fold_case(_joined_as_it_was(doc)[0])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.text(max_size=6), max_size=8))
def test_line_starts_are_the_plain_running_sums(texts):
    assert util.line_starts(texts) == list(itertools.accumulate((len(t) + 1 for t in texts), initial=0))


def _holding_as_it_was(doc, needles):
    text, starts, lines = util.joined_lines(doc)
    folded = util.folded_text(doc)
    if len(folded) != len(text) or not lines:
        folded, starts = util.fold_joined([t for _, t in lines])
    else:
        starts = starts + [len(text) + 1]
    places = util._head_places(doc) if folded is util.folded_text(doc) else None
    return util.lines_holding(folded, starts, needles, places)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_texts(), st.lists(st.sampled_from(["lora", "dpo", "ı", "ss", "a", "```", "fine-tuned"]), min_size=1, max_size=3))
def test_prose_lines_holding_finds_the_lines_the_plain_view_found(text, needles):
    needles = tuple(needles)
    assert util.prose_lines_holding(_doc(text), needles) == _holding_as_it_was(_doc(text), needles)


def test_a_real_line_is_held_where_the_card_has_it():
    doc = _doc(f"# Model\n\n{REAL_LINE}\n")
    assert util.prose_lines_holding(doc, ("fine-tuned",)) == [1]
    assert util.prose_lines(doc)[1] == (3, REAL_LINE)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_texts(), st.lists(st.integers(1, 6), min_size=1, max_size=12))
def test_a_facts_line_text_is_the_one_the_eager_table_gave(text, numbers):
    # numbers repeated: a flattened card's segments share a card line
    numbers = sorted(numbers)
    doc = _doc(text, numbers)
    texts = {}
    for l in doc.lines:
        prev = texts.get(l.no)
        texts[l.no] = f"{prev} {l.text.strip()}" if prev else l.text.strip()
    facts = Facts(doc)
    for no in range(0, 8):
        want = texts.get(no, "")
        assert facts.text_of(no) == (want[:160] if want else None)


# --- single_stage's GPU lines and code's `from_pretrained` lines, found in C or one search

def _corpus_docs():
    from cardrepro.read import read_card
    from conftest import ROOT
    paths = sorted((ROOT.parent / "shared" / "corpus" / "hub-readmes").glob("*.md"))[::25]
    return [read_card(p) for p in paths]


def _plain_single_stage_gpu(doc):
    for no, text in util.prose_lines(doc):
        g = training_stages.gpu_fact(text)
        if g:
            return no, g
    return None


def _plain_loaded_elsewhere(doc, skip_lines):
    return {m.group(1) for l in doc.lines if "from_pretrained" in l.text and l.no not in skip_lines
            for m in code._LOAD.finditer(l.text)}


# a line of a Hub card (stabilityai_stablelm-zephyr-3b)
REAL_GPU_LINE = ("* **Hardware**: `StableLM Zephyr 3B` was trained on the Stability AI cluster across 8 nodes with "
                 "8 A100 80GBs GPUs for each nodes.")


def test_a_single_stage_reads_the_gpu_of_a_real_line():
    doc = _doc(f"# Model\n\nTrained on the H100 cluster? No.\n{REAL_GPU_LINE}\n")
    stage = training_stages.single_stage(doc, None, "sft")
    assert (stage["num_gpus"], stage["_prov"]["gpu"][0]) == (8, 4)
    assert _plain_single_stage_gpu(doc) == (4, (stage["num_gpus"], stage["gpu"], stage["_prov"]["gpu"][1]))


def test_gpu_lines_and_loaded_ids_are_the_line_loops_over_the_corpus():
    docs = _corpus_docs()
    assert len(docs) > 100
    assert sum(_plain_single_stage_gpu(d) is not None for d in docs) >= 3
    assert sum(bool(_plain_loaded_elsewhere(d, set())) for d in docs) >= 10
    for d in docs:
        stage = training_stages.single_stage(d, None, "sft")
        want = _plain_single_stage_gpu(d)
        got = (stage["_prov"]["gpu"][0], (stage["num_gpus"], stage["gpu"], stage["_prov"]["gpu"][1])) if "gpu" in stage else None
        assert got == want, d.path
        skip = {l.no for b in d.of_kind("python") for l in b.lines}
        assert code._loaded_elsewhere(d, skip) == _plain_loaded_elsewhere(d, skip), d.path
        assert code._loaded_elsewhere(d, set()) == _plain_loaded_elsewhere(d, set()), d.path


# --- command's program lines and prompt's `>>> ` gate, read from the card's one literal pass

def _plain_program_lines(doc):
    lines = util.prose_lines(doc)
    numbers = [no for no, text in lines if any(name in text for name in command._needles())]
    return [i for i, l in enumerate(doc.lines) if l.no in numbers and (i == 0 or doc.lines[i - 1].no != l.no)]


def test_program_lines_and_the_session_gate_are_the_plain_finds_over_the_corpus():
    from cardrepro.extract import literals, prompt
    docs = _corpus_docs()
    for d in docs[:10]:
        command._program_lines(d)  # registers the program names, as the cards before do
    assert set(command._needles()) <= set(literals._ORDER) or not literals.enabled()
    assert sum(bool(_plain_program_lines(d)) for d in docs) >= 20
    for d in docs:
        assert command._program_lines(d) == _plain_program_lines(d), d.path
        assert util.card_holds(d, ">>> ") == (">>> " in util.joined_lines(d)[0]), d.path
    assert any(prompt._doctest_trees(d) for d in docs)


def test_a_real_command_line_is_found_whatever_the_case_of_other_lines():
    # a line of a Hub card; `PYTHON` in another line is no program name (the finds are case-sensitive)
    doc = _doc("# PYTHON notes\n\naccelerate launch train_text_to_image_lora_sdxl.py \\\n")
    assert command._program_lines(doc) == [2] == _plain_program_lines(doc)
