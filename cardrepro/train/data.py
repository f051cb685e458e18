"""Build the data mix: registry -> raw records (sample file in --smoke, hub copy in --full) ->
loader -> train/val split with the dataset's options. Internal datasets are left out with a notice."""
import gzip
import json
from pathlib import Path

from cardrepro import data
from cardrepro.errors import CardError
from cardrepro.train import config as config_mod
from cardrepro.train import loaders, options, registry


def read_jsonl(path):
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        if path.suffix == ".json" or path.name.endswith(".json.gz"):
            data = json.load(f)
            return data if isinstance(data, list) else [data]
        return [json.loads(line) for line in f if line.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent.parent  # cardrepro/: sample paths in configs are relative to it


def sample_path(project, ds, entry):
    """Where a dataset's sample file is: as named in the config (relative to the project or the
    cardrepro package) or the registry's sample in cardrepro/data/samples/."""
    cands = []
    for name in (ds.get("sample"), entry.get("sample") if entry else None):
        if name:
            cands += [project / name, PACKAGE_DIR / name, registry.SAMPLES / Path(name).name]
    for c in cands:
        if c.is_file():
            return c
    return None


def hub_records(ds, entry, notices):
    """Raw records of the real dataset (full mode). Imports datasets/huggingface_hub lazily."""
    opts = ds.get("options") or {}
    if opts.get("input_file_path") and Path(opts["input_file_path"]).is_file():
        return read_jsonl(opts["input_file_path"])
    hub_id, hub_file = ds.get("hub_id") or entry.get("hub_id"), ds.get("hub_file") or entry.get("hub_file")
    if entry.get("availability") in ("unreleased", "internal"):
        sub = entry.get("substitute")
        if not sub:
            raise CardError(ds["_cfg_path"], ds["_line"], f"dataset '{ds['name']}' is {entry['availability']} and has no "
                            "public substitute: pass options.input_file_path to a local copy")
        notices.append(f"{ds['name']}: {entry['availability']} file {hub_file} -> substitute {sub}")
        hub_id, hub_file = sub, entry.get("substitute_file")
    if hub_file:
        from huggingface_hub import hf_hub_download
        path = hf_hub_download(hub_id, hub_file, repo_type="dataset", revision=ds.get("revision") or entry.get("revision"))
        return read_jsonl(path)
    import datasets
    d = datasets.load_dataset(hub_id, entry.get("hub_config"), split=entry.get("hub_split") or "train",
                              revision=ds.get("revision") or entry.get("revision"))
    return list(d)


def build(cfg, project, mode, notices):
    """{name: (train convs, val convs, format)} in config order; notices collects what was left out."""
    out = {}
    use_custom = bool(cfg["loop"]["use_custom_sampler"])
    for lo in cfg.get("left_out") or []:
        notices.append(f"left out {lo.get('name')}: {lo.get('reason', 'not available')}")
    for ds in cfg["datasets"]:
        name = ds["name"]
        entry = registry.lookup(name) or registry.lookup(ds.get("hub_id") or "") or {}
        fmt = ds.get("format") or entry.get("format")
        availability = ds.get("availability") or entry.get("availability")
        if availability == "internal":
            notices.append(f"left out {name}: internal dataset, not released (never faked)")
            continue
        if entry.get("kind", "text") != "text":
            notices.append(f"left out {name}: kind {entry.get('kind')} is not text")
            continue
        if fmt in data.load("preference")["formats"]:
            notices.append(f"{name}: preference pairs, trained in the preference stage")
            continue
        if fmt not in loaders.LOADERS:
            raise CardError(cfg["_path"], config_mod.line_of(cfg, name),
                            f"dataset '{name}': no loader for record format {fmt!r}")
        ds = {**ds, "_cfg_path": cfg["_path"], "_line": config_mod.line_of(cfg, name)}
        if mode == "smoke":
            path = sample_path(project, ds, entry)
            if path is None:
                raise CardError(cfg["_path"], ds["_line"], f"dataset '{name}': no sample file found")
            records = read_jsonl(path)
        else:
            records = hub_records(ds, entry, notices)
        opts = ds.get("options") or {}
        convs = loaders.LOADERS[fmt](records, options.loader_options(entry, opts))
        if mode == "smoke":
            convs = convs[: int(cfg["smoke"].get("samples_per_dataset", 40))]
        if not convs:
            raise CardError(cfg["_path"], ds["_line"], f"dataset '{name}': the loader kept no records")
        train, val = options.split(convs, opts, fmt, notices, name, use_custom)
        out[name] = (train, val, fmt)
    if not out:
        raise CardError(cfg["_path"], config_mod.line_of(cfg, "datasets"), "no usable dataset left in the mix")
    return out
