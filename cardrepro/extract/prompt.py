"""The prompt format: from example prompts (widget, fenced examples, prose), code that
concatenates the prompt, data samples in the card, and prose naming the closing token."""
import ast
import functools
import itertools
import json
import operator
import re
from typing import NamedTuple

from cardrepro import data, memo
from cardrepro.extract import util
from cardrepro.extract.util import family_of, joined_lines, prose_lines, prose_lines_searched, search_lines
from cardrepro.read.document import ast_nodes
from cardrepro.read.source import line_texts

_SPECIAL = re.compile(r"<\|[\w\-]+\|>|</?s>")
_ENDS_WITH = re.compile(r"(?i)(?:each turn ends with|turns? end with|每轮对话以|每輪對話以|以)\s*(?:an?\s+)?`?(<\|[\w\-]+\|>|</s>)`?")
_JSON_SAMPLE = re.compile(r'\{\s*"(?:text|prompt|conversation)"\s*:\s*"(?:[^"\\]|\\.)*"\s*\}')
_SAMPLE_KEY = re.compile(r'"(?:text|prompt|conversation)"')  # what every _JSON_SAMPLE holds


def _roles():
    r = data.load("model_families").get("roles", {})
    by_len = lambda xs: sorted(xs, key=len, reverse=True)  # noqa: E731
    return by_len(r.get("user", [])), by_len(r.get("assistant", []))


def _stop_texts():
    return data.load("model_families").get("stop_texts", [])


def split_example(text):
    """`<|prompter|>Q<|endoftext|><|assistant|>` → (user_prefix, message, user_suffix, assistant_prefix)."""
    users, assistants = _roles()
    t = text
    up = next((u for u in users if t.startswith(u)), None)
    if up is None:
        m = _SPECIAL.match(t)
        up = m.group(0) if m else None
    ap = next((a for a in assistants if t.rstrip(" ").endswith(a)), None)
    if ap is None:
        m = re.search(r"(<\|[\w\-]+\|>)\s*$", t)
        ap = m.group(1) if m and m.group(1) != up else None
    if not up or not ap:
        return None
    body = t[len(up):len(t.rstrip(" ")) - len(ap)]
    us = None
    for stop in sorted(_stop_texts(), key=len, reverse=True):
        if stop.startswith("<") and body.endswith(stop):
            us, body = stop, body[: -len(stop)]
            break
    return up, body, us, ap


def _code_prompts(doc):
    """Prompt templates built by string concatenation in the card's Python code."""
    out = []
    for block, view in _code_views(doc):
        for node in view.sums:
            parts = _flatten_add(node)
            slots = [i for i, p in enumerate(parts) if not isinstance(p, str)]
            if len(slots) == 1 and 0 < slots[0] < len(parts) - 1:
                i = slots[0]
                before, after = "".join(parts[:i]), "".join(parts[i + 1:])
                value = _slot_value(parts[i], view.consts)
                example = before + value + after if value else None
                no = block.lines[0].no + node.lineno - 1
                out.append((before, after, example, no))
    return out


class _CodeView(NamedTuple):
    consts: dict  # {name: string} of the block's `name = "..."` assignments
    texts: list  # its Constant, JoinedStr and BinOp nodes: the ones _code_text reads, in walk order
    sums: list  # its `a + b` nodes, in walk order


def _code_views(doc):
    """(block, _CodeView) of each python block: one pass over each block's nodes for every
    reader of the card's code strings."""
    return doc.derived("prompt.code_views", lambda d: [(b, _code_view(b.nodes())) for b in d.of_kind("python")])


def _code_view(nodes):
    picked = list(itertools.compress(nodes, map(_VIEWED.__contains__, map(type, nodes))))  # a loop in C
    texts = [n for n in picked if type(n) is not ast.Assign]
    sums = [n for n in texts if type(n) is ast.BinOp and type(n.op) is ast.Add]
    return _CodeView(_string_consts(n for n in picked if type(n) is ast.Assign), texts, sums)


def _string_consts(nodes):
    """{name: string} of the `name = "..."` assignments among nodes, the last one winning."""
    consts = {}
    for node in nodes:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    consts[t.id] = node.value.value
    return consts


def _flatten_add(node):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _flatten_add(node.left) + _flatten_add(node.right)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    return [node]


def _slot_value(node, consts):
    """The message a slot stands for, when it is a constant variable (`query.strip()` → its text)."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("strip", "rstrip", "lstrip"):
        node = node.func.value
    if isinstance(node, ast.Name) and node.id in consts:
        return consts[node.id].strip()
    return None


@functools.lru_cache(maxsize=None)
def _example_pattern():
    """A user marker, then an assistant marker with no user marker between; and the user markers."""
    users, assistants = _roles()
    user_alt = "|".join(re.escape(u) for u in users)
    asst_alt = "|".join(re.escape(a) for a in assistants)
    return re.compile(r"(?:" + user_alt + r")(?:(?!" + user_alt + r").)*?(?:" + asst_alt + r")"), re.compile(user_alt)


def _prose_examples(doc):
    pat, user = _example_pattern()
    out = []
    if not _has_user_marker(doc):
        return out
    code_lines = {l.no for b in doc.of_kind("python") for l in b.lines}
    lines = prose_lines(doc)
    for i in prose_lines_searched(doc, user):  # the lines a user marker stands in
        no, text = lines[i]
        if no in code_lines:
            continue
        for m in pat.finditer(text):
            s = m.group(0)
            if "[...]" in s or "`" in s or "\\n" in s:  # `\n` written out: a code string, read as code
                continue
            out.append({"text": s, "line": no})
    return out


def _data_samples(doc):
    out = []
    whole = joined_lines(doc)[0]
    if not _SAMPLE_KEY.search(whole):
        return out
    for no, text in prose_lines(doc):
        if "{" not in text:
            continue
        for m in _JSON_SAMPLE.finditer(text):
            try:
                value = json.loads(m.group(0))
            except ValueError:
                continue
            out.append((next(iter(value.values())), no))
    return out


def _put_split(facts, split, no, text):
    up, _, us, ap = split
    facts.put("prompt.user_prefix", up, no, text=text)
    if us is not None:
        facts.put("prompt.user_suffix", us, no, text=text)
    facts.put("prompt.assistant_prefix", ap, no, text=text)


def extract(doc, facts):
    examples = list(facts.get("examples.widget", []))
    for e in _prose_examples(doc):
        if e["text"] not in {x["text"] for x in examples}:
            examples.append(e)
    for before, after, example, no in _code_prompts(doc):
        if not facts.has("prompt.user_prefix"):
            facts.put("prompt.user_prefix", before, no, text=facts.text_of(no))
            us = next((s for s in _stop_texts() if s.startswith("<") and after.startswith(s)), None)
            if us:
                facts.put("prompt.user_suffix", us, no)
            facts.put("prompt.assistant_prefix", after[len(us or ""):], no)
            facts.put("prompt.format_source", "code", no)
        if example and example not in {x["text"] for x in examples}:
            examples.append({"text": example, "line": no})
    for no, text in _config_formats(doc):
        if not facts.has("prompt.user_prefix") and (fields := parse_turns(text)):
            _put_fields(facts, fields, no, facts.text_of(no))
    for ex in examples:
        if facts.has("prompt.user_prefix"):
            break
        fields = parse_turns(ex["text"])
        if fields:
            _put_fields(facts, fields, ex["line"], facts.text_of(ex["line"], ex["text"][:40]))
            continue
        split = split_example(ex["text"])
        if split:
            _put_split(facts, split, ex["line"], facts.text_of(ex["line"], ex["text"][:40]))
    if not facts.has("prompt.user_prefix"):
        _shown_formats(doc, facts)
    if not facts.has("prompt.user_prefix"):
        _named_formats(doc, facts)
    if facts.has("prompt.user_prefix") and not facts.has("prompt.system_prefix"):
        _system_from_shown(doc, facts)
    if examples:
        facts.put("prompt.examples", [{"text": e["text"], "line": e["line"]} for e in examples], examples[0]["line"])
    for no, text, m in search_lines(doc, _ENDS_WITH, ("<|", "</s>")):
        facts.put("prompt.assistant_suffix", m.group(1), no, text=facts.text_of(no, m.group(0)))
        break
    ap = facts.get("prompt.assistant_prefix")
    for sample, no in _data_samples(doc):
        if ap and ap in sample:
            answer = sample.split(ap, 1)[1]
            for stop in sorted(_stop_texts(), key=len, reverse=True):
                if answer.endswith(stop) and (stop.startswith("<") or not answer[: -len(stop)][-1:].isascii()):
                    facts.put("prompt.assistant_suffix", stop, no, text=facts.text_of(no, sample[:40]),
                              rule="every data sample in the card ends its answer with this text")
                    break
    if not facts.has("prompt.assistant_suffix"):
        _answer_close(doc, facts)


def _answer_close(doc, facts):
    """The turn end that closes the answers the card shows after its assistant marker
    (`<|MOSS|>: ...<eom>`)."""
    marker = (facts.get("prompt.assistant_prefix") or "").strip()
    if not marker:
        return
    texts = [([no], text) for no, text in _code_texts(doc)] + _fenced_texts(doc)
    for nos, text in texts:
        for i, line in enumerate(text.split("\n")):
            answer = line.split(marker, 1)[1] if marker in line else ""
            if not answer.strip() or _SLOT.fullmatch(answer.strip()):
                continue
            _, close, closed = _turn_close(answer)
            if closed:
                no = nos[min(i, len(nos) - 1)]
                facts.put("prompt.assistant_suffix", close.strip(), no, text=facts.text_of(no, marker),
                          rule="the answers the card shows end with this text")
                return


def closing_from_eos(facts):
    """When the card gives an eos token id but no closing text: the family's token with that id."""
    if facts.has("prompt.assistant_suffix") or not facts.has("generation.eos_token_id"):
        return
    fam = family_of(facts.get("base_model.name")) or family_of(facts.get("model.hub_id"))
    eos_id = facts.get("generation.eos_token_id")
    if fam:
        for tok, tid in (fam.get("token_ids") or {}).items():
            if tid == eos_id:
                f = facts.items["generation.eos_token_id"]
                facts.put("prompt.assistant_suffix", tok, f.line, origin="derived", text=f.text,
                          rule=f"eos_token_id={eos_id} is {tok!r} in the {fam['family']} tokenizer (data/model_families.yaml)")


# --- Formats shown as text with turn markers: templates with a message slot, examples, transcripts.

_SLOT = re.compile(r"\x00|\{[A-Za-z_]\w*\}|\{\}")  # \x00: a value the card's code fills in
_NAMED = re.compile(r"(?:--template[ =]|\b(?:chat_template|conversation|template)\s*:\s*)['\"]?([\w.\-]+)")



@functools.lru_cache(maxsize=None)
def _turn_markers():
    """(marker, regex, role) for every turn marker; longest markers first."""
    conf = data.load("chat_templates")
    roles = data.load("model_families").get("roles", {})
    alts = []
    for role in ("user", "assistant", "system"):
        for m in set(roles.get(role, [])) | set(conf.get("markers", {}).get(role, [])):
            alts.append((m, role))
    alts.sort(key=lambda a: len(a[0]), reverse=True)
    parts = [(r"(?<![\w#])" if m[0].isalnum() else "") + re.escape(m) for m, _ in alts]
    return [(m, re.compile(p), role) for p, (m, role) in zip(parts, alts)]


def _has_user_marker(doc):
    """Whether the card's text holds a user marker (turn marker or example role) anywhere; every
    pattern that finds one matches it literally. One search of the whole card spares the cards
    without one (most) the search of each fenced text and prose line."""
    return doc.derived("prompt.has_user_marker", lambda d: _holds_any(joined_lines(d)[0], _user_markers()))


@functools.lru_cache(maxsize=None)
def _user_markers():
    return tuple(sorted({m for m, _, role in _turn_markers() if role == "user"} | set(_roles()[0])))


def _holds_any(text, literals):
    """Whether text holds one of the literals (none with a line end)."""
    return any(f.search(text) for f in _literal_finders(literals))


@functools.lru_cache(maxsize=8)
def _literal_finders(literals):
    """Patterns that together find the literals: one per pivot character, a rare character each
    literal holds (`<`, `[`, else `:`), found by the fast scan for a pattern's first literal, the
    rest of the literal checked around it (a pattern that opens with an alternation of 20
    literals is tried at every place one of their first characters stands: 3x slower)."""
    by_pivot, lits = {}, set(literals)
    for lit in sorted((l for l in lits if not any(o != l and o in l for o in lits)), key=len, reverse=True):
        i = min(range(len(lit)), key=lambda k: (lit[k].isalnum() or lit[k].isspace(), lit[k] == "#", lit[k] == ":"))
        by_pivot.setdefault(lit[i], []).append((lit, i))
    return tuple(re.compile(_pivot_pattern(c, found)) for c, found in sorted(by_pivot.items()))


def _pivot_pattern(c, found):
    """The pattern of the (literal, index of c in it) found for pivot c: c, then each literal's
    text before c looked behind for and its text after c matched. When every literal has text
    before c, the character just before c is first checked against a class (most `:` of a card
    follow none of the few letters that end `User`, `Human`: one test rules them out)."""
    alts = [(f"(?<={re.escape(lit[:i + 1])})" if i else "") + re.escape(lit[i + 1:]) for lit, i in found]
    ahead = ""
    if all(i for _, i in found):
        ahead = "(?<=[" + "".join(sorted({re.escape(lit[i - 1]) for lit, i in found})) + "]" + re.escape(c) + ")"
    return re.escape(c) + ahead + "(?:" + "|".join(alts) + ")"


def _find_markers(text):
    """((start, end, role), ...) of the turn markers in text, left to right, longest first at a place."""
    if not _holds_any(text, _all_markers()):
        return ()
    found = []
    for marker, pat, role in _turn_markers():
        if marker not in text:  # the regex matches the marker literally
            continue
        for m in pat.finditer(text):
            if not any(s < m.end() and m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), role))
    return tuple(sorted(found))


@functools.lru_cache(maxsize=None)
def _all_markers():
    return tuple(sorted(m for m, _, _ in _turn_markers()))


@functools.lru_cache(maxsize=None)
def _turn_ends():
    ends = set(data.load("chat_templates").get("turn_ends", [])) | {s for s in _stop_texts() if s.startswith("<")}
    return tuple(sorted(ends, key=len, reverse=True))


def _leading_ws(s):
    return s[: len(s) - len(s.lstrip())]


def _turn_close(body):
    """(message, closing text) of a turn's body: the closing text is a turn end with the whitespace
    around it (`\\n<|im_end|> \\n`), or the whitespace after the message when there is none."""
    stripped = body.rstrip()
    tail = body[len(stripped):]
    for end in _turn_ends():
        if stripped.endswith(end):
            message = stripped[: -len(end)]
            kept = message.rstrip()
            return kept, message[len(kept):] + end + tail, True
    return stripped, tail, False


def parse_turns(text):
    """Prompt fields from one text that shows a format: a template whose user turn holds one slot
    (`{query}`), or an example with a message. None when the text shows no user turn followed by
    an assistant turn. Every space and newline of the card is kept where it belongs."""
    marks = _find_markers(text)
    for i, (us, ue, role) in enumerate(marks):
        if role != "user":
            continue
        nxt = next((m for m in marks[i + 1:] if m[2] != "system"), None)
        if not nxt or nxt[2] != "assistant":
            return None
        out = _user_and_assistant(text, ue, nxt, marks, i)
        if out and i > 0 and marks[i - 1][2] == "system":
            out.update(_system_turn(text, marks[i - 1], us))
        return out
    return None


def _user_and_assistant(text, ue, asst, marks, i):
    user_start = marks[i][0]
    body = text[ue:asst[0]]
    slots = list(_SLOT.finditer(body))
    if len(slots) > 1:
        return None
    out = {}
    if slots:
        slot = slots[0]
        out["user_prefix"] = text[user_start:ue + slot.start()]
        message, close, closed = _turn_close(body[slot.end():])
        if message.strip():
            return None
    else:
        lead = _leading_ws(body)
        out["user_prefix"] = text[user_start:ue] + lead
        message, close, closed = _turn_close(body[len(lead):])
        if not message.strip() or _SLOT.search(message):
            return None
    if closed:
        out["user_suffix"] = close
        close = ""
    rest = text[asst[1]:]
    nxt_user = next((m[0] - asst[1] for m in marks if m[0] >= asst[1] and m[2] != "assistant"), len(rest))
    answer = rest[:nxt_user]
    ws = _leading_ws(answer)
    if answer.strip() and "\n" not in ws:
        ws = ""  # `### Assistant: I am`: the space opens the answer
    elif answer.strip():
        ws = ws[: ws.rindex("\n") + 1]
    out["assistant_prefix"] = close + text[asst[0]:asst[1]] + ws
    said = answer[len(ws):]
    if said.strip() and not _SLOT.fullmatch(said.strip()):
        _, a_close, a_closed = _turn_close(said)
        if a_closed:
            out["assistant_suffix"] = a_close.strip()
    return out


def _system_turn(text, mark, user_start):
    lead = _leading_ws(text[mark[1]:user_start])
    _, close, closed = _turn_close(text[mark[1] + len(lead):user_start])
    out = {"system_prefix": text[mark[0]:mark[1]] + lead}
    if closed or close:
        out["system_suffix"] = close
    return out


def _doctest_trees(doc):
    """(first card line, AST) of the `>>> ` sessions in fenced blocks, one per statement."""
    out = []
    if not util.card_holds(doc, ">>> "):  # a fenced text's lines are the card's
        return out
    for nos, text in _fenced_texts(doc):
        if ">>> " not in text:
            continue
        lines = text.split("\n")
        for no, line in zip(nos, lines):
            if line.startswith(">>> "):
                try:
                    tree = ast.parse(line[4:])
                    out.append((no, ast.increment_lineno(tree, no - 1)))
                except (SyntaxError, ValueError, RecursionError):
                    continue
    return out


def _code_texts(doc):
    """(card line, text) for Python string values that show a format: constants, f-strings (a
    `{}` slot per value) and concatenations of strings and names bound to strings."""
    return doc.derived("prompt.code_texts", _read_code_texts)


def _read_code_texts(doc):
    out = []
    for block, view in _code_views(doc):
        _add_code_texts(out, block.lines[0].no, view)
    sessions = _doctest_trees(doc)
    if sessions:  # a session's statements share their names
        nodes = ast_nodes(ast.Module(body=[n for _, t in sessions for n in t.body], type_ignores=[]))
        _add_code_texts(out, 1, _code_view(nodes))
    return out


def _add_code_texts(out, start, view):
    for node in view.texts:
        text = _code_text(node, view.consts)
        if text is not None:
            out.append((start + getattr(node, "lineno", 1) - 1, text))


_VIEWED = {ast.Assign, ast.Constant, ast.JoinedStr, ast.BinOp}  # _string_consts's and _code_text's nodes


def _code_text(node, consts):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else _bound(v.value, consts) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = [p if isinstance(p, str) else _bound(p, consts) for p in _flatten_add(node)]
        if any(p != "\x00" for p in parts):
            return "".join(parts)
    return None


def _bound(node, consts):
    """The string a name is bound to, or the slot mark for a value the code computes."""
    return consts.get(node.id, "\x00") if isinstance(node, ast.Name) else "\x00"


def _fenced_texts(doc):
    """(card line numbers, text) of each fenced block's body, and of the comment lines of code
    blocks (`# <|user|>` transcripts printed by example code); one number per line of text."""
    return doc.derived("prompt.fenced_texts", _read_fenced_texts)


def _read_fenced_texts(doc):
    texts = list(line_texts(doc.lines))
    out = []
    for open_, close in doc.fences:
        if close is None:  # a fence left open closes nothing
            continue
        body = doc.lines[open_ + 1:close]
        while body and not body[-1].text.strip():
            body.pop()
        if body:
            bodies = texts[open_ + 1:open_ + 1 + len(body)]
            commented = list(itertools.compress(body, map(_OPENS_COMMENT, map(str.lstrip, bodies))))  # in C
            if commented:
                out.append(([no for no, _ in commented], "\n".join([_COMMENT_MARK.sub("", t) for _, t in commented]) + "\n"))
            out.append((list(map(_NO, body)), "\n".join(bodies) + "\n"))  # each line ends
    return out


_OPENS_COMMENT = operator.methodcaller("startswith", "#")
_COMMENT_MARK = re.compile(r"^\s*# ?")
_NO = operator.itemgetter(0)


def _finds(text, needle):
    out, at = [], text.find(needle)
    while at != -1:
        out.append(at)
        at = text.find(needle, at + 1)
    return out


def _put_fields(facts, fields, no, text, rule=None):
    for key in ("user_prefix", "user_suffix", "assistant_prefix", "assistant_suffix", "system_prefix", "system_suffix"):
        if fields.get(key) is not None:
            facts.put(f"prompt.{key}", fields[key], no, text=text, rule=rule)


def _shown(doc):
    """(card line numbers, text, turn markers, prompt fields) of each format the card's code or
    fenced text shows, in that order."""
    texts = [([no], text) for no, text in _code_texts(doc)]
    if _has_user_marker(doc):  # a fenced text's markers are the card's: without one, no format
        texts += _fenced_texts(doc)
    for nos, text in texts:
        shown = _format_shown(text)
        if shown:
            yield nos, text, shown[0], dict(shown[1])


@memo.memo(maxsize=1 << 14)
def _format_shown(text):
    """(turn markers, prompt fields as (key, value) pairs) of a text that shows a format, or None."""
    marks = _find_markers(text) if len(text) <= 4000 else None
    fields = parse_turns(text) if marks else None
    return (marks, tuple(fields.items())) if fields else None


def _system_from_shown(doc, facts):
    """A system turn shown with the same user and assistant turns the card's format has."""
    want = (facts.get("prompt.user_prefix"), facts.get("prompt.assistant_prefix"))
    for nos, text, marks, fields in _shown(doc):
        if (fields["user_prefix"], fields["assistant_prefix"]) == want and "system_prefix" in fields:
            no = nos[min(text.count("\n", 0, next(s for s, _, r in marks if r == "system")), len(nos) - 1)]
            _put_fields(facts, {k: fields.get(k) for k in ("system_prefix", "system_suffix")}, no, facts.text_of(no))
            return


def _shown_formats(doc, facts):
    """The first format a card's code or fenced text shows."""
    for nos, text, marks, fields in _shown(doc):
        if fields:
            first_user = next(s for s, _, role in marks if role == "user")
            no = nos[min(text.count("\n", 0, first_user), len(nos) - 1)]
            _put_fields(facts, fields, no, facts.text_of(no))
            return True
    return False


def _config_formats(doc):
    """(line, text) of format strings in YAML configs (Axolotl `format: '[INST] {instruction} [/INST]'`)."""
    whole = joined_lines(doc)[0]
    if "{" not in whole and "\x00" not in whole:  # a string read stands in a card line: its slot too
        return
    for block in doc.of_kind("yaml", "frontmatter"):
        lines = None
        for path, leaf in _format_strings(block.value, ()):
            if _SLOT.search(leaf):
                lines = lines or {l.no: l.text for l in block.lines}
                no = block.where.get(path, block.start)
                if leaf in lines.get(no, ""):  # a scalar folded over lines loses its exact newlines
                    yield no, leaf


_FORMAT_KEYS = ("format", "prompt_template", "template")


def _format_strings(value, path):
    """(path, string) of each string under a format key, in `walk` order."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str):
                if k in _FORMAT_KEYS:
                    yield path + (k,), v
            elif isinstance(v, (dict, list)):
                yield from _format_strings(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, (dict, list)):
                yield from _format_strings(v, path + (i,))


@functools.lru_cache(maxsize=None)
def _template_names():
    key = lambda s: re.sub(r"[-_\s]", "", s.lower())  # noqa: E731
    return key, {key(n): name for name, row in data.load("chat_templates")["templates"].items() for n in row["names"]}


@functools.lru_cache(maxsize=None)
def _prose_named():
    """`the ChatML prompt format`, `Prompt template: Llama-3`: prose naming a format of the data."""
    alt = "|".join(_name_pieces())
    return re.compile(rf"(?i)(?<![\w-])({alt})(?![\w-])(?:\s+as\s+the)?(?:\s+(?:prompt|chat))?\s+(?:format|template)\b"
                      rf"|\b(?:prompt|chat)\s+(?:format|template)\s*(?:is|:)\s*(?:the\s+)?[`*]*({alt})(?![\w-])")


@functools.lru_cache(maxsize=None)
def _name_pieces():
    """The format names as patterns, longest first."""
    names = sorted({n for row in data.load("chat_templates")["templates"].values() for n in row["names"]},
                   key=len, reverse=True)
    return tuple(_SEPARATOR.sub("[-_ ]?", re.escape(n)) for n in names)


_SEPARATOR = re.compile(r"\\-|_")  # a name's `-` or `_` (re.escape writes `\-`, leaves `_`): either, a space or none


@functools.lru_cache(maxsize=None)
def _before_format():
    """(a pattern for what stands before the spaces before `format`/`template` in every
    _prose_named match: a name, `the`, `prompt` or `chat`, at the end of a window; the window's
    width: a piece without repetition matches no more characters than it is long)."""
    pieces = _name_pieces() + ("the", "prompt", "chat")
    return re.compile("(?i)(?:" + "|".join(pieces) + r")\Z"), max(map(len, pieces))


def _named_hits(doc):
    """(line, match) of the names of formats: _NAMED's matches (for `template`, then again for
    `conversation`, each word the card holds), then prose's."""
    hits = []
    for word in ("template", "conversation"):
        if word in util.folded_text(doc):
            hits += _config_named(doc)
    return hits + _prose_named_hits(doc)


def _config_named(doc):
    """(line, match) of each _NAMED match in the card, searched once."""
    return doc.derived("prompt.config_named", lambda d: [(no, m) for no, _, m in search_lines(d, _NAMED)])


def _prose_named_hits(doc):
    """search_lines of _prose_named, skipped when no `format` or `template` of the card stands
    after spaces after a word that can come before it (most cards that say `format` say `GGUF
    format`, `the following format`)."""
    text = joined_lines(doc)[0]
    folded = util.folded_text(doc)
    if len(folded) == len(text) and not any(
            _named_before(text, at) for word in ("format", "template") for at in _finds(folded, word)):
        return []
    return [(no, m) for no, _, m in search_lines(doc, _prose_named(), ("format", "template"))]


def _named_before(text, at):
    start = at
    while start and text[start - 1].isspace():  # str.isspace is re's \s
        start -= 1
    if start == at:
        return False
    before, width = _before_format()
    return before.search(text, max(0, start - width), start) is not None


def named_template(name):
    """The data row of a named format (`ChatML`, `llama-3`), or None."""
    key, names = _template_names()
    row = names.get(key(name))
    return (row, data.load("chat_templates")["templates"][row]) if row else (None, None)


def _named_formats(doc, facts):
    """A format the card names: a config key or option first, then prose."""
    for no, m in _named_hits(doc):
        name, row = named_template(next(g for g in m.groups() if g))
        if row:
            fields = {k: v for k, v in row.items() if k not in ("names", "source")}
            _put_fields(facts, fields, no, facts.text_of(no, m.group(0)),
                        rule=f"the {name} format (data/chat_templates.yaml; {row['source'].split(';')[0]})")
            return
