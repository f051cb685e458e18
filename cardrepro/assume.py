"""The one gap filler: what the card leaves open is decided here, once. The project applies these
values (cardrepro/project/) and the audit reports them (cardrepro/audit/); neither decides on its own.

Each function takes the spec and returns `(value, source)`: `source` is None where the card (or
its trainer's documented defaults, already in the spec) states the value, else a sentence naming
where the assumed value comes from (cardrepro/data/build_defaults.yaml, model configs, the card's
own numbers)."""
from __future__ import annotations

from cardrepro import data
from cardrepro.estimate import schedule
from cardrepro.paths import get

FALLBACK_BASE_MODEL = "huggyllama/llama-7b"
FALLBACK_ARCHITECTURE = "llama"
FALLBACK_LORA_TARGETS = ["q_proj", "v_proj"]
IMPLIED_WORLD_SOURCE = "derived: the card's steps per epoch and the mix's size imply it (audit CR404)"
WORLD_PATH = "training.num_gpus"    # the one path whose value the card's numbers may imply


def _defaults():
    return data.load("build_defaults")


def _exact(name):
    """build_defaults.yaml base_model_exact entry for a family name the card gives, or {}."""
    return (_defaults().get("base_model_exact") or {}).get(str(name or "").strip().lower()) or {}


def family_sizes(name):
    """Published checkpoints when the card names a family without a size ("BLOOMZ"), else None."""
    if not name:
        return None
    fams = {str(k).strip().lower(): v for k, v in (data.load("model_configs").get("families") or {}).items()}
    n = str(name).strip().lower()
    return fams.get(n) or fams.get(n.rsplit("/", 1)[-1])


def base_model(spec):
    """The checkpoint the project trains from."""
    name = get(spec, "base_model.name")
    exact = _exact(name)
    if exact.get("value"):
        return exact["value"], exact["source"] + f" (the card says {name!r})"
    if not name:
        return FALLBACK_BASE_MODEL, "build default: the card names no base model"
    return name, None


def family_choice(spec):
    """(checkpoint, why) when the card names a family without a size, else (None, None)."""
    name = get(spec, "base_model.name")
    sizes = family_sizes(name)
    if not sizes:
        return None, None
    exact = _exact(name)
    if exact.get("value"):
        return exact["value"], f"build default: {exact['source']}"
    return sizes[0], "the smallest, so that the smoke run fits"


def model_config(spec):
    """(canonical name, architecture config, how) of the base model; how = stated | assumed;
    (None, None, None) when no config is known."""
    name = get(spec, "base_model.name")
    canon, cfg = data.model_config(name)
    if cfg:
        return canon, cfg, "stated"
    for cand in (_exact(name).get("value"), (family_sizes(name) or [None])[0]):
        canon, cfg = data.model_config(cand)
        if cfg:
            return canon, cfg, "assumed"
    return None, None, None


def architecture(spec):
    """The base model's model_type."""
    arch = get(spec, "base_model.architecture")
    if arch:
        return arch, None
    model = base_model(spec)[0]
    fam = data.model_family(model)
    if fam:
        return fam["model_type"], (f"model family '{fam['family']}' (cardrepro/data/model_families.yaml) "
                                   f"matches {model!r}")
    return FALLBACK_ARCHITECTURE, "build default: architecture unknown, llama assumed"


def world_size(spec):
    """GPUs the run is planned for: stated, implied by the card's numbers, or the build default."""
    stated = get(spec, "training.num_gpus")
    if stated:
        return int(stated), None
    implied = schedule.implied_world(spec)
    if implied:
        return implied["world"], IMPLIED_WORLD_SOURCE
    ws = _defaults()["world_size"]
    return int(ws["value"]), ws["source"]


def max_length(spec):
    """Training sequence length: the model's max_position_embeddings, else a per-architecture default."""
    stated = get(spec, "training.max_length")
    if stated is not None:
        return stated, None
    cfg = data.model_config(base_model(spec)[0])[1] or {}
    if cfg.get("max_position_embeddings"):
        return int(cfg["max_position_embeddings"]), "max_position_embeddings in cardrepro/data/model_configs.yaml"
    table = _defaults()["max_length"]
    entry = table.get(architecture(spec)[0]) or table["default"]
    return entry["value"], entry["source"]


def dtype(spec):
    """Training precision: the card's, another stage's, or the build default."""
    stated = get(spec, "training.dtype")
    if stated is not None:
        return stated, None
    for st in get(spec, "stages") or []:
        if isinstance(st, dict) and st.get("dtype"):
            return st["dtype"], "the card's precision for another training stage"
    d = _defaults()["dtype"]
    return d["value"], d["source"]


def training_argument(spec, key):
    """A TrainingArguments value the card leaves out: the base trainer profile's default (the card's
    own trainer's documented defaults are already in the spec), a cardrepro assumption where that
    default is no value the run can use (build_defaults.yaml), or (None, None)."""
    stated = get(spec, f"training.{key}")
    if stated is not None:
        return stated, None
    own = _defaults()["training_assumptions"].get(key)
    if own:
        return _assumed_training_value(spec, own)
    trainer = get(spec, "trainer.name")
    base = data.trainer_profile(base_trainer(trainer))
    if key not in base["defaults"]:
        return None, None
    named = trainer in data.trainer_profiles()
    return base["defaults"][key], base["assumption"] + (f" ({trainer} does not set it)" if named else "")


def base_trainer(trainer):
    """The profile every trainer profile is a diff on (data/trainers/hf-trainer.yaml): the root of
    the card's trainer's `base` chain, or the default trainer when the card names none."""
    name = trainer if trainer in data.trainer_profiles() else _defaults()["default_trainer"]
    while data.load(f"trainers/{name}").get("base"):
        name = data.load(f"trainers/{name}")["base"]
    return name


def _assumed_training_value(spec, entry):
    """A value TrainingArguments leaves open that the run needs: a fixed value or another training key's."""
    if "value" in entry:
        return entry["value"], entry["source"]
    return training_argument(spec, entry["same_as"])[0], entry["source"]


def loop_option(spec, key):
    """A trainer option the embedded loop applies (build_defaults.yaml trainer_options.applied) that
    the card leaves out: the embedded trainer's documented default."""
    stated = get(spec, f"trainer.options.{key}")
    if stated is not None:
        return stated, None
    embedded = _defaults()["embedded_trainer"]
    default = data.trainer_profile(embedded["name"])["defaults"][key]
    return default, f"default:{embedded['name']} ({embedded['source']})"


def lora(spec, key):
    """A LoRA setting the card leaves out: PEFT's default (target modules per architecture)."""
    stated = get(spec, f"peft.{key}")
    if stated is not None:
        return stated, None
    table = _defaults()["lora"]
    if key == "target_modules":
        tm = table["target_modules"]
        return list(tm["by_architecture"].get(architecture(spec)[0], FALLBACK_LORA_TARGETS)), tm["source"]
    if isinstance(table.get(key), dict):
        return table[key]["value"], table[key]["source"]
    return None, None


def value(spec, path):
    """(value, source) the project uses for a spec path the card leaves out; (None, None) where
    nothing is assumed (the project leaves it out or refuses)."""
    if path == WORLD_PATH:
        return world_size(spec)
    if path == "training.max_length":
        return max_length(spec)
    if path == "training.dtype":
        return dtype(spec)
    if path.startswith("training."):
        return training_argument(spec, path.split(".", 1)[1])
    if path.startswith("trainer.options.") and path.rsplit(".", 1)[1] in _defaults()["trainer_options"]["applied"]:
        return loop_option(spec, path.rsplit(".", 1)[1])
    if path.startswith("peft."):
        return lora(spec, path.split(".", 1)[1])
    return None, None


def may_be_implied(path):
    """Whether value(spec, path) may be implied by the card's own numbers (IMPLIED_WORLD_SOURCE)."""
    return path == WORLD_PATH


def if_silent(spec, path):
    """(value, source) the project would use for `path` were the card silent on it (what replaces
    a value the card states but no run can use)."""
    spec = spec or {}
    section, _, key = path.partition(".")
    if key and isinstance(spec.get(section), dict) and key in spec[section]:
        spec = {**spec, section: {k: v for k, v in spec[section].items() if k != key}}
    return value(spec, path)
