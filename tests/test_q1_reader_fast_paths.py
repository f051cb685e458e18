"""unread._line_entry, what a plain `model-index:` section line says by itself (memoised across
cards), is what the line-by-line check read from the line; and a line that ends `: <decimal>`
says what it says with 0 in the number's place, which _plain_section looks up instead (one memo
entry for `value: 0`, not one per score). Checked over every line of every corpus section and by
hypothesis; the whole section against the line-by-line version is in test_reader_fast_paths.
A section with an empty flow list (`  results: []`, 89 corpus cards), a redacted secret
(`      verifyToken: [REDACTED:assigned_secret]`, a flow list of one str) or a flow list of numbers
(`      value: [0.632560011824588, 0.6345771823814063, ...]`) is read by the line path too: it finds
the lines and the nodes the parser's events find, and the block is what the whole load gives."""
import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from cardrepro import memo
from cardrepro.read import card_shape, redact, unread, yamlish, yamlsafe
from cardrepro.read.source import Line

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "hub-readmes"
KEY = unread.KEY
# a real card line (HuggingFaceH4_zephyr-7b-beta's model-index)
REAL_SCORE = "         value: 62.03071672354948"


def _plain_entry(text):
    """The line's parts as the line-by-line check read them: one fullmatch of unread._ENTRY, then
    the key's and the value's own checks."""
    spaces, dash, key, value, item = unread._ENTRY.fullmatch(text).groups()
    if dash is None and key is None:
        return None if text.lstrip().startswith("#") else False
    try:
        if key is None:
            unread._check_value(item)
            return len(spaces), dash or "", "", 0
        if key[:1] in unread._RESOLVERS and unread._plain_tag(key) != unread._STR:
            return False
        if value and re.fullmatch(r"\[REDACTED:[a-z_]+\]", value):
            return len(spaces), dash or "", key, 2  # a redacted secret: a flow list of one str
        if value and re.fullmatch(r"\[[0-9]+\.?[0-9]*(?:, [0-9]+\.?[0-9]*)*\]", value):
            return len(spaces), dash or "", key, 2 + value.count(",")  # a flow list of numbers
        if value and value != "[]":  # an empty flow list: one node, like a scalar
            unread._check_value(value)
    except unread._Cannot:
        return False
    return len(spaces), dash or "", key, 1 if value else 0


def _looked_up(text):
    """What _plain_section looks up for the line (the number put to 0 where it ends one)."""
    head, sep, tail = text.rpartition(": ")
    if text[-1] in unread._DIGITS and sep and unread._DECIMAL.fullmatch(tail):
        return unread._line_entry(head + ": 0")
    return unread._line_entry(text)


def _section_lines():
    for path in sorted(CORPUS.glob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        end = text.find("\n---", 4)
        front = text[4:end] if text.startswith("---\n") and end > 0 else ""
        lines = front.split("\n")
        if "model-index:" in lines:
            yield from filter(None, lines[lines.index("model-index:") + 1:])


def test_a_real_score_line_is_a_key_with_a_value_looked_up_as_zero():
    memo.clear()
    assert _looked_up(REAL_SCORE) == _plain_entry(REAL_SCORE) == (9, "", "value", 1)
    assert unread._line_entry.cache_info().currsize == 1
    _looked_up(REAL_SCORE.replace("62.03071672354948", "57.8"))
    assert unread._line_entry.cache_info().hits == 1  # the same entry, not a new one


def test_every_corpus_section_line_says_what_it_said():
    if not CORPUS.is_dir():
        pytest.fail(f"no corpus at {CORPUS}")
    memo.clear()
    lines = set(_section_lines())
    assert len(lines) > 50_000
    for text in lines:
        assert _looked_up(text) == _plain_entry(text), text


HEAD = st.tuples(st.sampled_from(["", " ", "    ", "\u00a0"]), st.sampled_from(["", "- ", "-  ", "-"]),
                 st.text(alphabet="ab_1-:# '\"[{.&*!yYnN~", max_size=12)).map("".join)
DECIMAL = st.from_regex(r"[0-9]{1,6}\.?[0-9]{0,6}", fullmatch=True)


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(HEAD, DECIMAL)
def test_a_line_that_ends_in_a_number_says_what_it_says_with_zero(head, number):
    line = f"{head}: {number}"
    assert _plain_entry(line) == _plain_entry(f"{head}: 0")
    assert _looked_up(line) == _plain_entry(line)


def _front_matters():
    for path in sorted(CORPUS.glob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        end = text.find("\n---", 4)
        if text.startswith("---\n") and end > 0:
            yield path.name, text[4:end]


def _by_events(text):
    loader = yamlsafe.CardLoader(text)
    try:
        return unread._span(loader, text.split("\n"), KEY, "\\" in text)
    finally:
        loader.dispose()


def _nodes_by_events(text, lines):
    loader = yamlsafe.CardLoader(text)
    try:
        unread._to_section(loader.get_event, KEY)
        return unread._section(loader.get_event, loader, lines, "\\" in text)
    finally:
        loader.dispose()


def _outcome(lines, key=None):
    tree = yamlish.load_block(lines, card_shape(), key)
    if isinstance(tree.value, dict):
        tree.value.pop(KEY, None)
    where = {p: no for p, no in tree.where.items() if p[0] != KEY or len(p) == 1}
    return tree.value, where, tree.duplicates


def test_a_section_with_a_flow_list_is_read_by_lines_as_the_parser_reads_it():
    if not CORPUS.is_dir():
        pytest.fail(f"no corpus at {CORPUS}")
    checked = 0
    for name, front in _front_matters():
        if f"\n{KEY}:\n" not in f"\n{front}" or "]" not in front:
            continue
        card_lines, _ = redact.redact_lines([Line(i + 1, t) for i, t in enumerate(front.split("\n"))])
        lines = [l.text for l in card_lines]
        first = lines.index(f"{KEY}:")
        if not any(l.endswith("]") for l in lines[first + 1:]):
            continue
        text = "\n".join(lines)
        by_lines, by_events = unread._plain_span(text, lines, KEY), _by_events(text)
        if by_lines is None:
            continue
        assert by_events is not None, name
        assert (by_lines.first, by_lines.end) == (by_events.first, by_events.end), name
        assert by_lines.spare_nodes == _nodes_by_events(text, lines) - 1, name  # the null's node
        assert _outcome(card_lines, KEY) == _outcome(card_lines), name
        checked += 1
    assert checked > 60
