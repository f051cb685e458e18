"""Q4's fast paths give what their plain versions gave, each plain version kept here as the
reference and compared over seed cards and a sample of the Hub corpus, or by hypothesis:

- resolve._folded_lines: a card's case-folded lines are the folded text search_lines keeps (util)
  when that is their casefold() (always for ASCII; else checked line by line, only on the lines
  beyond ASCII), not a casefold() of their own;
- model._hub_loads: search_lines of the `model="org/name"` pattern, skipped in a card whose joined
  lines the pattern does not match;
- model._BASE_PATTERNS' Chinese spellings: a card is searched when it holds `原` or `基`, two finds
  where the four spellings were four."""
import itertools

from hypothesis import given, settings, strategies as st

from cardrepro import resolve
from cardrepro.extract import model
from cardrepro.extract.util import joined_lines, search_lines
from cardrepro.read import read_card
from conftest import read_docs


def _docs(every=20):
    return read_docs(every)


def _folded_lines_plain(doc):
    text, starts, lines = joined_lines(doc)
    folded = text.casefold()
    if len(folded) == len(text):
        return folded, starts, lines
    texts = [l.text for l in doc.lines]
    starts = list(itertools.accumulate((len(t) + 1 for t in texts), initial=0))
    starts.pop()
    return "\n".join(texts).casefold(), starts, doc.lines


def test_folded_lines_are_the_casefolded_lines_over_the_corpus():
    ascii_cards = other_cards = 0
    for path, doc in _docs():
        assert resolve._folded_lines(doc) == _folded_lines_plain(doc), path.name
        ascii_cards += joined_lines(doc)[0].isascii()
        other_cards += not joined_lines(doc)[0].isascii()
    assert ascii_cards >= 20 and other_cards >= 20, "the sample holds ASCII cards and others"


def test_named_framework_of_an_ascii_card_with_capitals(write_card):
    # a real auto-card line (TRL), in capitals the fold must undo
    doc = read_card(write_card("# m\n\nTHIS MODEL WAS TRAINED WITH SFT.\n"))
    profile, line = resolve.named_framework(doc)
    assert profile["name"] == "trl-sft" and line == 3


def _hub_loads_plain(doc):
    return list(search_lines(doc, model._HUB_LOAD, "model"))


def _same(a, b):
    return [(no, t, m.span(), m.groups()) for no, t, m in a] == [(no, t, m.span(), m.groups()) for no, t, m in b]


def test_hub_loads_are_search_lines_over_the_corpus():
    found = 0
    for path, doc in _docs(every=5):
        fast = list(model._hub_loads(doc))
        assert _same(fast, _hub_loads_plain(doc)), path.name
        found += bool(fast)
    assert found >= 5, "the sample holds cards that load a hub model by name"


_PIECES = ["model", "model_id", " = ", "=", "'", '"', "org/name", "a.b-c/d_e", "\n", " ", "x", "revision='v1'"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14))
def test_hub_loads_are_search_lines_on_any_text(tmp_path_factory, pieces):
    path = tmp_path_factory.mktemp("card") / "README.md"
    path.write_text("# m\n\n" + "".join(pieces) + "\n", encoding="utf-8")
    doc = read_card(path)
    assert _same(list(model._hub_loads(doc)), _hub_loads_plain(doc))


def test_model_hub_id_from_a_real_line(write_card):
    # a real card line (TRL's auto-card quick start)
    line = 'generator = pipeline("text-generation", model="trl-lib/Qwen2-0.5B-SFT", device="cuda")'
    doc = read_card(write_card(f"# m\n\n```python\n{line}\n```\n"))
    assert [m.group(1) for _, _, m in model._hub_loads(doc)] == ["trl-lib/Qwen2-0.5B-SFT"]


def _spans(found):
    return [(no, m.span(), m.groups()) for no, _, m in found]


def test_base_model_in_chinese_is_found_with_its_two_characters_as_needles():
    # model._BASE_PATTERNS[3] is searched in a card holding `原` or `基`, as it was in one holding
    # one of its four spellings
    pattern, needle = model._BASE_PATTERNS[3]
    assert needle == ("原", "基")
    compared = 0
    for path, doc in _docs(every=4):
        plain = list(search_lines(doc, pattern, ("原生的", "原始的", "基于", "基於")))
        assert _spans(list(search_lines(doc, pattern, needle))) == _spans(plain), path.name
        compared += bool(plain)
    assert compared >= 1, "the sample holds a card that names its base model in Chinese"


def test_base_model_from_a_real_chinese_line(write_card):
    # a real card line (THUDM/codegeex2-6b's README), its head
    line = "* **更强大的代码能力**：基于 ChatGLM2-6B 基座语言模型，CodeGeeX2-6B 进一步经过了 600B 代码数据预训练"
    doc = read_card(write_card(f"# m\n\n{line}\n"))
    pattern, needle = model._BASE_PATTERNS[3]
    assert [m.group(1) for _, _, m in search_lines(doc, pattern, needle)] == ["ChatGLM2-6B"]


_TRICKY = ["ß", "ẞ", "İ", "i\u0307", "ı", "ſ", "Σ", "ς", "ﬁ", "\u212a", "ǰ", "🤗", "模型", "SFTTrainer", "DPO", " ", "\n", "x"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TRICKY), max_size=16))
def test_folded_lines_are_the_casefolded_lines_on_any_text(tmp_path_factory, pieces):
    # characters whose casefold() and fold_case() differ (ß, ı, ﬁ) or that change a text's length
    path = tmp_path_factory.mktemp("card") / "README.md"
    path.write_text("# m\n\n" + "".join(pieces) + "\nThis model was trained with SFT.\n", encoding="utf-8")
    doc = read_card(path)
    assert resolve._folded_lines(doc) == _folded_lines_plain(doc)
