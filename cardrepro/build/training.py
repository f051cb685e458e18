"""train_config.json's `training` and `loop` sections from the spec (the contract:
cardrepro/train/contract.py). `training` holds TrainingArguments field names verbatim; `loop` the
embedded loop's own keys. A card value neither section can hold becomes a note, never silence."""
from __future__ import annotations

from cardrepro import data
from cardrepro.audit.context import get

# spec training keys every project writes (a TrainingArguments default is assumed where the card is silent)
TRAINING_KEYS = ("learning_rate", "num_train_epochs", "per_device_train_batch_size", "per_device_eval_batch_size",
                 "gradient_accumulation_steps", "warmup_steps", "weight_decay", "adam_beta1", "adam_beta2",
                 "adam_epsilon", "max_grad_norm", "lr_scheduler_type", "seed", "logging_steps", "save_strategy",
                 "save_steps", "save_total_limit", "eval_steps", "gradient_checkpointing")
STATED_ONLY_KEYS = ("max_steps", "optim")   # written only when the card states them


def training_arguments(spec, D, profile, trainer, A, notes) -> dict:
    """The `training` section: TrainingArguments(**training) at run time."""
    ta = D["training_arguments"]
    rename = D["training_argument_names"]
    training = {}
    for key in TRAINING_KEYS:
        val = get(spec, f"training.{key}")
        if val is None and key == "warmup_steps" and get(spec, "training.warmup_ratio") is not None:
            continue                                   # the ratio below is the card's warmup
        if val is None and key in ta["values"]:
            src = ta["source"] + (f" ({trainer} does not set it)" if profile else "")
            val = A.add(f"training.{key}", ta["values"][key], src)
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
    training["eval_strategy"] = A.add("training.eval_strategy", D["eval_strategy"]["value"], D["eval_strategy"]["source"])
    return training


def loop_settings(spec, D, base_model, architecture, findings, A, notes) -> dict:
    """The `loop` section: sequence length, precision, world size and the trainer options it applies."""
    max_length = get(spec, "training.max_length")
    if max_length is None:
        mc = data.model_config(base_model)[1] or {}
        if mc.get("max_position_embeddings"):
            max_length = A.add("training.max_length", int(mc["max_position_embeddings"]),
                               "max_position_embeddings in cardrepro/data/model_configs.yaml")
        else:
            ml = D["max_length"].get(architecture) or D["max_length"]["default"]
            max_length = A.add("training.max_length", ml["value"], ml["source"])
    dtype = get(spec, "training.dtype")
    if dtype is None:
        stage_dtypes = [s.get("dtype") for s in spec.get("stages") or [] if isinstance(s, dict) and s.get("dtype")]
        if stage_dtypes:
            dtype = A.add("training.dtype", stage_dtypes[0], "the card's precision for another training stage")
        else:
            dtype = A.add("training.dtype", D["dtype"]["value"], D["dtype"]["source"])
    num_gpus = get(spec, "training.num_gpus")
    implied = next((f for f in findings or [] if f.get("code") == "CR404" and (f.get("data") or {}).get("world_size")), None)
    if num_gpus is None and implied:
        num_gpus = A.add("training.num_gpus", int(implied["data"]["world_size"]),
                         "derived: the card's steps per epoch and the mix's size imply it (audit CR404)")
    elif num_gpus is None:
        num_gpus = A.add("training.num_gpus", D["world_size"]["value"], D["world_size"]["source"])
    loop = {"max_length": max_length, "dtype": dtype, "num_gpus": int(num_gpus)}
    loop.update(_trainer_options(spec, D["trainer_options"], notes))
    return loop


def _trainer_options(spec, table, notes) -> dict:
    """The card's trainer options the loop applies; a note for each one it does not."""
    options = get(spec, "trainer.options") or {}
    applied = {k: options[k] for k in table["applied"] if options.get(k) is not None}
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
