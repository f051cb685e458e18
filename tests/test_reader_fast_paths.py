"""The reader's fast paths give what the slow ones gave: the front matter's `model-index:` section
is left unbuilt (cardrepro/read/unread.py) without changing anything else the block reports."""
import json

import pytest

from cardrepro.read import card_shape, read_card, unread, yamlish, yamlsafe
from cardrepro.read.source import Line
from conftest import run_cli

# the front matter of a real card (zephyr-7b-beta), cut short
HEAD = """license: mit
datasets:
- HuggingFaceH4/ultrachat_200k
pipeline_tag: text-generation
"""
SECTION = """model-index:
- name: zephyr-7b-beta
  results:
  # AI2 Reasoning Challenge (25-Shot)
  - task: 
      type: text-generation
      name: Text Generation
    dataset:
      name: AI2 Reasoning Challenge (25-Shot)
      type: ai2_arc
      config: ARC-Challenge
      split: test
      args:
        num_few_shot: 25
    metrics:
       - type: acc_norm
         name: normalized accuracy
         value: 62.03071672354948
    source:
      name: Open LLM Leaderboard
      url: https://huggingface.co/spaces/HuggingFaceH4/open_llm_leaderboard?query=HuggingFaceH4/zephyr-7b-beta
"""
TAIL = """base_model: mistralai/Mistral-7B-v0.1
tags:
- generated_from_trainer
"""
FAKE_TOKEN = "hf_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3"


def _lines(text):
    return [Line(i + 1, t) for i, t in enumerate(text.rstrip("\n").split("\n"))]


def _whole(lines):
    """What the block gave before: the whole load, without the section's value and its keys' lines."""
    tree = yamlish.load_block(lines, card_shape())
    if isinstance(tree.value, dict):
        tree.value.pop(unread.KEY, None)
    tree.where = {p: no for p, no in tree.where.items() if p[0] != unread.KEY or len(p) == 1}
    return tree


def _outcome(load, lines):
    try:
        tree = load(lines)
    except (ValueError, yamlsafe.YamlTooComplex) as err:
        return type(err).__name__
    return tree.value, tree.where, tree.duplicates


def _fast_path_taken(text):
    lines = _lines(text)
    return yamlish._load_without(lines, "\n".join(l.text for l in lines), unread.KEY) is not None


# name: (front matter, whether the section is left unbuilt without loading it)
VARIANTS = {
    "between_keys": (HEAD + SECTION + TAIL, True),
    "last": (HEAD + SECTION, True),
    "only_key": (SECTION, True),
    "twice": (HEAD + SECTION + TAIL + SECTION, False),
    "keep_chomped_block_before": ("note: |+\n  kept\n" + SECTION + TAIL, True),
    "scalar_value": (HEAD + "model-index: none yet\n" + TAIL, True),
    "later_key_written_inside": (HEAD + SECTION + "    base_model: x\n" + TAIL, False),
    "duplicate_key_inside": (HEAD + SECTION.replace("split: test\n", "split: test\n      split: validation\n") + TAIL, False),
    "malformed_inside": (HEAD + SECTION + "   bad: indentation\n" + TAIL, False),
    "alias_inside": (HEAD + SECTION.replace("split: test", "split: &s test\n      revision: *s") + TAIL, False),
    "tag_inside": (HEAD + SECTION.replace("split: test", "split: !!str test") + TAIL, False),
    "quoted_key_inside": (HEAD + SECTION.replace("split: test", '"split": test') + TAIL, False),
    "flow_mapping_inside": (HEAD + SECTION.replace("      name: Open LLM Leaderboard\n", "")
                            .replace("    source:\n", "    source: {name: Open LLM Leaderboard,\n") + TAIL, False),
    "impossible_date_inside": (HEAD + SECTION.replace("split: test", "split: 2023-02-30") + TAIL, False),
    "unreadable_int_inside": (HEAD + SECTION.replace("num_few_shot: 25", "num_few_shot: 0b_") + TAIL, False),
    "lone_surrogate_inside": (HEAD + SECTION.replace("split: test", 'split: "\\ud800"') + TAIL, False),
    "deep_inside": (HEAD + SECTION.replace("num_few_shot: 25", "num_few_shot: " + "[" * 120 + "]" * 120) + TAIL, False),
    "anchors_everywhere": (HEAD + SECTION + "".join(f"k{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 60)), False),
    "flow_value_inside": (HEAD + "model-index:\n- name: x\n  results: []\n" + TAIL, True),
    # not in the plain block style the line path reads: the parser's events decide
    "block_scalar_inside": (HEAD + SECTION.replace("split: test", "split: >-\n        test") + TAIL, True),
    "key_line_inside_a_quoted_value": ('note: "a quoted value\nmodel-index:\n  x: 1\nend"\n' + TAIL, False),
}
# the ones the line path reads (then the load of the rest decides); "twice" names the key twice
PLAIN = {"between_keys", "last", "only_key", "keep_chomped_block_before", "later_key_written_inside",
         "key_line_inside_a_quoted_value", "anchors_everywhere", "flow_value_inside"}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_leaving_the_section_out_changes_nothing_else(name):
    text, fast = VARIANTS[name]
    lines = _lines(text)
    got = _outcome(lambda ls: yamlish.load_block(ls, card_shape(), unread.KEY), lines)
    assert got == _outcome(_whole, lines)
    assert _fast_path_taken(text) == fast
    assert (unread._plain_span(text, text.split("\n"), unread.KEY) is not None) == (name in PLAIN)


def test_the_line_path_and_the_parser_find_the_same_section():
    text = HEAD + SECTION + TAIL
    lines = text.split("\n")
    by_lines = unread._plain_span(text, lines, unread.KEY)
    loader = yamlsafe.CardLoader(text)
    try:
        by_parser = unread._span(loader, lines, unread.KEY, False)
        counted = yamlsafe.CardLoader(text)
        unread._to_section(counted.get_event, unread.KEY)
        nodes = unread._section(counted.get_event, counted, lines, False)
        counted.dispose()
    finally:
        loader.dispose()
    assert (by_lines.first, by_lines.end) == (by_parser.first, by_parser.end) == (4, 25)
    # the nodes of the section's value but the list itself, which the null left in its place stands for
    assert by_lines.spare_nodes == nodes - 1 == 41


def test_the_section_keeps_its_lines_and_its_key_line(write_card):
    card = write_card("---\n" + HEAD + SECTION + TAIL + "---\n# Zephyr\n")
    block = read_card(card).of_kind("frontmatter")[0]
    assert list(block.value) == ["license", "datasets", "pipeline_tag", "base_model", "tags"]
    key_line = 2 + HEAD.count("\n")
    assert block.where[("model-index",)] == key_line
    assert block.where[("base_model",)] == key_line + SECTION.count("\n")
    assert not [p for p in block.where if p[0] == "model-index" and len(p) > 1]
    assert any("value: 62.03071672354948" in l.text for l in block.lines)


def test_a_secret_in_the_section_is_still_found_and_redacted(write_card):
    section = SECTION.replace("split: test", f"split: {FAKE_TOKEN}")
    card = write_card("---\n" + HEAD + section + TAIL + "---\n# Zephyr\n")
    out = run_cli("parse", card, "--format", "json")
    assert out.returncode == 0, out.stderr
    line = 2 + HEAD.count("\n") + section.split("\n").index(f"      split: {FAKE_TOKEN}")
    assert [(s["line"], s["kind"]) for s in json.loads(out.stdout)["hygiene"]["secrets"]] == [(line, "huggingface_token")]
    assert FAKE_TOKEN not in out.stdout + out.stderr


@pytest.mark.parametrize("inside", [
    "num_few_shot: " + "[" * 120 + "]" * 120,  # deeper than the loader allows
    "num_few_shot: &a0 [x, x, x]\n" + "".join(f"        n{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 60)),
])
def test_a_refused_section_still_refuses_the_card(write_card, inside):
    card = write_card("---\n" + HEAD + SECTION.replace("num_few_shot: 25", inside) + TAIL + "---\n# Zephyr\n")
    out = run_cli("parse", card)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith(f"{card}:2: ") and "YAML" in out.stderr, out.stderr


@pytest.mark.parametrize("max_nodes", [40, 60])
def test_the_section_still_counts_towards_the_node_limit(monkeypatch, max_nodes):
    monkeypatch.setattr(yamlsafe, "MAX_NODES", max_nodes)  # 56 nodes with the section, 15 without
    lines = _lines(HEAD + SECTION + TAIL)
    got = _outcome(lambda ls: yamlish.load_block(ls, card_shape(), unread.KEY), lines)
    assert got == _outcome(_whole, lines)
    assert (got == "YamlTooComplex") == (max_nodes == 40)


# --- the escaped pass of the redaction searches only the decoded lines that are no card line, for
# a pattern the card's lines do not hold: the same records and lines as searching all of them

from hypothesis import given, settings, strategies as st  # noqa: E402

from cardrepro.read import redact  # noqa: E402

ESCAPED_PIECES = ["\\x68f_", "\\u0073k-", "hf_", "sk-", "\\\n", "\\n", "\\t", "\\_", "token: ", "\\x74oken=",
                  "abcdefghijklmnopqrstuvwxyz0123456789", "ABCDEFGHIJKLMNOPQRST", "\n", " ", "\\", "/home/",
                  "\\/home\\/", "x/data/y", "C:\\Users\\me", "AKIA", "\\x41KIA", "0123456789ABCDEF", "wandb_key=",
                  "0123456789abcdef" * 3, "user:pa55@", "https://", "\\frac{a}{b}", "$\\text{x}$"]


def _reference_redact_lines(lines):
    """redact_lines with the escaped pass searching the whole decoded text for every pattern."""
    found = {"secrets": [], "absolute_paths": []}
    if any("\\" in l.text for l in lines):
        every_kind = {kind for kind, _, _ in redact.SECRET_PATTERNS} | {None}
        lines = redact._redact_escaped(lines, found, every_kind)
    out = redact._redact_plain(lines, found, redact._texts_with_matches([l.text for l in lines]))
    found["secrets"].sort(key=lambda s: s["line"])
    found["absolute_paths"].sort(key=lambda p: p["line"])
    return out, found


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.sampled_from(ESCAPED_PIECES), st.text(max_size=4)), max_size=20).map("".join))
def test_the_escaped_pass_finds_what_searching_everything_finds(text):
    lines = _lines(text) if text.strip("\n") else [Line(1, "\\x68f_" + "a" * 34)]
    assert redact.redact_lines(lines) == _reference_redact_lines(lines)


def test_a_secret_only_the_decoded_text_holds_is_still_found():
    lines = [Line(1, "nothing"), Line(2, 'token = "\\x68f_' + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3" + '"'), Line(3, "end")]
    out, found = redact.redact_lines(lines)
    assert found["secrets"] == [{"line": 2, "kind": "huggingface_token"}]
    assert "aB3dE5gH7jK9" not in out[1].text and out[0] is lines[0]
    assert (out, found) == _reference_redact_lines(lines)


import yaml  # noqa: E402


# --- yamlsafe.scalar: words with spaces between are the plain scalar the loader gives back

WORD_PIECES = ["More information needed", "Apache 2.0", "Chinese and English", "US-West 2 (288g CO2eq/kWh)",
               "No", "yes", "null", "true", "~", "AKIA" + "ABCDEFGHIJKLMNOP", " ", "  ", "-", ".", ",", "(", ")",
               "+", "/", "#", ":", "a", "7B", "e5", "..."]


def _scalar_by_loader(text):
    """yamlsafe.scalar as it was for a text none of its plain patterns takes: the loader's value."""
    try:
        value, _ = yamlsafe.load(text)
    except (yaml.YAMLError, yamlsafe.YamlTooComplex):
        return text
    return text if isinstance(value, (dict, list)) and not text.startswith(("{", "[")) else value


@settings(max_examples=600, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(WORD_PIECES), min_size=1, max_size=8).map("".join))
def test_words_are_the_scalar_the_loader_gives(text):
    text = text.strip()
    if yamlsafe._WORDS.match(text):
        assert yamlsafe.scalar(text) == _scalar_by_loader(text)


def test_a_real_value_in_words_is_read_without_the_loader(monkeypatch):
    line = "US-West 2 (288g CO2eq/kWh)"  # a real card's carbon table cell
    expected = _scalar_by_loader(line)
    monkeypatch.setattr(yamlsafe, "load", None)  # the fast path never calls it
    assert yamlsafe.scalar(line) == expected == line
    secret = "key AKIA" + "ABCDEFGHIJKLMNOP"
    assert yamlsafe.scalar(secret) != secret  # still redacted, as the loader's value is


# --- yamlsafe.scalar: a number then letters (`13B`), a date, `-`: read without the loader

SIZE_PIECES = ["0", "1", "7", "13", "2024", ".", "-", "_", ":", " ", "B", "b", "x", "e", "E", "M", "billion",
               "inf", "0x1F", "1e5", "05", "13", "2023-02-30", "2024-05-13", "2024-5-3", "1:30", "+"]


@settings(max_examples=800, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(SIZE_PIECES), min_size=1, max_size=5).map("".join))
def test_sizes_dates_and_a_dash_are_the_scalar_the_loader_gives(text):
    text = text.strip()
    if yamlsafe._SIZE.match(text) or yamlsafe._DATE.match(text) or text == "-":
        got, expected = yamlsafe.scalar(text), _scalar_by_loader(text)
        assert (got, type(got)) == (expected, type(expected))


@pytest.mark.parametrize("cell", ["7B", "2024-07-23", "2023-02-30", "1550 M", "11 billion", "-"])
def test_a_real_size_or_date_cell_is_read_without_the_loader(monkeypatch, cell):
    # `| 7B   | 3.0E-4 |` (allenai_OLMo-1B), `| 2024-07-23 | 79.4 |` (a Hub README's results table)
    expected = _scalar_by_loader(cell)
    monkeypatch.setattr(yamlsafe, "load", None)  # the fast path never calls it
    assert yamlsafe.scalar(cell) == expected


def test_hex_and_sexagesimal_are_still_the_loaders():
    assert yamlsafe.scalar("0x1F") == 31 and yamlsafe.scalar("1:30") == 90
    assert not yamlsafe._SIZE.match("0x1F")


# --- redact.redact_value: a value with nothing to redact is given back, not copied

def test_a_value_without_secrets_is_the_copy_it_would_have_been():
    shared = {"name": "zephyr-7b-beta", "paths": ["data/train.json"]}
    value = {"license": "mit", "a": shared, "b": shared, "tags": ["x", 1, None, 2.5]}
    got = redact.redact_value(value)
    assert got == redact._copy(value, {}, {}) and got["a"] is got["b"]
    secret = {"token": "hf_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3", "a": shared, "b": shared, "p": "/home/u/data"}
    red = redact.redact_value(secret)
    assert "aB3dE5gH7jK9" not in red["token"] and red["p"] == "<local>/data"
    assert red["a"] is red["b"] and red is not secret


# --- unread._plain_section: one regex pass over the section and a shortcut for the common line
# give the node count (or the refusal) that checking the section line by line gave

import re  # noqa: E402
from pathlib import Path  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "hub-readmes"


def _reference_plain_section(lines):
    """unread._plain_section as it was: one fullmatch of unread._ENTRY per line."""
    stack, pending, nodes = [[0, True, None]], True, 0
    entry = unread._ENTRY.fullmatch
    for text in lines:
        if not text:
            continue
        spaces, dash, key, value, item = entry(text).groups()
        if dash is None and key is None:
            if text.lstrip().startswith("#"):
                continue
            raise unread._Cannot
        indent = len(spaces)
        if pending:
            pending = False
            if indent > stack[-1][0] or dash and indent == stack[-1][0]:
                if len(stack) + 4 > yamlsafe.MAX_DEPTH:
                    raise unread._Cannot
                stack.append([indent, not dash, set()])
        top = stack[-1]
        while top[0] > indent or (not dash and not top[1] and top[0] == indent and len(stack) > 1):
            stack.pop()
            top = stack[-1]
        if top[0] != indent or top[1] == bool(dash) or len(stack) == 1:
            raise unread._Cannot
        if key is None:
            unread._check_value(item)
            nodes += 1
            continue
        if dash:
            if len(stack) + 4 > yamlsafe.MAX_DEPTH:
                raise unread._Cannot
            top = [indent + len(dash), True, set()]
            stack.append(top)
            nodes += 1
        if key in top[2] or (key[:1] in unread._RESOLVERS and unread._plain_tag(key) != unread._STR):
            raise unread._Cannot
        top[2].add(key)
        nodes += 2
        if value:
            if re.fullmatch(r"\[REDACTED:[a-z_]+\]", value):  # a redacted secret: a flow list of one str
                nodes += 1
            elif re.fullmatch(r"\[[0-9]+\.?[0-9]*(?:, [0-9]+\.?[0-9]*)*\]", value):  # a flow list of numbers
                nodes += 1 + value.count(",")
            elif value != "[]":  # an empty flow list: one node, like a scalar
                unread._check_value(value)
        else:
            pending = True
    return nodes


def _nodes(plain_section, lines):
    try:
        return plain_section(lines)
    except unread._Cannot:
        return "cannot"


def _front_matter(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    end = text.find("\n---", 4)
    return text[4:end] if text.startswith("---\n") and end > 0 else ""


def _spans(text, monkeypatch):
    lines = text.split("\n")
    got = unread._plain_span(text, lines, unread.KEY)
    with monkeypatch.context() as m:
        m.setattr(unread, "_plain_section", _reference_plain_section)
        expected = unread._plain_span(text, lines, unread.KEY)
    return got, expected


def test_every_corpus_section_gets_the_span_and_nodes_it_got(monkeypatch):
    if not CORPUS.is_dir():
        pytest.skip(f"the Hub corpus is not beside this checkout ({CORPUS})")
    texts = [t for t in map(_front_matter, sorted(CORPUS.glob("*.md"))) if "\nmodel-index:\n" in t]
    assert len(texts) > 300
    taken = 0
    for text in texts:
        got, expected = _spans(text, monkeypatch)
        assert got == expected
        taken += got is not None
    assert taken > 200  # most are read by the line path, and some are not


SECTION_LINES = ["- name: x", "  results:", "  - task:", "      type: text-generation", "    dataset:",
                 "      name: AI2 Reasoning Challenge (25-Shot)", "      split: test", "      args:",
                 "        num_few_shot: 25", "    metrics:", "       - type: acc_norm",
                 "         value: 62.03071672354948", "  # a comment", "", "      - 1.5", "      - a value",
                 "    - 'quoted'", "  on: yes", "  null: 1", "  1: x", "    value: 2023-02-30", "    value: 0b_",
                 "    value: a: b", "    value: x #c", "    value: \"q\"", "    value: \"q\\n\"", "    value: 05",
                 "    value: 1e5", "    value: .5", "    value: -", "    value: -1", "    value: ~", "   bad: 1",
                 "    continued text", "    value:", "    - key:", "    -   spaced: 1", "    url: https://x.y/z",
                 "    x: :", "\tvalue: 1", " ", "  value: [1, 2]"]


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.sampled_from(SECTION_LINES),
                          st.tuples(st.integers(0, 8), st.sampled_from(["", "- "]), st.sampled_from(["name", "value", "type", "n", "y"]),
                                    st.sampled_from(["", " 1", " 1.", " 12.5", " x", " n", " 0x1F", " 1_0", " :"]))
                          .map(lambda t: " " * t[0] + t[1] + t[2] + ":" + t[3])), max_size=30))
def test_a_section_gets_the_nodes_or_refusal_it_got(section):
    assert _nodes(unread._plain_section, section) == _nodes(_reference_plain_section, section)


def test_the_common_line_still_meets_the_frame_checks():
    base = ["- name: x", "  results:", "  - task:", "      type: t", "    dataset:", "      name: d"]
    assert _nodes(unread._plain_section, base) == _nodes(_reference_plain_section, base) == 14
    for bad in ["      name: again", "     name: off by one", "      on: x"]:
        assert _nodes(unread._plain_section, base + [bad]) == "cannot" == _nodes(_reference_plain_section, base + [bad])


RESULT_ENTRIES = [
    ["  - task:", "      type: t", "    dataset:", "      name: d", "      split: test", "    metrics:",
     "    - type: acc", "      value: 62.5", "    - type: f1", "      value: 1"],
    ["  - task:", "      type: t", "    metrics:", "       - type: acc_norm", "         value: 0.5",
     "         verified: false"],
    ["  - dataset:", "      name: n", "      args:", "        num_few_shot: 25", "    metrics:", "      - 1.5",
     "      - a value", "  # a comment", ""],
]


@settings(max_examples=800, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(RESULT_ENTRIES), max_size=5), st.integers(0, 60),
       st.one_of(st.none(), st.sampled_from(SECTION_LINES)))
def test_a_well_formed_section_with_one_line_changed_gets_what_it_got(entries, at, line):
    section = ["- name: x", "  results:"] + [t for entry in entries for t in entry]
    if line is not None:
        section.insert(at % (len(section) + 1), line)
    assert _nodes(unread._plain_section, section) == _nodes(_reference_plain_section, section)
