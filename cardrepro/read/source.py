"""Load a card's bytes and turn them into numbered lines, undoing the damage real cards carry:
table debris (`|` at line ends and on empty lines) and cards flattened into one single line."""
import hashlib
import itertools
import operator
import os
import re
import stat
from pathlib import Path
from typing import NamedTuple

from cardrepro.errors import CardError


def fold_case(text):
    """Lower case, with the only non-ASCII characters that re.IGNORECASE equates with ASCII
    letters mapped to them (ı and ſ, and İ, which lowers to i + combining dot; the Kelvin sign
    lowers to k by itself): a lower-case literal that a case-insensitive match contains is then
    in the folded text, so `needle in fold_case(text)` can rule a search out."""
    low = text.lower()
    if not low.isascii():
        low = low.replace("ı", "i").replace("ſ", "s").replace("i\u0307", "i")
    return low

MAX_BYTES = 5 * 1024 * 1024


class Line(NamedTuple):
    """One card line. A named tuple, not a frozen dataclass: a card has a Line per line (786,000
    in the Hub corpus), and a tuple is made in half the time."""
    no: int  # 1-based line of the card as read
    text: str


def load_bytes(path):
    """The card's bytes. Only a regular file is read, and at most MAX_BYTES + 1 bytes of it: a
    FIFO or a device (`/dev/zero`) would block or never end, and a file may grow after its stat."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise CardError(path, 0, "no such file") from None
    except OSError as err:
        raise CardError(path, 0, f"cannot read: {err.strerror or err}") from None
    if stat.S_ISDIR(st.st_mode):
        raise CardError(path, 0, "is a directory, not a card file")
    if not stat.S_ISREG(st.st_mode):
        raise CardError(path, 0, "not a regular file (a FIFO, socket or device), not a card file")
    if st.st_size > MAX_BYTES:
        raise CardError(path, 0, f"card is {st.st_size} bytes, over the {MAX_BYTES}-byte limit")
    data = _read_at_most(path, MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise CardError(path, 0, f"card is over the {MAX_BYTES}-byte limit")
    return checked_bytes(path, data)


def checked_bytes(path, data):
    """DATA, a card's bytes read already (a parquet row's card), under the checks a file's bytes
    pass: at most MAX_BYTES, not empty. PATH only names the card in the errors."""
    if len(data) > MAX_BYTES:
        raise CardError(path, 0, f"card is {len(data)} bytes, over the {MAX_BYTES}-byte limit")
    if not data.strip():
        raise CardError(path, 1, "empty card")
    return data


def _read_at_most(path, limit):
    # O_NONBLOCK: should the path become a FIFO between the stat and the open, the open does not wait
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise CardError(path, 0, f"cannot read: {err.strerror or err}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CardError(path, 0, "not a regular file (a FIFO, socket or device), not a card file")
        chunks, left = [], limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def decode(path, data):
    if b"\x00" in data:
        raise CardError(path, data[: data.index(b"\x00")].count(b"\n") + 1, "binary content (NUL byte), not a text card")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CardError(path, line, f"not UTF-8: byte 0x{data[err.start]:02x} at offset {err.start}") from None
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


_DEBRIS_END = re.compile(r"\s*\|\s*$")
# A stray `|` after a value (`val_split: 0.05 |`), but not YAML's literal block marker (`key: |`).
_STRAY_PIPE = re.compile(r"([^\s:：|])\s+\|\s*$")


def _has_table_debris(raw, pipes):
    """Whether the lines (right-stripped, with `pipes` `|` in all) are a card's lines each
    followed by a table's debris."""
    if pipes <= 0.6 * (len(raw) - raw.count("")):
        return False  # fewer `|` than the lines that hold one would need
    nonblank = [l for l in raw if l.strip()]
    if len(nonblank) < 4 or sum("|" in l for l in nonblank) <= 0.6 * len(nonblank):
        return False
    debris = [l for l in nonblank if _DEBRIS_END.search(l) and not l.lstrip().startswith("|")]
    lone = [l for l in nonblank if l.strip() == "|"]
    return (len(debris) + len(lone)) / len(nonblank) > 0.6


def strip_table_debris(raw):
    """Every line of such a card was followed by a lone `|`; an original blank line became
    another lone `|`. A run of one lone `|` is filler, a longer run keeps one blank line."""
    out, run = [], 0
    for no, text in ((l.no, l.text) for l in raw):
        if text.strip() == "|":
            run += 1
            continue
        if run >= 2:
            out.append(Line(no - 1, ""))
        run = 0
        out.append(Line(no, _DEBRIS_END.sub("", text)))
    return out


# Block starts that a flattened card still carries inline: headings, front-matter fences,
# list items of `- key: value` lists, fenced code.
_FLAT_SPLIT = re.compile(
    r"\s+(?=#{1,6}\s)"
    r"|\s+(?=---(?:\s|$))|(?<=---)\s+"
    r"|\s+(?=-\s+[A-Za-z_][\w.\-]*\s*[:：]\s)"
    r"|\s+(?=-\s+[A-Za-z][\w.\-]*\s+v?\d+(?:\.\d+)+\b)"
    r"|\s+(?=```)"
)


def unflatten(text, no=1):
    """Split a card that lost its newlines back into lines; all keep the card line `no`."""
    parts = [p for p in _FLAT_SPLIT.split(text) if p is not None]
    return [Line(no, p.strip()) for p in parts if p.strip()]


# Pinyin readings that copies of Chinese pages keep after a character: 數(shù)據(jù) → 數據. The
# look-behind comes after the "(" so that the search skips from "(" to "(" (a look-behind first
# is tried at every position: 17 times slower).
_RUBY = re.compile(r"\((?<=[\u3400-\u9fff]\()[a-zàáǎâèéěêìíǐòóǒôùúǔüǖǘǚǜāēīōūń]{1,7}\)")


def line_texts(lines, start=0, end=None):
    """The texts of lines[start:end], one by one (made in C)."""
    return map(_TEXT, itertools.islice(lines, start, end))


_TEXT = operator.attrgetter("text")


def numbered(texts, first=1):
    """Line(first, texts[0]), Line(first + 1, texts[1]), ...: made by tuple.__new__ in C, not
    through the named tuple's Python-level __new__ (a card has a Line per line)."""
    return list(map(tuple.__new__, itertools.repeat(Line), zip(itertools.count(first), texts)))


def _without_stray_pipes(lines):
    """The lines, each without a stray `|` at its end; only the lines that end in `|` (found in C)
    are looked at."""
    out = list(lines)
    for i in itertools.compress(itertools.count(), map(_ENDS_IN_PIPE, line_texts(lines))):
        out[i] = _without_stray_pipe(lines[i])
    return out


_ENDS_IN_PIPE = operator.methodcaller("endswith", "|")


def _without_stray_pipe(line):
    """The line without a stray `|` at its end (its text is right-stripped: a match ends in `|`)."""
    text = line.text
    if text.lstrip().startswith("|") or not _STRAY_PIPE.search(text):
        return line
    return Line(line.no, _STRAY_PIPE.sub(r"\1", text))


def card_lines(text):
    if not text.isascii():  # a reading follows a CJK character
        text = _RUBY.sub("", text)
    texts = list(map(str.rstrip, text.split("\n")))
    while texts and not texts[-1]:
        texts.pop()
    raw = numbered(texts)
    if _has_table_debris(texts, text.count("|")):
        raw = strip_table_debris(raw)
    # after the debris of a whole card, the card's own stray `|` (both occur in one card)
    if "|" in text:
        raw = _without_stray_pipes(raw)
    nonblank = list(itertools.islice((l for l in raw if l.text.strip()), 3))  # only a card of 2 lines or fewer is looked at
    if len(nonblank) <= 2 and sum(len(l.text) for l in nonblank) > 400:
        flat = []
        for l in raw:
            flat.extend(unflatten(l.text, l.no) if len(l.text) > 400 else [l])
        raw = flat
    return raw
