"""Per-dataset options with the Open-Assistant trainer's meaning (oa-trainer-sft.md §3.1, §5).

  val_split     fraction held out for evaluation; where unset, OA's get_one_dataset default (the profile's)
  max_val_set   cap on the eval set (drawn WITHOUT replacement; SLM-era OA drew with replacement)
  max_train_set cap on the train set (iKala-fork behaviour; upstream OA ignored or rejected it)
  fraction      share of a dataset per epoch; only with training.use_custom_sampler (else ignored)
  lang, top_k, input_max_length, input_file_path, mix, seed: passed to the loader
"""
import random

from cardrepro import data

OASST_SPLIT_SEED = 287631038922   # OA's random_split generator seed for oasst_export / alpaca
GENERIC_SPLIT_SEED = 666          # OA's train_test_split random_state


def val_split_default():
    """OA's get_one_dataset default, from the trainer profile (dataset_option_defaults)."""
    from cardrepro.train.config import embedded_trainer
    return float(data.trainer_profile(embedded_trainer())["dataset_option_defaults"]["val_split"])


def split(convs, options, fmt, notices, name, use_custom_sampler):
    """(train, val) lists, honouring val_split / max_val_set / max_train_set / fraction."""
    val_split = options.get("val_split")
    val_split = val_split_default() if val_split is None else float(val_split)
    seed = OASST_SPLIT_SEED if fmt == "oasst_tree" else GENERIC_SPLIT_SEED
    groups = {}
    for c in convs:                       # split by group: an OA tree never lands on both sides
        groups.setdefault(c["group"], []).append(c)
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    n_val = int(round(len(keys) * val_split)) if val_split > 0 else 0
    if val_split > 0 and len(keys) > 1:
        n_val = max(1, min(n_val, len(keys) - 1))
    val = [c for k in keys[:n_val] for c in groups[k]]
    train = [c for k in keys[n_val:] for c in groups[k]]
    if options.get("max_val_set") is not None and len(val) > int(options["max_val_set"]):
        val = random.Random(seed + 1).sample(val, int(options["max_val_set"]))
    if options.get("max_train_set") is not None and len(train) > int(options["max_train_set"]):
        train = random.Random(seed + 2).sample(train, int(options["max_train_set"]))
        notices.append(f"{name}: max_train_set {options['max_train_set']} applied (iKala-fork behaviour; "
                       "upstream OA ignores it for translation sets and rejects it elsewhere)")
    frac = options.get("fraction")
    if frac is not None and float(frac) != 1.0:
        if use_custom_sampler:
            k = max(1, int(len(train) * min(float(frac), 1.0)))
            train = random.Random(seed + 3).sample(train, k)
        else:
            notices.append(f"{name}: fraction {frac} ignored (only used with use_custom_sampler, as in OA)")
    return train, val


LOADER_OPTIONS = ("lang", "top_k", "input_max_length", "mix", "seed", "drop_openai", "end_marker", "languages")


def loader_options(entry, options):
    opts = {k: v for k, v in (options or {}).items() if k in LOADER_OPTIONS}
    if entry.get("languages") and "languages" not in opts:
        opts["languages"] = entry["languages"]
    for k, v in (entry.get("loader_defaults") or {}).items():
        opts.setdefault(k, v)
    return opts
