"""Cards written to attack the reader: each parses and audits in bounded time and ends in exit 0,
1 (audit findings) or 2 (bad input, one `FILE:LINE: msg` line), never 3 (internal error)."""
import json
import os
import random
import re
import shlex
import time

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cardrepro import data
from cardrepro.errors import CardError
from cardrepro.extract import training_stages
from cardrepro.read import read_card
from cardrepro.read.source import fold_case
from cardrepro.read import shellwords
from cardrepro.spec import parse_card
from conftest import CARDS, ROOT, run_cli

HEAD = "---\nlicense: mit\nbase_model: EleutherAI/pythia-1b\n---\n# Model\nlearning_rate: 1e-5\n\n"
SCHEMA = ROOT / "schemas" / "spec.schema.json"
BUDGET = 3.0  # seconds per card, in process; the promise is "well under a second", the machine is shared
# (times are this process's CPU time: what a card costs, not how busy the shared machine is)


def _alias_bomb():
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 6) + "]" for i in range(1, 9)]
    return "```yaml\n" + "\n".join(rows) + "\n```\n"


# name: (card text, the exit codes `cardrepro parse` may give)
ATTACKS = {
    "broken_python_run": ("".join(f"x{i} = foo(a, b\n" for i in range(300)), (0,)),
    "unclosed_calls": ("".join("f(\n" for _ in range(1500)), (0,)),
    "unclosed_braces": ("".join('{ "a": 1,\n' for _ in range(4000)), (0,)),
    "open_brace_lines": ("{\n" * 20000, (0,)),
    "key_lines_then_prose": ("".join(f"key{i}:\n" for i in range(10000)) + "some prose\n" * 10, (0,)),
    "key_then_long_prose": ("note:\n" + "words that go on\n" * 20000, (0,)),
    "digits_near_gpu": ("8 " + "1" * 13000 + " GB A100\n", (0,)),
    "alias_bomb": (_alias_bomb(), (2,)),
    "recursive_alias": ("```yaml\nx: &a [*a, 1]\n```\n", (2,)),
    "recursive_alias_map": ("```yaml\nx: &a {k: *a}\n```\n", (2,)),
    "deep_yaml": ("```yaml\nx: " + "[" * 10000 + "]" * 10000 + "\n```\n", (2,)),
    "deep_json": ("```json\n" + "[" * 10000 + "]" * 10000 + "\n```\n", (0,)),  # malformed: a hygiene finding
    "deep_python_sum": ("```python\nx = " + " + ".join(["'a'"] * 10000) + "\n```\n", (0,)),
    "deep_python_unary": ("```python\nmodel.generate(temperature=" + "-" * 10000 + "1)\n```\n", (0,)),
    "long_int_yaml": ("num_train_epochs: " + "9" * 5000 + "\n", (0,)),  # a value of the wrong type: dropped
    "long_int_json": ('```json\n{"learning_rate": ' + "9" * 5000 + "}\n```\n", (0,)),
    "lone_surrogate_json": ('```json\n{"learning_rate": "\\ud800"}\n```\n', (0,)),
    "lone_surrogate_yaml": ('```yaml\nlearning_rate: "\\ud800"\n```\n', (0, 2)),
    "python_set": ("```python\nmodel.generate(temperature={1, 2})\n```\n", (0,)),
    "python_complex": ("```python\nmodel.generate(temperature=1j)\n```\n", (0,)),
    "python_bytes": ('```python\nmodel.generate(temperature=b"")\n```\n', (0,)),
    "python_unhashable_key": ("```python\nmodel.generate(temperature={[1]: 2})\n```\n", (0,)),
}


def _time_parse(path):
    start = time.process_time()
    try:
        parse_card(path)
        code = 0
    except CardError:
        code = 2
    return code, time.process_time() - start


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_card_is_fast_and_never_an_internal_error(tmp_path, name):
    text, codes = ATTACKS[name]
    card = tmp_path / f"{name}.md"
    card.write_text(HEAD + text, encoding="utf-8")
    code, took = _time_parse(card)
    assert took < BUDGET, f"{name}: {took:.2f}s"
    assert code in codes
    r = run_cli("parse", card, "--format", "json")
    assert r.returncode in codes, r.stderr
    if r.returncode == 2:
        assert r.stderr.startswith(f"{card}:") and len(r.stderr.strip().splitlines()) == 1


def test_python_literals_json_cannot_hold_are_not_settings(tmp_path):
    card = tmp_path / "card.md"
    card.write_text(HEAD + "```python\nmodel.generate(temperature=1j, top_p={1, 2}, top_k=40)\n```\n", encoding="utf-8")
    gen = parse_card(card)["generation"]
    assert gen == {"top_k": 40}


def test_alias_bomb_is_refused_at_its_block_line(tmp_path):
    card = tmp_path / "bomb.md"
    card.write_text(HEAD + _alias_bomb(), encoding="utf-8")
    r = run_cli("audit", card)
    assert r.returncode == 2
    assert r.stderr.startswith(f"{card}:9: ") and "alias" in r.stderr


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "/dev/null"])
def test_non_regular_files_are_refused_without_blocking(tmp_path, special):
    path = special
    if special == "fifo":
        path = tmp_path / "card.md"
        os.mkfifo(path)  # nobody writes: reading it would wait for ever
    r = run_cli("parse", path, timeout=30)
    assert r.returncode == 2
    assert r.stderr.strip() == f"{path}:0: not a regular file (a FIFO, socket or device), not a card file"


def test_audit_reports_the_good_cards_around_a_bad_one(tmp_path):
    good, good2 = CARDS / "stablelm-7b-sft.md", CARDS / "bloomz-mona-lora.md"
    bad = tmp_path / "bad.md"
    bad.write_text(HEAD + _alias_bomb(), encoding="utf-8")
    r = run_cli("audit", good, bad, good2)
    assert r.returncode == 2
    assert f"== {good}:" in r.stdout and f"== {good2}:" in r.stdout
    assert r.stderr.strip().splitlines() == [f"{bad}:9: YAML value expands to more than 200000 nodes (alias bomb?)"]


def test_global_batch_larger_than_the_data_is_audited(tmp_path):
    card = tmp_path / "card.md"
    card.write_text((CARDS / "stablelm-7b-sft.md").read_text(encoding="utf-8") + "\n\nnum_gpus: 10000000\n",
                    encoding="utf-8")
    r = run_cli("audit", card, "--format", "json")
    assert r.returncode in (0, 1), r.stderr


# Pieces of pathological cards; the property test nests, repeats and joins them.
PIECES = ["{", "}", "[", "]", "(", ")", '"', "\\ud800", "&a ", "*a", "- ", "key:", "x = f(", "```", "```python",
          "```json", "```yaml", "---", "|", "9" * 50, "A100", " GB ", "deepspeed trainer_sft.py --configs a",
          "--flag 1", "datasets:", "- ds", ">-", "\n", "    ", "import x", "1j", "{1, 2}", "b''"]


def _pathological(rng):
    out = []
    for _ in range(rng.randint(1, 6)):
        piece = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 4)))
        depth = rng.choice([1, 2, 50, 3000])
        if rng.random() < 0.3:
            piece = rng.choice(["[", "{", "("]) * depth + piece + rng.choice(["]", "}", ")"]) * depth
        else:
            piece = (piece + rng.choice(["\n", " ", ""])) * min(depth, 3000)
        out.append(piece)
    return HEAD + "\n".join(out)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_pathological_cards_end_in_bounded_time(tmp_path, seed):
    card = tmp_path / "card.md"
    card.write_text(_pathological(random.Random(seed)), encoding="utf-8")
    code, took = _time_parse(card)
    assert took < BUDGET, f"seed {seed}: {took:.2f}s"
    if code == 0:
        from cardrepro.audit import audit_report
        audit_report(parse_card(card))


# Cards that are large rather than tricky: their lists are cut at the parser's limits (a CR603
# finding says how many entries were left out) and nothing is quadratic in the card's size.
def _many_flags():
    flags = " ".join(f"--opt{i} {i}" for i in range(60000))  # one command line of about 1 MB
    return HEAD + f"command: `deepspeed trainer_sft.py --configs defaults {flags}`\n"


def _many_trainer_datasets():
    rows = "\n".join(f"  - ds{i}" for i in range(80000))
    return HEAD + "command: `deepspeed trainer_sft.py --configs defaults mix --deepspeed`\n\n```\nmix:\n  datasets:\n" + rows + "\n```\n"


def _many_metadata_datasets(n=60000):
    rows = "".join(f"- org/ds{i}\n" for i in range(n))
    return "---\nlicense: mit\nbase_model: EleutherAI/pythia-1b\ndatasets:\n" + rows + "---\n# Model\nlearning_rate: 1e-5\n"


# name: (card, the list cut: path, card line, entries in all)
HUGE = {
    "many_flags": pytest.param(_many_flags, ("command.args", 8, 120004)),
    "many_trainer_datasets": pytest.param(_many_trainer_datasets, ("datasets", 12, 80000)),
    "many_metadata_datasets": pytest.param(_many_metadata_datasets, ("metadata_datasets", 4, 60000)),
}


@pytest.mark.parametrize("make, cut", [HUGE[name] for name in sorted(HUGE)], ids=sorted(HUGE))
def test_huge_lists_are_cut_with_a_finding_in_bounded_time(tmp_path, make, cut):
    name, (path, line, total) = make.__name__, cut
    card = tmp_path / f"{name}.md"
    card.write_text(make(), encoding="utf-8")
    start = time.process_time()
    spec = parse_card(card)
    took = time.process_time() - start
    assert took < BUDGET, f"{name}: {took:.2f}s"
    cut = {"path": path, "line": line, "kept": 1000, "left_out": total - 1000}
    assert spec["hygiene"]["truncated"] == [cut]
    r = run_cli("audit", card, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    found = [f for f in json.loads(r.stdout)["reports"][0]["findings"] if f["code"] == "CR603"]
    assert [(f["lines"], f["data"]) for f in found] == [([line], {"kept": 1000, "left_out": total - 1000})]


def test_the_spec_schema_declares_what_was_cut(tmp_path):
    card = tmp_path / "card.md"
    card.write_text(_many_metadata_datasets(1001), encoding="utf-8")
    spec = parse_card(card)
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert list(validator.iter_errors(spec)) == []
    for bad in ({"left_out": "1"}, {"kept": -1}, {"left_out": 0}, {"extra": 1}):
        cut = dict(spec["hygiene"]["truncated"][0], **bad)
        errors = list(validator.iter_errors(dict(spec, hygiene={"truncated": [cut]})))
        assert [list(e.path)[:2] for e in errors] == [["hygiene", "truncated"]], bad


def test_a_yaml_value_that_holds_itself_is_refused_at_its_line(tmp_path):
    card = tmp_path / "card.md"
    card.write_text(HEAD + "```yaml\nx: &a [*a, 1]\n```\n", encoding="utf-8")
    r = run_cli("parse", card, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == f"{card}:9: YAML value holds itself through an alias (it would never end)"


def test_methods_are_found_among_many_sentences_in_bounded_time(tmp_path):
    # each method's sentences are found through one search of the card's joined sentences, and
    # stated as a search of each sentence alone would find them: after 80,000 sentences, a
    # negated statement is passed over, and a match that starts in one sentence ("is") and runs
    # on into the next ("a is a reward model") does not hide the next sentence's own match
    prose = "".join(f"Sentence {i} says nothing. Then another one {i}.\n" for i in range(40000))
    tail = "This model was not trained with DPO.\nOur critic is\na is a reward model.\nLater it was trained with DPO.\n"
    card = tmp_path / "card.md"
    card.write_text(HEAD + prose + tail, encoding="utf-8")
    start = time.process_time()
    stated = training_stages.stated_methods(read_card(card))
    took = time.process_time() - start
    assert took < BUDGET, f"{took:.2f}s"
    first = HEAD.count("\n") + 40000 + 1
    assert stated == {"dpo": (first + 3, "trained with DPO"), "reward_model": (first + 2, "is a reward model")}


def _needled_patterns():
    """(name, pattern, needles) of each data/training_stages.yaml pattern searched only where a needle is."""
    methods = data.load("training_stages")["methods"]
    rows = [(m, "(?:" + "|".join(names) + ")") for m, names in methods["names"].items()]
    rows += [(key, methods[key]) for key in ("adapter_words", "fine_tuned", "reward_prose")]
    return [(name, re.compile(pattern), methods["needles"][name]) for name, pattern in rows]


@pytest.mark.parametrize("name, pattern, needles", _needled_patterns(), ids=[r[0] for r in _needled_patterns()])
@settings(max_examples=150, deadline=None, derandomize=True)
@given(data=st.data())
def test_every_match_of_a_method_pattern_holds_a_needle(name, pattern, needles, data):
    text = data.draw(st.from_regex(pattern))
    said = fold_case(pattern.search(text).group(0))
    assert any(n in said for n in needles), (name, text)


def test_a_list_at_the_limit_is_kept_whole(tmp_path):
    card = tmp_path / "card.md"
    card.write_text(_many_metadata_datasets(1000), encoding="utf-8")
    spec = parse_card(card)
    assert len(spec["metadata_datasets"]) == 1000 and "hygiene" not in spec


def test_an_invalid_value_is_quoted_clipped(tmp_path):
    card = tmp_path / "card.md"
    card.write_text(HEAD + "num_train_epochs: " + "9" * 5000 + "\n", encoding="utf-8")
    r = run_cli("parse", card, "--format", "json")
    assert r.returncode == 0, r.stderr
    [bad] = json.loads(r.stdout)["hygiene"]["invalid_values"]
    assert (bad["path"], bad["line"]) == ("training.num_train_epochs", 8)
    assert bad["value"].startswith("'9999") and bad["value"].endswith("...") and len(bad["value"]) <= 80
    assert "9" * 100 not in bad["reason"] and "..." in bad["reason"]


WORD_PARTS = st.sampled_from(["a", "b", "-", "=", "é", " ", "\t", "\n", "\r", "'", '"', "\\", "#"])


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(line=st.lists(WORD_PARTS, max_size=14).map("".join), comments=st.booleans())
def test_shell_words_split_as_shlex_does(line, comments):
    lex = shlex.shlex(line, posix=True)
    lex.whitespace_split, lex.commenters = True, "#" if comments else ""
    try:
        expected = list(lex)
    except ValueError:
        expected = ValueError
    try:
        got = shellwords.split(line, comments=comments)
    except ValueError:
        got = ValueError
    assert got == expected


@pytest.mark.parametrize("block, kept", [
    ("```yaml\nlr: 0b_\nnum_train_epochs: 3\n```\n", ("training", "num_train_epochs", 3)),  # int() of '' in base 2
    ("```yaml\ndate: 2023-02-30\nlearning_rate: 2e-5\n```\n", ("training", "learning_rate", 2e-5)),  # no such day
])
def test_a_scalar_yaml_accepts_but_cannot_build_is_read_another_way(tmp_path, block, kept):
    card = tmp_path / "card.md"
    card.write_text("---\nlicense: mit\n---\n# model\n" + block, encoding="utf-8")
    r = run_cli("parse", card, "--format", "json")
    assert r.returncode == 0, r.stderr
    spec = json.loads(r.stdout)
    assert spec[kept[0]][kept[1]] == kept[2] and spec["licence"] == "mit"
