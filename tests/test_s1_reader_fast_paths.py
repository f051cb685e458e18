"""Document.derived, called ~150 times a card by the extractors, keeps its contract with a plain
dict field: compute(doc) runs once per name, its value comes back on every later call, and the
field takes no part in the document's equality or repr."""
from cardrepro.read import read_card
# a real card line (a hyperparameter list item)
REAL_LINE = "- learning_rate: 5e-05"


def test_derived_computes_once_per_name_and_per_document(write_card):
    path = write_card(REAL_LINE + "\n")
    doc, other = read_card(path), read_card(path)
    calls = []

    def lines(d):
        calls.append(d)
        return [l.text for l in d.lines]

    assert doc.derived("lines", lines) == [REAL_LINE] == doc.derived("lines", lines)
    assert doc.derived("count", lambda d: len(d.lines)) == 1
    assert calls == [doc]
    assert other.derived("lines", lines) == [REAL_LINE] and calls == [doc, other]
    assert doc == other and "_derived=" not in repr(doc)


def test_derived_computes_again_after_a_compute_that_raised(write_card):
    doc = read_card(write_card(REAL_LINE + "\n"))

    def broken(d):
        raise ValueError("no")

    try:
        doc.derived("x", broken)
    except ValueError:
        pass
    assert doc.derived("x", lambda d: 7) == 7
