"""Mutated and random cards never raise anything but CardError (which the CLI turns into exit 2)."""
import random

from hypothesis import HealthCheck, given, settings, strategies as st

from cardrepro.audit import audit_spec
from cardrepro.errors import CardError
from cardrepro.spec import parse_card
from conftest import CARDS, SEEDS

SEED_TEXT = [(CARDS / f"{n}.md").read_text(encoding="utf-8") for n in SEEDS]
NOISE = ["|", "- ", ":", "：", "```", "---", "{", "}", "\"", "- x:", "  ", "\n", "&a", "*a", "<|prompter|>", "数据集:",
         "--configs defaults", "deepspeed trainer_sft.py", "1e-5", "\t", "\\", "#", "[", "]"]


def _parse(tmp_path, text):
    p = tmp_path / "card.md"
    p.write_text(text, encoding="utf-8")
    try:
        spec = parse_card(p)
    except CardError as err:
        assert err.path == str(p)
        return None
    assert spec["card"]["sha256"]
    audit_spec(spec, card_text=text)  # whatever parses, the audit reads without raising
    return spec


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 3), ops=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(NOISE), st.integers(0, 3)), max_size=12))
def test_mutated_seed_cards(tmp_path, seed, ops):
    text = SEED_TEXT[seed]
    for pos, noise, kind in ops:
        i = pos % (len(text) + 1)
        if kind == 0:
            text = text[:i] + noise + text[i:]
        elif kind == 1:
            text = text[:i] + text[i + 40:]
        elif kind == 2:
            lines = text.split("\n")
            random.Random(pos).shuffle(lines)
            text = "\n".join(lines)
        else:
            text = text.replace("\n", " ") if pos % 5 == 0 else text[i:] + text[:i]
    _parse(tmp_path, text)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(st.sampled_from(list("abc:-|#{}[]\"'`&*\n 1e5.") + NOISE), max_size=120).map("".join))
def test_random_cards(tmp_path, text):
    _parse(tmp_path, text)
