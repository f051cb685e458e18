"""Small helpers shared by extractors."""
import bisect
import functools
import itertools
import operator
import re

from cardrepro import data
from cardrepro.extract import canonical, literals
from cardrepro.extract.heads import heads
from cardrepro.read.source import fold_case, line_texts

# The spelling table's readers, under the names extractors import (extract/canonical.py).
norm_key = canonical.fold
keymap = canonical.section
norm_dtype = canonical.dtype


def fenced_lines(doc):
    """The card line numbers inside code fences, their fence lines included, as the reader found
    the fences (Document.fences); a fence left open runs to the card's end."""
    return doc.derived("util.fenced_lines", _fenced_lines)


def _fenced_lines(doc):
    lines, out = doc.lines, set()
    for first, last in doc.fences:
        out.update(l.no for l in lines[first:len(lines) if last is None else last + 1])
    return out


def prose_lines(doc):
    """(line number, text) of the card's lines but the blank ones, for pattern matching: the
    document's own Lines (named tuples of these two), not copies."""
    return doc.derived("util.prose_lines", _prose_lines)


def _prose_lines(doc):
    return list(itertools.compress(doc.lines, map(str.strip, line_texts(doc.lines))))  # filtered in C


def line_starts(texts):
    """Where each of `texts` starts in them joined by newlines, and where one after the last
    would start (made in C)."""
    return list(itertools.accumulate(map(operator.add, map(len, texts), itertools.repeat(1)), initial=0))


def walk(value, path=(), whole=None):
    """Yield (path, leaf) for every scalar inside nested dicts/lists; a value for which
    `whole(path, value)` is true is yielded as it is, not walked into."""
    if whole is not None and whole(path, value):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, path + (k,), whole)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, path + (i,), whole)
    else:
        yield path, value


family_of = data.model_family


def number(text):
    """`110B` → 1.1e11, `2.6M` → 2.6e6, `39,410` → 39410, `8` → 8."""
    m = re.fullmatch(r"\s*([\d.,]+)\s*([KkMmBbTt]|billion|million|thousand)?\s*", text)
    if not m:
        return None
    num = float(m.group(1).replace(",", ""))
    mult = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9, "t": 1e12}
    num *= mult.get((m.group(2) or "").lower(), 1)
    return int(num) if num == int(num) else num


def joined_lines(doc):
    """(the prose lines joined by newlines, where each starts, the prose lines), kept with the card."""
    return doc.derived("util.joined_lines", _joined_lines)


def _joined_lines(doc):
    lines = prose_lines(doc)
    texts = list(line_texts(lines))
    starts = line_starts(texts)
    starts.pop()  # where the line after the last would start
    return "\n".join(texts), starts, lines


def search_lines(doc, pattern, needle=None):
    """(line number, line text, match) of each match of a compiled pattern within one card line,
    in card order; one pass over the whole text instead of one search per line. `needle`: a
    lower-case literal that every match contains, case aside (or a tuple of them, one of which
    it contains); a card without it is not searched."""
    if needle is not None:
        held = _held(doc)
        if not any(held(n) for n in (needle if isinstance(needle, tuple) else (needle,))):
            return
    text, starts, lines = joined_lines(doc)
    for m in _matches(pattern, text, folded_text(doc), starts, _head_places(doc)):
        i = bisect.bisect_right(starts, m.start()) - 1
        no, line = lines[i]
        if "\n" in m.group(0):  # crossed a line end: look within the line where it started
            m = pattern.search(line)
            if not m:
                continue
        else:
            m = pattern.search(line, m.start() - starts[i])
        yield no, line, m


def folded_text(doc):
    """The card's joined prose lines (joined_lines) case-folded, kept with the card."""
    return doc.derived("util.folded_joined_lines", _folded_text)


def _folded_text(doc):
    return fold_case(joined_lines(doc)[0])


def _head_places(doc):
    """{literal: its positions in the card's folded joined text}, shared by every search of the card:
    every literal registered so far found in one pass (literals.places); the others are added
    by the searches that ask for them (Heads.places, held)."""
    return doc.derived("util.head_places", lambda d: literals.places(folded_text(d)))


def folded_places(doc, needle):
    """Where `needle` (a literal that case folding leaves as it is) stands in the card's folded
    joined text (folded_text), from the card's one literal pass; None when that pass did not
    look for it (it is then registered for the next cards' passes)."""
    at = _head_places(doc).get(needle)
    if at is None:
        literals.register(needle)
    return at


def card_holds(doc, needle):
    """Whether the card's prose lines hold `needle`, a literal that case folding leaves as it
    is (`>>> `, `{`) and no other character folds to: one look-up in the card's one literal
    pass once the literal is registered."""
    return _held(doc)(needle)


def _held(doc):
    """held(needle): whether the card's folded joined text holds `needle`, each needle looked for
    once per card (the searches of different extractors ask for the same ones)."""
    return doc.derived("util.held", _holding)


def _holding(doc):
    folded, places, known = folded_text(doc), _head_places(doc), {}

    def held(needle):
        if needle in places:
            return bool(places[needle])
        if needle not in known:
            literals.register(needle)
            known[needle] = (needle.isascii() or not folded.isascii()) and needle in folded
        return known[needle]
    return held


def _matches(pattern, text, folded, line_starts, seen=None):
    """What `pattern.finditer(text)` yields, trying the pattern only where its heads (heads.py)
    say a match can begin: the leftmost match at or after the end of the last one, each time.
    `seen`: where each head stands in `folded`, kept for the next pattern (Heads.places)."""
    found = heads(pattern)
    if found is None or len(folded) != len(text):  # folding moved characters: no place is known
        yield from pattern.finditer(text)
        return
    end = 0
    for start in found.places(folded, line_starts, seen):
        if start >= end and (m := pattern.match(text, start)):
            end = m.end()
            yield m


def lowered_lines(doc):
    """(the prose lines lower-cased and joined by newlines, where each starts): a pattern run
    over it once finds the lines worth a closer look."""
    return doc.derived("util.lowered_lines", _lowered_lines)


def _lowered_lines(doc):
    text, starts, lines = joined_lines(doc)
    lowered = text.lower()  # lower() of the joined lines is each line's lower(): no case rule crosses a line end
    if len(lowered) == len(text):
        return lowered, starts
    lowered = list(map(str.lower, line_texts(lines)))
    return "\n".join(lowered), line_starts(lowered)


def line_indices(doc, pattern):
    """Indices into `prose_lines(doc)` of the lines where `pattern` matches the lower-cased line
    (for a pattern that cannot match across a line end), found with one pass over the card."""
    joined, joined_starts, _ = joined_lines(doc)
    if joined.isascii() or "\u0130" not in joined:  # İ is the one character lower() lengthens
        # lower() is idempotent: the fold of the lowered text is the card's fold, in place
        folded, seen = folded_text(doc), _head_places(doc)
        found = heads(pattern)
        if found is not None and len(folded) == len(joined) and not found.places(folded, joined_starts, seen):
            return []  # no head stands in the card: the lowered text is not needed
    text, starts = lowered_lines(doc)
    if len(text) == len(joined):
        folded, seen = folded_text(doc), _head_places(doc)
    else:
        folded = doc.derived("util.folded_lowered_lines", lambda d: fold_case(text))
        seen = doc.derived("util.lower_head_places", lambda d: {})
    out, last = [], -1
    for m in _matches(pattern, text, folded, starts, seen):
        i = bisect.bisect_right(starts, m.start()) - 1
        if i != last:
            out.append(i)
            last = i
    return out


def lines_searched(texts, pattern, joined=None, seen=None):
    """Indices of the `texts` (lines) in which `pattern.search` finds a match, in order: the
    pattern is tried only where its heads (heads.py) stand in the texts joined and folded, each
    line matched as a string of its own. `joined`: (the texts joined by newlines, folded, where
    each starts), when the caller keeps them; `seen`: its heads' places (Heads.places)."""
    found = heads(pattern)
    if found is None or found.lead or found.line_start or found.text_start:
        return [i for i, t in enumerate(texts) if pattern.search(t)]
    if joined is None:
        whole = "\n".join(texts)
        joined = (whole, fold_case(whole), line_starts(texts))
    whole, folded, starts = joined
    if len(folded) != len(whole):  # folding moved characters: no place is known
        return [i for i, t in enumerate(texts) if pattern.search(t)]
    out = set()
    for at in found.places(folded, (), seen):
        i = bisect.bisect_right(starts, at) - 1
        if i not in out and pattern.match(texts[i], at - starts[i]):
            out.add(i)
    return sorted(out)


def prose_lines_searched(doc, pattern):
    """`lines_searched` over `prose_lines(doc)`, with the card's joined and folded text."""
    text, starts, lines = joined_lines(doc)
    texts = doc.derived("util.prose_texts", lambda d: list(line_texts(lines)))
    return lines_searched(texts, pattern, (text, folded_text(doc), starts), _head_places(doc))


def folded_prose_lines(doc):
    """(fold_joined of the texts of `prose_lines(doc)`, from the card's one folded text, and
    the places of the card's one literal pass (_head_places) when that text is the card's fold,
    else None)."""
    return doc.derived("util.folded_prose_lines", _folded_prose_lines)


def _folded_prose_lines(doc):
    text, starts, lines = joined_lines(doc)
    folded = folded_text(doc)
    if len(folded) != len(text) or not lines:
        folded, starts = fold_joined(list(line_texts(lines)))
        return folded, starts, _head_places(doc) if folded is folded_text(doc) else None
    return folded, starts + [len(text) + 1], _head_places(doc)


def fold_joined(texts):
    """(the texts case-folded and joined by newlines, where each starts in it and where the
    last one ends + 1). fold_case maps each line as it would alone: no fold reaches past a
    line end, so the text is folded whole and its lines are found again only when one changed
    length."""
    whole = "\n".join(texts)
    folded = fold_case(whole)
    if len(folded) != len(whole):
        texts = folded.split("\n")
    return folded, line_starts(texts)


def needles_in(text, needles):
    """The `needles` (literals) that `text` holds, in their order: a needle that holds another
    of them is looked for only where that one was found, a non-ASCII one only in a non-ASCII
    text (one miss rules out the group)."""
    found, ascii_text = set(), text.isascii()
    for needle, inner, ascii_needle in _needle_plan(needles):
        if (ascii_needle or not ascii_text) and (inner is None or inner in found) and needle in text:
            found.add(needle)
    return [n for n in needles if n in found]


@functools.lru_cache(maxsize=64)
def _needle_plan(needles):
    """(needle, the longest other needle it holds or None, whether it is ASCII), shortest first."""
    plan = []
    for n in sorted(set(needles), key=len):
        inner = max((m for m in needles if m != n and m in n), key=len, default=None)
        plan.append((n, inner, n.isascii()))
    return tuple(plan)


def prose_lines_holding(doc, needles):
    """`lines_holding` over `folded_prose_lines(doc)`, each needle's places read from the card's
    one literal pass (_head_places) when that text is the card's fold."""
    folded, starts, places = folded_prose_lines(doc)
    return lines_holding(folded, starts, needles, places)


def lines_holding(folded, starts, needles, places=None):
    """Sorted indices of the lines of `folded` (where each starts, as fold_joined gives them)
    that hold one of `needles` (literals without a line end): a find per needle and line, or
    a look-up in `places` ({literal: its positions in `folded`}, literals.places) for a needle
    it has (one it lacks is registered for the next card's pass)."""
    found = set()
    for needle in needles:
        at = places.get(needle) if places is not None else None
        if at is not None:
            found.update(bisect.bisect_right(starts, a) - 1 for a in at)
            continue
        if places is not None:
            literals.register(needle)
        at = folded.find(needle)
        while at != -1:
            i = bisect.bisect_right(starts, at) - 1
            found.add(i)
            at = folded.find(needle, starts[i + 1])
    return sorted(found)


def lines_containing(doc, needle):
    """Indices into `prose_lines(doc)` of the lines whose lower-cased text contains `needle`
    (lower case), found with one scan of the whole text."""
    text, starts = lowered_lines(doc)
    if not needle or "\n" in needle:
        return []
    found, pos = [], text.find(needle)
    while pos != -1:
        i = bisect.bisect_right(starts, pos) - 1
        found.append(i)
        pos = text.find(needle, starts[i + 1])
    return found
