"""The structured readers' fast paths give what their plain versions gave: each plain version is
kept here as the reference and compared over seed cards and a sample of the Hub corpus, or by
hypothesis; a memo across cards hands every caller values of its own."""
import bisect
import re

import pytest
from hypothesis import given, settings, strategies as st

from cardrepro import memo
from cardrepro.extract import lists, tables
from cardrepro.read import read_card, yamlsafe
from conftest import read_docs


def _docs(every=25):
    return read_docs(every)


# ---- lists.read: every line looked at, as it was --------------------------------------------

_BULLET = re.compile(r"^\s*[-*+]\s")


def _lists_read_plain(doc):
    in_blocks = lists._read_elsewhere(doc) | lists.fenced_lines(doc)  # the reader's fences
    found = {}
    for line in doc.lines:
        text = line.text
        if line.no in in_blocks or not _BULLET.match(text) or len(text) > lists.MAX_LINE:
            continue
        m = lists._SETTING.match(text)
        if not m:
            continue
        key = m.group("key")
        sections = lists.SECTIONS if " " not in key.strip() else lists.canonical.SETTING_SECTIONS
        for path, value in lists.stated(key, lists.parse_value(m.group("value")), sections):
            found.setdefault(path, []).append((path, value, line.no, text.strip(), lists.SOURCE))
    return [c[0] for c in found.values() if len({repr(x[1]) for x in c}) == 1]


def test_lists_read_is_the_line_loop_over_the_corpus():
    compared = 0
    for path, doc in _docs(every=6):
        assert lists.read(doc) == _lists_read_plain(doc), path.name
        compared += bool(_lists_read_plain(doc))
    assert compared >= 5, "the sample holds cards with bullet settings"


LINE = st.text(alphabet=" \t\u00a0-*+`~=:：_*abcXY./1", max_size=24)


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(line=LINE)
def test_every_line_the_reader_may_take_is_marked(line):
    takes = bool(_BULLET.match(line) and lists._SETTING.match(line))
    marked = lists._MARKED.search("\n" + line)
    if takes:
        assert marked and marked.group(1) == line


def test_a_real_bullet_setting_is_read():
    # a line of the HF Trainer's auto-card
    doc_line = "- learning_rate: 2e-05"
    m = lists._MARKED.match("\n" + doc_line)
    assert m and m.group(1) == doc_line
    assert lists.thawed_pairs(lists._bullet_line(doc_line)) == [("training.learning_rate", 2e-05)]


# ---- memos: values of their own -------------------------------------------------------------

def test_a_list_value_from_a_memo_is_a_new_list_each_time():
    memo.clear()
    line = "* target_modules=['q_proj', 'v_proj']"
    first = lists.thawed_pairs(lists._bullet_line(line))
    first[0][1].append("changed")
    again = lists.thawed_pairs(lists._bullet_line(line))
    assert again == [("peft.target_modules", ["q_proj", "v_proj"])]
    assert lists._bullet_line.cache_info().hits >= 1


def test_parse_value_is_the_scalar_the_loader_gives():
    cells = {c for _, doc in _docs() for b in doc.of_kind("table") for _, row in b.value for c in row}
    assert len(cells) > 500
    memo.clear()
    for _ in range(2):  # the second time from the memo
        for cell in cells:
            raw = cell.strip().rstrip(",;").strip()
            if raw[:1] not in "([\"'":
                assert repr(lists.parse_value(cell)) == repr(yamlsafe.scalar(raw)), cell


def test_a_flow_mapping_is_loaded_afresh():
    one, two = lists.parse_value("{a: 1}"), lists.parse_value("{a: 1}")
    assert one == two == {"a": 1} and one is not two


# ---- tables: a cell's facts and a row's plain text, as they were ---------------------------

def _plain_cell(cell):
    return tables._LINK.sub(r"\1", tables._MARKUP.sub("", cell)).strip()


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(cell=st.text(alphabet=" *_`[]()ab1", max_size=16))
def test_plain_is_the_markup_dropped(cell):
    assert tables._plain(cell) == _plain_cell(cell)


def test_table_facts_are_the_stated_values_over_the_corpus():
    memo.clear()
    seen = 0
    for _, doc in _docs(every=10):
        for block in doc.of_kind("table"):
            rows = [(no, [_plain_cell(c) for c in cells]) for no, cells in block.value[:tables.MAX_ROWS]]
            for no, cells in rows:
                assert tables._plain_row(tuple(block_cells(block, no))) == tuple(cells)
                for raw in cells[1:2]:
                    plain = [(p, v, no, f"{cells[0]} | {raw}", "table")
                             for p, v in lists.stated(cells[0], lists.parse_value(raw), tables.SECTIONS)]
                    assert tables._facts(cells[0], raw, no) == plain
                    seen += bool(plain)
    assert seen >= 20


def block_cells(block, no):
    return next(cells for n, cells in block.value if n == no)


# ---- resolve.named_framework: words found in the non-empty lines, each profile's common part first

def _words_line_plain(doc, name):
    from cardrepro import data
    texts = [l.text for l in doc.lines]
    text = "\n".join(texts).casefold()
    starts, at = [], 0
    for t in texts:
        starts.append(at)
        at += len(t) + 1
    rule = data.trainer_profile(name)["detect"]
    found = [i for i in (text.find(w.casefold()) for w in rule.get("words") or ()) if i >= 0]
    for w in rule.get("lines") or ():
        m = re.search(r"^[ \t]*" + re.escape(w.casefold()) + r"[ \t]*$", text, re.M)
        found += [m.start()] if m else []
    return doc.lines[bisect.bisect_right(starts, min(found)) - 1].no if found else None


def test_framework_words_are_found_where_the_plain_search_finds_them():
    from cardrepro import data, resolve
    names = [p["name"] for p in data.trainer_profiles().values() if p.get("detect")]
    hits = 0
    for path, doc in _docs(every=5):
        text, starts, lines = resolve._folded_lines(doc)
        for name in names:
            line = _words_line_plain(doc, name)
            assert resolve._words_evidence(text, starts, lines, name) == line, (path.name, name)
            hits += line is not None
    assert hits >= 20


def test_framework_words_taken_from_the_cards_literal_pass_are_where_the_plain_search_finds_them(write_card):
    from cardrepro import data, resolve
    from cardrepro.extract import literals, util
    names = [p["name"] for p in data.trainer_profiles().values() if p.get("detect")]
    words = {w for name in names for w in resolve._words_terms(name)[1] + [w for w, _ in resolve._words_terms(name)[2]]}
    hits = 0
    for path, doc in _docs(every=5):
        text, starts, lines = resolve._folded_lines(doc)
        if text is not util.folded_text(doc):
            continue
        places = literals.places(text)   # a pass made after the profiles' words were registered
        assert places.keys() >= words or not literals.enabled()
        for name in names:
            line = _words_line_plain(doc, name)
            assert resolve._words_evidence(text, starts, lines, name, places) == line, (path.name, name)
            hits += line is not None
    assert hits >= 20
    # a real auto-card line, found through its places
    doc = read_card(write_card("## Training hyperparameters\n\nThe following hyperparameters were used during training:\n"))
    text, starts, lines = resolve._folded_lines(doc)
    places = literals.places(text)
    assert places.get("the following hyperparameters were used during training") == [28] or not literals.enabled()
    assert resolve._words_evidence(text, starts, lines, "hf-trainer", places) == 3


def test_a_card_whose_folding_lengthens_it_places_words_on_their_own_line(write_card):
    from cardrepro import resolve
    # a real auto-card line, after a line that case folding lengthens (ß -> ss) and an empty one
    card = write_card("# Straße\n\n\nThe following hyperparameters were used during training:\n")
    doc = read_card(card)
    text, starts, lines = resolve._folded_lines(doc)
    assert resolve._words_evidence(text, starts, lines, "hf-trainer") == _words_line_plain(doc, "hf-trainer") == 4


def test_the_common_part_is_in_every_word():
    from cardrepro import data, resolve
    for p in data.trainer_profiles().values():
        if p.get("detect"):
            common, words, lines = resolve._words_terms(p["name"])
            assert common and all(common in w for w in words + [w for w, _ in lines])


# ---- command._program_lines: a find per name, as the one search per line it replaced --------

def _program_lines_plain(doc):
    from cardrepro.extract import command
    conf = command._conf()
    names = {name.split()[0] for name in conf["launchers"]} | set(conf["cli_programs"])
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names)))
    return [k for k, l in enumerate(doc.lines) if pattern.search(l.text)]


def test_program_lines_are_the_lines_naming_a_program():
    from cardrepro.extract import command
    named = 0
    for path, doc in _docs(every=8):
        assert command._program_lines(doc) == _program_lines_plain(doc), path.name
        named += bool(_program_lines_plain(doc))
    assert named >= 50


def test_a_real_launch_line_after_empty_lines_is_found(write_card):
    from cardrepro.extract import command
    # a real card's launch line, after empty lines (not in the joined non-empty lines)
    card = write_card("# t\n\n\n\n```bash\naccelerate launch --config_file zero3.yaml train.py --learning_rate 2e-5\n```\n")
    doc = read_card(card)
    assert command._program_lines(doc) == _program_lines_plain(doc) == [5]
    assert [c.launcher for c in command.commands(doc)] == ["accelerate launch"]


# ---- code.read: a block's bound names worked out when asked; no training code, no released ids

def _code_read_plain(doc):
    from cardrepro.extract import code
    blocks = [code._Code(b) for b in doc.of_kind("python")]
    for b in blocks:
        b.names = code._literal_names(b.block.value, b.block.nodes())
    in_training = {l.no for b in blocks if b.training for l in b.block.lines}
    released = code._loaded_elsewhere(doc, in_training)
    out = []
    for b in blocks:
        example = b.training and any(m in released for m in b.models())
        out.extend(b.candidates(example))
    return out


def test_code_read_is_the_eager_read_over_the_corpus():
    from cardrepro.extract import code
    stated = 0
    for path, doc in _docs(every=6):
        assert code.read(doc) == _code_read_plain(doc), path.name
        stated += bool(_code_read_plain(doc))
    assert stated >= 20


def test_a_name_bound_once_gives_its_value_in_a_call(write_card):
    from cardrepro.extract import code
    # lines of a real card's training snippet: the rate bound to a name, then passed by it
    card = write_card("# t\n\n```python\nlr = 2e-4\nargs = TrainingArguments(output_dir='out', learning_rate=lr)\n"
                      "trainer = Trainer(model=model, args=args)\n```\n")
    assert ("training.learning_rate", 2e-4) in [(p, v) for p, v, *_ in code.read(read_card(card))]


# ---- Facts.source_of: the block holding a line looked up by number, not every block line mapped

def _block_kinds_plain(doc):
    from cardrepro.extract.facts import _BLOCK_SOURCE
    kinds = {}
    for block in doc.blocks:
        for l in block.lines:
            kinds.setdefault(l.no, _BLOCK_SOURCE.get(block.kind))
    return kinds


def test_the_block_kind_of_each_line_is_the_mapped_one():
    from cardrepro.extract.facts import Facts
    asked = 0
    for path, doc in _docs(every=20):
        plain, facts = _block_kinds_plain(doc), Facts(doc)
        for l in doc.lines:
            assert facts._block_kind(l.no) == plain.get(l.no), (path.name, l.no)
            asked += 1
    assert asked > 10_000


def test_a_settings_list_line_in_prose_is_a_list_fact(write_card):
    from cardrepro.extract.facts import Facts
    card = write_card("# t\n\n```yaml\nlr: 1\n```\n\n- learning_rate: 2e-05\n")  # the auto-card's line
    facts = Facts(read_card(card))
    assert [facts.source_of("card", n) for n in (4, 7, 1)] == ["config", "list", "prose"]


# ---- lists.may_state: a key that may state nothing states nothing, whatever its value

VALUES = [1, 0, -1, 2e-5, 0.5, True, False, "x", "true", "auto", "cosine", "bf16", "qlora", "all", "(0.9, 0.99)",
          ["q_proj", "v_proj"], [0.9, 0.99], "q_proj,v_proj", None]


def _keys():
    from cardrepro.extract import canonical
    table = canonical._table()
    keys = ["MMLU", "GSM8K", "Top K", "Batch size", "Learning Rate", "Model", "Vocabulary", "lr", "Warmup ratio"]
    for part in ("training", "peft", "quantization", "generation", "switches", "valued", "pairs", "word_labels"):
        rows = table.get(part) or {}
        keys += list(rows)[:40]
    return keys


@pytest.mark.parametrize("sections", [lists.SECTIONS, lists.canonical.SETTING_SECTIONS, tables.SECTIONS])
def test_a_key_that_may_state_nothing_states_nothing(sections):
    keys = _keys()
    assert sum(lists.may_state(k, sections) for k in keys) > 20
    for key in keys + [k.replace("_", " ").title() for k in keys]:
        if not lists.may_state(key, sections):
            assert all(lists.stated(key, v, sections) == [] for v in VALUES), key


def test_a_benchmark_row_of_a_real_table_is_not_read():
    # a row of a real benchmark table (01-ai's Yi cards): its key names no setting
    assert not lists.may_state("MMLU", tables.SECTIONS)
    assert tables._cell_facts("MMLU", "76.3") == ()
    assert tables._cell_facts("Learning rate", "2e-5") == (("training.learning_rate", 2e-5, False),)


# ---- model: a needle all spellings share gates the search as the spellings did

def test_every_model_match_holds_its_needle():
    from cardrepro.extract import model
    from cardrepro.read.source import fold_case
    pairs = model._BASE_PATTERNS + model._VOCAB
    matched = 0
    for _, doc in _docs(every=10):
        for l in doc.lines:
            for pattern, needle in pairs:
                for m in pattern.finditer(l.text):
                    folded = fold_case(m.group(0))
                    assert any(n in folded for n in (needle if isinstance(needle, tuple) else (needle,))), m.group(0)
                    matched += 1
    assert matched >= 10


def test_a_real_vocabulary_line_gives_its_size(write_card):
    from cardrepro.extract.facts import Facts
    from cardrepro.extract import model
    # a real card's line (RoBERTa-style cards)
    card = write_card("# m\n\nThe texts are tokenized using a byte version of Byte-Pair Encoding (BPE) and a vocabulary size of 50,000.\n")
    doc = read_card(card)
    facts = Facts(doc)
    model.extract(doc, facts)
    assert facts.get("tokenizer.vocab_size") == 50000
