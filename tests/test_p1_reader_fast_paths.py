"""The reader's cheaper paths give what their plain versions give: a card's lines (numbered in C,
the stray-pipe test only on lines ending in `|`), the secret and path search over a card's text
(literal-led hints, ABS_PATH's branches searched apart), the escaped-text redaction that hands
back the lines it did not change."""
import re

import pytest
from hypothesis import given, settings, strategies as st

from cardrepro import data
from cardrepro.read import redact, source
from cardrepro.read.source import Line
from conftest import ROOT

CORPUS = ROOT.parent / "shared" / "corpus" / "hub-readmes"
SAMPLE = sorted(CORPUS.glob("*.md"))[::25]
# a real card line (NousResearch_Hermes-3-Llama-3.1-70B) with a Windows path
WINDOWS_LINE = ("This model was merged using the della_linear merge method using "
                r"E:\mergekit\mistralaiMistral-Nemo-Base-2407 as a base.")


def _corpus_texts():
    if not SAMPLE:
        pytest.fail(f"no corpus at {CORPUS}")
    for path in SAMPLE:
        raw = path.read_bytes()
        if raw.strip() and b"\x00" not in raw:
            yield path.name, source.decode(path, raw)


def _plain_card_lines(text):
    """card_lines as it was written first: a Line per text through the named tuple, and the
    stray-pipe pattern searched on every line that holds a `|`."""
    if not text.isascii():
        text = source._RUBY.sub("", text)
    texts = [t.rstrip() for t in text.split("\n")]
    while texts and not texts[-1]:
        texts.pop()
    raw = [Line(i, t) for i, t in enumerate(texts, 1)]
    if source._has_table_debris(texts, text.count("|")):
        raw = source.strip_table_debris(raw)
    if "|" in text:
        raw = [Line(l.no, source._STRAY_PIPE.sub(r"\1", l.text))
               if "|" in l.text and source._STRAY_PIPE.search(l.text) and not l.text.lstrip().startswith("|")
               else l for l in raw]
    nonblank = [l for l in raw if l.text.strip()][:3]
    if len(nonblank) <= 2 and sum(len(l.text) for l in nonblank) > 400:
        flat = []
        for l in raw:
            flat.extend(source.unflatten(l.text, l.no) if len(l.text) > 400 else [l])
        raw = flat
    return raw


def _plain_matches(texts):
    """_texts_with_matches without any pre-check, hint or split: every secret pattern as
    data/secrets.yaml writes it, and ABS_PATH, searched over the joined text."""
    whole = "\n".join(texts)
    starts, ends = [], 0
    for t in texts:
        starts.append(ends)
        ends += len(t) + 1
    patterns = [(e["kind"], re.compile(e["pattern"])) for e in data.load("secrets")["secrets"]]
    active, hit, kinds = [], set(), set()
    for kind, pat in patterns + [(None, redact.ABS_PATH)]:
        spans = [m.span() for m in pat.finditer(whole)]
        if spans:
            kinds.add(kind)
            if kind:
                active.append(kind)
        for a, b in spans:
            hit.update(i for i, s in enumerate(starts) if s <= b - 1 and a < s + len(texts[i]) + 1)
    return active, sorted(hit), kinds


def _matches(texts):
    active, hit, kinds = redact._texts_with_matches(texts)
    return [kind for kind, _ in active], hit, kinds


@pytest.mark.parametrize("name,text", list(_corpus_texts()), ids=lambda v: v if len(v) < 80 else "")
def test_card_lines_and_the_secret_search_are_their_plain_versions_over_the_corpus(name, text):
    lines = source.card_lines(text)
    assert lines == _plain_card_lines(text)
    assert all(type(l) is Line for l in lines)
    texts = [l.text for l in lines]
    assert _matches(texts) == _plain_matches(texts)


SECRET_LINES = ["PASSWORD=aB3dE5gH7jK9mN1pQ3", "db password: 'aB3dE5gH7jK9mN1pQ3'", "Secret_Key =aB3dE5gH7jK9mN1",
                'api-key"= aB3dE5gH7jK9mN1pQ3', "access_token:aB3dE5gH7jK9mN1pQ3", "my token\t= aB3dE5gH7jK9",
                "the key is: none", "aws_secret_access_key = " + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kL5mN7p"]
PATH_LINES = SECRET_LINES + [WINDOWS_LINE, r"* E:\mergekit\intervitens_mini-magnum-12b-v1.1", r"aE:\x", r"_C:\x",
              r"(C:\Users\me\x) and D:\data\y", r"C:\ ", "/home/user/model", "x/home/y", "~/home/a/b",
              "url: https://host/home/a", r"é:\x", r"éC:\x", r"C:\a C:\b"]


@pytest.mark.parametrize("line", PATH_LINES)
def test_secrets_and_paths_are_found_on_the_lines_their_patterns_find_them(line):
    texts = ["before", line, "after"]
    assert _matches(texts) == _plain_matches(texts)


def test_a_windows_path_of_a_real_card_line_is_redacted():
    out, found = redact.redact_lines([Line(7, WINDOWS_LINE)])
    assert found["absolute_paths"] == [{"line": 7, "path": "<local>/mistralaiMistral-Nemo-Base-2407"}]
    assert r"E:\mergekit" not in out[0].text


_PIECES = st.sampled_from(["C:", "\\", "/home/", "/", "x", " ", "é", "(", "token", "=", ": ", "key",
                           "Secret_Key", "hf_", "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3", "PASSWORD", "'", '"',
                           "sk-", "\n", "wandb", "://", "u:p@h", "0123456789abcdef" * 3])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=8).map("".join), min_size=1, max_size=4))
def test_the_secret_search_is_its_plain_version(texts):
    texts = [t.replace("\n", " ") for t in texts]
    assert _matches(texts) == _plain_matches(texts)


ESCAPED = ['"path": "C:\\\\Users\\\\me"', r"a \(x\) b", r"text \_ with \* escapes", "no escape"]


def test_escaped_text_without_a_secret_is_handed_back_unchanged():
    lines = [Line(i, t) for i, t in enumerate(ESCAPED, 1)]
    found = {"secrets": [], "absolute_paths": []}
    assert redact._redact_escaped(lines, found, set()) is lines
    assert found == {"secrets": [], "absolute_paths": []}


def test_an_escaped_secret_is_still_redacted():
    token = "hf_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3"
    escaped = "".join(f"\\x{ord(c):02x}" if i == 0 else c for i, c in enumerate(token))
    out, found = redact.redact_lines([Line(1, "ok"), Line(2, f'token = "{escaped}"')])
    assert [s["kind"] for s in found["secrets"]] == ["huggingface_token"]
    assert token[3:] not in out[1].text and out[0].text == "ok"


@pytest.mark.parametrize("enabled", [True, False])
def test_reading_leaves_the_garbage_collector_as_it_found_it(tmp_path, enabled):
    import gc

    from cardrepro.errors import CardError
    from cardrepro.read import read_card

    good, empty = tmp_path / "good.md", tmp_path / "empty.md"
    good.write_text("---\nlicense: mit\n---\n# Model\n\n```python\nx = 1\n```\n", encoding="utf-8")
    empty.write_text("  \n", encoding="utf-8")
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        assert [b.kind for b in read_card(good).blocks] == ["frontmatter", "python"]
        assert gc.isenabled() is enabled
        with pytest.raises(CardError):
            read_card(empty)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


_LINE_TEXTS = st.lists(st.sampled_from(["---", " --- ", "", "  ", "key: 1", "- key: 2", "  key:", "x", "\t---",
                                        "keys: 3", "#key: 4", "a key: 5", "key : 6"]), max_size=12)


@settings(max_examples=300, deadline=None)
@given(_LINE_TEXTS, st.integers(0, 12))
def test_line_searches_in_c_are_their_plain_loops(texts, start):
    from cardrepro.read import document, yamlish

    lines = [Line(i, t) for i, t in enumerate(texts, 1)]
    plain_end = next((j for j in range(start + 1, len(lines)) if lines[j].text.strip() == "---"), None)
    assert document._frontmatter_end(lines, start) == plain_end
    assert document._nonblank(lines) == [l for l in lines if l.text.strip()]
    for key in ("key", "-"):
        plain_at = next((j for j in range(start, len(lines)) if key in lines[j].text
                         and re.match(r"^\s*-?\s*" + re.escape(key) + r"\s*:", lines[j].text)), None)
        assert yamlish._key_at(key, lines, start) == plain_at
