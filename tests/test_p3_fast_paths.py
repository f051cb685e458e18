"""The prompt and training-mix readers' fast paths give what their plain versions gave: each plain
version is kept here as the reference and compared over a sample of the Hub corpus, the seed
cards and written cards. (Fast paths: fence lines found in the card's joined text; one pass over
a code block's nodes shared by the code readers; markers looked for only in a text that holds
one, the format a text shows memoised per text; fenced texts and prose examples read only when
the card holds a user marker; named formats, internal-dataset lines, dataset phrases and config
formats looked for only where a cheap necessary condition holds; `_MAY_NAME` a faster spelling;
paragraphs built only around the lines that may name a dataset.)"""
import ast
import itertools
import re

import pytest
from hypothesis import given, settings, strategies as st

from cardrepro import memo
from cardrepro.extract import datasets as datasets_mod
from cardrepro.extract import mix, prompt
from cardrepro.extract.util import joined_lines, prose_lines, prose_lines_searched, search_lines
from cardrepro.read import read_card
from cardrepro.read.document import ast_nodes
from conftest import CARDS, ROOT

CORPUS = ROOT.parent / "shared" / "corpus" / "hub-readmes"
REAL = ROOT.parent / "shared" / "realcards" / "cards"


def _docs():
    paths = sorted(CORPUS.glob("*.md"))[::9] + sorted(REAL.glob("*.md")) + sorted(CARDS.glob("*.md"))
    out = []
    for p in paths:
        try:
            out.append(read_card(p))
        except Exception:  # a refused card has nothing to compare
            continue
    return out


@pytest.fixture(scope="module")
def docs():
    found = _docs()
    assert len(found) > 300, "the corpus sample is there"
    return found


# --- the plain versions ----------------------------------------------------------------------

def _plain_fenced_texts(doc):
    # the body of each fence the reader closed (Document.fences), line by line
    out = []
    for open_, close in doc.fences:
        if close is None:
            continue
        body = [(line.no, line.text) for line in doc.lines[open_ + 1:close]]
        while body and not body[-1][1].strip():
            body.pop()
        if body:
            comments = [(no, re.sub(r"^\s*# ?", "", t)) for no, t in body if t.lstrip().startswith("#")]
            if comments:
                out.append(([no for no, _ in comments], "\n".join(t for _, t in comments) + "\n"))
            out.append(([no for no, _ in body], "\n".join(t for _, t in body) + "\n"))
    return out


def _plain_code_texts(doc):
    out = []
    trees = [(b.lines[0].no, b.nodes()) for b in doc.of_kind("python")]
    sessions = prompt._doctest_trees(doc)
    if sessions:
        trees.append((1, ast_nodes(ast.Module(body=[n for _, t in sessions for n in t.body], type_ignores=[]))))
    for start, nodes in trees:
        consts = prompt._string_consts(nodes)
        for node in nodes:
            text = prompt._code_text(node, consts) if isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp)) else None
            if text is not None:
                out.append((start + getattr(node, "lineno", 1) - 1, text))
    return out


def _plain_code_prompts(doc):
    out = []
    for block in doc.of_kind("python"):
        nodes = block.nodes()
        consts = prompt._string_consts(nodes)
        for node in nodes:
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                parts = prompt._flatten_add(node)
                slots = [i for i, p in enumerate(parts) if not isinstance(p, str)]
                if len(slots) == 1 and 0 < slots[0] < len(parts) - 1:
                    i = slots[0]
                    before, after = "".join(parts[:i]), "".join(parts[i + 1:])
                    value = prompt._slot_value(parts[i], consts)
                    example = before + value + after if value else None
                    out.append((before, after, example, block.lines[0].no + node.lineno - 1))
    return out


def _plain_find_markers(text):
    found = []
    for marker, pat, role in prompt._turn_markers():
        for m in pat.finditer(text):
            if not any(s < m.end() and m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), role))
    return sorted(found)


def _plain_shown(doc):
    texts = [([no], text) for no, text in _plain_code_texts(doc)] + _plain_fenced_texts(doc)
    for nos, text in texts:
        marks = _plain_find_markers(text) if len(text) <= 4000 else None
        fields = prompt.parse_turns(text) if marks else None
        if fields:
            yield nos, text, marks, fields


def _plain_prose_examples(doc):
    pat, user = prompt._example_pattern()
    out = []
    code_lines = {l.no for b in doc.of_kind("python") for l in b.lines}
    lines = prose_lines(doc)
    for i in prose_lines_searched(doc, user):
        no, text = lines[i]
        if no in code_lines:
            continue
        for m in pat.finditer(text):
            s = m.group(0)
            if "[...]" in s or "`" in s or "\\n" in s:
                continue
            out.append({"text": s, "line": no})
    return out


def _plain_data_samples(doc):
    out = []
    for no, text in prose_lines(doc):
        if "{" not in text:
            continue
        for m in prompt._JSON_SAMPLE.finditer(text):
            try:
                value = prompt.json.loads(m.group(0))
            except ValueError:
                continue
            out.append((next(iter(value.values())), no))
    return out


_PLAIN_MAY_NAME = re.compile(r"huggingface\.co/datasets/|\bon\s+(?:the\s+)?`?[\w.\-]+/[\w.\-]", re.I)


def _plain_paragraphs(doc):
    lines = mix.prose.narrative_lines(doc)
    naming = {i for i, (_, t) in enumerate(lines) if _PLAIN_MAY_NAME.search(t)}
    groups, last = [], None
    for i, (no, text) in enumerate(lines):
        if last is None or no != last + 1:
            groups.append(([], []))
        groups[-1][0].append((no, text))
        groups[-1][1].append(i)
        last = no
    return [[(no, s) for no, text in group for s in mix.prose.sentences(text)]
            for group, indices in groups if any(i in naming for i in indices)]


# --- the fast paths against them -------------------------------------------------------------

def test_fenced_texts_are_the_line_loops(docs):
    assert any(prompt._read_fenced_texts(d) for d in docs)
    for d in docs:
        assert prompt._read_fenced_texts(d) == _plain_fenced_texts(d), d.path


def test_a_fence_left_open_and_a_tilde_fence_read_as_the_line_loop_reads_them(write_card):
    card = write_card("# x\n\n~~~\n<|user|> hi ```\n\n~~~\ntext\n```python\n# a\nx = 1\n\n```\n```\nopen\n")
    doc = read_card(card)
    assert prompt._read_fenced_texts(doc) == _plain_fenced_texts(doc)
    assert [t for _, t in prompt._read_fenced_texts(doc)] == ["<|user|> hi ```\n", "a\n", "# a\nx = 1\n"]


def test_code_texts_and_code_prompts_are_the_node_walks(docs):
    assert any(_plain_code_prompts(d) for d in docs)
    for d in docs:
        assert prompt._read_code_texts(d) == _plain_code_texts(d), d.path
        assert prompt._code_prompts(d) == _plain_code_prompts(d), d.path


def test_shown_formats_and_prose_examples_are_the_plain_ones(docs):
    memo.clear()
    assert any(list(_plain_shown(d)) for d in docs) and any(_plain_prose_examples(d) for d in docs)
    for d in docs:
        assert [(n, t, list(m), f) for n, t, m, f in prompt._shown(d)] == list(_plain_shown(d)), d.path
        assert prompt._prose_examples(d) == _plain_prose_examples(d), d.path
        assert prompt._data_samples(d) == _plain_data_samples(d), d.path


def test_markers_of_every_text_are_the_plain_search(docs):
    memo.clear()
    texts = [t for d in docs for _, t in prompt._fenced_texts(d) + prompt._code_texts(d)]
    assert sum(bool(_plain_find_markers(t)) for t in texts) > 20
    for t in texts:
        assert list(prompt._find_markers(t)) == _plain_find_markers(t)


def test_the_card_holds_a_user_marker_exactly_when_one_is_found(docs):
    every = re.compile("|".join(re.escape(m) for m in prompt._user_markers()))
    held = [prompt._has_user_marker(d) for d in docs]
    assert any(held) and not all(held)
    assert held == [bool(every.search(joined_lines(d)[0])) for d in docs]


_MARKER_BITS = st.sampled_from(["<|", "|>", "user", "User", ":", "：", "问", "[INST]", "###", " ", "\n", "Human",
                                "<|im_start|>", "assistant", "GPT4 Correct ", "<", "x", "[", "#"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_MARKER_BITS, max_size=12).map("".join))
def test_holds_any_is_a_find_per_literal(text):
    for literals in (prompt._user_markers(), prompt._all_markers()):
        assert prompt._holds_any(text, literals) == any(m in text for m in literals)
    assert list(prompt._find_markers(text)) == _plain_find_markers(text)


def test_paragraphs_are_the_plain_grouping(docs):
    memo.clear()
    assert any(_plain_paragraphs(d) for d in docs)
    for d in docs:
        assert mix._paragraphs(d) == _plain_paragraphs(d), d.path


_LINK_BITS = st.sampled_from(["on ", "On the ", "ON\t", "`", "org", "/", "name", ".", "-", "huggingface.co/datasets/",
                              "HuggingFace.CO/Datasets/", "x", " ", "ſ", "é", "bon "])


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINK_BITS, max_size=10).map("".join))
def test_may_name_is_the_plain_pattern(text):
    assert bool(mix._MAY_NAME.search(text)) == bool(_PLAIN_MAY_NAME.search(text))


def test_may_name_finds_a_real_line():
    # lmms-lab_llava-onevision-qwen2-0.5b-ov.md (Hub corpus): a datasets link in running text
    line = ("The model was trained on [LLaVA-OneVision Dataset](https://huggingface.co/datasets/lmms-lab/LLaVA-OneVision-Data)"
            " and have the ability to interact with images, multi-image and videos. ")
    assert mix._may_name(line) and _PLAIN_MAY_NAME.search(line)


# --- named formats, internal datasets, dataset phrases ---------------------------------------

def _plain_prose_named_hits(doc):
    return [(no, m) for no, _, m in search_lines(doc, prompt._prose_named(), ("format", "template"))]


def _hits(found):
    return [(no, m.start(), m.group(0), m.groups()) for no, m in found]


def test_prose_named_formats_are_the_plain_search(docs):
    assert any(_plain_prose_named_hits(d) for d in docs)
    for d in docs:
        assert _hits(prompt._prose_named_hits(d)) == _hits(_plain_prose_named_hits(d)), d.path


def _plain_named_hits(doc):
    hits = [(no, m) for no, _, m in search_lines(doc, prompt._NAMED, "template")]
    hits += [(no, m) for no, _, m in search_lines(doc, prompt._NAMED, "conversation")]
    return hits + _plain_prose_named_hits(doc)


def test_named_formats_are_the_plain_searches(docs, write_card):
    # `    --template llama3 \` of shenzhi-wang_Llama3-8B-Chinese-Chat-GGUF-8bit.md (Hub corpus), and
    # a config key: the card holds both words, so every match is listed twice
    extra = read_card(write_card("# x\n\n    --template llama3 \\\n\nconversation: chatml\n"))
    assert len(_plain_named_hits(extra)) == 4
    assert sum(bool(_plain_named_hits(d)) for d in docs) > 5
    for d in docs + [extra]:
        assert _hits(prompt._named_hits(d)) == _hits(_plain_named_hits(d)), d.path


@pytest.mark.parametrize("line", [
    "## Prompt template: Llama-2-Chat",  # TheBloke_Llama-2-13B-chat-GGUF.md (Hub corpus)
    "This model uses the ChatML prompt format.",
    "Use the chatml\u00a0 \n template",  # spaces of every kind, and a line end, before the word
    "GGUF format",  # `format` after a word that names no format: no search
])
def test_a_named_format_is_found_as_the_plain_search_finds_it(write_card, line):
    doc = read_card(write_card(f"# x\n\n{line}\n"))
    assert _hits(prompt._prose_named_hits(doc)) == _hits(_plain_prose_named_hits(doc))


def _plain_said_lines(doc):
    conf = datasets_conf()
    words = re.compile("|".join(re.escape(w) for w in conf["internal_words"] + conf["remove_words"]))
    said = {no for no, _, _ in search_lines(doc, words)}
    lines = prose_lines(doc)
    nos = [no for no, _ in lines] + [None]
    index = [i for i in range(len(lines)) if nos[i] in said or nos[i + 1] in said]
    lowered = [lines[i][1].lower() for i in index]
    starts = list(itertools.accumulate((len(t) + 1 for t in lowered), initial=0))
    return "\n".join(lowered), starts, index


def datasets_conf():
    from cardrepro import data
    return data.load("training_stages")


def test_internal_said_lines_are_the_plain_search(docs, write_card):
    # cards/bloom-zh-3b-sft.md lines 59-60 (a sentence split over two lines), and a word twice in a line
    extra = read_card(write_card("# x\n\n注:包含内部数据集ikala\n,复现时需移除该数据集\n\ninternal internal data\n"))
    assert any(_plain_said_lines(d)[2] for d in docs) and _plain_said_lines(extra)[2]
    for d in docs + [extra]:
        assert datasets_mod._find_said_lines(d) == _plain_said_lines(d), d.path


def _plain_phrase_datasets(doc):
    from cardrepro import data
    out = []
    for p in data.load("dataset_phrases").get("phrases", []):
        pat = re.compile(p["pattern"])
        for i in prose_lines_searched(doc, pat)[:1]:
            no, text = prose_lines(doc)[i]
            m = pat.search(text)
            options = {p["option"]: int(m.group(1))} if p.get("option") and m.groups() else {}
            out.append({"name": p["dataset"], "options": options, "line": no, "match": m.group(0)})
    return out


def test_dataset_phrases_are_the_plain_search(docs, write_card):
    extra = read_card(write_card("# x\n\n我们用GPT4生成 500 条指令\n"))
    assert _plain_phrase_datasets(extra)
    for d in docs + [extra]:
        assert datasets_mod.phrase_datasets(d) == _plain_phrase_datasets(d), d.path


@pytest.mark.parametrize("pattern,blind", [
    (r"GPT4[^。]{0,40}生成\s*(\d+)\s*条指令", True), (r"\bword", False), (r"^x", False), (r"x$", False),
    (r"(?<!a)b", False), (r"a(?=b)", False), (r"(?m)x", False), (r"x\Z", False)])
def test_only_a_pattern_blind_to_line_ends_is_tried_on_the_joined_text(pattern, blind):
    assert datasets_mod._blind_to_line_ends(pattern) is blind


# --- config formats, tables, front matter ----------------------------------------------------

def _plain_config_formats(doc):
    for block in doc.of_kind("yaml", "frontmatter"):
        lines = None
        for path, leaf in prompt._format_strings(block.value, ()):
            if prompt._SLOT.search(leaf):
                lines = lines or {l.no: l.text for l in block.lines}
                no = block.where.get(path, block.start)
                if leaf in lines.get(no, ""):
                    yield no, leaf


def test_config_formats_are_the_plain_walk(docs, write_card):
    # lines 10-12 of TheBloke_Yi-34B-GGUF.md's front matter (Hub corpus: a folded scalar, not
    # read), and the same value on one line (read)
    extra = read_card(write_card("---\nprompt_template: 'Human: {prompt} Assistant:\n\n  '\n"
                                 "format: 'Human: {prompt} Assistant:'\n---\n# x\n"))
    assert list(_plain_config_formats(extra))
    assert any(list(_plain_config_formats(d)) for d in docs)
    for d in docs + [extra]:
        assert list(prompt._config_formats(d)) == list(_plain_config_formats(d)), d.path


def _plain_table_mix(doc):
    conf = mix._conf()["table"]
    for block in doc.of_kind("table"):
        rows = block.value or []
        if len(rows) < 2:
            continue
        head = [mix._header(c) for c in rows[0][1]]
        if not head or head[0] not in conf["name_headers"] or not any(h in conf["share_headers"] for h in head[1:]):
            continue
        out = []
        for no, cells in rows[1:datasets_mod.MAX_DATASETS + 1]:
            name = mix._cell_name(cells[0]) if cells else ""
            if (name and name.lower() not in conf["not_names"] and not re.fullmatch(r"[\d.,%\s]+", name)
                    and all(e["name"] != name for e in out)):
                out.append(mix.entry(name, no, cells[0].strip()))
        if out:
            return out
    return []


def _plain_frontmatter_mix(doc):
    from cardrepro.extract import canonical
    for block in doc.of_kind("frontmatter"):
        meta = block.value if isinstance(block.value, dict) else {}
        key = next((k for k in meta if canonical.metadata_paths().get(canonical.fold(k)) == "metadata_datasets"), None)
        items = meta.get(key) if key is not None else None
        if isinstance(items, list):
            line = block.where.get((key,), block.start)
            return [mix.entry(str(d), block.where.get((key, i), line), str(d))
                    for i, d in enumerate(items[:datasets_mod.MAX_DATASETS]) if isinstance(d, (str, int))]
    return []


def test_table_and_front_matter_mixes_are_the_plain_ones(docs, write_card):
    extra = read_card(write_card("# x\n\n| **Data source** | Fraction |\n|---|---|\n| [a](https://huggingface.co/datasets/o/a) | 50% |\n"
                                 "| b | 50% |\n"))
    assert _plain_table_mix(extra) and any(_plain_frontmatter_mix(d) for d in docs)
    for d in docs + [extra]:
        assert mix.table_mix(d) == _plain_table_mix(d), d.path
        assert mix.frontmatter_mix(d) == _plain_frontmatter_mix(d), d.path
