"""`cardrepro export --to axolotl`: an Axolotl YAML config (`axolotl train FILE`)."""
from __future__ import annotations

from cardrepro import data
from cardrepro.export import core
from cardrepro.paths import get


def export(spec, stem):
    """(config text, side files {name: text}, cannot [str])."""
    conf = core.conf("axolotl")
    cfg = core.Config("axolotl", conf["keys"])
    cannot, files = [], {}
    keys = iter(core.hyperparameters(spec, conf["fields"], cannot))
    first = next(keys)  # base_model opens the file, as in Axolotl's examples
    cfg.put(*first)
    _model_loading(spec, cfg)
    _method(spec, cfg, conf, cannot)
    cfg.put("datasets", _datasets(spec, conf, cannot), _datasets_source(spec))
    _chat_format(spec, cfg, conf)
    return core.finish(spec, cfg, conf, keys, stem, files, cannot)


def _model_loading(spec, cfg):
    bits = core.quant_bits(spec)
    if bits:
        cfg.put(f"load_in_{bits}bit", True)


def _method(spec, cfg, conf, cannot):
    method = spec.get("method")
    lora = core.peft_settings(spec)
    if lora:
        cfg.put("adapter", "qlora" if core.quant_bits(spec) == 4 else "lora")
        for path, key in conf["peft_fields"].items():
            value, source = lora[path.split(".", 1)[1]]
            cfg.put(key, value, source)
        targets, source = lora["target_modules"]
        if targets == "all-linear":
            cfg.put("lora_target_linear", True, source)
        else:
            cfg.put("lora_target_modules", [targets] if isinstance(targets, str) else list(targets), source)
    if method in conf["rl"]:
        cfg.put("rl", conf["rl"][method])
    elif method in ("rlhf", "reward_model"):
        cannot.append(f"method {method}: Axolotl has no config for it; the supervised settings are exported")
    core.quant_leftovers(spec, cannot)


def _datasets(spec, conf, cannot):
    out = []
    for name, options, _ in core.training_datasets(spec):
        path, entry, _ = core.dataset_ref(name, cannot)
        item = {"path": path}
        if entry.get("hub_config"):
            item["name"] = entry["hub_config"]
        stated = {k: v for k, v in options.items() if k in conf["dataset_keys"] and k != "path"}
        if "type" not in stated:
            item.update(conf["record_types"].get(entry.get("format"), {}))
        item.update(stated)
        left = sorted(k for k in options if k not in conf["dataset_keys"])
        if left:
            cannot.append(f"dataset {name!r} options {', '.join(left)}: no Axolotl dataset key for them")
        if "type" not in item:
            cannot.append(f"dataset {name!r}: its record format is unknown to the registry; set its `type:`")
        out.append(item)
    return out


def _datasets_source(spec):
    notes = sorted({src for *_, src in core.training_datasets(spec) if src})
    if any(data.registry_entry(n)[1] for n, *_ in core.training_datasets(spec)):
        notes.append("Hub ids and `type:` from the registry (cardrepro/data/datasets.yaml) where the card names a registry dataset")
    return "; ".join(notes) or None


def _chat_format(spec, cfg, conf):
    if not get(spec, "prompt.user_prefix"):
        return
    name, exact = core.named_format(spec.get("prompt"))
    if name in conf["templates"]:
        cfg.put("chat_template", conf["templates"][name], core.format_source(spec, name, exact))
    else:
        cfg.put("chat_template", "jinja", "Axolotl names no template with the card's prompt format")
        cfg.put("chat_template_jinja", core.jinja_template(spec), "the card's prompt format as a chat template")
