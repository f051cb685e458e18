"""`cardrepro export --to llamafactory`: a LLaMA-Factory YAML config (`llamafactory-cli train FILE`)."""
from __future__ import annotations

import json

from cardrepro.export import core
from cardrepro.paths import get


def export(spec, stem):
    """(config text, side files {name: text}, cannot [str])."""
    conf = core.conf("llamafactory")
    cfg = core.Config("llamafactory", conf["keys"])
    cannot, files = [], {}
    keys = iter(core.hyperparameters(spec, conf["fields"], cannot))
    cfg.put(*next(keys))  # model_name_or_path
    bits = core.quant_bits(spec)
    if bits:
        cfg.put("quantization_bit", bits)
    core.quant_leftovers(spec, cannot)
    _stage(spec, cfg, conf, cannot)
    _dataset(spec, cfg, conf, cannot)
    _template(spec, cfg, conf, cannot)
    return core.finish(spec, cfg, conf, keys, stem, files, cannot)


def _stage(spec, cfg, conf, cannot):
    method = spec.get("method") or "sft"
    stage = conf["stages"].get(method) or conf["stages"]["sft"]
    source = None if spec.get("method") else "no training method stated: supervised fine-tuning assumed"
    cfg.put("stage", stage["stage"], source)
    cfg.put("do_train", True)
    if "pref_loss" in stage:
        cfg.put("pref_loss", stage["pref_loss"])
    lora = core.peft_settings(spec)
    cfg.put("finetuning_type", "lora" if lora else "full")
    if not lora:
        return
    for path, key in conf["peft_fields"].items():
        value, source = lora[path.split(".", 1)[1]]
        cfg.put(key, value, source)
    targets, source = lora["target_modules"]
    cfg.put("lora_target", "all" if targets == "all-linear" else
            (targets if isinstance(targets, str) else ",".join(targets)), source)


def _dataset(spec, cfg, conf, cannot):
    names, info = [], {}
    for name, options, _ in core.training_datasets(spec):
        ref, entry, _ = core.dataset_ref(name, cannot)
        names.append(ref)
        row = {"hf_hub_url": ref, **conf["record_types"].get(entry.get("format"), {})}
        if entry.get("hub_config"):
            row["subset"] = entry["hub_config"]
        info[ref] = row
        if options:
            cannot.append(f"dataset {name!r} options {', '.join(sorted(options))}: no LLaMA-Factory key for them")
    if not names:
        cannot.append("the card names no training dataset: `dataset:` is left out")
        return
    sources = sorted({src for *_, src in core.training_datasets(spec) if src})
    cfg.put("dataset", ",".join(names), "; ".join(sources) or None)
    cannot.append("LLaMA-Factory loads datasets by their name in data/dataset_info.json; entries for these: "
                  + json.dumps(info, ensure_ascii=False))


def _template(spec, cfg, conf, cannot):
    if not get(spec, "prompt.user_prefix"):
        return
    name, exact = core.named_format(spec.get("prompt"))
    if name in conf["templates"]:
        cfg.put("template", conf["templates"][name], core.format_source(spec, name, exact))
    else:
        cannot.append("the card's prompt format is none of LLaMA-Factory's named templates: `template:` is left "
                      "out (register one in src/llamafactory/data/template.py)")
