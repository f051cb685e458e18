"""One Aho-Corasick pass per card (extract/literals.py) finds every position of every registered
literal: the same positions as a str.find loop (heads._positions, the plain version it stands in
for), overlapping ones too, as str indexes also beyond ASCII; and without the optional wheel the
cards parse to the same specs as with it."""
import json
import pathlib
import tempfile

import pytest
from hypothesis import given, settings, strategies as st

from cardrepro.extract import heads, literals, prose, training_stages, util
from cardrepro.read import read_card
from cardrepro.spec import parse_card
from conftest import CARDS, ROOT

CORPUS = ROOT.parent / "shared" / "corpus" / "hub-readmes"
ALPHABET = "aAbi\u0130\u0307\u8bad\u7ec3 \n-"  # İ, a combining dot, 训练: str indexes are not UTF-8 bytes

needs_wheel = pytest.mark.skipif(not literals.enabled(), reason="ahocorasick_rs is not installed")


def _plain(lits, text):
    return {l: heads._positions(text, l) for l in lits}


def _as_lists(found):
    return {l: list(at) for l, at in found.items()}


def _forget_literals():
    """A fresh process's registry: heads() registers a pattern's heads when it first reads them."""
    literals.reset()
    heads.heads.cache_clear()


@pytest.fixture
def fresh_registry():
    _forget_literals()
    yield
    _forget_literals()


@pytest.fixture
def without_wheel(monkeypatch):
    """The platform without ahocorasick_rs: every literal is found by plain finds."""
    _forget_literals()
    monkeypatch.setattr(literals, "ahocorasick_rs", None)
    yield
    _forget_literals()


@needs_wheel
@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, max_size=60), st.lists(st.text(ALPHABET, min_size=1, max_size=4), min_size=1, max_size=8, unique=True))
def test_one_pass_finds_every_position_a_find_loop_finds(text, lits):
    assert _as_lists(literals.positions_of(tuple(lits), text)) == _plain(lits, text)


@needs_wheel
def test_overlapping_and_nested_literals_are_each_found_everywhere():
    found = literals.positions_of(("aa", "a", "aaa", "训练", "i\u0307"), "aaaa \u0130训练 训练i\u0307")
    assert found == {"aa": [0, 1, 2], "a": [0, 1, 2, 3], "aaa": [0, 1], "训练": [6, 9], "i\u0307": [11]}


@needs_wheel
def test_the_registry_pass_knows_the_literals_registered_before_it(fresh_registry):
    literals.register("lora")
    literals.register("")  # no empty literal: the automaton refuses them
    first = literals.places("qlora, lora")
    literals.register("dpo")
    assert first == {"lora": [1, 7]}
    assert literals.places("dpo lora") == {"lora": [4], "dpo": [0]}


def _corpus_sample(step=60):
    return sorted(CORPUS.glob("*.md"))[::step] + sorted(CARDS.glob("*.md"))


@needs_wheel
def test_a_cards_pass_gives_each_literal_the_positions_a_find_loop_gives_over_the_corpus(fresh_registry):
    cards = _corpus_sample()
    for path in cards[:20]:  # the extractors register the literals they look for
        parse_card(path)
    registered = tuple(literals._ORDER)
    assert len(registered) > 50
    for path in cards:
        doc = read_card(path)
        folded = util.folded_text(doc)
        assert _as_lists(literals.places(folded)) == _plain(registered, folded), path.name
        starts = util.folded_prose_lines(doc)[1]
        for key in ("dpo", "rlhf", "fine_tuned"):
            needles = training_stages._needles(key)
            assert util.prose_lines_holding(doc, needles) == util.lines_holding(folded, starts, needles), path.name


def _card(text):
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d) / "README.md"
        path.write_text(text, encoding="utf-8")
        return read_card(path)


REAL_LINE = "We trained for 3 epochs with a learning rate of 2e-5 on 8 A100 GPUs.\n"
STATED = [("training.learning_rate", 2e-05), ("training.num_train_epochs", 3), ("training.num_gpus", 8)]


def test_a_real_dpo_line_is_found_by_its_needle():
    doc = _card("We align the SFT model with Direct Preference Optimization (DPO) on UltraFeedback.\n")
    assert util.prose_lines_holding(doc, training_stages._needles("dpo")) == [0]


def test_prose_reads_a_real_line_through_the_one_pass():
    assert [(c.path, c.value) for c in prose.read(_card(REAL_LINE))] == STATED


def test_without_the_wheel_prose_reads_a_real_line_with_plain_finds(without_wheel):
    assert literals.positions_of(prose._needles(), "learning rate") is None
    assert [(c.path, c.value) for c in prose.read(_card(REAL_LINE))] == STATED


def _specs(paths):
    return [json.dumps(parse_card(p), sort_keys=True, default=str) for p in paths]


@needs_wheel
def test_the_cards_parse_the_same_without_the_wheel(monkeypatch):
    paths = _corpus_sample(step=150)
    with_wheel = _specs(paths)
    _forget_literals()
    monkeypatch.setattr(literals, "ahocorasick_rs", None)
    try:
        assert _specs(paths) == with_wheel
        assert literals._ORDER == [] and literals.places("lora") == {}
    finally:
        _forget_literals()
