"""Hyperparameters, LoRA, quantization, generation and package versions from blocks that are
not a named trainer config: `- key: value` lists, YAML/JSON blocks, tables, code, prose."""
import ast
import functools
import re

from cardrepro import data
from cardrepro.extract.util import keymap, norm_dtype, norm_key, prose_lines, walk
from cardrepro.read import jsonblock, yamlsafe

_LORA = re.compile(r"(?i)\blora\b")


@functools.lru_cache(maxsize=None)
def _package_line():
    """`- PEFT 0.4.0`: a package that data/keys.yaml knows, then its version."""
    names = "|".join(re.escape(n) for n in sorted(data.load("keys")["packages"], key=len, reverse=True))
    return re.compile(rf"^-?\s*({names})\s+v?(\d+(?:\.\d+)+\S*)", re.I)


def _value(v):
    if isinstance(v, str) and v in ("None", "null"):
        return None
    return v


def _put_key(facts, key, value, line, origin="card"):
    k = norm_key(key)
    for section, prefix in (("training", "training."), ("peft", "peft."), ("quantization", "quantization.")):
        target = keymap(section).get(k)
        if target:
            if target == "dtype":
                value = norm_dtype(value)
            facts.put(prefix + target, _value(value), line, origin=origin, around=str(key))
            return True
    if k in data.load("keys").get("generation", []):
        facts.put("generation." + k, _value(value), line, origin=origin, around=str(key))
        return True
    return False


def extract(doc, facts, skip_blocks=()):
    for block in doc.of_kind("yaml", "json"):
        if id(block) in skip_blocks:
            continue
        for path, leaf in walk(block.value):
            keys = [p for p in path if isinstance(p, str)]
            if not keys:
                continue
            line = block.where.get(tuple(path[:len(path)]), None) or _line_of(block, keys[-1])
            if isinstance(path[0], str) and path[0] in ("datasets", "deepspeed_config") and len(path) > 1:
                continue  # a dataset entry's or a DeepSpeed file's own keys are not training facts
            if not _special_key(facts, keys[-1], leaf, line):
                _put_key(facts, keys[-1], leaf, line)
            if keys[-1] in ("load_in_8bit", "load_in_4bit") and leaf is True:
                facts.put("quantization.method", "bitsandbytes", line, rule=None)
    for block in doc.of_kind("table"):
        for no, cells in block.value:
            if len(cells) == 2 and not _special_key(facts, cells[0], yamlsafe.scalar(cells[1]), no):
                _put_key(facts, cells[0], yamlsafe.scalar(cells[1]), no)
    for block in doc.of_kind("python"):
        for node in ast.walk(block.value):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg and kw.arg in data.load("keys").get("generation", []):
                        value = _json_literal(kw.value)
                        if value is _NOT_JSON:
                            continue
                        no = block.lines[0].no + kw.value.lineno - 1
                        facts.put("generation." + kw.arg, value, no, text=facts.text_of(no, kw.arg))
    for no, text in prose_lines(doc):
        m = _package_line().search(text)
        if m:
            name = data.load("keys")["packages"].get(m.group(1).lower(), m.group(1).lower())
            facts.put(f"environment.{name}", m.group(2), no)
    _peft_and_quant(doc, facts)
    if any(p.startswith("peft.") for p in facts.items) and not facts.has("peft.type"):
        f = next(f for p, f in facts.items.items() if p.startswith("peft."))
        facts.put("peft.type", "lora", f.line, origin="derived", text=f.text, rule="LoRA fields (r, alpha, ...) are stated")


_NOT_JSON = object()


def _json_literal(node):
    """The value of a Python literal when it is one JSON can hold (numbers, strings, booleans,
    None, lists and string-keyed dicts of them), else _NOT_JSON: a set, `1j`, `b""`, an
    unhashable dict key or a name is not a setting the spec can carry."""
    try:
        value = ast.literal_eval(node)
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


_ADAM_PROSE = re.compile(r"betas=\(\s*([\d.]+)\s*,\s*([\d.]+)\s*\)\s*and\s*epsilon=([\d.eE\-+]+)")
_ZERO_STAGE = re.compile(r"zero[_\-]?(?:stage)?[_\-]?([0-3])", re.I)


def _special_key(facts, key, value, line):
    """Keys whose value says more than one spec field (Axolotl, HF auto-cards). True if handled."""
    k = norm_key(key)
    if k == "adapter" and str(value).lower() in ("lora", "qlora"):
        facts.put("peft.type", "lora", line)
        return True
    if k == "lora_target_linear" and value is True:
        facts.put("peft.target_modules", "all-linear", line)
        return True
    if k in ("bf16", "fp16") and (value is True or str(value).lower() == "auto"):
        facts.put("training.dtype", k, line)
        return True
    if k in ("deepspeed", "deepspeed_config") and isinstance(value, str) and value.endswith(".json"):
        facts.put("deepspeed.config_ref", value, line)
        m = _ZERO_STAGE.search(value.rsplit("/", 1)[-1])
        if m:
            facts.put("deepspeed.stage", int(m.group(1)), line, origin="derived",
                      rule=f"the config file's name {value!r} names ZeRO stage {m.group(1)}")
        return True
    if k in ("optimizer", "optim") and isinstance(value, str) and (m := _ADAM_PROSE.search(value)):
        facts.put("training.optim", value.split(" with ")[0].strip().lower(), line)
        facts.put("training.adam_beta1", float(m.group(1)), line)
        facts.put("training.adam_beta2", float(m.group(2)), line)
        facts.put("training.adam_epsilon", float(m.group(3)), line)
        return True
    return False


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
    if facts.has("quantization.method") or any(k.startswith("quantization.load_in") for k in facts.items):
        if not facts.has("quantization.method"):
            f = next(f for k, f in facts.items.items() if k.startswith("quantization."))
            facts.put("quantization.method", "bitsandbytes", f.line)
        if facts.get("quantization.load_in_8bit") is True:
            for k in [k for k in facts.items if k.startswith("quantization.bnb_4bit_")]:
                del facts.items[k]
