"""`cardrepro export --to trl`: the YAML `trl sft|dpo|kto|reward --config FILE` reads (fields of
ScriptArguments, the method's config class and ModelConfig). TRL is not imported here."""
from __future__ import annotations

from cardrepro.export import core
from cardrepro.paths import get

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def method_entry(spec):
    conf = core.conf("trl")
    return conf["methods"].get(spec.get("method") or "sft") or conf["methods"]["sft"]


def export(spec, stem):
    """(config text, side files {name: text}, cannot [str])."""
    conf = core.conf("trl")
    entry = method_entry(spec)
    keys = conf["config_keys"] + conf["model_keys"] + conf["script_keys"] + conf["mixture_keys"] + list(entry.get("extra") or {})
    if entry["config"] == "SFTConfig":
        keys += conf["sft_keys"]
    cfg = core.Config("trl", keys)
    cannot, files = [], {}
    if spec.get("method") and spec["method"] not in conf["methods"]:
        cannot.append(f"method {spec.get('method')}: TRL has no config for it here; exported as SFTConfig")
    hyper = iter(core.hyperparameters(spec, conf["fields"], cannot))
    cfg.put(*next(hyper))  # model_name_or_path
    _model(spec, cfg)
    _datasets(spec, cfg, cannot)
    for key, value in (entry.get("extra") or {}).items():
        cfg.put(key, value, f"{entry['config']} for the card's method {spec.get('method')}")
    for key, value, source in hyper:
        cfg.put(key, value, source)
    core.put_precision(spec, cfg)
    _chat_format(spec, cfg, stem, files, cannot)
    core.put_deepspeed_and_output(spec, cfg, stem, files)
    core.common_notes(spec, cannot)
    core.quant_leftovers(spec, cannot)
    run = entry["run"].format(file=stem + conf["suffix"])
    head = core.header(spec, conf, run) + [f"fields of ScriptArguments, {entry['config']} and ModelConfig"]
    return cfg.render(head), files, cannot


def _model(spec, cfg):
    value, source = core.fact(spec, "training.dtype")
    if value in DTYPES:
        cfg.put("dtype", DTYPES[value], source)
    lora = core.peft_settings(spec)
    if lora:
        cfg.put("use_peft", True)
        for key, name in (("r", "lora_r"), ("lora_alpha", "lora_alpha"), ("lora_dropout", "lora_dropout")):
            cfg.put(name, *lora[key])
        targets, source = lora["target_modules"]
        cfg.put("lora_target_modules", [targets] if isinstance(targets, str) else list(targets), source)
    bits = core.quant_bits(spec)
    if bits:
        cfg.put(f"load_in_{bits}bit", True)


def _datasets(spec, cfg, cannot):
    refs = []
    for name, options, source in core.training_datasets(spec):
        ref, entry, why = core.dataset_ref(name, cannot)
        refs.append(({"path": ref, **({"name": entry["hub_config"]} if entry.get("hub_config") else {})},
                     "; ".join(s for s in (source, why) if s) or None))
        if options:
            cannot.append(f"dataset {name!r} options {', '.join(sorted(options))}: no TRL dataset field for them")
    if len(refs) == 1:
        (item, source), = refs
        cfg.put("dataset_name", item["path"], source)
        if "name" in item:
            cfg.put("dataset_config", item["name"], source)
    elif refs:
        sources = sorted({s for _, s in refs if s})
        cfg.put("datasets", [item for item, _ in refs], "; ".join(sources) or None)


def _chat_format(spec, cfg, stem, files, cannot):
    if not get(spec, "prompt.user_prefix"):
        return
    if "chat_template_path" not in cfg.keys:
        cannot.append(f"the card's prompt format: {method_entry(spec)['config']} takes no chat template; "
                      "set it on the tokenizer")
        return
    name = f"{stem}.chat_template.jinja"
    files[name] = core.jinja_template(spec)
    cfg.put("chat_template_path", name, "the card's prompt format as a chat template, written beside this file")
