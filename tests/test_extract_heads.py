"""`search_lines` tries a pattern only where its heads (extract/heads.py) say a match can begin,
and finds what `pattern.finditer` over the whole card finds: the same matches, in the same
order, across line ends, case folds (ſ, ı, İ, the Kelvin sign) and overlapping heads."""
import json
import re
import sys

from hypothesis import given, settings, strategies as st

from cardrepro.extract import heads, model, prompt, training_stages, util, versions
from cardrepro.read import read_card
from cardrepro.read.source import fold_case
from conftest import run_cli


def _searched_patterns():
    """Every pattern the extractors hand to search_lines."""
    out = [prompt._prose_named(), prompt._NAMED, prompt._ENDS_WITH, model._RELEASED, model._HUB_LOAD]
    out += [p for p, _ in versions._patterns()]
    out += [p for p, _ in model._BASE_PATTERNS + model._VOCAB]
    out += list(training_stages._method_regexes()[2].values()) + [training_stages._methods_regex("adapter_words")]
    return out


PATTERNS = _searched_patterns()
EXTRA = [re.compile(p) for p in (r"(?m)^ab", r"(?m)^\s*[-*]?\s*(?:ab|cd)\b", r"(?im)^-?k", r"(?m)^[ *]*a", r"^ab|cd", r"aa", r"(?i)k\w+|ſt", r"(?:--x[ =]|^\s*x:\s*)(\w+)",
                                 r"(?i)(?<![\w-])(a[-_ ]?b|ab)\s+c\b",
                                 r"(?i)ab[-_ ]?cd[-_ ]?ef[-_ ]?gh[-_ ]?ij[-_ ]?kl")]
PIECES = ["\n", " ", "  ", "-", "*", "**", ":", "=", "==", "`", "İ", "ı", "ſ", "\u212a", "i\u0307", "Σ",
          "- Transformers 4.40.1", "Pytorch 2.1.2+cu118", "transformers==4.44.2", "TRL version: 0.27.1",
          "ChatML", "chat-ml", "llama-3", "Llama 3", "phi-3", "prompt format", " format", " template",
          "Prompt template: ", "chat template is ", "--template ", "template: ", "conversation",
          "fine-tuned from", "Finetuned from model:", "trained from", "base_model: ", "org/name-7b",
          "vocab_size = ", "39,410", "checkpoint: 2 epochs (3000 steps)", "model = 'a/b'", "on top of the ",
          "Pythia-12B", "基于", "以", "<|endoftext|>", "</s>", "each turn ends with ", "--stage ", "stage: sft",
          "quantization_bit: 4", "finetuning_type: lora", "AB-cd ef_gh", "ijkl", "ab", "a b c", "aaa", "x: y", "--x=1", "cd", "k1", "ſt"]
TEXTS = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=14).map("".join)


def _spans(matches):
    return [(m.span(), m.groups()) for m in matches]


def _line_starts(text):
    return [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(TEXTS)
def test_trying_the_heads_finds_what_finditer_finds(text):
    folded = fold_case(text)
    for pattern in PATTERNS + EXTRA:
        got = util._matches(pattern, text, folded, _line_starts(text))
        assert _spans(got) == _spans(pattern.finditer(text)), (pattern.pattern, text)


def test_the_slow_patterns_have_heads():
    """The patterns that searched every character of every card now try a few places each."""
    assert heads.heads(prompt._prose_named()).texts
    for pattern, _ in versions._patterns()[1:]:
        assert "transformers" in heads.heads(pattern).texts
    listed = heads.heads(versions._patterns()[0][0])  # `- PEFT 0.15.2`: a line start, a lead, a name
    assert listed.lead and listed.lead_space and listed.lead_chars == "*-" and "peft" in listed.texts
    assert heads.heads(re.compile(r"^\s*stage:")).text_start
    assert heads.heads(re.compile(r"\w+")) is None and heads.heads(re.compile(r"a?")) is None


def test_heads_are_as_long_as_their_number_allows():
    """Whole names rule out more places than their first four letters (`datasets`, not `data`);
    a pattern whose classes multiply its heads past MAX_HEADS gets shorter ones."""
    assert heads.heads(re.compile(r"(?i)(?:continual pretraining|dpo)")).texts == ("continual pretra", "dpo")
    many = heads.heads(EXTRA[-1])  # 4**5 spellings of 16 characters; 37 of 8
    assert len(many.texts) == 37 and {len(t) for t in many.texts} == {8}
    assert heads.heads(re.compile(r"(?m)^\s*-?\s*(?:deepspeed|peft)\b")).texts == ("deepspeed", "peft")


def test_every_character_a_case_insensitive_ascii_literal_matches_folds_to_it():
    """What makes a head, searched in the folded text, a superset of the match starts."""
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    matched = set(re.findall(r"(?i)[\x00-\x7f]", every))
    for ch in matched:
        literals = {c.lower() for c in map(chr, range(128)) if re.fullmatch("(?i)" + re.escape(c), ch)}
        assert literals == {fold_case(ch)}, ch


@settings(max_examples=500, deadline=None, derandomize=True)
@given(TEXTS)
def test_a_fold_of_the_same_length_keeps_every_ascii_character_in_place(text):
    folded = fold_case(text)
    if len(folded) == len(text):
        for i, ch in enumerate(text):
            if fold_case(ch).isascii() or folded[i].isascii():
                assert folded[i] == fold_case(ch), (text, i)


def test_a_card_states_versions_and_its_format_in_real_lines(write_card):
    card = write_card("\n".join([
        "---", "license: apache-2.0", "---", "# m",
        "**v2, v3**: ChatML prompt format:",
        "### Framework versions", "",
        "- Transformers 4.40.1",
        "pip install torch==2.2.0 transformers==4.44.2 numpy==1.24.3 pillow==10.3.0",
        "trained with learning_rate: 2e-5"]))
    doc = read_card(card)
    found = {(no, m.group(0)) for no, _, m in util.search_lines(doc, versions._patterns()[0][0])}
    assert found == {(8, "- Transformers 4.40.1")}
    hits = [(no, m.group(1)) for no, _, m in util.search_lines(doc, prompt._prose_named(), ("format", "template"))]
    assert hits == [(5, "ChatML")]
    spec = run_cli("parse", card, "--format", "json")
    assert spec.returncode == 0, spec.stderr
    env = json.loads(spec.stdout)["environment"]
    assert env == {"torch": "2.2.0"}  # transformers: pinned to two versions, neither holds
