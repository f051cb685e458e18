"""The build↔train contract of train_config.json (written by cardrepro/project/training.py).

  training  TrainingArguments field names verbatim; the trainer calls
            TrainingArguments(**training, **runtime overrides) (cardrepro/train/train.py)
  loop      what the embedded loop reads by name and TrainingArguments has no field for
  stages    (preference cards) the stages in order: an embedded SFT stage, then a TRL preference
            stage whose `config` holds TRL config field names (data/preference.yaml), read by
            cardrepro/train/stages.py and cardrepro/train/preference.py

A key in either section that the trainer would not consume is a CardError at load time: a project
never carries a value that silently does nothing."""
from __future__ import annotations

import dataclasses
import functools


@dataclasses.dataclass(frozen=True)
class Loop:
    """No defaults: the build writes every setting (cardrepro/project/training.py loop_settings), so a
    missing one is a config the build did not write, not a value to guess."""
    max_length: int
    dtype: str
    num_gpus: int
    random_offset_probability: float
    use_custom_sampler: bool


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    training: dict          # TrainingArguments(**training)
    loop: Loop

    @classmethod
    def from_config(cls, cfg: dict) -> "TrainConfig":
        """Raises ValueError naming the first key the trainer would not consume."""
        unknown = sorted(set(cfg["training"]) - training_argument_names())
        if unknown:
            raise ValueError(f"training.{unknown[0]} is not a TrainingArguments field: the trainer would ignore it")
        loop = cfg.get("loop") or {}
        unknown = sorted(set(loop) - {f.name for f in dataclasses.fields(Loop)})
        if unknown:
            raise ValueError(f"loop.{unknown[0]} is not a setting the training loop reads")
        missing = [f.name for f in dataclasses.fields(Loop) if f.name not in loop]
        if missing:
            raise ValueError(f"loop.{missing[0]} is not set: the build writes every setting the loop reads "
                             "(rebuild the project from its card)")
        check_stages(cfg.get("stages"), {d.get("name") for d in cfg.get("datasets") or [] if isinstance(d, dict)})
        return cls(training=dict(cfg["training"]), loop=Loop(**loop))


STAGE_KEYS = {"sft": {"method", "trainer", "datasets", "init"},
              "preference": {"method", "trainer", "datasets", "init", "reference_model", "config"}}
INITS = ("base_model", "previous_stage")


def check_stages(stages, dataset_names):
    """Raises ValueError for a stages section the stage runner would misread or partly ignore."""
    if stages is None:
        return
    from cardrepro import data
    methods = data.load("preference")["methods"]
    if not isinstance(stages, list) or not stages or not all(isinstance(s, dict) for s in stages):
        raise ValueError("stages must be a non-empty list of objects")
    for i, stage in enumerate(stages):
        last = i == len(stages) - 1
        kind = "preference" if last else "sft"
        if (stage.get("method") in methods) != last or (not last and stage.get("method") != "sft"):
            raise ValueError(f"stages.method of stage {i} ({stage.get('method')!r}): only the last stage is a "
                             f"preference stage ({', '.join(methods)}), the ones before it are sft")
        unknown = sorted(set(stage) - STAGE_KEYS[kind])
        if unknown:
            raise ValueError(f"stages.{unknown[0]} (stage {i}) is not a key the stage runner reads")
        if stage.get("init") not in INITS or (i == 0 and stage["init"] != "base_model"):
            raise ValueError(f"stages.init of stage {i} must be {'base_model' if i == 0 else ' or '.join(INITS)}")
        missing = [d for d in stage.get("datasets") or [] if d not in dataset_names]
        if not isinstance(stage.get("datasets"), list) or missing:
            raise ValueError(f"stages.datasets of stage {i} must list datasets of the config's `datasets`"
                             + (f" ({missing[0]!r} is not one)" if missing else ""))
        if last:
            _check_preference_stage(stage, methods[stage["method"]])


def _check_preference_stage(stage, row):
    if stage.get("trainer") != row["trainer"]:
        raise ValueError(f"stages.trainer must be {row['trainer']} for {stage['method']} (got {stage.get('trainer')!r})")
    if stage.get("reference_model") != row["reference_model"]:
        raise ValueError(f"stages.reference_model of a {stage['method']} stage is {row['reference_model']!r} in TRL "
                         f"(got {stage.get('reference_model')!r})")
    config = stage.get("config")
    if not isinstance(config, dict):
        raise ValueError("stages.config must be an object of TRL config fields")
    unknown = sorted(set(config) - set(row["card_keys"]) - set(row["fixed"]))
    if unknown:
        raise ValueError(f"stages.{unknown[0]} is not a {row['config']} field the stage runner passes")


@functools.lru_cache(maxsize=1)
def training_argument_names() -> frozenset:
    from transformers import TrainingArguments
    return frozenset(f.name for f in dataclasses.fields(TrainingArguments) if f.init)
