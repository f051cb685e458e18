"""The build↔train contract of train_config.json (written by cardrepro/build/training.py).

  training  TrainingArguments field names verbatim; the trainer calls
            TrainingArguments(**training, **runtime overrides) (cardrepro/train/train.py)
  loop      what the embedded loop reads by name and TrainingArguments has no field for

A key in either section that the trainer would not consume is a CardError at load time: a project
never carries a value that silently does nothing."""
from __future__ import annotations

import dataclasses
import functools


@dataclasses.dataclass(frozen=True)
class Loop:
    max_length: int = 512                        # OA trainer_sft defaults where a hand-written config is silent
    dtype: str = "fp16"
    num_gpus: int = 1
    random_offset_probability: float = 0.8
    use_custom_sampler: bool = False


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
        return cls(training=dict(cfg["training"]), loop=Loop(**loop))


@functools.lru_cache(maxsize=1)
def training_argument_names() -> frozenset:
    from transformers import TrainingArguments
    return frozenset(f.name for f in dataclasses.fields(TrainingArguments) if f.init)
