"""train_config.json's `training` and `loop` sections from the spec (the contract:
cardrepro/train/contract.py). `training` holds TrainingArguments field names verbatim; `loop` the
embedded loop's own keys. A card value neither section can hold becomes a note, never silence."""
from __future__ import annotations

from cardrepro import assume, data
from cardrepro.paths import get

# spec training keys every project writes (a TrainingArguments default is assumed where the card is silent)
TRAINING_KEYS = ("learning_rate", "num_train_epochs", "per_device_train_batch_size", "per_device_eval_batch_size",
                 "gradient_accumulation_steps", "warmup_steps", "weight_decay", "adam_beta1", "adam_beta2",
                 "adam_epsilon", "max_grad_norm", "lr_scheduler_type", "seed", "logging_steps", "save_strategy",
                 "save_steps", "save_total_limit", "eval_steps", "gradient_checkpointing")
STATED_ONLY_KEYS = ("max_steps", "optim")   # written only when the card states them


def training_arguments(spec, D, A, notes) -> dict:
    """The `training` section: TrainingArguments(**training) at run time."""
    rename = D["training_argument_names"]
    training = {}
    for key in TRAINING_KEYS:
        if get(spec, f"training.{key}") is None and key == "warmup_steps" and get(spec, "training.warmup_ratio") is not None:
            continue                                   # the ratio below is the card's warmup
        val = A.apply(f"training.{key}", *assume.training_argument(spec, key))
        training[rename.get(key, key)] = val
    for key in STATED_ONLY_KEYS:
        if get(spec, f"training.{key}") is not None:
            training[key] = get(spec, f"training.{key}")
    ratio = get(spec, "training.warmup_ratio")
    if ratio is not None and "warmup_steps" in training:
        notes.append(f"The card states both warmup_steps ({training['warmup_steps']}) and warmup_ratio ({ratio}); "
                     "as in TrainingArguments, warmup_steps wins and the ratio is not used.")
    elif ratio is not None:
        training["warmup_steps"] = float(ratio)        # TrainingArguments: warmup_steps < 1 is a ratio
    evaluate = D["training_assumptions"]["eval_strategy"]
    training["eval_strategy"] = A.add("training.eval_strategy", evaluate["value"], evaluate["source"])
    return training


def loop_settings(spec, D, A, notes) -> dict:
    """The `loop` section: sequence length, precision, world size and the trainer options it applies."""
    loop = {"max_length": A.apply("training.max_length", *assume.max_length(spec)),
            "dtype": A.apply("training.dtype", *assume.dtype(spec)),
            "num_gpus": int(A.apply("training.num_gpus", *assume.world_size(spec)))}
    loop.update(_trainer_options(spec, D["trainer_options"], A, notes))
    return loop


def _trainer_options(spec, table, A, notes) -> dict:
    """Every trainer option the loop applies (the card's, else assumed); a note for each card option it does not."""
    options = get(spec, "trainer.options") or {}
    applied = {k: A.apply(f"trainer.options.{k}", *assume.loop_option(spec, k)) for k in table["applied"]}
    unplaced = [f"`{k}: {_show(options[k])}` ({table['not_applied'][k]})" for k in table["not_applied"]
                if options.get(k) is not None]
    if unplaced:
        notes.append("Trainer options the card states that the embedded trainer does not apply: " + "; ".join(unplaced) + ".")
    return applied


def deepspeed_notes(ds_card, training, spec, notes):
    """The card's own DeepSpeed optimizer or scheduler replaces what TrainingArguments would build."""
    if not isinstance(ds_card, dict):
        return
    for section, key in (("scheduler", "lr_scheduler_type"), ("optimizer", "optim")):
        stated = get(spec, f"training.{key}")
        if isinstance(ds_card.get(section), dict) and stated is not None:
            notes.append(f"The card's DeepSpeed JSON sets its own {section} ({ds_card[section].get('type')}), "
                         f"which replaces `{key}: {stated}` at run time (DeepSpeed's {section} wins in HF Trainer).")


def _show(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


def preference_method(spec):
    """The card's last training step when it is a preference method TRL trains (data/preference.yaml), else None."""
    method = spec.get("method")
    return method if method in data.load("preference")["methods"] else None


def preference_stages(spec, datasets, A, notes):
    """The `stages` section for a card whose last step is a preference method: an SFT stage on the
    card's SFT data when it names any (Zephyr: UltraChat), then the preference stage on its preference
    pairs, started from the SFT stage's final/ (else from the base model). None for other cards."""
    method = preference_method(spec)
    if method is None:
        return None
    formats = data.load("preference")["formats"]
    pairs = [d["name"] for d in datasets if d.get("format") in formats]
    sft = [d["name"] for d in datasets if d.get("format") not in formats]
    stages = [{"method": "sft", "trainer": "embedded", "datasets": sft, "init": "base_model"}] if sft else []
    stages.append(_preference_stage(spec, method, pairs, "previous_stage" if sft else "base_model", A, notes))
    return stages


def _preference_stage(spec, method, pairs, init, A, notes):
    table = data.load("preference")
    row = table["methods"][method]
    stated = {**(get(spec, "training") or {}), **(_last_stage(spec))}
    config = {}
    for key in row["card_keys"]:
        if stated.get(key) is not None:
            config[key] = stated[key]
        elif key in row["defaults"]:
            config[key] = A.add(f"stages[-1].{key}", row["defaults"][key], table["defaults_source"])
    config.update(row["fixed"])
    for key, why in table["unplaced"].items():
        if stated.get(key) is not None:
            notes.append(f"The card's `{key}: {stated[key]}` has no place in TRL's {row['config']}: {why}.")
    return {"method": method, "trainer": row["trainer"], "datasets": pairs, "init": init,
            "reference_model": row["reference_model"], "config": config}


def _last_stage(spec):
    stages = spec.get("stages") or []
    last = stages[-1] if stages and isinstance(stages[-1], dict) else {}
    return {k: v for k, v in last.items() if k != "method"}
