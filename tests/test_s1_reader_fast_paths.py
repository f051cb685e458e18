"""The reader's S1 fast paths give what their plain versions gave: a table row without "--" and
with a filled cell is kept without checking each cell for a delimiter (document._table); a YAML
run's first line, YAML-shaped already, is not checked again (document._yaml_run_end)."""
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from cardrepro.read import card_shape, document, redact, source, yamlish

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "hub-readmes"


def _rows_cell_by_cell(lines):
    """document._table's rows as it found them: every row's cells checked for a delimiter."""
    rows = []
    for l in lines:
        cells = [c.strip() for c in l.text.strip().strip("|").split("|")]
        if not all(document._DELIMITER_CELL.fullmatch(c) for c in cells if c):
            rows.append((l.no, cells))
    return rows


# a real card table's header and delimiter row, an empty row and a row of values
REAL_TABLE = ["| Hyperparameter | Value |", "|:---------------|------:|", "| | |", "| lr | 2e-5 |"]


def test_a_real_table_keeps_its_rows_but_the_delimiters():
    lines = source.numbered(REAL_TABLE)
    rows = document._table(lines).value
    assert rows == [(1, ["Hyperparameter", "Value"]), (4, ["lr", "2e-5"])] == _rows_cell_by_cell(lines)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.lists(st.text(alphabet=" |:-a\t", min_size=1, max_size=10), min_size=1, max_size=5))
def test_any_table_keeps_the_rows_the_cell_check_kept(texts):
    lines = source.numbered(texts)
    assert document._table(lines).value == _rows_cell_by_cell(lines)



# --- document._yaml_run_end: the run's first line is not looked at again

def _run_end_line_by_line(lines, i, shape):
    """_yaml_run_end as it was: every line of the run looked at, its first one too."""
    j, last_yaml = i, i
    while j < len(lines) and lines[j].text.strip() and not document._fence(lines[j].text):
        if yamlish.is_yaml_line(lines[j].text, shape):
            last_yaml = j
        elif not document._continues_scalar(lines[last_yaml].text, lines[j].text, shape):
            break
        j += 1
    return j


def _run_starts(lines, shape):
    """The lines scan may start a YAML run at: non-blank, no fence, YAML-shaped."""
    return [i for i, l in enumerate(lines)
            if l.text.strip() and not document._fence(l.text) and yamlish.is_yaml_line(l.text, shape)]


# real card lines: a hyperparameter list with a folded value after its key
REAL_RUN = ["The following hyperparameters were used during training:", "- learning_rate: 5e-05",
            "- optimizer: Adam with betas=(0.9,0.999)", "- lr_scheduler_type:", "linear", "", "After"]


def test_a_real_run_ends_where_it_ended():
    lines, shape = source.numbered(REAL_RUN), card_shape()
    assert [document._yaml_run_end(lines, i, shape) for i in _run_starts(lines, shape)] == [5, 5, 5]
    assert [_run_end_line_by_line(lines, i, shape) for i in _run_starts(lines, shape)] == [5, 5, 5]


def test_every_corpus_run_ends_where_it_ended():
    if not CORPUS.is_dir():
        pytest.fail(f"no corpus at {CORPUS}")
    shape, runs = card_shape(), 0
    for path in sorted(CORPUS.glob("*.md"))[::8]:
        lines, _ = redact.redact_lines(source.card_lines(path.read_text(encoding="utf-8", errors="replace")))
        after = 0  # as scan does, a run starts after the one before it ends
        for i in _run_starts(lines, shape):
            if i >= after:
                after = document._yaml_run_end(lines, i, shape)
                assert after == _run_end_line_by_line(lines, i, shape), path.name
                runs += 1
    assert runs > 1_000
