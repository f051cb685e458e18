"""Split a card's lines into blocks: front matter, YAML (indented or not), JSON, Python,
shell commands, tables, and prose. Each block keeps its card lines."""
import ast
import itertools
import math
import operator
import re
from dataclasses import dataclass, field


from cardrepro.errors import CardError
from cardrepro.read import jsonblock, shellwords, unread, yamlish, yamlsafe
from cardrepro.read.source import Line, line_texts

LAUNCHERS = ("deepspeed", "torchrun", "accelerate", "python", "python3", "axolotl", "llamafactory-cli")
_LAUNCH = re.compile(r"(?:^|`|\$\s*)((?:" + "|".join(LAUNCHERS) + r")\s+[^`\n]*?\.(?:py|yaml|yml)\b[^`\n]*)")
_JSON_KEY = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"\s*:')
_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)\s*(.*)$")
# a line that closes a string or bracket, then the fence (`"""```` in the RedPajama-INCITE cards):
# the author's fence ends there, though CommonMark would read on to the next fence
_CLOSED_AFTER = re.compile(r"^(\s*[\"')\]}]+)\s*(?:```|~~~)\s*$")
_DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$")  # `---|:---:`
MAX_PYTHON_DEPTH = 100  # AST levels; `f(x)[0].y` is 5
MAX_PYTHON_RUN = 200  # lines of unfenced code parsed as one block
MAX_PYTHON_TRIES = 6
MAX_PYTHON_LINES = 20_000
MAX_ARGS = 1000  # words of a command kept; the rest are counted in Block.left_out
_CODE_START = re.compile(r"^(from\s+[\w.]+\s+import\s|import\s+\w|[A-Za-z_][\w.]*\s*=\s*\S|[A-Za-z_][\w.]*\(|print\()")


@dataclass
class Block:
    kind: str  # frontmatter | yaml | json | python | shell | table
    start: int  # card line of the first line
    lines: list
    value: object = None
    where: dict = field(default_factory=dict)
    duplicates: list = field(default_factory=list)
    left_out: int = 0  # entries of the value beyond the reader's limit, not kept

    def nodes(self):
        """Every node of a python block's AST in `ast.walk` order, listed once for all extractors."""
        cached = self.__dict__.get("_nodes")
        if cached is None:
            cached = self.__dict__["_nodes"] = ast_nodes(self.value)
        return cached


def ast_nodes(tree):
    """The nodes `ast.walk(tree)` yields, in the same (breadth-first) order, as a list; a few
    times faster than ast.walk, which builds a generator per node."""
    return _nodes_within(tree, math.inf)


@dataclass
class Document:
    path: str
    sha256: str
    lines: list
    blocks: list
    redactions: dict
    malformed: list = field(default_factory=list)  # {line, reason}: blocks that could not be read, skipped
    # (index of the opening line, index of the closing line or None: open to the card's end) of
    # each code fence, indices into `lines`: the one account of where fences are, for every reader
    fences: list = field(default_factory=list)
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def of_kind(self, *kinds):
        return [b for b in self.blocks if b.kind in kinds]

    def derived(self, name, compute):
        """compute(self), worked out on first use and kept with the document: the extractors'
        views of the card (its fenced texts, its code's strings) are computed once per card."""
        try:  # ~150 calls a card, nearly all of them hits
            return self._derived[name]
        except KeyError:
            value = self._derived[name] = compute(self)
            return value



def _yaml_block(path, lines, shape, kind="yaml"):
    try:
        tree = yamlish.load_block(lines, shape, unread.KEY if kind == "frontmatter" else None)
    except yamlsafe.YamlTooComplex as err:
        raise CardError(path, lines[0].no, str(err)) from None
    return Block(kind, lines[0].no, lines, tree.value, tree.where, tree.duplicates)


def _json_block(path, lines):
    text = "\n".join([l.text for l in lines])
    try:
        value, dups = jsonblock.load(text)
    except ValueError as err:
        lineno = getattr(err, "lineno", 1)
        raise CardError(path, lines[min(lineno, len(lines)) - 1].no, f"malformed JSON: {getattr(err, 'msg', err)}") from None
    key_lines = {}  # every line that starts with `"key":`, by key
    for l in lines:
        m = _JSON_KEY.match(l.text)
        if m:
            key_lines.setdefault(m.group(1), []).append(l.no)
    where = {(k,): key_lines[k][0] for k in (value if isinstance(value, dict) else {}) if k in key_lines}
    dup_list = []
    for k in dups:
        hits = key_lines.get(k, [])
        dup_list.append(((k,), hits[-1] if hits else lines[0].no, hits[0] if hits else None))
    return Block("json", lines[0].no, lines, value, where, dup_list)


def _python_block(lines):
    tree, nodes = _parse_python(lines)
    return _code_block(lines, tree, nodes) if nodes is not None else None


def _code_block(lines, tree, nodes):
    block = Block("python", lines[0].no, lines, tree)
    block.__dict__["_nodes"] = nodes  # what Block.nodes() would list
    return block


def _parse_python(lines):
    """(the module's AST, its nodes in `ast.walk` order), or (the SyntaxError, None). Code nested
    deeper than the parser allows (the parser runs out of stack: RecursionError, MemoryError) is
    no more usable than a syntax error; a tree deeper than MAX_PYTHON_DEPTH neither, as the
    extractors walk it recursively."""
    text = "\n".join([l.text for l in lines])
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        # without its traceback: the frames it holds (and their locals, the card's lines) would
        # make a reference cycle with the error kept in them
        return err.with_traceback(None), None
    except (RecursionError, MemoryError):
        return SyntaxError("nested too deeply"), None
    nodes = _nodes_within(tree, MAX_PYTHON_DEPTH)
    return (tree, nodes) if nodes is not None else (SyntaxError("nested too deeply"), None)


def _nodes_within(tree, limit):
    """The tree's nodes level by level (which is `ast.walk`'s breadth-first order), or None when
    the tree is more than `limit` levels deep."""
    out, level, depth = [], [tree], 1
    AST = ast.AST
    while level:
        if depth > limit:
            return None
        out.extend(level)
        below = []
        for node in level:  # each node's children in `ast.iter_child_nodes` order
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, AST):
                    below.append(value)
                elif value and isinstance(value, list):
                    below.extend([v for v in value if isinstance(v, AST)])
        level, depth = below, depth + 1
    return out


def _python_prefix(lines, i, end, blocks, budget):
    """The longest run lines[i:j] (j <= end) that parses as Python, appended to blocks; returns j
    (i when none does). A syntax error on line L rules out every prefix that holds line L, so the
    next try ends before it; at most MAX_PYTHON_TRIES tries of at most MAX_PYTHON_RUN lines each,
    and no more than `budget` (a one-item list, spent here) lines for the whole card, so that
    runs of broken lines cost a bounded amount of parsing."""
    j = min(end, i + MAX_PYTHON_RUN)
    for _ in range(MAX_PYTHON_TRIES):
        if j <= i or budget[0] < j - i:
            break
        budget[0] -= j - i
        tree, nodes = _parse_python(lines[i:j])
        if nodes is not None:
            blocks.append(_code_block(lines[i:j], tree, nodes))
            return j
        bad = getattr(tree, "lineno", None)
        j = i + bad - 1 if bad and 1 <= bad < j - i else j - 1
    return i


def _fence(text):
    """_FENCE's match, for most lines without running it."""
    return _FENCE.match(text) if "```" in text or "~~~" in text else None


def _shell_commands(lines):
    out = []
    for l in lines:
        if ".py" not in l.text and ".y" not in l.text:  # every _LAUNCH match holds .py, .yaml or .yml
            continue
        for m in _LAUNCH.finditer(l.text):
            cmd = m.group(1).strip().rstrip("`").strip()
            try:
                argv = shellwords.split(cmd)
            except ValueError:
                continue
            out.append(Block("shell", l.no, [l], argv[:MAX_ARGS], left_out=max(0, len(argv) - MAX_ARGS)))
    return out


_DELIMITER_CELL = re.compile(r":?-{2,}:?")


def _table(lines):
    rows = []
    for l in lines:
        cells = [c.strip() for c in l.text.strip().strip("|").split("|")]
        if all(_DELIMITER_CELL.fullmatch(c) for c in cells if c):
            continue
        rows.append((l.no, cells))
    return Block("table", lines[0].no, lines, rows)


def _sniff(lines, shape):
    first = next((l.text.strip() for l in lines if l.text.strip()), "")
    if first.startswith(("{", "[")):
        return "json"
    if yamlish.is_yaml_line(first, shape):
        return "yaml"
    if _CODE_START.match(first):
        return "python"
    return "text"


def _fenced(path, body, lang, shape, blocks, malformed):
    lang = lang.lower()
    kind = {"json": "json", "yaml": "yaml", "yml": "yaml", "python": "python", "py": "python",
            "bash": "shell", "sh": "shell", "shell": "shell", "console": "shell"}.get(lang) or _sniff(body, shape)
    nonblank = _nonblank(body)
    if not nonblank:
        return
    body = nonblank if kind in ("yaml", "json") else body
    if kind in ("python", "text") and body[0].text.lstrip().startswith(">>>"):
        kind, body = "python", _session_code(body)
        if not body:
            return
    if kind == "json":
        _json_or_malformed(path, body, blocks, malformed)
    elif kind == "yaml":
        blocks.append(_yaml_block(path, body, shape))
    elif kind == "python":
        b = _python_block(body)
        if b:
            blocks.append(b)
    blocks.extend(_shell_commands(body))


def _session_code(lines):
    """The code of an interactive session (`>>> x = f()`, `...     y`): its prompted lines without
    the prompts, at their card lines; the output lines between them are not code."""
    out = []
    for l in lines:
        s = l.text.lstrip()
        if s.startswith((">>>", "...")) and (len(s) == 3 or s[3] == " "):
            out.append(Line(l.no, s[4:]))
    return out


def _json_or_malformed(path, lines, blocks, malformed):
    """Read a JSON block; one that does not parse is recorded (its line, the parser's reason) and
    skipped, so that the rest of the card is still read."""
    try:
        blocks.append(_json_block(path, lines))
    except CardError as err:
        malformed.append({"line": err.line, "reason": err.message})


def _frontmatter_end(lines, start):
    """The first line after `start` that is `---`, or None (searched in C: front matter can be
    thousands of lines)."""
    try:
        return start + 1 + operator.indexOf(map(str.strip, line_texts(lines, start + 1)), "---")
    except ValueError:
        return None


def _nonblank(lines):
    """The lines whose text is not blank (filtered in C)."""
    return list(itertools.compress(lines, map(str.strip, line_texts(lines))))



def scan(path, sha, lines, shape, redactions=None):
    blocks, malformed, fences = [], [], []
    object_ends = None  # worked out when a line first starts with `{`
    budget = [MAX_PYTHON_LINES]  # lines of unfenced code the card may have parsed, all tries together
    i, n = 0, len(lines)
    seen_content = False
    while i < n:
        text = lines[i].text
        s = text.strip()
        if not s:
            i += 1
            continue
        m = ("```" in text or "~~~" in text) and _FENCE.match(text)  # _fence, without a call per line
        if m:
            j = i + 1
            inline = m.group(3)
            body = [Line(lines[i].no, inline)] if inline and not m.group(2) else []
            while j < n and not _fence(lines[j].text):
                if (tail := _CLOSED_AFTER.match(lines[j].text)) and lines[j].text.endswith(m.group(1)):
                    body.append(Line(lines[j].no, tail.group(1)))  # `"""```: the code, then the fence
                    break
                body.append(lines[j])
                j += 1
            fences.append((i, j if j < n else None))
            _fenced(path, body, m.group(2), shape, blocks, malformed)
            i, seen_content = j + 1, True
            continue
        if s == "---" and (end := _frontmatter_end(lines, i)) is not None and (not seen_content or end - i > 1):
            body = _nonblank(lines[i + 1:end])
            if body and yamlish.is_yaml_line(body[0].text, shape):
                blocks.append(_yaml_block(path, body, shape, kind="frontmatter"))
                i, seen_content = end + 1, True
                continue
        if s.startswith("{") and object_ends is None:
            object_ends = jsonblock.object_ends([l.text for l in lines])
        if s.startswith("{") and (end := object_ends.get(i)) is not None:
            try:
                blocks.append(_json_block(path, lines[i:end + 1]))
                i, seen_content = end + 1, True
                continue
            except CardError as err:
                if end > i:  # a malformed multi-line JSON block is recorded and skipped; one line of braces is prose
                    malformed.append({"line": err.line, "reason": err.message})
                    i, seen_content = end + 1, True
                    continue
        if s.startswith("|") and s.count("|") >= 2:
            j = i
            while j < n and lines[j].text.strip().startswith("|"):
                j += 1
            if j - i >= 2:
                blocks.append(_table(lines[i:j]))
                i, seen_content = j, True
                continue
        if "|" in s and i + 1 < n and "-" in lines[i + 1].text and _DELIMITER_ROW.match(lines[i + 1].text):
            j = i + 2  # a table without outer pipes: `Size| Dataset` over `---|---`
            while j < n and "|" in lines[j].text and lines[j].text.strip():
                j += 1
            blocks.append(_table(lines[i:j]))
            i, seen_content = j, True
            continue
        # is_yaml_line's own first tests (a colon, or a dash first) without its calls, for most lines
        if (":" in text or "：" in text or s[0] == "-") and yamlish.is_yaml_line(text, shape):
            j = _yaml_run_end(lines, i, shape)
            run = lines[i:j]
            if len(run) >= 2 or yamlish.key_line(text, shape):
                kind = "frontmatter" if not seen_content and _looks_like_metadata(run, shape) else "yaml"
                blocks.append(_yaml_block(path, run, shape, kind=kind))
                blocks.extend(_shell_commands(run))
                i, seen_content = j, True
                continue
        if ("import " in s or "=" in s or "(" in s) and _CODE_START.match(s):
            j, last = i, min(n, i + MAX_PYTHON_RUN)
            while j < last and _continues_code(lines[j].text):
                j += 1
            j = _python_prefix(lines, i, j, blocks, budget)
            if j > i:
                blocks.extend(_shell_commands(lines[i:j]))
                i, seen_content = j, True
                continue
        if ".py" in text or ".y" in text:  # _shell_commands' own test, without a call per line
            blocks.extend(_shell_commands([lines[i]]))
        seen_content = True
        i += 1
    return Document(path, sha, lines, blocks, redactions or {}, malformed, fences)


def _continues_code(text):
    """Whether a line may carry on an unfenced run of code: a statement, an argument of a call
    left open (`    r=16,`: any indented line) or the bracket that closes it (`)`); the parse
    decides (_python_prefix)."""
    s = text.strip()
    return bool(s) and (_CODE_START.match(s) is not None or text[0] in " \t" or s[0] in ")]}")


def _yaml_run_end(lines, i, shape):
    """The end of the YAML run that starts at lines[i] (a YAML-shaped line): YAML-shaped lines,
    and non-YAML lines that are the value of the last `key:` / `key: >-` before them."""
    j, last_yaml = i, i
    while j < len(lines) and lines[j].text.strip() and not _fence(lines[j].text):
        if yamlish.is_yaml_line(lines[j].text, shape):
            last_yaml = j
        elif not _continues_scalar(lines[last_yaml].text, lines[j].text, shape):
            break
        j += 1
    return j


def _continues_scalar(key_text, text, shape):
    """`text`, a non-YAML line after the YAML line `key_text` (only non-blank lines between),
    is the value of that `key:` / `key: >-`."""
    if yamlish._is_label(text):
        return False
    kl = yamlish.key_line(key_text, shape)
    return bool(kl) and (kl[2] == "" or kl[2] in yamlish.BLOCK_SCALAR)


METADATA_KEYS = {"license", "language", "tags", "pipeline_tag", "widget", "datasets", "library_name",
                 "base_model", "model-index", "inference", "metrics"}


def _looks_like_metadata(run, shape):
    keys = {kl[1] for l in run if (kl := yamlish.key_line(l.text, shape)) and not kl[0]}
    return len(keys & METADATA_KEYS) >= 2
