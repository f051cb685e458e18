"""What every `cardrepro export` target shares: a card's values with their sources, the config
being written (keys checked against the framework's key set), and its YAML with comments.

A value the card states is written bare; any other value carries a comment naming where it came
from (the card's trainer defaults, a derivation, or cardrepro/assume.py). What the framework
cannot express is collected in `cannot` for stderr."""
from __future__ import annotations

import json
import re

import yaml

from cardrepro import assume, data
from cardrepro.project.chat_template import chat_template
from cardrepro.paths import get
from cardrepro.read.redact import redact_text

PROMPT_FIELDS = ("system_prefix", "system_suffix", "user_prefix", "user_suffix", "assistant_prefix",
                 "assistant_suffix")


def conf(framework):
    return data.load(f"export/{framework}")


def common():
    return data.load("export/common")


def _stated_source(spec, path):
    """None where the card itself states the value; else how the spec came by it."""
    rec = (spec.get("provenance") or {}).get(path) or {}
    origin = rec.get("origin") or "card"
    if origin in ("card", "cli"):
        return None
    if origin.startswith("default:"):
        return f"{origin.split(':', 1)[1]} default: {rec.get('text') or ''}".strip()
    where = f" (card line {rec['line']})" if rec.get("line") else ""
    return f"{origin}: {rec.get('rule') or rec.get('text') or ''}{where}"


def fact(spec, path):
    """(value, source) for a spec path: the card's value, else what the build assumes; (None, None)
    where neither has one."""
    if path == "base_model.name":
        value, source = assume.base_model(spec)
        return value, source if source else _stated_source(spec, path)
    value = get(spec, path)
    if value is not None:
        return value, _stated_source(spec, path)
    return assume.value(spec, path)


def hyperparameters(spec, fields, cannot):
    """(key, value, source) for each `spec path: key` of a framework's `fields`, in that order."""
    ratio_stated = get(spec, "training.warmup_ratio") is not None
    for path, key in fields.items():
        if path == "training.warmup_steps" and ratio_stated and get(spec, path) is None:
            continue  # the card's warmup is a ratio: no assumed step count beside it
        value, source = fact(spec, path)
        if value is None:
            continue
        if path == "training.optim" and value not in common()["optimizers"]:
            cannot.append(f"optimizer {value!r} (the card's) is not a transformers optim name; "
                          "the framework's default optimizer is left in place")
            continue
        yield key, value, source


def dtype_flags(spec):
    """(bf16, fp16, source)."""
    value, source = fact(spec, "training.dtype")
    return value == "bf16", value == "fp16", source


def peft_settings(spec):
    """{spec peft field: (value, source)} for a LoRA card, else None."""
    if not get(spec, "peft.type"):
        return None
    return {k: fact(spec, f"peft.{k}") for k in ("r", "lora_alpha", "lora_dropout", "target_modules")}


def quant_bits(spec):
    """4, 8 or None: the bitsandbytes precision the base is loaded in."""
    if get(spec, "quantization.load_in_4bit") is True:
        return 4
    if get(spec, "quantization.load_in_8bit") is True:
        return 8
    return None


def quant_leftovers(spec, cannot, expressed=("load_in_4bit", "load_in_8bit", "method")):
    method = get(spec, "quantization.method")
    if method and method != "bitsandbytes":
        cannot.append(f"quantization method {method!r}: only bitsandbytes 4/8-bit loading is exported")
    for k, v in (spec.get("quantization") or {}).items():
        if k not in expressed and v is not None:
            cannot.append(f"quantization.{k} = {json.dumps(v)}: no key for it")


def named_format(prompt):
    """(row name, exact) of the chat format in data/chat_templates.yaml the card's prompt is, or
    (None, False); exact is False where they differ in whitespace only."""
    mine = {k: (prompt or {}).get(k) for k in PROMPT_FIELDS}
    if not (mine.get("user_prefix") and mine.get("assistant_prefix")):
        return None, False
    rows = data.load("chat_templates")["templates"]
    for exact, norm in ((True, lambda s: s or ""), (False, lambda s: (s or "").strip())):
        for name, row in rows.items():
            fields = {k: row.get(k) for k in PROMPT_FIELDS}
            # a card that shows no system turn or no closing text still uses the format
            if all(norm(mine[k]) == norm(fields[k]) for k in PROMPT_FIELDS if mine[k] is not None):
                return name, exact
    return None, False


def format_source(spec, name, exact):
    said = "" if exact else " (the card's strings differ from it in whitespace only)"
    return f"the card's prompt format is the {name} format of cardrepro/data/chat_templates.yaml{said}"


def jinja_template(spec):
    return chat_template(spec.get("prompt") or {})


def training_datasets(spec):
    """[(name, options, source)]: the card's training mix, else its metadata `datasets:`."""
    mix = spec.get("datasets") or []
    if mix:
        return [(d["name"], dict(d.get("options") or {}), None) for d in mix]
    return [(name, {}, "the card's metadata `datasets:` (the card does not call them its training mix)")
            for name in spec.get("metadata_datasets") or []]


_HUB_ID = re.compile(r"^[\w.\-]+/[\w.\-]+$")


def dataset_ref(name, cannot):
    """(hub id or name, registry entry or {}, source) of a training dataset."""
    key, entry = data.registry_entry(name)
    entry = entry or {}
    if entry.get("availability") in ("internal", "unreleased"):
        cannot.append(f"dataset {name!r} is {entry['availability']} (cardrepro/data/datasets.yaml): "
                      "no framework can load it")
    hub = entry.get("hub_id")
    if _HUB_ID.match(str(name)):  # the card's own Hub id wins; the registry's record format is for its hub_id only
        return name, entry if hub == name else {}, None
    if hub:
        return hub, entry, f"registry entry {key!r} (cardrepro/data/datasets.yaml) is {hub} on the Hub"
    if not hub:
        cannot.append(f"dataset {name!r} has no Hub id the registry knows: written as the card names it")
    return name, entry, None


def put_precision(spec, cfg):
    """The framework's `bf16`/`fp16` flags from the card's dtype."""
    bf16, fp16, source = dtype_flags(spec)
    cfg.put("bf16", bf16, source)
    cfg.put("fp16", fp16, source)


def finish(spec, cfg, conf, keys, stem, files, cannot):
    """The rest of the hyperparameters, precision, DeepSpeed and output folder, then the rendered text:
    (config text, side files, cannot)."""
    for key, value, source in keys:
        cfg.put(key, value, source)
    put_precision(spec, cfg)
    put_deepspeed_and_output(spec, cfg, stem, files)
    common_notes(spec, cannot)
    run = conf["run"].format(file=stem + conf["suffix"])
    return cfg.render(header(spec, conf, run)), files, cannot


def put_deepspeed_and_output(spec, cfg, out_stem, files):
    """`deepspeed` (the card's JSON written beside the config, or the file it names) and `output_dir`."""
    ds, source = deepspeed_file(spec, out_stem, files)
    if ds:
        cfg.put("deepspeed", ds, source)
    out = common()["output_dir"]
    cfg.put("output_dir", out["value"].format(name=spec["name"]), out["source"])


def deepspeed_file(spec, out_stem, files):
    """(value for the framework's `deepspeed` key, source) or (None, None). The card's own DeepSpeed
    JSON is written beside the config as <stem>.deepspeed.json."""
    cfg = get(spec, "deepspeed.config")
    if isinstance(cfg, dict):
        name = f"{out_stem}.deepspeed.json"
        files[name] = json.dumps(cfg, indent=2, ensure_ascii=False) + "\n"
        return name, "the card's DeepSpeed JSON, written beside this file"
    ref = get(spec, "deepspeed.config_ref")
    if ref:
        return ref, "the file the card names; the card does not include it"
    return None, None


def common_notes(spec, cannot):
    """What no target writes: other stages, trainer-specific options, sampling settings."""
    stages = spec.get("stages") or []
    if len(stages) > 1:
        cannot.append(f"the card trains in {len(stages)} stages; only the last ({spec.get('method')}) is exported")
    for k, v in sorted(((spec.get("trainer") or {}).get("options") or {}).items()):
        cannot.append(f"{get(spec, 'trainer.name')} option {k} = {json.dumps(v, ensure_ascii=False)}: no key for it")
    if spec.get("generation"):
        cannot.append("generation settings (" + ", ".join(sorted(spec["generation"])) + ") are not part of a training config")


class Config:
    """One framework config being written: keys in order, each with its source."""

    def __init__(self, framework, keys):
        self.framework = framework
        self.keys = set(keys)
        self.entries = {}

    def put(self, key, value, source=None):
        if key not in self.keys:
            raise ValueError(f"{self.framework} has no config key {key!r} (cardrepro/data/export/{self.framework}.yaml)")
        self.entries[key] = (value, source)

    def values(self):
        return {k: v for k, (v, _) in self.entries.items()}

    def render(self, header):
        out = [f"# {line}" for line in header]
        for key, (value, source) in self.entries.items():
            if source:
                out.append(f"# {key}, not stated by the card: {_one_line(source)}")
            out.append(yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True,
                                      default_flow_style=False, width=4096).rstrip("\n"))
        return redact_text("\n".join(out) + "\n")


def _one_line(text):
    return " ".join(str(text).split())


def header(spec, framework_conf, run):
    card = spec.get("card") or {}
    lines = [f"{framework_conf['framework']} {framework_conf['version']} config for {spec['name']}, exported by "
             f"cardrepro from {card.get('path')} (sha256 {str(card.get('sha256'))[:12]})",
             f"run: {run}"]
    gpus = get(spec, "training.num_gpus")
    if gpus:
        lines.append(f"the card trains on {gpus} GPU{'s' if gpus != 1 else ''}: launch on as many for its batch size")
    return lines
