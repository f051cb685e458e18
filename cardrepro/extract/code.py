"""Training facts from the card's Python code, read with `ast`: the keyword arguments of the calls
data/commands.yaml `code_calls` names (TrainingArguments, SFTConfig, LoraConfig,
BitsAndBytesConfig, generate, ...), spelled as data/keys.yaml says; in training code (a block
that builds a Trainer or its arguments) also the model `from_pretrained` loads, which is the
base model. Only literal values count (a literal, `torch.bfloat16`, or a name the block binds
to a literal once); any other expression is a value the card does not state.

`read(doc)` is pure: it returns candidates (path, value, line, text, source); `extract` puts them."""
import ast
import functools
import itertools
import operator
import re

from cardrepro import data
from cardrepro.extract.command import is_placeholder
from cardrepro.extract import canonical
from cardrepro.extract.util import norm_dtype
from cardrepro.read.source import line_texts

SOURCE = "code"
_NO_VALUE = object()


@functools.lru_cache(maxsize=None)
def _conf():
    return data.load("commands")


def read(doc):
    """Candidates from every Python block. Training code that loads a model the card's usage
    code loads too fine-tunes the released model: an example for the reader, not how the card's
    model was trained, so none of its training facts count."""
    blocks = [_Code(b) for b in doc.of_kind("python")]
    if not any(b.training for b in blocks):  # no training code: no example of it either
        return [c for b in blocks for c in b.candidates(False)]
    in_training = {l.no for b in blocks if b.training for l in b.block.lines}
    released = _loaded_elsewhere(doc, in_training)
    out = []
    for b in blocks:
        example = b.training and any(m in released for m in b.models())
        out.extend(b.candidates(example))
    return out


_LOAD = re.compile(r"from_pretrained\(\s*[\"']([\w.\-]+/[\w.\-]+)[\"']")


def _loaded_elsewhere(doc, skip_lines):
    """Hub ids `from_pretrained` loads on card lines outside training code (usage snippets,
    `>>>` sessions, prose)."""
    named = itertools.compress(doc.lines, map(operator.contains, line_texts(doc.lines), itertools.repeat("from_pretrained")))
    return {m.group(1) for l in named if l.no not in skip_lines for m in _LOAD.finditer(l.text)}


class _Code:
    def __init__(self, block):
        self.block = block
        self.calls = sorted(calls_of(block), key=_place)
        self.names = _Names(block)
        self.training = any(_callee(c) in _conf()["training_code_calls"] for c in self.calls)

    def models(self):
        return [v for v, _ in _model_loads(self.calls, self.names)]

    def candidates(self, example):
        first = self.block.lines[0].no
        out = []
        for call in self.calls:
            spec = _conf()["code_calls"].get(_callee(call))
            if spec and (spec["section"] == "generation" or (self.training and not example)
                         or (spec["section"] == "peft" and not example)):
                out.extend(_call_facts(call, spec, self.names, first, self.block))
        if self.training and not example:
            out.extend(_base_model(self.calls, self.names, first, self.block))
        return out


def calls_of(block):
    """The calls among a Python block's nodes, in ast.walk's order; listed once per block (the
    code and settings readers both go through them)."""
    calls = block.__dict__.get("_calls")
    if calls is None:
        calls = block.__dict__["_calls"] = [n for n in block.nodes() if isinstance(n, ast.Call)]
    return calls


def _place(node):
    return node.lineno, node.col_offset


class _Names:
    """_literal_names of a block, worked out when a value first names one (most never do)."""

    def __init__(self, block):
        self.block, self.values = block, None

    def get(self, name, default=None):
        if self.values is None:
            self.values = _literal_names(self.block.value, self.block.nodes())
        return self.values.get(name, default)


def read_in_own_section(call):
    """Whether the call is one code_calls reads under a section other than generation
    (`DPOTrainer(max_length=1536)` is the training length, not a generation setting)."""
    spec = _conf()["code_calls"].get(_callee(call))
    return spec is not None and spec["section"] != "generation"


def _callee(call):
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def _call_facts(call, spec, names, first, block):
    section = spec["section"]
    out = []
    for kw in call.keywords:
        path = _path(section, kw.arg)
        if path is None:
            continue
        value = _literal(kw.value, names)
        if value is _NO_VALUE or value is None or is_placeholder(value):
            continue
        if path == "training.dtype":
            value = norm_dtype(value)
        no = first + kw.value.lineno - 1
        out.append((path, value, no, _text(block, no), SOURCE))
    out.extend(_switch_facts(call, section, names, first, block))
    if out or call.keywords:
        no = first + call.lineno - 1
        out.extend((p, v, no, _text(block, no), SOURCE) for p, v in (spec.get("implies") or {}).items())
    return out


def _switch_facts(call, section, names, first, block):
    """`fp16=True` in TrainingArguments: the dtype (data/commands.yaml switches)."""
    if section != "training":
        return []
    out = []
    for kw in call.keywords:
        switch = canonical.switches().get(kw.arg or "")
        if switch and _literal(kw.value, names) is True:
            no = first + kw.value.lineno - 1
            out.append((switch["path"], switch["value"], no, _text(block, no), SOURCE))
    return out


def _path(section, key):
    if not key:
        return None
    return canonical.path(key, (section,))


def literal(node):
    """ast.literal_eval(node), its commonest case (a constant) answered without it: each call of
    it defines nested functions that refer to each other, a reference cycle per call that only
    the cyclic collector frees."""
    return node.value if type(node) is ast.Constant else ast.literal_eval(node)


def _literal(node, names):
    """The value of a literal keyword argument, `torch.bfloat16` as "bfloat16", or the literal a
    block-level name is bound to; _NO_VALUE for anything else."""
    if isinstance(node, ast.Name):
        return names.get(node.id, _NO_VALUE)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch":
        return node.attr
    try:
        value = literal(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NO_VALUE
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return value if isinstance(value, (str, int, float, bool)) else _NO_VALUE


def _literal_names(tree, nodes):
    """{name: literal} for the names the block binds exactly once, at its top level, to a literal;
    nodes: every node of the tree."""
    seen, values = {}, {}
    for node in nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    seen[t.id] = seen.get(t.id, 0) + 1
    for node in getattr(tree, "body", []):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            value = _literal(node.value, {})
            if seen.get(name) == 1 and value is not _NO_VALUE:
                values[name] = value
    return values


def _model_loads(calls, names):
    """(model id, call) of each model `X.from_pretrained("org/name")` (not a tokenizer, adapter, config)."""
    skip = _conf()["not_base_model_loaders"]
    for call in calls:
        f = call.func
        if not (isinstance(f, ast.Attribute) and f.attr == "from_pretrained" and call.args):
            continue
        owner = f.value.id if isinstance(f.value, ast.Name) else f.value.attr if isinstance(f.value, ast.Attribute) else ""
        if not owner or any(owner.endswith(s) for s in skip):
            continue
        value = _literal(call.args[0], names)
        if isinstance(value, str) and value.strip() and not is_placeholder(value):
            yield value, call


def _base_model(calls, names, first, block):
    """The first model training code loads: the base model."""
    for value, call in _model_loads(calls, names):
        no = first + call.lineno - 1
        return [("base_model.name", value, no, _text(block, no), SOURCE)]
    return []


def _text(block, no):
    line = next((l.text for l in block.lines if l.no == no), "")
    return line.strip()[:160]


def extract(doc, facts):
    """Put the candidates (the first put for a path wins: run before weaker sources)."""
    for path, value, line, text, source in read(doc):
        facts.put(path, value, line, origin="card", source=source)
