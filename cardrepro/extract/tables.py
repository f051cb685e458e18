"""Settings in the card's markdown tables, keys through the spelling table (data/keys.yaml):

- two columns, a key and its value a row (`| Learning rate | 2e-5 |`);
- a key a row and one column per model size (`| Hyperparameter | 7B | 13B |`), or a key a row
  and its value, then remarks (`| Vocabulary | 65024 | ... |`);
- a key a column and one row per model size (`Size | Batch Size | Learning Rate` over
  `7B | 16 | 2e-4` and `65B | 16 | 1e-4`).

A table of several model sizes gives the values of the size the card is about (named in its file
name, else its title), or none; one of several versions (`| Config | v1.0 | v1.1 |`) those of the
version the card's name names, else those every version shares; a key with values in several columns that name no size (training
stages, context lengths) gives none. A wide table is a table of settings when it states two of
them or more; a table naming an architecture's parts (`Layers`, `d_model`) describes the model:
its `Sequence length` is the model's context, only its vocabulary size is read. A path the card's
tables give two values (a pre-training and a fine-tuning table) is left out.

`read(doc)` is pure: candidates (path, value, line, text, source); `extract` puts them."""
import functools
import re

from cardrepro import memo
from cardrepro.extract import canonical
from cardrepro.extract.lists import frozen_pairs, may_state, parse_value, stated, thawed_pairs

SOURCE = "table"
# not quantization: a table of quantized files (`| Quant method | Bits |`) describes releases
SECTIONS = ("training", "peft", "generation", "tokenizer")
MAX_ROWS = 200  # rows of one table looked at
_SIZE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?([BM])(?![\w.])", re.I)
_MARKUP = re.compile(r"\*\*|__|`")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MAY_MARK = re.compile(r"[*_`\[]")  # a character _MARKUP or _LINK begins with
_TITLE = re.compile(r"^#\s+(.+)$")
_VERSION_HEADER = re.compile(r"^(?:v|version\s*)(\d+(?:\.\d+)*)$", re.I)  # `v1.1`, `Version 2`
_VERSION_NAMED = re.compile(r"(?<![^\W_])v(\d+(?:\.\d+)*)(?![\w.])", re.I)  # `Mistral-7B-v0.1`


def read(doc):
    blocks = doc.of_kind("table")
    if not blocks:
        return []
    size, versions = card_size(doc), card_versions(doc)
    found = {}  # path -> [candidate]
    for block in blocks:
        rows = [(no, _plain_row(tuple(cells))) for no, cells in block.value[:MAX_ROWS]]
        for c in _table_candidates(rows, size, versions) if rows else ():
            found.setdefault(c[0], []).append(c)
    return [c[0] for c in found.values() if len({repr(x[1]) for x in c}) == 1]


def _table_candidates(rows, size, versions):
    width = max(len(cells) for _, cells in rows)
    if width == 2:
        found = _key_rows(rows, 1)
    else:
        found = _key_columns(rows, size)
        if found is None:
            found = _version_key_rows(rows, versions)
        if found is None:
            found = _wide_key_rows(rows, size)
    if any(canonical.architecture_key(c) for _, cells in rows for c in cells[:1]) or \
            any(canonical.architecture_key(c) for c in rows[0][1]):
        return [c for c in found if c[0].startswith("tokenizer.")]
    return found


def _key_rows(rows, column):
    """A key in the first cell of each row, its value in `column`."""
    out = []
    for no, cells in rows:
        if len(cells) > column and cells[column]:
            out.extend(_facts(cells[0], cells[column], no))
    return out


def _wide_key_rows(rows, size):
    """`| Hyperparameter | 7B | 13B |`: the column of the card's size; `| Key | Value | Comment |`:
    the second column."""
    (_, header), body = rows[0], rows[1:]
    sizes = [_sizes(c) for c in header[1:]]
    if any(sizes):
        hits = [i + 1 for i, s in enumerate(sizes) if size and size in s]
        if len(hits) != 1:
            return []
        column = hits[0]
    elif _alternatives(body):
        return []
    else:
        column = 1
    return _settings_table(_key_rows(body, column))


def _version_key_rows(rows, versions):
    """`| Config | v1.0 | v1.1 |`: the column of the version the card is about; when its name
    names none of them, the rows whose value is the same in every version's column (it is then
    the card's whichever version it is). None when the header is no row of versions."""
    (_, header), body = rows[0], rows[1:]
    named = [m.group(1) if (m := _VERSION_HEADER.match(c)) else None for c in header[1:]]
    if len(named) < 2 or None in named:
        return None
    hits = [i + 1 for i, v in enumerate(named) if v in versions]
    if len(hits) == 1:
        return _settings_table(_key_rows(body, hits[0]))
    agreed = [(no, cells) for no, cells in body if len(cells) > len(named) and _same_values(cells[1:len(named) + 1])]
    return _settings_table(_key_rows(agreed, 1))


def _same_values(cells):
    return all(cells) and len({repr(parse_value(c)) for c in cells}) == 1


def _alternatives(body):
    """Whether a setting's row has values in more than one column (`| Batch Size | 1 | 16 |`)."""
    for _, cells in body:
        if cells and _maps(cells[0]) and any(not isinstance(parse_value(c), str) for c in cells[2:] if c):
            return True
    return False


def _key_columns(rows, size):
    """A key a column: the one data row, or the row naming the card's size; None when the
    header names fewer than two settings (then the keys may be in rows)."""
    (_, header), body = rows[0], rows[1:]
    keyed = [i for i, key in enumerate(header) if key and _maps(key)]
    if len(keyed) < 2 or not body:
        return None
    if len(body) > 1:  # one row per model size: the row whose label names the card's
        body = [(no, cells) for no, cells in body if size and cells and 0 not in keyed and _sizes(cells[0]) == {size}]
        if len(body) != 1:
            return []
    no, cells = body[0]
    out = []
    for i in keyed:
        if i < len(cells) and cells[i]:
            out.extend(_facts(header[i], cells[i], no))
    return _settings_table(out)


def _settings_table(candidates):
    """A wide table's candidates when it states two settings or more (any but the tokenizer's)."""
    settings = {c[0] for c in candidates if not c[0].startswith("tokenizer.")}
    return candidates if len(settings) >= 2 else [c for c in candidates if c[0].startswith("tokenizer.")]


@functools.lru_cache(maxsize=1 << 14)  # the same headers come back table after table
def _maps(key):
    probe = may_state(key, SECTIONS) and (stated(key, 1, SECTIONS) or stated(key, "x", SECTIONS) or stated(key, True, SECTIONS))
    return bool(probe) or bool(canonical.word_label(key)) or canonical.fold(key) in canonical.pairs()


def _facts(key, raw, no):
    return [(path, value, no, f"{key} | {raw}", SOURCE) for path, value in thawed_pairs(_cell_facts(key, raw))]


@memo.memo(maxsize=1 << 16)
def _cell_facts(key, raw):
    """The (path, value) a key's cell states, frozen (lists.py `frozen_pairs`): benchmark and
    hyperparameter tables come back card after card."""
    if not may_state(key, SECTIONS):
        return ()
    return frozen_pairs(stated(key, parse_value(raw), SECTIONS))


@memo.memo(maxsize=1 << 15)
def _plain_row(cells):
    return tuple(map(_plain, cells))


def _plain(cell):
    if not _MAY_MARK.search(cell):  # no markup to drop
        return cell.strip()
    return _LINK.sub(r"\1", _MARKUP.sub("", cell)).strip()


def _sizes(text):
    """{"7B", "65B", "1.3B"}: the model sizes a text names."""
    return {f"{m.group(1)}{m.group(2).upper()}" for m in _SIZE.finditer(text.replace("_", " ").replace("-", " "))}


def card_size(doc):
    """The model size the card is about: the one its file name names, else the one its first
    title names; None when neither names exactly one."""
    for text in _card_names(doc):
        found = _sizes(text)
        if len(found) == 1:
            return found.pop()
    return None


def card_versions(doc):
    """{"1.1"}: the versions (`v1.1`) the card's file name and first title name."""
    return {m.group(1) for text in _card_names(doc) for m in _VERSION_NAMED.finditer(text)}


def _card_names(doc):
    """The card's file name (without its extension) and its first title, kept with the card."""
    return doc.derived("tables.card_names", _read_card_names)


def _read_card_names(doc):
    stem = re.split(r"[/\\]", str(doc.path))[-1].rsplit(".", 1)[0]
    title = next((m.group(1) for l in doc.lines[:200] if (m := _TITLE.match(l.text))), "")
    return stem, title


def extract(doc, facts):
    for path, value, line, text, source in read(doc):
        facts.put(path, value, line, origin="card", source=source)
