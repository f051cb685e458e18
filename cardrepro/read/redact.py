"""Secrets and absolute machine paths never leave the reader as they are: each is replaced in
the card's lines, and what was replaced is kept (kind and line only) for the audit."""
import bisect
import functools
import itertools
import re

from cardrepro import data
from cardrepro.read.source import Line, fold_case


def _literal_check(needles):
    if len(needles) == 1:
        return lambda text: needles[0] in text
    # one search for any of them (their common start factored out by the regex compiler), not
    # one scan of the text per needle: 7 times faster for the six of github_token
    anyof = re.compile("|".join(map(re.escape, needles)))
    return lambda text: anyof.search(text) is not None


def _folded_check(needles):
    return lambda text: any(n in _fold(text) for n in needles)


def _folded_pattern_check(pattern, hints=()):
    # the same pattern run case-sensitively over `fold_case(text)` matches wherever the original
    # does (and maybe elsewhere, which only costs the real search); the hints, quicker searches,
    # first (the pattern with (?i) over the text itself would cost more than both)
    folded = re.compile(pattern.removeprefix("(?i)"))
    if not hints:
        return lambda text: folded.search(_fold(text)) is not None
    hinted = [re.compile(h) for h in hints]
    return lambda text: (any(h.search(_fold(text)) for h in hinted)
                         and folded.search(_fold(text)) is not None)


@functools.lru_cache(maxsize=4)
def _fold(text):
    return fold_case(text)


def _compile(entry):
    """(kind, pattern, pre-check) for one entry of data/secrets.yaml. The pre-check is a cheap test
    that every match passes: most text holds no needle, and a regex that starts with \\b or a
    look-behind cannot skip ahead to a literal itself."""
    if entry.get("needles"):
        check = _literal_check(tuple(entry["needles"]))
    elif entry.get("folded_needles"):
        check = _folded_check(tuple(entry["folded_needles"]))
    else:
        check = _folded_pattern_check(entry["pattern"], entry.get("folded_hints", ()))
    return entry["kind"], re.compile(_literal_first(entry["pattern"])), check


_WORD_START = re.compile(r"\\b([A-Za-z0-9_]+-?)(?![?*+{])")


def _literal_first(pattern):
    """The pattern with a leading `\\b` moved after the literal it precedes (`\\bhf_` ->
    `hf_(?<=\\bhf_)`): the same matches, but the search skips from literal to literal instead of
    trying the pattern at every position."""
    m = _WORD_START.match(pattern)
    if not m:
        return pattern
    return f"{m.group(1)}(?<=\\b{m.group(1)}){pattern[m.end():]}"


SECRET_PATTERNS = [_compile(e) for e in data.load("secrets")["secrets"]]

_PATH_TAIL = r"[^\s`'\"(),;|<>]"
_ROOTS = r"(?:home|root|Users|mnt|data|data\d*|scratch|nfs|lustre|gpfs|workspace|export|srv|opt)"
# the look-behind after the leading "/" (the same matches): the search skips from "/" to "/"
_UNIX_PATH = rf"(/(?<![\w:/.~\-]/){_ROOTS}/{_PATH_TAIL}*)"
_WINDOWS_PATH = rf"(?<![\w])([A-Za-z]:\\{_PATH_TAIL}+)"
ABS_PATH = re.compile(rf"{_UNIX_PATH}|{_WINDOWS_PATH}")
# what the decoded text is searched for (JSON's "\/home\/…"): a Windows path's backslashes are
# separators, not escapes, so decoding would cut it short; the plain pass finds it whole
ESCAPED_UNIX_PATH = re.compile(_UNIX_PATH)
# ABS_PATH's Unix branch with the look-behind moved after the leading "/", so that the engine
# skips from "/" to "/"; with `":\\" in text` it is a pre-check that never misses a match.
_UNIX_PATH_HINT = re.compile(rf"/(?<![\w:/.~\-]/){_ROOTS}/")


def _may_hold_path(text):
    return ":\\" in text or _UNIX_PATH_HINT.search(text) is not None


# ABS_PATH's two branches, searched apart: no match spans a line break, so the texts that hold a
# match of either are those that hold one of ABS_PATH. The Unix one skips from "/" to "/"; the
# Windows one is searched from its `:\` (its drive letter, and what precedes that, looked
# behind at): each of its matches starts one character later than ABS_PATH's, on the same line.
_WINDOWS_FROM_COLON = rf":\\(?<=(?<![\w])[A-Za-z]:\\){_PATH_TAIL}+"
_PATH_SEARCHES = [(None, ESCAPED_UNIX_PATH, lambda text: True),
                  (None, re.compile(_WINDOWS_FROM_COLON), lambda text: ":\\" in text)]


def _mask(match, kind):
    """Replace the secret (group 1 when the pattern has one) and keep what precedes it."""
    if match.lastindex:
        start = match.start(1) - match.start(0)
        return match.group(0)[:start] + f"[REDACTED:{kind}]"
    return f"[REDACTED:{kind}]"


def _local(path):
    name = re.split(r"[\\/]", path.rstrip("/\\"))[-1]
    return f"<local>/{name}" if name else "<local>"


def redact_secrets(text):
    """One string with every secret replaced (idempotent); paths are left as they are."""
    if not isinstance(text, str) or not text:
        return text
    for kind, pat, check in SECRET_PATTERNS:
        if check(text):
            text = pat.sub(lambda m, k=kind: _mask(m, k), text)
    return text


def redact_text(text):
    """One string with every secret and absolute machine path replaced (idempotent)."""
    text = redact_secrets(text)
    if text and isinstance(text, str) and _may_hold_path(text):
        text = ABS_PATH.sub(lambda m: _local(m.group(0)), text)
    return text


def redact_value(value):
    """`redact_text` over every string (keys included) of nested dicts and lists. A container
    met twice (a YAML alias, even one that holds itself) is redacted once and shared again."""
    if not isinstance(value, (dict, list)):
        return redact_text(value) if isinstance(value, str) else value
    strings = list(dict.fromkeys(_strings_in(value)))
    _, hit, _ = _texts_with_matches(strings)
    redacted = {s: redact_text(s) for s in (strings[i] for i in hit)}
    if all(redacted[s] == s for s in redacted):
        return value  # nothing replaced: the copy would be the value itself, its sharing too
    return _copy(value, redacted, {})


def _strings_in(value):
    """Every string of nested dicts and lists, keys included; each container walked once."""
    out, seen, todo = [], set(), [value]
    while todo:
        v = todo.pop()
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, (dict, list)) and id(v) not in seen:
            seen.add(id(v))
            todo.extend(itertools.chain.from_iterable(v.items()) if isinstance(v, dict) else v)
    return out


def _copy(value, redacted, done):
    """`value` copied, each string in `redacted` replaced; a container met twice copied once."""
    if isinstance(value, str):
        return redacted.get(value, value)
    if not isinstance(value, (dict, list)):
        return value
    if id(value) in done:
        return done[id(value)]
    out = done[id(value)] = type(value)()
    if isinstance(value, dict):
        out.update((_copy(k, redacted, done), _copy(v, redacted, done)) for k, v in value.items())
    else:
        out.extend(_copy(v, redacted, done) for v in value)
    return out


def _texts_with_matches(texts):
    """(the secret patterns (kind, pattern) found, the indices of the texts that may hold a secret
    or a path, the kinds found (None for a path)), from one search of their joined text per pattern rather than one per text. A
    match that runs on across a joint marks every text it touches: it may have covered the start
    of a match in the next one. None is missed: the line break between two texts borders each as
    its ends do (no pattern looks for a line break around a match), so a pattern that matches in
    a text matches in the joined one."""
    return _matches_in(texts, "\n".join(texts))


def _matches_in(texts, whole):
    """_texts_with_matches(texts), `whole` their joined text."""
    starts = None  # where each text starts in `whole`, once a pattern matches
    active, hit, kinds = [], set(), set()
    for kind, pat, check in SECRET_PATTERNS + _PATH_SEARCHES:
        spans = [m.span() for m in pat.finditer(whole)] if check(whole) else []
        if spans:
            kinds.add(kind)
        if spans and kind:
            active.append((kind, pat))
        if spans and starts is None:
            starts = list(itertools.accumulate((len(t) + 1 for t in texts), initial=0))
        for a, b in spans:
            hit.update(range(bisect.bisect_right(starts, a) - 1, bisect.bisect_right(starts, b - 1)))
    return active, sorted(hit), kinds


def redact_lines(lines):
    """Returns (new lines, {"secrets": [{line, kind}], "absolute_paths": [{line, path}]}), one
    record per secret. A secret that exists only once its escapes are decoded (`"\\x68f_…"`,
    `"\\u0073k-…"`, a token split by an escaped line break) is found in the decoded text and
    replaced in the raw one, so every value decoded later holds the redaction, not the secret."""
    found = {"secrets": [], "absolute_paths": []}
    texts = [l.text for l in lines]
    whole = "\n".join(texts)
    plain = _matches_in(texts, whole)
    if "\\" in whole:
        # decoded first: a token split by an escaped line break must go whole, not lose only
        # the part that a plain pattern sees on its first line
        escaped = _redact_escaped(lines, found, plain[2])
        if escaped != lines:
            lines, plain = escaped, _texts_with_matches([l.text for l in escaped])
    out = _redact_plain(lines, found, plain)
    found["secrets"].sort(key=lambda s: s["line"])
    found["absolute_paths"].sort(key=lambda p: p["line"])
    return out, found


def _redact_plain(lines, found, plain):
    active, hit, _ = plain
    out = list(lines)
    for i in hit:
        l = lines[i]
        text = l.text
        for kind, pat in active:
            text, n = pat.subn(lambda m, k=kind: _mask(m, k), text)
            found["secrets"] += [{"line": l.no, "kind": kind} for _ in range(n)]
        for m in ABS_PATH.finditer(text):
            found["absolute_paths"].append({"line": l.no, "path": _local(m.group(0))})
        text = ABS_PATH.sub(lambda m: _local(m.group(0)), text)
        out[i] = Line(l.no, text) if text != l.text else l
    return out


# One escape as JSON, YAML's double-quoted style, shell and markdown write them: hex and Unicode
# escapes, an escaped line break (the lines join, the next one's indentation dropped), a letter
# escape, or an escaped punctuation mark standing for itself (markdown's `hf\_…`).
_ESCAPE = re.compile(r"\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|\n[ \t]*|[ntrbf0aevNLP]|[^\sA-Za-z0-9])")
_LETTER_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0", "a": "\a",
                   "e": "\x1b", "v": "\v", "N": "\x85", "L": "\u2028", "P": "\u2029"}


def _unescape(token):
    c = token[1]
    if c in "xuU":
        code = int(token[2:], 16)
        return chr(code) if code <= 0x10FFFF else token
    if c == "\n":
        return ""
    return _LETTER_ESCAPES.get(c, c)


class _Decoded:
    """A text with its escapes decoded, and the way back from a decoded span to the raw one."""

    def __init__(self, raw):
        parts, self.starts, self.pieces = [], [], []  # pieces: (raw start, raw end, is an escape)
        pos = 0
        for m in itertools.chain(_ESCAPE.finditer(raw), [None]):
            end = m.start() if m else len(raw)
            if end > pos:
                self._add(parts, raw[pos:end], (pos, end, False))
            if m:
                self._add(parts, _unescape(m.group(0)), (m.start(), m.end(), True))
                pos = m.end()
        self.text = "".join(parts)

    def _add(self, parts, text, piece):
        self.starts.append(self.starts[-1] + len(parts[-1]) if parts else 0)
        self.pieces.append(piece)
        parts.append(text)

    def raw_span(self, a, b):
        """The raw span that decodes to text[a:b] (b > a)."""
        i = bisect.bisect_right(self.starts, a) - 1
        start, _, esc = self.pieces[i]
        start = start if esc else start + a - self.starts[i]
        j = bisect.bisect_right(self.starts, b - 1) - 1
        first, end, esc = self.pieces[j]
        return start, end if esc else first + b - self.starts[j]


def _redact_escaped(lines, found, in_lines):
    """The lines with each secret and path of their decoded text redacted. `in_lines`: the kinds
    (None: paths) whose pattern the lines themselves hold. A pattern that they do not hold can
    match the decoded text (but across a line break, which is no match) only in a decoded line
    that is none of the card's lines: until a pattern redacts something, only those lines are
    searched for it."""
    raw = "\n".join([l.text for l in lines])
    numbers = [l.no for l in lines]
    dec = _Decoded(raw)
    decoded_only, changed = None, False  # the decoded lines that are no line of the card
    for kind, pat, check in SECRET_PATTERNS + [(None, ESCAPED_UNIX_PATH, _may_hold_path)]:
        if not changed and kind not in in_lines:  # ABS_PATH holds ESCAPED_UNIX_PATH's matches
            if decoded_only is None:  # their order does not matter: a match must not span a line
                decoded_only = "\n".join(set(dec.text.split("\n")).difference([l.text for l in lines]))
            if not (check(decoded_only) and pat.search(decoded_only)):
                continue
        if check(dec.text) and pat.search(dec.text):
            redacted = _redact_decoded(raw, dec, kind, pat, numbers, found)
            if redacted != raw:
                changed, raw, dec = True, redacted, _Decoded(redacted)
    if not changed:
        return lines
    return [l if t == l.text else Line(l.no, t) for l, t in zip(lines, raw.split("\n"))]


def _redact_decoded(raw, dec, kind, pat, numbers, found):
    """`raw` with each match of `pat` in its decoded text replaced (right to left, so the spans
    still to do keep their place). A replaced span keeps its escaped line breaks: the card keeps
    its line count. A match across a line break the card did not escape is no match (as in
    the plain pass, which reads line by line)."""
    for m in reversed([m for m in pat.finditer(dec.text) if "\n" not in m.group()]):
        a, b = dec.raw_span(m.start(1) if kind and m.lastindex else m.start(), m.end())
        if not kind and ABS_PATH.match(raw, a):  # a path the raw text shows: the plain pass's
            continue  # (decoding `/home/\0` would put a NUL in the card's line)
        no = numbers[raw.count("\n", 0, a)]
        if kind:
            new = f"[REDACTED:{kind}]"
            found["secrets"].append({"line": no, "kind": kind})
        else:
            new = _local(m.group(0))
            found["absolute_paths"].append({"line": no, "path": new})
        raw = raw[:a] + new + "\\\n" * raw.count("\n", a, b) + raw[b:]
    return raw
