"""spec -> the project model: train_config.json's content, the DeepSpeed configs, and every
assumption (a value the card does not state, with its named source)."""
from __future__ import annotations

import copy
import math
import re
from pathlib import PurePosixPath

from cardrepro import assume, data
from cardrepro.paths import get
from cardrepro.project import dsconfig
from cardrepro.project import training as training_mod
from cardrepro.project.data import build_defaults, dataset_registry
from cardrepro.errors import CardError

SLUG_RE = re.compile(r"[^A-Za-z0-9._-]+")

TRAINABLE_METHODS = ("sft", "lora", "qlora")
# dataset options that name a file: read at run time, so they must stay inside the project's data/
PATH_OPTIONS = ("input_file_path",)
# assumptions that decide what is trained and how; a README built over a refusal (--assume) names them first
LOAD_BEARING = ("base_model.", "datasets", "method", "training.learning_rate", "training.num_train_epochs",
                "training.per_device_train_batch_size", "training.gradient_accumulation_steps",
                "training.num_gpus", "training.max_length", "peft.", "prompt.user_prefix",
                "prompt.assistant_prefix", "deepspeed.stage")


def safe_slug(name) -> str:
    """A file-name-safe project name: no separators, no leading dots, never empty."""
    slug = SLUG_RE.sub("-", str(name or "")).strip(".-_")
    slug = re.sub(r"\.{2,}", ".", slug)
    return slug[:100] or "card"


def confined_data_path(value):
    """The card's file path as a path inside the project's data folder, or None where it would leave it
    (absolute, a drive, a home folder, `..`)."""
    text = str(value).replace("\\", "/")
    p = PurePosixPath(text)
    if not text.strip() or "\0" in text or p.is_absolute() or re.match(r"^[A-Za-z]:|^~", text) or ".." in p.parts:
        return None
    return text


def _check_path_options(spec, i, options):
    """CardError for a file option of spec dataset `i` that does not resolve inside data/."""
    for key in PATH_OPTIONS:
        if key in options and confined_data_path(options[key]) is None:
            line = ((spec.get("provenance") or {}).get(f"datasets[{i}].options.{key}") or {}).get("line")
            raise CardError(get(spec, "card.path") or "card", line,
                            f"datasets[{i}].options.{key}: {str(options[key])!r} is not inside the project's data "
                            "folder; the build refuses file paths from a card that leave it")


def unmet_facts(spec, train_config):
    """What the build refuses to guess without --assume: [{path, line, why}]."""
    prov = spec.get("provenance") or {}
    out = []
    if not get(spec, "base_model.name"):
        out.append({"path": "base_model.name", "line": None, "why": "the card states no base model"})
    pref = (train_config.get("stages") or [{}])[-1]
    if train_config.get("stages") and not pref["datasets"]:
        out.append({"path": "datasets", "line": (prov.get("method") or {}).get("line"),
                    "why": f"the {pref['method']} stage has no preference data the build can load (a registry "
                           "dataset in a preference format, cardrepro/data/preference.yaml formats)"})
    elif not train_config["datasets"]:
        left = "; ".join(f"{d['name']}: {d['reason']}" for d in train_config["left_out"])
        out.append({"path": "datasets", "line": (prov.get("datasets[0]") or {}).get("line"),
                    "why": "nothing trainable is left: no dataset the build can load ("
                           + (left or "the card names none") + ")"})
    return out


def _card_datasets(spec, A):
    """The spec's training mix; for a preference card that states none, its front-matter `datasets:`
    list (Zephyr names its SFT and preference sets only there)."""
    listed = spec.get("datasets") or []
    meta = spec.get("metadata_datasets") or []
    if listed or not meta or not training_mod.preference_method(spec):
        return listed
    return A.add("datasets", [{"name": n} for n in meta], "the card's front-matter `datasets:` list (it states no other mix)")


def load_bearing(assumed):
    return [a for a in assumed if str(a["path"]).startswith(LOAD_BEARING)]


class Assumptions:
    def __init__(self):
        self.items: list[dict] = []

    def add(self, path, value, source):
        self.items.append({"path": path, "value": copy.deepcopy(value), "source": source})
        return value

    def apply(self, path, value, source):
        """An assume.py answer: recorded when assumed (a source), returned either way."""
        return value if source is None else self.add(path, value, source)


def _typed_hub_dataset(name: str, options: dict):
    """A registry-like entry for an unknown hub dataset whose record type the card states."""
    fmt = (build_defaults().get("record_types") or {}).get(str(options.get("type", "")).lower())
    if not fmt or not re.fullmatch(r"[\w.\-]+/[\w.\-]+", name):
        return None
    reg = dataset_registry() or {}
    sample = next((e["sample"] for e in reg.values() if isinstance(e, dict) and e.get("format") == fmt and e.get("sample")), None)
    if not sample:
        return None
    return {"format": fmt, "hub_id": name, "sample": sample, "availability": "unknown", "kind": "text", "licence": None}


def _hidden_size(base_model: str):
    cfg = data.model_config(base_model)[1]
    if cfg and cfg.get("hidden_size"):
        return int(cfg["hidden_size"]), "cardrepro/data/model_configs.yaml"
    return None, None


def _family_tokens(architecture: str, base_model: str):
    d = build_defaults()["tokenizer_by_architecture"]
    fallback = dict(d.get(architecture) or d["llama"])
    fam = data.model_family(base_model)
    toks = (fam or {}).get("tokens") or {}
    if toks.get("eos"):
        out = {"eos_token": toks.get("eos"), "pad_token": toks.get("pad"), "bos_token": toks.get("bos")}
        if out["pad_token"] is None:
            out["pad_token"] = fallback.get("pad_token")
        return out, f"cardrepro/data/model_families.yaml (family {fam.get('family')})"
    return fallback, d["source"]


def compose(spec: dict) -> dict:
    """The project model. Keys: train_config, ds_card (or None), ds_base, ds_resolved, notes, assumed,
    unmet (what the build would have to guess: see unmet_facts)."""
    D = build_defaults()
    A = Assumptions()
    notes: list[str] = []
    name = safe_slug(spec.get("name"))
    trainer = get(spec, "trainer.name")
    profile = data.trainer_profiles().get(trainer or "", {})

    # ---- base model, architecture, method
    base_model = A.apply("base_model.name", *assume.base_model(spec))
    architecture = A.apply("base_model.architecture", *assume.architecture(spec))
    card_method = spec.get("method") or "sft"
    method = card_method
    if training_mod.preference_method(spec):     # the stages section names the method; this is the weights' update
        method = "lora" if get(spec, "peft.type") == "lora" else "sft"
    elif method not in TRAINABLE_METHODS:
        method = "sft"
        notes.append(f"The card's last training step is `{card_method}`, which the embedded trainer does not run; "
                     "this project reproduces the supervised fine-tuning (SFT) stage on the card's public data, "
                     "and its inference entry point serves the released model.")

    # ---- tokenizer and prompt
    tokens, tok_source = _family_tokens(architecture, base_model)
    tokenizer = {"special_tokens": [], "eos_token": tokens.get("eos_token"), "pad_token": tokens.get("pad_token"),
                 "bos_token": tokens.get("bos_token"), "resize_multiple": None,
                 "vocab_size": get(spec, "tokenizer.vocab_size")}
    A.add("tokenizer.eos_token", tokenizer["eos_token"], tok_source)
    if profile.get("special_tokens"):
        tokenizer["special_tokens"] = list(profile["special_tokens"])
        tokenizer["resize_multiple"] = profile.get("resize_multiple")
        A.add("tokenizer.special_tokens", tokenizer["special_tokens"],
              f"default:{trainer} ({profile.get('special_tokens_source', 'special_tokens')})")
    prompt = {k: get(spec, f"prompt.{k}") for k in ("user_prefix", "user_suffix", "assistant_prefix",
                                                    "assistant_suffix", "system_prefix", "system_suffix")}
    if prompt["user_prefix"] is None or prompt["assistant_prefix"] is None:
        for k, v in (("user_prefix", "User: "), ("user_suffix", "\n"), ("assistant_prefix", "Assistant: ")):
            if prompt[k] is None:
                prompt[k] = A.add(f"prompt.{k}", v, "build default: the card states no prompt format")
    if prompt["assistant_suffix"] is None:
        prompt["assistant_suffix"] = A.add("prompt.assistant_suffix", tokenizer["eos_token"],
                                           f"the tokenizer's eos token ({tok_source}) closes an assistant turn")

    # ---- datasets
    datasets, left_out = [], []
    for i, ds in enumerate(_card_datasets(spec, A)):
        if isinstance(ds, str):
            ds = {"name": ds}
        dname = str(ds.get("name"))
        options = copy.deepcopy(ds.get("options") or {})
        availability = ds.get("availability")
        reg_name, entry = data.registry_entry(dname)
        if entry is None:
            entry = _typed_hub_dataset(dname, options)
            if entry is not None:
                reg_name = dname
                A.add(f"datasets[{len(datasets)}].format", entry["format"],
                      f"the card's record type {options.get('type')!r} (cardrepro/data/build_defaults.yaml record_types); "
                      f"the smoke run reads {entry['sample']}, a sample in that format")
        if entry is None:
            left_out.append({"name": dname, "reason": f"not in the dataset registry ({availability or 'unknown'}): "
                                                      "no loader, nothing to download"})
            continue
        reg_avail = entry.get("availability")
        # The registry knows more than the card's words: an unreleased export with a public
        # substitute is substituted, an unreleased set with a cardrepro sample stays for the smoke run.
        keep_unreleased = reg_avail == "unreleased" and (entry.get("substitute") or entry.get("sample"))
        if reg_avail == "internal" or availability == "local_path" or (
                availability == "internal" and not keep_unreleased):
            why = "internal: the card or the registry says it was never released"
            if availability == "local_path":
                why = "a local path on the authors' machine"
            left_out.append({"name": dname, "reason": why})
            continue
        if entry.get("kind") not in (None, "text"):
            left_out.append({"name": dname, "reason": f"{entry.get('kind')} data, not text"})
            continue
        if not entry.get("hub_id") and not entry.get("sample") and not entry.get("substitute"):
            left_out.append({"name": dname, "reason": f"{reg_avail or 'unknown'} availability: the card names no "
                                                      "source and the registry knows none, so nothing can be loaded"})
            continue
        _check_path_options(spec, i, options)
        record = {"name": reg_name, "format": entry.get("format"), "hub_id": entry.get("hub_id"),
                  "hub_file": entry.get("hub_file"), "hub_config": entry.get("hub_config"),
                  "revision": entry.get("revision"),
                  "sample": f"data/samples/{entry['sample']}" if entry.get("sample") else None,
                  "licence": entry.get("licence"), "availability": reg_avail or availability or "unknown",
                  "full_run": True, "substitute": None, "options": options}
        if reg_avail == "unreleased":
            sub = entry.get("substitute")
            sub_name, sub_entry = data.registry_entry(sub) if sub else (None, None)
            if sub_entry:
                record.update({"hub_id": sub_entry.get("hub_id"),
                               "hub_file": entry.get("substitute_file") or sub_entry.get("hub_file"),
                               "revision": sub_entry.get("revision"), "availability": "substituted",
                               "substitute": sub})
                A.add(f"datasets[{len(datasets)}].hub_id", sub,
                      f"cardrepro/data/datasets.yaml: {reg_name} was never published; its substitute is {sub}")
            else:
                record["full_run"] = False
                notes.append(f"`{dname}` was never released: the smoke run trains on cardrepro's sample in its "
                             "record format; a full run needs the authors' data.")
        for key, value in (profile.get("dataset_option_defaults") or {}).items():   # a spec the parser did not fill
            if key not in options:
                options[key] = A.add(f"datasets[{len(datasets)}].options.{key}", value,
                                     f"default:{trainer} (dataset_option_defaults: {key}={value})")
        datasets.append(record)

    # ---- training: TrainingArguments names verbatim, and the loop's own settings (cardrepro/project/training.py)
    training = training_mod.training_arguments(spec, D, A, notes)
    loop = training_mod.loop_settings(spec, D, A, notes)
    stages = training_mod.preference_stages(spec, datasets, A, notes)

    # ---- PEFT and quantization
    peft = None
    if method in ("lora", "qlora"):
        peft = {"type": "lora", "task_type": "CAUSAL_LM"}
        for key in ("r", "lora_alpha", "lora_dropout", "bias", "target_modules"):
            peft[key] = A.apply(f"peft.{key}", *assume.lora(spec, key))
    quantization = copy.deepcopy(spec.get("quantization")) or None
    if quantization and quantization.get("load_in_8bit"):
        quantization = {k: v for k, v in quantization.items() if not str(k).startswith("bnb_4bit")}

    # ---- generation
    generation = copy.deepcopy(spec.get("generation") or {})
    if not generation:
        for k, v in D["generation"]["values"].items():
            generation[k] = A.add(f"generation.{k}", v, D["generation"]["source"])

    # ---- DeepSpeed
    ds_card = copy.deepcopy(get(spec, "deepspeed.config"))
    stage = get(spec, "deepspeed.stage")
    config_ref = get(spec, "deepspeed.config_ref")
    ds_assumed = False
    if isinstance(ds_card, dict):
        ds_base = ds_card
        stage = (ds_card.get("zero_optimization") or {}).get("stage", stage)
    else:
        ds_card = None
        ds_assumed = True
        gen = D["deepspeed_generated"]
        if stage is None:
            pick = gen["stage_for_method"].get(method) or gen["stage_for_method"]["default"]
            stage = A.add("deepspeed.stage", pick["value"], pick["source"])
        ref = f" (the card names {config_ref!r} but does not include it)" if config_ref else ""
        A.add("deepspeed.config", f"generated ZeRO-{stage} config", gen["source"] + ref)
        ds_base = dsconfig.generated_config(int(stage))
    hidden, hidden_source = _hidden_size(base_model)
    if hidden is None:
        hidden = A.add("model.hidden_size", 4096, "build default: hidden size unknown")
        hidden_source = "build default"
    total_steps = training.get("max_steps")
    steps_source = "training.max_steps"
    released = get(spec, "model.released") or {}
    if not total_steps and released.get("steps") and released.get("epochs"):
        per_epoch = released["steps"] / released["epochs"]
        total_steps = math.ceil(per_epoch * float(training["num_train_epochs"]))
        steps_source = (f"derived: the card's released checkpoint {released.get('checkpoint', '')!r} gives "
                        f"{per_epoch:g} optimizer steps per epoch, x {training['num_train_epochs']} epochs "
                        "(at the card's own world size)")
        A.add("deepspeed.scheduler.total_num_steps", total_steps, steps_source)
    if not total_steps:
        total_steps = D["total_num_steps"]["value"]
        steps_source = D["total_num_steps"]["source"]
        A.add("deepspeed.scheduler.total_num_steps", total_steps, steps_source)
    training_mod.deepspeed_notes(ds_card, training, spec, notes)
    ds_resolved, filled = dsconfig.resolve_autos(ds_base, world_size=loop["num_gpus"], training=training,
                                                 dtype=loop["dtype"], hidden_size=hidden, total_num_steps=total_steps)
    # `config` keeps "auto" (HF Trainer fills it at run time for the real world size and data size;
    # concrete values that disagree with TrainingArguments would be rejected as mismatches);
    # `resolved` is the same config filled offline for the declared world size.
    deepspeed = {"stage": int(stage) if stage is not None else None,
                 "config": "deepspeed/ds_config.card.json" if ds_card is not None
                 else "deepspeed/ds_config.generated.json",
                 "resolved": "deepspeed/ds_config.resolved.json",
                 "assumed": ds_assumed, "config_ref": config_ref, "world_size": loop["num_gpus"],
                 "hidden_size": hidden, "hidden_size_source": hidden_source,
                 "total_num_steps": total_steps, "total_num_steps_source": steps_source, "filled": filled}

    # ---- smoke
    smoke = copy.deepcopy(D["smoke"]["values"])
    if method in ("lora", "qlora"):
        smoke["learning_rate"] = smoke["lora_learning_rate"]
    smoke.pop("lora_learning_rate", None)

    inference = {"model": get(spec, "model.hub_id") or get(spec, "model.name"),
                 "revision": get(spec, "model.revision")}

    train_config = {
        "name": name, "architecture": architecture, "base_model": base_model, "method": method,
        "card_method": card_method, "trainer": trainer, "prompt": prompt, "tokenizer": tokenizer,
        "masking": profile.get("masking", "assistant"), "datasets": datasets, "left_out": left_out,
        "training": training, "loop": loop, "deepspeed": deepspeed, "peft": peft, "quantization": quantization,
        "generation": generation, "inference": inference, "smoke": smoke,
        "assumed": A.items, "notes": notes,
    }
    if stages is not None:
        train_config["stages"] = stages
    return {"train_config": train_config, "ds_card": ds_card, "ds_base": ds_base, "ds_resolved": ds_resolved,
            "assumed": A.items, "notes": notes, "unmet": unmet_facts(spec, train_config)}
