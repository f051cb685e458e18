"""Parse a card into the spec: read → extract → resolve → validate. `parse_card` is the entry
point every later stage uses."""

from cardrepro.extract import datasets as ds_extract
from cardrepro.extract import code, command, metadata, model, prompt, settings, training_stages
from cardrepro.extract import mix as training_mix
from cardrepro.extract import prose
from cardrepro.extract import lists, tables, versions
from cardrepro.extract.facts import Fact, Facts
from cardrepro.extract import canonical
from cardrepro.read import read_card
from cardrepro import data
from cardrepro import resolve as resolver
from cardrepro import validate
from cardrepro.gcpause import paused
from cardrepro.naming import slug

TOP_ORDER = ["name", "card", "licence", "languages", "base_model", "model", "method", "stages", "tokenizer",
             "prompt", "datasets", "metadata_datasets", "training", "trainer", "deepspeed", "peft",
             "quantization", "generation", "command", "environment", "conflicts", "hygiene", "provenance"]


def _ds_block(doc):
    for block in doc.of_kind("json", "yaml"):
        if isinstance(block.value, dict) and "zero_optimization" in block.value:
            return block
    return None


def _apply_trainer(doc, facts, profile, shell, skip):
    """The trainer's layered config (resolve.layer) as candidates: mapped keys at their spec paths,
    the rest as trainer options."""
    if not profile or shell is None:  # a framework named by the card's words: resolver.fill_defaults
        return None
    r = resolver.layer(doc, facts, profile, shell, skip)
    merged = r["merged"]
    options = {}
    for key, fact in merged.items():
        if key in ("datasets", "datasets_extra"):
            continue
        target = canonical.trainer_path(profile["name"], key)
        if target == "deepspeed.config_ref" and not r["cli_state"].get("deepspeed"):
            continue
        if target:
            value = canonical.dtype(fact.value) if target == "training.dtype" else fact.value
            facts.put(target, value, fact.line, origin=fact.origin, text=fact.text, rule=fact.rule, source=fact.source)
        elif fact.value is not None:
            options[key] = fact
    for key, fixed in (profile.get("fixed") or {}).items():
        facts.put(f"training.{key}", fixed["value"], origin=f"default:{profile['name']}", text=fixed["why"])
    mix = [x for key in ("datasets", "datasets_extra") if isinstance((merged.get(key) or Fact(None, "", None, None)).value, list)
           for x in merged[key].value]
    entries = []
    for item in mix:
        if isinstance(item, dict) and item:
            name, opts = next(iter(item.items()))
            if opts is None and len(item) > 1:
                # `- oasst_export:` with its options written at the name's indent: YAML reads
                # them as keys beside the name; they are the options the entry states
                opts = dict(list(item.items())[1:])
        elif item is None or isinstance(item, (dict, list)):
            continue
        else:
            name, opts = item, {}
        entries.append({"name": str(name), "options": dict(opts) if isinstance(opts, dict) else {}})
    r["datasets"] = (entries, merged["datasets"])
    r["options"] = options
    r["profile"] = profile
    return r


def _at(value, path):
    for p in path:
        try:
            value = value[p]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _datasets(doc, facts, trained, stage_list):
    """Spec `datasets` and their provenance entries."""
    prov = {}
    out = []
    if trained:
        entries, fact = trained["datasets"]
        entries = facts.capped(entries, ds_extract.MAX_DATASETS, "datasets", fact.line)
        defaults = trained["profile"].get("dataset_option_defaults", {})
        names = {e["name"] for e in entries}
        block_lines = {}  # dataset name -> (block, path of its entry, card line)
        for block in doc.of_kind("yaml"):
            for path, no in block.where.items():
                if path and path[-1] in names:  # `- name:` with options
                    block_lines.setdefault(path[-1], (block, path, no))
                elif path and isinstance(path[-1], int):  # a bare `- name` item
                    item = _at(block.value, path)
                    if isinstance(item, str) and item in names:
                        block_lines.setdefault(item, (block, path, no))
        for i, e in enumerate(entries):
            where = block_lines.get(e["name"])
            no = where[2] if where and fact.origin == "card" else fact.line
            origin = fact.origin
            prov[f"datasets[{i}]"] = Fact(e["name"], origin, no, facts.text_of(no) if no else fact.text)
            for k, v in e["options"].items():
                ono = (where[0].where.get(where[1] + (k,)) or where[0].where.get(where[1][:-1] + (k,), no)) if where else no
                prov[f"datasets[{i}].options.{k}"] = Fact(v, origin, ono, facts.text_of(ono) if ono else fact.text)
            for k, v in defaults.items():
                if k not in e["options"]:
                    e["options"][k] = v
                    prov[f"datasets[{i}].options.{k}"] = Fact(
                        v, f"default:{trained['profile']['name']}", None,
                        f"{trained['profile']['name']}: {k} defaults to {v} for every dataset that does not set it")
            out.append(e)
    else:
        described = _described_mix(doc, stage_list)
        described = facts.capped(described, ds_extract.MAX_DATASETS, "datasets", described[0]["line"] if described else None)
        for i, d in enumerate(described):
            e = {"name": d["name"], "options": dict(d.get("options") or {})}
            if d.get("availability_text"):
                e["_internal"] = d["availability_text"]
            rule = None
            if d.get("refines"):
                rule = (f"the front matter names the hub repository of '{d['refines']['name']}', which line "
                        f"{d['refines']['line']} says the model was trained on")
            prov[f"datasets[{i}]"] = Fact(d["name"], "card", d["line"], facts.text_of(d["line"], d.get("match") or d["name"]), rule)
            for k, v in e["options"].items():
                prov[f"datasets[{i}].options.{k}"] = Fact(v, "card", d["line"], prov[f"datasets[{i}]"].text)
            out.append(e)
    for i, e in enumerate(out):
        av, no, rule = ds_extract.availability(doc, e["name"], e["options"], e.pop("_internal", None))
        e["availability"] = av
        base = prov[f"datasets[{i}]"]
        prov[f"datasets[{i}].availability"] = Fact(av, "card" if no else "derived", no or base.line,
                                                    facts.text_of(no) if no else base.text, None if no else rule)
    return out, prov


def _described_mix(doc, stage_list):
    """The training mix of a card without a trainer profile: the strongest source that states
    one (extract/mix.py, data/training_data.yaml precedence)."""
    sft = next((s for s in stage_list if s.get("method") == "sft" and s.get("_datasets")), None)
    extra = {"config": (ds_extract.config_datasets(doc), "config"),
             "stage": (sft["_datasets"] if sft else [], "prose"),
             "phrase": (ds_extract.phrase_datasets(doc), "prose")}
    entries, _ = training_mix.choose(training_mix.read(doc, extra))
    return entries


def _method(doc, facts, stage_list, trained):
    if stage_list and len(stage_list) > 1:
        last = stage_list[-1]
        line = last["_prov"]["method"][0]
        return last["method"], Fact(last["method"], "card", line, facts.text_of(line), "the last training stage the card describes")
    if stated := training_stages.stated_method(doc, facts, preference_only=True):
        return stated
    if facts.has("peft.type"):
        f = facts.items["peft.type"]
        if facts.get("quantization.load_in_4bit") is True:
            method, rule = "qlora", "LoRA adapters on a 4-bit base"
        elif facts.get("quantization.load_in_8bit") is True:
            method, rule = "lora", "LoRA adapters on an 8-bit base"
        else:
            method, rule = "lora", "LoRA adapters"
        return method, Fact(method, "derived", f.line, f.text, rule)
    if trained:
        return "sft", Fact("sft", "derived", trained["command_line"], None, f"{trained['profile']['name']} is a full-parameter SFT trainer")
    return training_stages.stated_method(doc, facts) or (None, None)


def _drop_preference_settings(facts, method):
    """A preference method's own settings (beta, loss_type, ...) say nothing on a card that trains
    none (data/preference.yaml `settings`)."""
    table = data.load("preference")
    if method in table["methods"]:
        return
    for key in table["settings"]:
        facts.items.pop(f"training.{key}", None)


HIDDEN = {"examples.widget", "library_name", "prompt.user_suffix_absent", "prompt.format_source"}


def build_spec(path, data=None):
    """read → extract → resolve → the spec (validate: parse_card)."""
    doc = read_card(path, data)
    profile, shell = resolver.detect(doc)
    facts = Facts(doc, resolver.precedence(profile))
    found = _extract(doc, facts, profile, shell)
    resolver.pick(facts, profile, quiet=HIDDEN)
    return _assemble(path, doc, facts, *found)


def _extract(doc, facts, profile, shell):
    """Every reader puts its candidates; then what is derived from them (stages, method, datasets)."""
    metadata.extract(doc, facts)
    ds_block = _ds_block(doc)
    skip = {id(ds_block)} if ds_block else set()
    trained = _apply_trainer(doc, facts, profile, shell, skip)
    if trained:
        skip |= trained["config_blocks"]
    trainer_lines = {trained["command_line"]} if trained else set()
    command.extract(doc, facts, skip_lines=trainer_lines)
    code.extract(doc, facts)
    model.extract(doc, facts)
    settings.extract(doc, facts, skip_blocks=skip | {id(b) for b in doc.of_kind("frontmatter")})
    tables.extract(doc, facts)
    lists.extract(doc, facts)
    versions.extract(doc, facts)
    prompt.extract(doc, facts)
    prose.extract(doc, facts)  # sentences: the weakest source, so it only fills gaps
    fam = model.architecture(facts)
    prompt.closing_from_eos(facts)
    if trained and fam:
        eos = trained["profile"].get("eos_by_family", {}).get(fam["family"])
        if eos:
            for p in ("prompt.user_suffix", "prompt.assistant_suffix"):
                facts.put(p, eos, origin=f"default:{trained['profile']['name']}",
                          text=f"every message ends with the tokenizer's eos ({fam['family']}: {eos})")
    stage_list = training_stages.extract(doc, facts)
    method, method_fact = _method(doc, facts, stage_list, trained)
    _drop_preference_settings(facts, method)
    if not stage_list and method:
        stage_list = [training_stages.single_stage(doc, facts, method)]
        stage_list[0]["_prov"]["method"] = (method_fact.line, None, method_fact.origin, method_fact.rule)
    datasets, ds_prov = _datasets(doc, facts, trained, stage_list)
    if len(stage_list) == 1 and "datasets" not in stage_list[0] and datasets:
        stage_list[0]["datasets"] = [d["name"] for d in datasets]
        stage_list[0]["_prov"]["datasets"] = (ds_prov["datasets[0]"].line, None, "derived",
                                               "the datasets of the mix (datasets[])")
    if len(stage_list) == 1 and "num_gpus" in stage_list[0]:
        no, said = stage_list[0]["_prov"]["num_gpus"]
        facts.put("training.num_gpus", stage_list[0]["num_gpus"], no, around=said)
    if profile and not trained:  # last: a default fills only what every reader left open
        resolver.fill_defaults(facts, profile, resolver.named_framework(doc)[1])
    return trained, stage_list, method, method_fact, datasets, ds_prov, ds_block


def _truncated(doc, facts):
    """The lists the reader and the extractors cut at their limits, in card order."""
    commands = [{"path": "command.args", "line": b.start, "kept": len(b.value), "left_out": b.left_out}
                for b in doc.of_kind("shell") if b.left_out]
    return sorted(commands + facts.truncated, key=lambda t: (t["line"] or 0, t["path"]))


def _malformed(doc, facts):
    """The blocks the reader could not read, as invalid values of the card (audit CR230)."""
    return [{"path": "card block", "value": validate.clip(repr(facts.text_of(m["line"]) or "")),
             "reason": f"{m['reason']}; the block is skipped, the rest of the card is read", "line": m["line"]}
            for m in doc.malformed]


def _nested(flat):
    out = {}
    for path, value in flat.items():
        parts = path.split(".")
        cur = out
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = value
    return out


def last_line(doc):
    """The card's last line number: the reader numbers its lines in card order (none is moved)."""
    return doc.lines[-1].no if doc.lines else 0


def _assemble(path, doc, facts, trained, stage_list, method, method_fact, datasets, ds_prov, ds_block):
    prov = {}
    flat = {}
    for p, f in facts.items.items():
        if p in HIDDEN:
            continue
        flat[p] = f.value
        prov[p] = f.provenance()
    for p, f in facts.extra_provenance.items():
        prov[p] = f.provenance()
    if facts.has("prompt.user_prefix") and not facts.has("prompt.user_suffix"):
        flat["prompt.user_suffix"] = None
        src = facts.items["prompt.user_prefix"]
        prov["prompt.user_suffix"] = Fact(None, "card", src.line, src.text, "the card's prompt has nothing between the message and the assistant prefix").provenance()
    spec = _nested(flat)
    spec["name"] = slug(path)
    spec["card"] = {"path": str(path), "sha256": doc.sha256, "lines": last_line(doc)}
    if method:
        spec["method"] = method
        prov["method"] = method_fact.provenance()
    clean_stages = []
    for i, s in enumerate(stage_list):
        clean_stages.append({k: v for k, v in s.items() if not k.startswith("_")})
        for k, (no, said, *how) in s.get("_prov", {}).items():
            origin, rule = how if how else ("card", None)
            prov[f"stages[{i}].{k}"] = Fact(s.get(k), origin, no, facts.text_of(no, said), rule).provenance()
    if clean_stages:
        spec["stages"] = clean_stages
    if datasets:
        spec["datasets"] = datasets
        for k, f in ds_prov.items():
            prov[k] = f.provenance()
    if ds_block is not None:
        spec.setdefault("deepspeed", {})["config"] = ds_block.value
        stage = (ds_block.value.get("zero_optimization") or {}).get("stage")
        spec["deepspeed"]["stage"] = stage
        prov["deepspeed.config"] = Fact(None, "card", ds_block.start, facts.text_of(ds_block.start)).provenance()
        prov["deepspeed.stage"] = Fact(stage, "card", ds_block.where.get(("zero_optimization",), ds_block.start), None).provenance()
        for dpath, line, first in ds_block.duplicates:
            facts.conflicts.append({"kind": "duplicate_key", "path": "deepspeed.config." + ".".join(map(str, dpath)),
                                    "values": [{"line": first}, {"line": line}], "resolution": "the last value wins in JSON parsers"})
    for block in doc.blocks:
        if block is not ds_block:
            for dpath, line, first in block.duplicates:
                facts.conflicts.append({"kind": "duplicate_key", "path": ".".join(map(str, dpath)),
                                        "values": [{"line": first}, {"line": line}], "resolution": "the later value wins in YAML loaders"})
    if trained:
        spec["trainer"] = {"name": trained["profile"]["name"], "configs": trained["configs"],
                           "options": {k: f.value for k, f in sorted(trained["options"].items())}}
        if trained["missing_configs"]:
            spec["trainer"]["missing_configs"] = trained["missing_configs"]
        for k, f in trained["options"].items():
            prov[f"trainer.options.{k}"] = f.provenance()
        line = trained["command_line"]
        prov["trainer.name"] = Fact(None, "derived", line, facts.text_of(line, trained["command"]["script"]),
                                    f"the command runs {trained['command']['script']}, which the trainer profile "
                                    f"{trained['profile']['name']} (cardrepro/data/trainers/) describes").provenance()
        prov["trainer.configs"] = Fact(None, "cli", line, facts.text_of(line, "--configs")).provenance()
        spec["command"] = trained["command"]
        prov["command"] = Fact(None, "card", trained["command_line"], facts.text_of(trained["command_line"])).provenance()
    elif found := command.training_command(doc):
        spec["command"], line = found
        prov["command"] = Fact(None, "card", line, facts.text_of(line)).provenance()
    if facts.conflicts:
        spec["conflicts"] = facts.conflicts
    if doc.redactions.get("secrets") or doc.redactions.get("absolute_paths"):
        spec["hygiene"] = doc.redactions
    truncated = _truncated(doc, facts)
    if truncated:
        spec["hygiene"] = {**spec.get("hygiene", {}), "truncated": truncated}
    if doc.malformed:
        spec["hygiene"] = {**spec.get("hygiene", {}), "invalid_values": _malformed(doc, facts)}
    spec["provenance"] = {k: prov[k] for k in sorted(prov)}
    return {k: spec[k] for k in TOP_ORDER if k in spec}


@paused
def parse_card(path, data=None):
    """The spec of a readable card, with what it states (perhaps only `card`): only a card that
    cannot be read is refused (CardError, from read/); a value of the wrong type is dropped and
    recorded under hygiene (validate.py). DATA: the card's bytes when the caller has read them
    already (a corpus row, a file read once for its hash too); PATH then only names the card
    (`name`, `card.path`, errors) and is not opened. The bytes pass the checks a file's do
    (size, empty, UTF-8, no NUL byte)."""
    spec = build_spec(path, data)
    validate.check(spec, path)
    return spec
