"""`parse_card(path, data)`: a card's bytes read already give the spec the file gives, pass the
file's checks with the same messages, and spare a corpus row its second read, its second hash and
(for a parquet row's text) its temporary file."""
import tempfile

import pytest

from cardrepro.coverage import card_row
from cardrepro.errors import CardError
from cardrepro.read.source import MAX_BYTES
from cardrepro.spec import parse_card
from conftest import CARDS, ROOT

REAL = ROOT.parent / "shared" / "realcards" / "cards"
SAME = ("sha256", "outcome", "families", "score", "findings", "refusal", "error")


def _cards():
    return sorted(CARDS.glob("*.md")) + sorted(REAL.glob("*.md"))[::5]


@pytest.mark.parametrize("card", _cards(), ids=lambda p: p.name)
def test_the_bytes_give_the_files_spec(card):
    assert parse_card(card, card.read_bytes()) == parse_card(card)


def test_the_path_only_names_the_card(tmp_path):
    card = CARDS / "stablelm-7b-sft.md"
    named = tmp_path / "nowhere" / card.name  # never opened: it does not exist
    spec = parse_card(named, card.read_bytes())
    assert spec["card"]["path"] == str(named)
    assert {k: v for k, v in spec.items() if k != "card"} == {k: v for k, v in parse_card(card).items() if k != "card"}


@pytest.mark.parametrize("data, line, message", [
    (b"", 1, "empty card"),
    (b" \n\t\n", 1, "empty card"),
    (b"# card\n\x00rest\n", 2, "binary content (NUL byte), not a text card"),
    (b"# card\nlr: 2e-5 \xff\n", 2, "not UTF-8: byte 0xff at offset 16"),
    (b"#" * (MAX_BYTES + 1), 0, f"card is {MAX_BYTES + 1} bytes, over the {MAX_BYTES}-byte limit"),
])
def test_the_bytes_pass_the_files_checks(tmp_path, data, line, message):
    card = tmp_path / "card.md"
    card.write_bytes(data)
    for args in ((card,), (card, data)):
        with pytest.raises(CardError) as err:
            parse_card(*args)
        assert (err.value.line, err.value.message) == (line, message)


def test_a_text_row_is_the_files_row_and_writes_no_file(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    texts = {p.name: p.read_text(encoding="utf-8") for p in _cards()}
    texts.update({"empty.md": "", "nul.md": "# a\n\x00\n"})
    for name, text in texts.items():
        (tmp_path / name).write_bytes(text.encode("utf-8"))
        from_file, from_text = card_row(tmp_path / name, name), card_row(text, name)
        assert {k: from_file[k] for k in SAME} == {k: from_text[k] for k in SAME}, name
    assert list(scratch.iterdir()) == []
    rows = {n: card_row(t, n) for n, t in texts.items()}
    assert rows["empty.md"]["outcome"] == "refused" and rows["empty.md"]["sha256"] is None
    assert rows["nul.md"]["outcome"] == "refused" and rows["nul.md"]["sha256"]  # read, then refused
    assert all(r["outcome"] == "parsed" and len(r["sha256"]) == 64 for n, r in rows.items() if n not in ("empty.md", "nul.md"))
