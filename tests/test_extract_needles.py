"""A needle handed to `search_lines` only rules out cards the pattern cannot match: wherever a
pattern matches, its needle is in the case-folded text (including the non-ASCII characters
that re.IGNORECASE equates with ASCII letters)."""
from hypothesis import given, settings, strategies as st

from cardrepro.extract import model, prompt
from cardrepro.read.source import fold_case

NEEDLED = [(pat, needle) for pat, needle in model._BASE_PATTERNS + model._VOCAB if needle] + [
    (model._RELEASED, "checkpoint"), (model._HUB_LOAD, "model"), (prompt._ENDS_WITH, ("<|", "</s>"))]

PIECES = ["Finetuned", "FINE-TUNED", "trained", " from", " FROM", " fröm", " model", "Model", "**", ":", " ",
          "[", "org/name-7b", "base", "BAſE", "baſe", "_", "on top of the ", "ON TOP OF THE ", "native ",
          "Pythia-12B", "vocabulary of size ", "VOCAB", "vocab_size", "=", " 39,410", "大小的词表",
          "checkpoint", "CHECKPOINT", "2 epochs (3000 steps)", "model = 'a/b'", "İ", "ı", "ſ", "\u212a", "\n",
          "each turn ends with ", "Turns end with an ", "每轮对话以", "以", "`", "<|endoftext|>", "</s>", "<|", "|>"]


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=12).map("".join))
def test_every_match_contains_its_needle(text):
    folded = fold_case(text)
    for pat, needle in NEEDLED:
        if pat.search(text):
            needles = needle if isinstance(needle, tuple) else (needle,)
            assert any(n in folded for n in needles), (pat.pattern, needle, text)


def test_folding_keeps_case_insensitive_literals():
    assert "base" in fold_case("BAſE MODEL") and "api" in fold_case("APİ") and "k" in fold_case("\u212a")
