"""Key as written -> spec path, and the value maps: the one reader of the spelling table
(data/keys.yaml). No other module maps a card's names to the spec's."""
import functools
import re

from cardrepro import data

# Where a key of a config block, list or table may belong, in the order tried.
SETTING_SECTIONS = ("training", "peft", "quantization")
_DTYPES = ("fp16", "bf16", "fp32")


_SEPARATORS = re.compile(r"[\s\-_]+")


def fold(key):
    """`Learning Rate`, `learning-rate`, `**learning_rate**` -> `learning_rate`."""
    return _fold_text(key if type(key) is str else str(key))


@functools.lru_cache(maxsize=1 << 16)
def _fold_text(key):  # the same keys come back card after card: fold each once
    return _SEPARATORS.sub("_", key.strip().strip("*").strip()).lower()


def _table():
    return data.load("keys")


@functools.lru_cache(maxsize=None)
def section(name):
    """{folded spelling: field} of one spec section (`training`, `peft`, ...)."""
    rows = _table().get(name) or {}
    if isinstance(rows, list):  # generation: spelled as the spec's own fields
        return {fold(k): k for k in rows}
    return {fold(k): v for k, v in rows.items()}


def path(key, sections=SETTING_SECTIONS):
    """The spec path a key names, trying `sections` in order; None when none spells it."""
    k = fold(key)
    for name in sections:
        field = section(name).get(k)
        if field:
            return f"{name}.{field}"
    return None


def facts(key, value, sections=SETTING_SECTIONS):
    """[(path, value)] that `key: value` states: a switch (`bf16: true`), a key whose value says
    other facts (`adapter: qlora`), or the key's own path with its value mapped (`Native AMP` ->
    fp16, the auto-card optimizer line -> optim and Adam betas). [] when it states nothing."""
    k = fold(key)
    entry = switches().get(k)
    if entry is not None:
        return [(entry["path"], entry["value"])] if switched_on(value) else []
    by_value = valued().get(k)
    if by_value is not None:
        return list((by_value.get(str(value).strip().lower()) or {}).items())
    paired = pairs().get(k)
    if paired is not None:
        return _pair_facts(paired, value)
    target = path(k, sections)
    return value_facts(target, key_value(k, value)) if target else []


def states_something(key, sections=SETTING_SECTIONS):
    """Whether `facts(key, value, sections)` may state anything for some value: a key no
    spelling names states nothing whatever its value (a benchmark table's `MMLU`)."""
    k = fold(key)
    return k in switches() or k in valued() or k in pairs() or path(k, sections) is not None


def key_value(key, value):
    """The value as the spec spells it where the key's framework spells it otherwise
    (`lora_target: all` -> all-linear; data/keys.yaml `key_values`)."""
    mapped = (_table().get("key_values") or {}).get(fold(key)) or {}
    return mapped.get(value.strip().lower(), value) if isinstance(value, str) else value


_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+|\d{1,3}(?:'\d{3})+")


def grouped_int(value):
    """An integer written with its thousands grouped (`Num. steps: 100,000`, `Fine-tuning steps:
    12'200`) as the integer; any other value as it is."""
    if isinstance(value, str) and _GROUPED.fullmatch(value.strip()):
        return int(value.replace(",", "").replace("'", ""))
    return value


def value_facts(target, value):
    """[(path, value)] for a value stated at `target`, through the value maps."""
    value = grouped_int(value)
    if target == "training.dtype":
        mapped = dtype(value)
        return [(target, mapped)] if mapped in _DTYPES else []
    if target == "training.optim":
        return optimizer(value)
    if target == "training.lr_scheduler_type":
        return [(target, scheduler(value))]
    if target in list_fields() and isinstance(value, str) and "," in value:
        return [(target, [v.strip() for v in value.split(",") if v.strip()])]
    return [(target, value)]


@functools.lru_cache(maxsize=None)
def list_fields():
    return _table().get("list_fields") or []


def holds_list(key, sections=SETTING_SECTIONS):
    """Whether `key` names a field whose value is a list (`lora_target_modules`)."""
    return path(key, sections) in list_fields()


@functools.lru_cache(maxsize=None)
def pairs():
    return _table().get("pairs") or {}


_PAIR = re.compile(r"^\s*\(?\s*([\d.eE+\-]+)\s*,\s*([\d.eE+\-]+)\s*\)?\s*$")


def _pair_facts(paths, value):
    """`betas: (0.9, 0.99)` (a list, or the text of a tuple) -> one fact per number."""
    if isinstance(value, str):
        m = _PAIR.match(value)
        value = list(m.groups()) if m else None
    if not isinstance(value, list) or len(value) != len(paths):
        return []
    try:
        numbers = [float(v) for v in value if not isinstance(v, bool)]
    except (TypeError, ValueError):
        return []
    return list(zip(paths, numbers)) if len(numbers) == len(paths) else []


def architecture_key(key):
    """Whether `key` names a part of a model's architecture (`Layers`, `d_model`)."""
    return fold(key) in _architecture_keys()


@functools.lru_cache(maxsize=None)
def _architecture_keys():
    return frozenset(_table().get("architecture_keys") or ())


def word_label(key):
    """The spec path a setting's name in words (a table header, a bullet label) states where it
    means other than the identifier it folds to: a table's `Batch size` is the global batch."""
    return _word_labels().get(" ".join(str(key).strip().strip("*").lower().split()))


@functools.lru_cache(maxsize=None)
def _word_labels():
    return _table().get("word_labels") or {}


def switched_on(value):
    return value is True or str(value).strip().lower() in ("true", "auto")


@functools.lru_cache(maxsize=None)
def switches():
    return _table().get("switches") or {}


@functools.lru_cache(maxsize=None)
def valued():
    return _table().get("valued") or {}


def dtype(value):
    """`float16`, `half`, `FP16`, `Native AMP` -> `fp16`; other values as they are."""
    return _table().get("dtypes", {}).get(str(value).lower().replace(" ", ""), value)


@functools.lru_cache(maxsize=None)
def _optimizer_patterns():
    return [re.compile(p, re.I) for p in _table().get("optimizer_text") or []]


def optimizer(value):
    """An optimizer as a card writes it: the HF auto-card line gives the TrainingArguments name
    when it names one (`Use OptimizerNames.ADAMW_TORCH_FUSED` -> adamw_torch_fused) and Adam's
    betas and epsilon; any other word is the name itself. A mapping or list says nothing here."""
    if isinstance(value, (dict, list)) or value is None:
        return []
    for pattern in _optimizer_patterns():
        m = pattern.search(str(value))
        if m:
            return [(f"training.{field}", _number_or_name(field, said))
                    for field, said in m.groupdict().items() if said is not None]
    return [("training.optim", value)]


_SCHEDULE_WORDS = frozenset({"lr", "learning", "rate", "schedule", "scheduler"})


def scheduler(value):
    """A schedule as a card writes it, as the transformers SchedulerType it names (the names the
    trainer accepts, data/train_config_checks.yaml): `Cosine`, `cosine schedule with warmup` ->
    cosine, `Constant schedule with warmup` -> constant_with_warmup, `Linear decay` -> linear. A
    text that names two ("linear warmup, then cosine decay") or none stays as it is."""
    if not isinstance(value, str):
        return value
    names, folded = _scheduler_names(), fold(value)
    if folded in names:
        return folded
    words = "_".join(w for w in folded.split("_") if w not in _SCHEDULE_WORDS)
    if words in names:
        return words
    named = [n for n in names if words.startswith(n + "_")]
    if not named:
        return value
    name = max(named, key=len)
    rest = words[len(name):]
    return value if any(n in rest for n in names) else name


@functools.lru_cache(maxsize=None)
def _scheduler_names():
    return tuple(data.load("train_config_checks")["training"]["lr_scheduler_type"])


def _number_or_name(field, said):
    return said.lower() if field == "optim" else float(said)


@functools.lru_cache(maxsize=None)
def metadata_paths():
    """{folded front-matter key: spec path it fills} (`license` -> licence), in table order."""
    return {fold(k): v for k, v in (_table().get("metadata") or {}).items()}


def trainer_path(trainer, key):
    """The spec path a named trainer's config key fills, or None (then it is a trainer option)."""
    return ((_table().get("trainers") or {}).get(trainer) or {}).get(key)


def deepspeed_keys():
    """[(DeepSpeed config key, dotted; spec path; type it holds)] for the keys that hold a
    TrainingArguments value."""
    return [(k, row["path"], row["type"]) for k, row in (_table().get("deepspeed_config") or {}).items()]


def deepspeed_field(ds_key):
    """(training field, type) that DeepSpeed key `ds_key` holds."""
    row = _table()["deepspeed_config"][ds_key]
    return row["path"].split(".", 1)[1], row["type"]


def package(name):
    """`PyTorch` -> torch: the environment name of a package a framework list names."""
    return _table()["packages"].get(str(name).lower(), str(name).lower())


def package_names():
    return list(_table()["packages"])


def labels():
    """{label as a card writes it (`学习率`): English key (`learning_rate`)}."""
    return _table().get("labels") or {}
