"""Read YAML that may have lost its indentation (as pasted into real cards).

Well-indented YAML goes to the safe loader. A block whose indentation was lost is rebuilt from
line order: `name:` opens a mapping or a list (by the next line), `- item:` opens a list entry
whose following `key: value` lines are its options, and keys the trainer knows as top-level
config keys close an entry again. Every key keeps the card line it came from."""
import itertools
import operator
import re

import yaml

from cardrepro.read import unread, yamlsafe
from cardrepro.read.source import Line, line_texts

MAX_DEPTH = 16  # mappings a de-indented block may nest; real ones nest two or three
BLOCK_SCALAR = {">", ">-", ">+", "|", "|-", "|+"}

_ASCII_KEY = r"[A-Za-z_][A-Za-z0-9_.\-/]*"
_KEY_LINE = re.compile(r"^(?P<dash>-\s+)?(?P<key>" + _ASCII_KEY + r")\s*[:：](?:\s+(?P<val>.*?))?\s*$")
_CJK_KEY_LINE = re.compile(r"^(?P<dash>-\s+)?(?P<key>[^\s:：\-#`<>{}\[\]][^:：`<>{}]{0,15}?)\s*[:：]\s*(?P<val>.*?)\s*$")
_ITEM_LINE = re.compile(r"^-\s+(?P<val>\S.*?)\s*$")


class Shape:
    """Knowledge that disambiguates de-indented YAML: which labels are keys, which keys are
    per-item options and which are container keys."""

    def __init__(self, labels=None, item_options=(), scalar_keys=(), container_keys=()):
        self.labels = labels or {}
        self.item_options = set(item_options)
        self.scalar_keys = set(scalar_keys)
        self.container_keys = set(container_keys)


def key_line(text, shape):
    """(dash, key, value) when the line is `key: value`-shaped, else None."""
    if ":" not in text and "：" not in text:  # both patterns need one; most prose has neither
        return None
    s = text.strip()
    m = _KEY_LINE.match(s)
    if m:
        return bool(m.group("dash")), m.group("key"), (m.group("val") or "")
    m = _CJK_KEY_LINE.match(s)
    if m and m.group("key").strip() in shape.labels:
        return bool(m.group("dash")), shape.labels[m.group("key").strip()], m.group("val") or ""
    return None


def item_line(text):
    s = text.strip()
    if not s.startswith("-"):
        return None
    m = _ITEM_LINE.match(s)
    return m.group("val") if m else None


def is_yaml_line(text, shape):
    return key_line(text, shape) is not None or item_line(text) is not None


class Tree:
    def __init__(self):
        self.value = {}
        self.where = {}  # path tuple -> card line
        self.duplicates = []  # (path, line, first_line)


def _is_label(text):
    """A prose label or fence that introduces the next block (`数据配置:`, ```` ``` ````)."""
    s = text.strip()
    return s.endswith((":", "：")) or s.startswith(("```", "~~~"))


def _set(tree, mapping, path, key, value, no):
    full = path + (key,)
    if key in mapping:
        tree.duplicates.append((full, no, tree.where.get(full)))
    mapping[key] = value
    tree.where[full] = no


def _continuation(lines, i, shape):
    """Lines after i that continue a scalar (not YAML-shaped, not blank)."""
    out = []
    j = i + 1
    while (j < len(lines) and lines[j].text.strip() and not is_yaml_line(lines[j].text, shape)
           and not _is_label(lines[j].text)):
        out.append(lines[j].text.strip())
        j += 1
    return out, j


def recover(lines, shape):
    """Rebuild a de-indented YAML block. Returns a Tree."""
    tree = Tree()
    # frames: (container, path, kind) kind in {"map", "list", "item"}
    stack = [(tree.value, (), "map")]
    i = 0
    while i < len(lines):
        no, text = lines[i].no, lines[i].text
        if not text.strip() or text.strip() in ("---", "..."):
            i += 1
            continue
        kl = key_line(text, shape)
        if kl and kl[0]:  # `- key: value` or `- key:`
            _, key, val = kl
            while stack[-1][2] != "list" and len(stack) > 1:
                stack.pop()
            lst, lpath, kind = stack[-1]
            if kind != "list":
                i += 1
                continue
            entry = {}
            lst.append(entry)
            epath = lpath + (len(lst) - 1,)
            tree.where[epath] = no
            if val in BLOCK_SCALAR or (val == "" and i + 1 < len(lines) and lines[i + 1].text.strip()
                                       and not is_yaml_line(lines[i + 1].text, shape)):
                cont, nxt = _continuation(lines, i, shape)
                _set(tree, entry, epath, key, _fold(cont, val), no)
                stack.append((entry, epath, "item"))
                i = nxt
                continue
            if val == "":
                opts = {}
                _set(tree, entry, epath, key, opts, no)
                stack.append((opts, epath + (key,), "item"))
            else:
                _set(tree, entry, epath, key, yamlsafe.scalar(val), no)
                stack.append((entry, epath, "item"))
            i += 1
            continue
        if kl:
            _, key, val = kl
            # close item frames for keys that are not item options
            while stack[-1][2] == "item" and key not in shape.item_options:
                stack.pop()
            while stack[-1][2] == "list":
                stack.pop()
            mapping, path, _ = stack[-1]
            if val in BLOCK_SCALAR:
                cont, nxt = _continuation(lines, i, shape)
                _set(tree, mapping, path, key, _fold(cont, val), no)
                i = nxt
                continue
            if val:
                _set(tree, mapping, path, key, yamlsafe.scalar(val), no)
                i += 1
                continue
            nxt_line = next((l for l in itertools.islice(lines, i + 1, None) if l.text.strip()), None)
            if nxt_line is not None and (item_line(nxt_line.text) is not None
                                         or (key_line(nxt_line.text, shape) or (0,))[0]):
                _set(tree, mapping, path, key, [], no)
                stack.append((mapping[key], path + (key,), "list"))
            elif nxt_line is None or key in shape.scalar_keys or (
                    _is_label(nxt_line.text) and not is_yaml_line(nxt_line.text, shape)):
                _set(tree, mapping, path, key, None, no)
            elif len(stack) >= MAX_DEPTH:  # `a:` `b:` `c:` ... would nest without end
                _set(tree, mapping, path, key, None, no)
            elif key_line(nxt_line.text, shape):
                # a new named block; a nameless-looking sibling of a filled block goes to the root
                if len(stack) > 1 and key not in shape.container_keys and any(
                        not isinstance(v, (dict, list)) for v in mapping.values()):
                    stack = stack[:1]
                    mapping, path, _ = stack[-1]
                child = {}
                _set(tree, mapping, path, key, child, no)
                stack.append((child, path + (key,), "map"))
            else:
                cont, nxt = _continuation(lines, i, shape)
                _set(tree, mapping, path, key, " ".join(cont), no)
                i = nxt
                continue
            i += 1
            continue
        val = item_line(text)
        if val is not None:
            while stack[-1][2] != "list" and len(stack) > 1:
                stack.pop()
            lst, lpath, kind = stack[-1]
            if kind == "list":
                lst.append(yamlsafe.scalar(val))
                tree.where[lpath + (len(lst) - 1,)] = no
        i += 1
    return tree


def _fold(parts, style):
    if style.startswith("|"):
        return "\n".join(parts)
    return " ".join(parts)


def lost_indentation(lines, shape):
    """True when the block has no indentation but reads as nested (`name:` then `key: value`)."""
    if any(l.text[:1] in (" ", "\t") and l.text.strip() for l in lines):  # stops at the first one
        return False
    texts = [l.text for l in lines if l.text.strip()]
    kb = key_line(texts[0], shape) if texts else None
    for b in texts[1:]:
        ka, kb = kb, key_line(b, shape)  # each line's key_line worked out once
        if ka and not ka[2] and ka[1] not in shape.scalar_keys and (kb or item_line(b) is not None):
            return True
        if ka and ka[2] in BLOCK_SCALAR:
            return True
    return False


def load_block(lines, shape, unread_key=None):
    """A YAML block as a Tree: the safe loader for well-formed YAML, recovery otherwise.
    The value of a top-level `unread_key` (unread.KEY in front matter) is left out; the key
    keeps its line in Tree.where. Raises yamlsafe.YamlTooComplex for alias bombs."""
    tree = None
    if not lost_indentation(lines, shape):
        text = "\n".join([l.text for l in lines])
        if unread_key:
            tree = _load_without(lines, text, unread_key)
        tree = tree or _safe_load(lines, text)
    tree = tree or recover(lines, shape)
    if unread_key and isinstance(tree.value, dict) and tree.value.pop(unread_key, None) is not None:
        tree.where = {p: no for p, no in tree.where.items() if p[0] != unread_key or len(p) == 1}
    return tree


def _safe_load(lines, text, spare_nodes=0):
    """The block through the safe loader, or None when it is not a well-formed mapping or list."""
    try:
        value, dups = yamlsafe.load(text, spare_nodes)
    except yaml.YAMLError:
        return None
    if not isinstance(value, (dict, list)):
        return None
    tree = Tree()
    tree.value = value
    _locate(tree, value, (), lines)
    for d in dups:
        tree.duplicates.append(((d.key,), lines[min(d.line, len(lines) - 1)].no,
                                lines[min(d.first_line, len(lines) - 1)].no))
    return tree


def _load_without(lines, text, key):
    """The block safely loaded as if its top-level `key:` section were `key:` alone (its value
    null, which load_block then drops), with every other key, duplicate and line as the whole
    load gives them; None where unread.span cannot vouch for that, or where the line search of
    a later top-level key would stop inside the section."""
    span = unread.span(text, key)
    if span is None:
        return None
    section = lines[span.first + 1:span.end]
    blank = map(tuple.__new__, itertools.repeat(Line), zip(map(operator.attrgetter("no"), section), itertools.repeat("")))
    kept = lines[:span.first] + [Line(lines[span.first].no, f"{key}:")] + list(blank) + lines[span.end:]
    try:
        tree = _safe_load(kept, "\n".join([l.text for l in kept]), span.spare_nodes)
    except yamlsafe.YamlTooComplex:
        return None  # the whole load says why
    if tree is None or not isinstance(tree.value, dict) or tree.value.get(key, "") is not None:
        return None  # not a top-level key with the null left in its place: the line is in a value before it
    if any(path == (key,) for path, _, _ in tree.duplicates):
        return None  # the key again: its value is the later section's, located from the first one's lines
    keys = list(tree.value)
    if any(_key_at(str(k), section, 0) is not None for k in keys[keys.index(key) + 1:]):
        return None
    return tree


def _locate(tree, value, path, lines, start=0):
    """Card line of each key in a safely loaded block: the first line at or after `start` that
    opens the key, searching a key's children after its own line (so `b.lr` is not found at
    `a.lr`). Returns the index after the last line located."""
    pos = start
    if isinstance(value, dict):
        for k, v in value.items():
            at = _key_at(str(k), lines, pos)
            if at is None:
                continue
            tree.where[path + (k,)] = lines[at].no
            pos = max(at + 1, _locate(tree, v, path + (k,), lines, at + 1)) if isinstance(v, (dict, list)) else at + 1
    elif isinstance(value, list):
        for idx, v in enumerate(value):
            if isinstance(v, (dict, list)):  # a scalar locates nothing and leaves pos where it is
                pos = _locate(tree, v, path + (idx,), lines, pos)
    return pos


def _key_at(key, lines, pos):
    """Index of the first line at or after pos that opens `key:` (`- key:`), or None; only lines
    that hold the key's text are looked at."""
    opens = _opens_plain_key if key[:1].strip() not in ("", "-") else _opens_key
    holding = itertools.compress(itertools.count(pos),  # the lines that hold the key, found in C
                                 map(operator.contains, line_texts(lines, pos), itertools.repeat(key)))
    return next((j for j in holding if opens(lines[j].text, key)), None)


def _opens_key(text, key):
    return re.match(r"^\s*-?\s*" + re.escape(key) + r"\s*:", text) is not None


def _opens_plain_key(text, key):
    """_opens_key for a key that starts with neither a space nor a dash, without compiling a
    pattern per key (str.strip drops the characters `\\s` matches)."""
    t = text.lstrip()
    if t.startswith("-"):
        t = t[1:].lstrip()
    return t.startswith(key) and t[len(key):].lstrip().startswith(":")
