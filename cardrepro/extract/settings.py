"""Hyperparameters, LoRA, quantization, generation and package versions from blocks that are
not a named trainer config: `- key: value` lists, YAML/JSON blocks, tables, code, prose."""
import ast
import re

from cardrepro import resolve
from cardrepro.extract import canonical, code, lists
from cardrepro.extract.util import prose_lines, walk
from cardrepro.read import jsonblock

_LORA = re.compile(r"(?i)\blora\b")


def _value(v):
    if isinstance(v, str) and v in ("None", "null"):
        return None
    return v


# A setting in a block, list or table may name any of these sections, tried in order.
_SECTIONS = canonical.SETTING_SECTIONS + ("generation",)


def _put_key(facts, key, value, line, sections=_SECTIONS):
    """Put what `key: value` states (extract/canonical.py); the paths put."""
    if _deepspeed_ref(facts, key, value, line):
        return ["deepspeed.config_ref"]
    stated = [(path, v) for path, v in canonical.facts(key, value, sections) if not lists.describes(path, v)]
    for path, v in stated:
        facts.put(path, _value(v), line, around=str(key))
    return [path for path, _ in stated]


def extract(doc, facts, skip_blocks=()):
    for block in doc.of_kind("yaml", "json"):
        if id(block) in skip_blocks:
            continue
        if block.kind == "yaml":
            _config_base_model(facts, block)
        for path, leaf in walk(block.value, whole=_list_setting):
            keys = [p for p in path if isinstance(p, str)]
            if not keys:
                continue
            line = block.where.get(tuple(path[:len(path)]), None) or _line_of(block, keys[-1])
            if isinstance(path[0], str) and path[0] in ("datasets", "deepspeed_config") and len(path) > 1:
                continue  # a dataset entry's or a DeepSpeed file's own keys are not training facts
            stated = _put_key(facts, keys[-1], leaf, line)
            if leaf is True and any(p in _BNB_SWITCHES for p in stated):
                facts.put("quantization.method", "bitsandbytes", line, rule=None)
    for block in doc.of_kind("python"):
        said = _hyperparameter_assignments(block)
        # beside training settings, `temperature = 1.5` is a distillation's (deepset_tinyroberta-squad2);
        # alone, generation settings are a generation preset (elinas_alpaca-30b-lora-int4)
        training = any(canonical.path(name) for name, _, _ in said)
        for name, value, no in said:
            _put_key(facts, name, value, no, canonical.SETTING_SECTIONS if training else _SECTIONS)
        for node in code.calls_of(block):  # ast.walk's order
            said = [(kw, path) for kw in node.keywords if kw.arg and (path := canonical.path(kw.arg, ("generation",)))]
            if said and not code.read_in_own_section(node):
                for kw, path in said:
                    value = _json_literal(kw.value)
                    if value is _NOT_JSON:
                        continue
                    no = block.lines[0].no + kw.value.lineno - 1
                    facts.put(path, value, no, text=facts.text_of(no, kw.arg))
    _peft_and_quant(doc, facts)
    if any(p.startswith("peft.") for p in facts.items) and not facts.has("peft.type"):
        f = next(f for p, f in facts.items.items() if p.startswith("peft."))
        facts.put("peft.type", "lora", f.line, origin="derived", text=f.text, rule="LoRA fields (r, alpha, ...) are stated")


def _hyperparameter_assignments(block):
    """(name, value, card line) of a block that is only a list of settings written as Python
    assignments (deepset_roberta-base-squad2: `n_epochs = 2`, `learning_rate = 3e-5`, `lr_schedule
    = LinearWarmup`): every statement `name = value`, at least two. Values that are constants;
    a script that does anything else (imports, calls) states its settings through its calls."""
    body = getattr(block.value, "body", None) or []
    if len(body) < 2 or not all(type(s) is ast.Assign and len(s.targets) == 1 and type(s.targets[0]) is ast.Name
                                for s in body):
        return []
    out = []
    for s in body:
        value = _json_literal(s.value)
        if value is not _NOT_JSON and not isinstance(value, (list, dict)):
            out.append((s.targets[0].id, value, block.lines[0].no + s.lineno - 1))
    return out


# A Hub model id (`owner/name`), not a local folder (`./out`, `/data/llama`, `~/models/x`)
_HUB_MODEL = re.compile(r"[\w\-][\w.\-]*/[\w.\-]+")


def _config_base_model(facts, block):
    """`model_name_or_path:` (LLaMA-Factory) or `base_model:` (Axolotl) at the top of that
    framework's own training config (resolve.framework_config): the base model, when a Hub id.
    Other YAML blocks' model keys are not read: a mergekit config's `base_model` is a merge input."""
    if not isinstance(block.value, dict) or resolve.framework_config(block) is None:
        return
    for key, value in block.value.items():
        path = canonical.path(key, ("base_model",))
        if path and isinstance(value, str) and _HUB_MODEL.fullmatch(value.strip()):
            facts.put(path, value.strip(), block.where.get((key,)) or _line_of(block, key), around=str(key))
            return


_NOT_JSON = object()


def _json_literal(node):
    """The value of a Python literal when it is one JSON can hold (numbers, strings, booleans,
    None, lists and string-keyed dicts of them), else _NOT_JSON: a set, `1j`, `b""`, an
    unhashable dict key or a name is not a setting the spec can carry."""
    try:
        value = code.literal(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_JSON
    if isinstance(value, tuple):
        value = list(value)
    try:
        jsonblock.check_value(value)
    except ValueError:
        return _NOT_JSON
    return value if _json_typed(value) else _NOT_JSON


def _json_typed(value):
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                return False
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
        elif v is not None and not isinstance(v, (str, bool, int, float)):
            return False
    return True


_KEY_AT_START = re.compile(r"^\s*-?\s*\"?([^\s\":：]+)\"?\s*[:：]")


_ZERO_STAGE = re.compile(r"zero[_\-]?(?:stage)?[_\-]?([0-3])", re.I)
# Paths whose true value means bitsandbytes quantization.
_BNB_SWITCHES = ("quantization.load_in_8bit", "quantization.load_in_4bit")


def _list_setting(path, value):
    """A list of scalars under a key whose field holds a list: one value, not one per item."""
    return (isinstance(value, list) and bool(path) and isinstance(path[-1], str) and canonical.holds_list(path[-1])
            and not any(isinstance(v, (dict, list)) for v in value))


def _deepspeed_ref(facts, key, value, line):
    """A DeepSpeed config file named in a training config (`deepspeed: ds_z3.json`), and the ZeRO
    stage its name says. True if handled."""
    if not (isinstance(value, str) and value.endswith(".json")) or not canonical.path(key, ("deepspeed",)):
        return False
    facts.put("deepspeed.config_ref", value, line)
    m = _ZERO_STAGE.search(value.rsplit("/", 1)[-1])
    if m:
        facts.put("deepspeed.stage", int(m.group(1)), line, origin="derived",
                  rule=f"the config file's name {value!r} names ZeRO stage {m.group(1)}")
    return True


def _line_of(block, key):
    index = getattr(block, "_key_lines", None)
    if index is None:
        index = {}
        for l in block.lines:
            m = _KEY_AT_START.match(l.text)
            if m:
                index.setdefault(m.group(1), l.no)
        block._key_lines = index
    return index.get(key, block.start)


def _peft_and_quant(doc, facts):
    lines = prose_lines(doc)
    if facts.get("library_name") == "peft" or any(_LORA.search(t) for _, t in lines[:8]):
        no = next((n for n, t in lines if _LORA.search(t)), facts.items["library_name"].line if facts.has("library_name") else None)
        facts.put("peft.type", "lora", no, text=facts.text_of(no, "LORA") if no else None)
    # `load_in_8bit: false` states no quantization (axolotl configs write both switches): the spec
    # has no quantization section then, rather than one with no method
    switched_on = [f for k, f in facts.items.items() if k.startswith("quantization.load_in") and f.value is True]
    if not (facts.has("quantization.method") or switched_on):
        for k in [k for k in facts.items if k.startswith("quantization.load_in")]:
            del facts.items[k]
    if facts.has("quantization.method") or switched_on:
        if not facts.has("quantization.method"):
            f = switched_on[0]
            facts.put("quantization.method", "bitsandbytes", f.line)
        if facts.get("quantization.load_in_8bit") is True:
            for k in [k for k in facts.items if k.startswith("quantization.bnb_4bit_")]:
                del facts.items[k]
