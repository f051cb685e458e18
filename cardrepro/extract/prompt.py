"""The prompt format: from example prompts (widget, fenced examples, prose), code that
concatenates the prompt, data samples in the card, and prose naming the closing token."""
import ast
import json
import re

from cardrepro import data
from cardrepro.extract.util import family_of, prose_lines, search_lines

_SPECIAL = re.compile(r"<\|[\w\-]+\|>|</?s>")
_ENDS_WITH = re.compile(r"(?i)(?:each turn ends with|turns? end with|每轮对话以|每輪對話以|以)\s*(?:an?\s+)?`?(<\|[\w\-]+\|>|</s>)`?")
_JSON_SAMPLE = re.compile(r'\{\s*"(?:text|prompt|conversation)"\s*:\s*"(?:[^"\\]|\\.)*"\s*\}')


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
    for block in doc.of_kind("python"):
        consts = {}
        for node in ast.walk(block.value):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        consts[t.id] = node.value.value
        for node in ast.walk(block.value):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                parts = _flatten_add(node)
                slots = [i for i, p in enumerate(parts) if not isinstance(p, str)]
                if len(slots) == 1 and 0 < slots[0] < len(parts) - 1:
                    i = slots[0]
                    before, after = "".join(parts[:i]), "".join(parts[i + 1:])
                    example = before + _slot_value(parts[i], consts) + after if _slot_value(parts[i], consts) else None
                    no = block.lines[0].no + node.lineno - 1
                    out.append((before, after, example, no))
    return out


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


def _prose_examples(doc):
    users, assistants = _roles()
    out = []
    user_alt = "|".join(re.escape(u) for u in users)
    asst_alt = "|".join(re.escape(a) for a in assistants)
    pat = re.compile(r"(?:" + user_alt + r")(?:(?!" + user_alt + r").)*?(?:" + asst_alt + r")")
    code_lines = {l.no for b in doc.of_kind("python") for l in b.lines}
    for no, text in prose_lines(doc):
        if no in code_lines:
            continue
        for m in pat.finditer(text):
            s = m.group(0)
            if "[...]" in s or "`" in s:
                continue
            out.append({"text": s, "line": no})
    return out


def _data_samples(doc):
    out = []
    for no, text in prose_lines(doc):
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
    for ex in examples:
        split = split_example(ex["text"])
        if split and not facts.has("prompt.user_prefix"):
            _put_split(facts, split, ex["line"], facts.text_of(ex["line"], ex["text"][:40]))
            if split[2] is None:
                facts.put("prompt.user_suffix_absent", True, ex["line"])
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
