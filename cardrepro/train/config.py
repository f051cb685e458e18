"""Read and check a project's `train_config.json` (contract: docs/design.md, cardrepro/train/contract.py)."""
import dataclasses
import functools
import json
import math
import re
from pathlib import Path

from cardrepro import data
from cardrepro.errors import CardError
from cardrepro.train import contract

ARCHITECTURES = ("bloom", "gpt_neox", "llama", "mistral", "qwen2")
REQUIRED = ("name", "architecture", "prompt", "tokenizer", "datasets", "training")


def embedded_trainer():
    """The trainer whose behaviour the embedded loop follows (data/build_defaults.yaml embedded_trainer)."""
    return data.load("build_defaults")["embedded_trainer"]["name"]


def smoke_defaults():
    """The smoke run's settings where a hand-written config leaves one out (data/build_defaults.yaml smoke)."""
    return data.load("build_defaults")["smoke"]["values"]


@functools.lru_cache(maxsize=None)
def training_defaults():
    """What the embedded trainer uses where the config leaves a TrainingArguments key out: its
    profile's defaults at their `training.` spec paths (max_length and dtype are `loop` settings),
    what it passes to TrainingArguments itself, and its fixed facts (data/trainers/), under
    TrainingArguments' names."""
    from cardrepro.extract import canonical
    profile = data.trainer_profile(embedded_trainer())
    renamed = data.load("build_defaults").get("training_argument_names") or {}
    loop = {f.name for f in dataclasses.fields(contract.Loop)}
    out = {}
    for key, value in profile["defaults"].items():
        path = canonical.trainer_path(profile["name"], key) or ""
        name = path.removeprefix("training.")
        if path.startswith("training.") and name not in loop:
            out[renamed.get(name, name)] = value
    out.update(profile.get("training_arguments") or {})
    out.update({k: fixed["value"] for k, fixed in (profile.get("fixed") or {}).items()})
    return out


def _line_of(text, key):
    """1-based line of the first `"key":` in the JSON text (1 when absent)."""
    m = re.search(r'"%s"\s*:' % re.escape(key), text)
    return text.count("\n", 0, m.start()) + 1 if m else 1


def load(project_dir):
    """Return (config dict, project Path). Bad input -> CardError(path, line, message)."""
    project = Path(project_dir)
    if not project.is_dir():
        raise CardError(project, None, "project folder not found (build it with `cardrepro build CARD`)")
    path = project / "train_config.json"
    if not path.is_file():
        raise CardError(path, None, "train_config.json not found: not a built project folder")
    text = path.read_text(encoding="utf-8")
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as err:
        raise CardError(path, err.lineno, f"invalid JSON: {err.msg}") from None
    if not isinstance(cfg, dict):
        raise CardError(path, 1, "train_config.json must hold a JSON object")
    for key in REQUIRED:
        if key not in cfg:
            raise CardError(path, 1, f"missing required key '{key}'")
    arch = cfg["architecture"]
    if arch not in ARCHITECTURES:
        raise CardError(path, _line_of(text, "architecture"),
                        f"architecture '{arch}' is not supported by the embedded trainer ({', '.join(ARCHITECTURES)})")
    prompt = cfg["prompt"]
    if not isinstance(prompt, dict) or not prompt.get("user_prefix") or not prompt.get("assistant_prefix"):
        raise CardError(path, _line_of(text, "prompt"), "prompt needs user_prefix and assistant_prefix")
    if not isinstance(cfg["datasets"], list):
        raise CardError(path, _line_of(text, "datasets"), "datasets must be a list")
    for i, ds in enumerate(cfg["datasets"]):
        if not isinstance(ds, dict) or not ds.get("name"):
            raise CardError(path, _line_of(text, "datasets"), f"datasets[{i}] needs a name")
    if not isinstance(cfg["training"], dict):
        raise CardError(path, _line_of(text, "training"), "training must be an object")
    tok = cfg["tokenizer"]
    if not isinstance(tok, dict) or not tok.get("eos_token"):
        raise CardError(path, _line_of(text, "tokenizer"), "tokenizer needs eos_token")
    if not isinstance(cfg.get("loop", {}), dict):
        raise CardError(path, _line_of(text, "loop"), "loop must be an object")
    try:
        contract.TrainConfig.from_config(cfg)
    except (ValueError, TypeError) as err:
        where = str(err).split(" ", 1)[0]
        key = where.split(".", 1)[0] if " is not set" in str(err) else where.rsplit(".", 1)[-1]
        raise CardError(path, _line_of(text, key), str(err)) from None
    cfg["training"] = {**training_defaults(), **cfg["training"]}
    cfg["loop"] = dataclasses.asdict(contract.TrainConfig.from_config(cfg).loop)
    defaults = smoke_defaults()
    smoke = {k: v for k, v in defaults.items() if k != "lora_learning_rate"}
    if cfg.get("peft"):
        smoke["learning_rate"] = defaults["lora_learning_rate"]
    smoke.update(cfg.get("smoke") or {})
    smoke["model"] = {**defaults["model"], **(smoke.get("model") or {})}
    cfg["smoke"] = smoke
    cfg.setdefault("masking", "oa")
    cfg.setdefault("left_out", [])
    cfg.setdefault("generation", {})
    check_values(cfg, path, text)
    cfg["_path"] = str(path)
    cfg["_text"] = text
    return cfg, project


KINDS = {  # kind -> (test on a non-null value, what the message says it must be)
    "positive": (lambda v: _number(v) and v > 0, "a positive finite number"),
    "non_negative": (lambda v: _number(v) and v >= 0, "a finite number >= 0"),
    "positive_int": (lambda v: _integer(v) and v >= 1, "a positive integer"),
    "non_negative_int": (lambda v: _integer(v) and v >= 0, "an integer >= 0"),
    "probability": (lambda v: _number(v) and 0 <= v <= 1, "a number from 0 to 1"),
    "beta": (lambda v: _number(v) and 0 <= v < 1, "a number from 0 up to (not including) 1"),
    "steps": (lambda v: _number(v) and (_integer(v) and v >= 1 or 0 < v < 1),
              "a positive integer or a ratio of the run between 0 and 1"),
    "warmup": (lambda v: _number(v) and (_integer(v) and v >= 0 or 0 < v < 1),
               "an integer >= 0 or a ratio of the run between 0 and 1"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
}


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _integer(v):
    return _number(v) and float(v).is_integer()


def check_values(cfg, path, text):
    """Every value the trainer reads (data/train_config_checks.yaml) has a usable type and range;
    else CardError naming the key and its line."""
    for section, checks in data.load("train_config_checks").items():
        values = _section(cfg, section)
        for key, check in checks.items():
            if key in values:
                problem = _problem(values[key], check)
                if problem:
                    name = f"{section}.{key}" if section else key
                    raise CardError(path, _line_in(text, section, key),
                                    f"{name} must be {problem} (got {json.dumps(values[key])})")


def _section(cfg, section):
    values = cfg
    for part in section.split(".") if section else []:
        values = values.get(part) if isinstance(values, dict) else None
    return values if isinstance(values, dict) else {}


def _problem(value, check):
    """What the value must be, or None when it passes."""
    nullable = isinstance(check, str) and check.endswith("?")
    if value is None:
        return None if nullable else "set (not null)"
    if isinstance(check, list):
        return None if value in check else "one of " + ", ".join(check)
    test, wanted = KINDS[check.rstrip("?")]
    return None if test(value) else wanted


def _line_in(text, section, key):
    """1-based line of `"key":` inside the dotted section of the JSON text (1 when absent)."""
    start = 0
    for part in [*(section.split(".") if section else []), key]:
        m = re.compile(r'"%s"\s*:' % re.escape(part)).search(text, start)
        if not m:
            return 1
        start = m.start()
    return text.count("\n", 0, start) + 1


def line_of(cfg, key):
    return _line_of(cfg.get("_text", ""), key)


def public(cfg):
    """The config without private bookkeeping keys (for the resolved-config dump)."""
    return {k: v for k, v in cfg.items() if not k.startswith("_")}
