"""Split a shell command line into words as `shlex` does in POSIX mode with whitespace_split, in
time linear in the line: regular expressions find each word and its quoted pieces, where shlex
reads one character at a time in Python (seconds for a card's 1 MB command line)."""
import re

_SPACE = re.compile(r"[ \t\r\n]*")
_QUOTED_ESCAPE = re.compile(r'\\([\\"])')  # within double quotes only \\ and \" are escapes


def _patterns(bare):
    word = re.compile(rf"""(?:{bare}+|'[^']*'|"(?:[^"\\]|\\.)*"|\\.)+""", re.S)
    piece = re.compile(rf"""({bare}+)|'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)""", re.S)
    return word, piece


_PLAIN = _patterns(r"""[^ \t\r\n'"\\]""")
_COMMENTED = _patterns(r"""[^ \t\r\n'"\\#]""")


def split(line, comments=False):
    """The words of `line` (`shlex.split`); with `comments`, an unquoted `#` ends its word and
    drops the rest of its line (shlex with commenters="#"). ValueError for a quote left open or
    a backslash at the end."""
    word, piece = _COMMENTED if comments else _PLAIN
    ends = " \t\r\n#" if comments else " \t\r\n"
    words, pos, end = [], 0, len(line)
    while True:
        pos = _SPACE.match(line, pos).end()
        if pos == end:
            return words
        if comments and line[pos] == "#":
            pos = line.find("\n", pos) + 1
            if pos == 0:
                return words
            continue
        m = word.match(line, pos)
        if not m or (m.end() < end and line[m.end()] not in ends):
            raise ValueError(f"no closing quotation or no escaped character at offset {pos}")
        words.append(_unquote(m.group(), piece))
        pos = m.end()


def _unquote(word, piece):
    out = []
    for bare, single, double, escaped in piece.findall(word):
        out.append(bare or single or _QUOTED_ESCAPE.sub(r"\1", double) or escaped)
    return "".join(out)
