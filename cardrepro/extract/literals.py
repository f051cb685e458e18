"""Every position of many literals in a text, found in one pass of an Aho-Corasick automaton
(`ahocorasick_rs`, an optional wheel: `pip install cardrepro[fast]`) instead of one str.find scan
per literal. The literals are those asked for so far (pattern heads, needles): the registry grows
as extractors first ask for one, and the automaton is rebuilt only when it has grown, so after the
first cards of a process it stays the same. Without the wheel, `places` knows no literal and every
caller runs its own finds, as before."""
from cardrepro import memo

try:
    import ahocorasick_rs
except ImportError:  # pragma: no cover - the plain finds stand in
    ahocorasick_rs = None

_ORDER = []  # registered literals, in the order first asked for
_KNOWN = set()
_BUILT = [None, ()]  # (automaton, the literals it holds, by pattern index)


def enabled():
    return ahocorasick_rs is not None


def register(literal):
    """Have `literal` (non-empty, without case: the caller folds) found by later passes."""
    if literal and literal not in _KNOWN and ahocorasick_rs is not None:
        _KNOWN.add(literal)
        _ORDER.append(literal)


def _automaton():
    if len(_BUILT[1]) != len(_ORDER):
        literals = tuple(_ORDER)
        _BUILT[0] = _build(literals)
        _BUILT[1] = literals
    return _BUILT


def places(text):
    """{literal: its start positions in `text` (str indexes, increasing, overlapping ones too)}
    for every registered literal, () for one the text lacks; {} when none is registered or the
    wheel is absent. The lists are shared: callers read them, never change them."""
    if ahocorasick_rs is None or not _ORDER:
        return {}
    return _grouped(*_automaton(), text)


def positions_of(literals, text):
    """`places(text)` for a fixed tuple of non-empty literals (an automaton kept per tuple);
    None without the wheel."""
    if ahocorasick_rs is None:
        return None
    return _grouped(_fixed(literals), literals, text)


@memo.memo(maxsize=16)
def _fixed(literals):
    return _build(literals)


def _build(literals):
    # a DFA: about 3x faster per card than the default NFA over the corpus, built once
    return ahocorasick_rs.AhoCorasick(literals, matchkind=ahocorasick_rs.MatchKind.Standard,
                                      implementation=ahocorasick_rs.Implementation.DFA)


def _grouped(automaton, literals, text):
    out = dict.fromkeys(literals, ())
    found = {}
    for k, start, _ in automaton.find_matches_as_indexes(text, overlapping=True):
        at = found.get(k)
        if at is None:
            found[k] = [start]
        else:
            at.append(start)
    for k, at in found.items():
        out[literals[k]] = at
    return out


def reset():
    """Forget every literal (tests: a fresh process's registry)."""
    _ORDER.clear()
    _KNOWN.clear()
    _BUILT[:] = [None, ()]
    _fixed.cache_clear()
