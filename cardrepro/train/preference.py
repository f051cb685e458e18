"""A preference stage (DPO, ORPO, SimPO, KTO) trained with TRL's own trainer and the card's settings.

Pairs are read by one loader per record format (the smoke sample and the hub copy alike), rendered
in the card's chat format (format.segments: the prompt up to the assistant prefix, each completion
with its closing text) and handed to TRL as plain-text prompt/chosen/rejected rows. The stage starts
from the previous stage's final/ (Zephyr: SFT, then DPO) or the base model (the smoke run: the tiny
random model of the card's architecture). Its run folder is laid out like the SFT run's
(metrics.jsonl, resolved_config.json, checkpoint-N/, final/, summary.json); TRL's logs, among them
`rewards/margins`, land in metrics.jsonl."""
import copy
import importlib
import json
import time
from pathlib import Path

from cardrepro import data as data_files
from cardrepro.errors import CardError
from cardrepro.train import config as config_mod
from cardrepro.train import data as data_mod
from cardrepro.train import format as fmt
from cardrepro.train import final as final_mod
from cardrepro.train import model as model_mod
from cardrepro.train import options, registry, rows, smoke
from cardrepro.train import tokenizer as tok_mod
from cardrepro.train import train as train_mod


# ------------------------------------------------------------------ records -> pairs
def preference_messages(records, opts):
    """UltraFeedback-binarized: `chosen` / `rejected` are whole dialogues sharing every turn but the
    last; the shared turns are the prompt. Rows whose two answers are equal or empty are skipped."""
    out = []
    for i, rec in enumerate(records):
        chosen, rejected = rec.get("chosen") or [], rec.get("rejected") or []
        if len(chosen) < 2 or len(rejected) < 2 or chosen[:-1] != rejected[:-1]:
            continue
        good, bad = chosen[-1], rejected[-1]
        if good.get("role") != "assistant" or bad.get("role") != "assistant":
            continue
        if not good.get("content", "").strip() or good.get("content") == bad.get("content"):
            continue
        out.append({"prompt": [_message(m) for m in chosen[:-1]], "chosen": good["content"],
                    "rejected": bad.get("content") or "", "group": rec.get("prompt_id", i)})
    return out


def _message(m):
    return {"role": m.get("role"), "content": m.get("content") or ""}


LOADERS = {"preference_messages": preference_messages}


def stage_pairs(cfg, project, stage, mode, notices):
    """{dataset name: (train pairs, val pairs)} for the stage's datasets."""
    out = {}
    by_name = {d["name"]: d for d in cfg["datasets"]}
    for name in stage["datasets"]:
        ds = {**by_name[name], "_cfg_path": cfg["_path"], "_line": config_mod.line_of(cfg, name)}
        entry = registry.lookup(name) or {}
        kind = ds.get("format") or entry.get("format")
        if kind not in LOADERS:
            raise CardError(cfg["_path"], ds["_line"], f"dataset '{name}': no preference loader for record format {kind!r}")
        pairs = LOADERS[kind](_records(project, ds, entry, mode, notices), ds.get("options") or {})
        if mode == "smoke":
            pairs = pairs[: int(cfg["smoke"].get("samples_per_dataset", 40))]
        if not pairs:
            raise CardError(cfg["_path"], ds["_line"], f"dataset '{name}': the loader kept no preference pairs")
        out[name] = options.split(pairs, ds.get("options") or {}, kind, notices, name, False)
    return out


def _records(project, ds, entry, mode, notices):
    if mode != "smoke":
        return data_mod.hub_records(ds, entry, notices)
    path = data_mod.sample_path(project, ds, entry)
    if path is None:
        raise CardError(ds["_cfg_path"], ds["_line"], f"dataset '{ds['name']}': no sample file found")
    return data_mod.read_jsonl(path)


# ------------------------------------------------------------------ pairs -> text in the card's chat format
def prompt_text(cfg, tokenizer, messages):
    """The prompt exactly as `infer` renders it: every turn, then the bare assistant prefix."""
    segs = fmt.segments(messages, cfg["prompt"], cfg["tokenizer"]["eos_token"], add_generation_prompt=True)
    bos = tokenizer.bos_token if rows.add_bos(cfg) and tokenizer.bos_token else ""
    return bos + "".join(s[0] for s in segs)


def completion_text(cfg, content):
    return content + fmt.closing_text(cfg["prompt"], cfg["tokenizer"]["eos_token"])


def text_rows(cfg, tokenizer, pairs, method):
    """TRL's standard (non-conversational) rows: paired, or KTO's unpaired prompt/completion/label."""
    out = []
    for p in pairs:
        prompt = prompt_text(cfg, tokenizer, p["prompt"])
        chosen, rejected = completion_text(cfg, p["chosen"]), completion_text(cfg, p["rejected"])
        if method == "kto":
            out += [{"prompt": prompt, "completion": chosen, "label": True},
                    {"prompt": prompt, "completion": rejected, "label": False}]
        else:
            out.append({"prompt": prompt, "chosen": chosen, "rejected": rejected})
    return out


def smoke_corpus(pairs):
    """The pairs as dialogues (prompt + each answer): what the smoke tokenizer is trained on."""
    out = {}
    for name, (train, val) in pairs.items():
        convs = [{"messages": p["prompt"] + [{"role": "assistant", "content": p[k]}]}
                 for p in train + val for k in ("chosen", "rejected")]
        out[name] = (convs, [], "preference")
    return out


# ------------------------------------------------------------------ TRL trainers, one per kind
def trl_classes(method):
    row = data_files.load("preference")["methods"][method]
    module = importlib.import_module(row["module"])
    return getattr(module, row["trainer"]), getattr(module, row["config"]), row


def build_trainer(method, model, tokenizer, args, train_ds, eval_ds, callbacks, reference_model):
    """TRL's trainer for the method. DPO and KTO get the reference model (a frozen copy of the
    starting weights; under LoRA TRL uses the adapter-disabled base instead); ORPO and CPO/SimPO use none."""
    trainer_cls, _, _ = trl_classes(method)
    kw = dict(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
              processing_class=tokenizer, callbacks=callbacks)
    if reference_model == "initial":
        kw["ref_model"] = None if _is_peft(model) else frozen_copy(model)
    return trainer_cls(**kw)


def frozen_copy(model):
    ref = copy.deepcopy(model)
    ref.eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


def _is_peft(model):
    return hasattr(model, "peft_config")


def trl_config(cfg, stage, mode, opts, out_dir, on_cpu, notices):
    """TRL's config: the card's TrainingArguments and runtime overrides as the SFT loop sets them
    (no DeepSpeed: the preference stage runs without it), then the stage's own TRL settings."""
    _, config_cls, _ = trl_classes(stage["method"])
    settings = dict(stage["config"])
    if mode == "smoke":
        settings["max_length"] = min(int(settings.get("max_length") or 10**9), int(cfg["smoke"]["max_length"]))
    overrides = train_mod.runtime_overrides(cfg, mode, opts, out_dir, None, on_cpu, 1, 0, notices)
    return config_cls(**{**train_mod.hyperparameters(cfg, mode), **overrides, **settings})


# ------------------------------------------------------------------ the stage
def start_point(cfg, project, pairs, mode, init_dir):
    """(tokenizer, model folder) the stage starts from."""
    if init_dir is not None:
        return tok_mod.load_dir(init_dir), init_dir
    if mode == "smoke":
        tok_dir, model_dir = smoke.prepare(cfg, project, smoke_corpus(pairs), log=train_mod.say)
        return tok_mod.load_dir(tok_dir), model_dir
    return tok_mod.load_full(cfg), cfg["base_model"]


def run_stage(cfg, project, stage, mode, opts, out_dir, init_dir):
    """Train one preference stage into out_dir; returns its summary."""
    import datasets
    import torch
    from transformers import TrainerCallback

    from transformers.integrations.deepspeed import unset_hf_deepspeed_config
    unset_hf_deepspeed_config()   # an SFT stage under ZeRO-3 in this process would make from_pretrained partition
    t0 = time.time()
    notices = []
    on_cpu = not torch.cuda.is_available()
    pairs = stage_pairs(cfg, project, stage, mode, notices)
    tokenizer, model_dir = start_point(cfg, project, pairs, mode, init_dir)
    train = [r for tr, _ in pairs.values() for r in text_rows(cfg, tokenizer, tr, stage["method"])]
    val = [r for _, v in pairs.values() for r in text_rows(cfg, tokenizer, v, stage["method"])]
    dtype = None if on_cpu else {"fp16": torch.float16, "bf16": torch.bfloat16}.get(cfg["loop"]["dtype"])
    model = model_mod.load(cfg, model_dir, tokenizer, dtype or torch.float32,
                           cfg["training"].get("activation_checkpointing"), on_cpu)
    out_dir.mkdir(parents=True, exist_ok=True)
    args = trl_config(cfg, stage, mode, opts, out_dir, on_cpu, notices)
    metrics_path = out_dir / "metrics.jsonl"
    metrics_path.write_text("")

    class Metrics(TrainerCallback):
        def on_log(self, a, state, control, logs=None, **kw):
            if state.is_world_process_zero and logs:
                rec = {"step": state.global_step, "epoch": state.epoch, "time": round(time.time() - t0, 3), **logs}
                with metrics_path.open("a") as f:
                    f.write(json.dumps(rec) + "\n")

    for n in notices:
        train_mod.say(f"notice: {n}")
    train_mod.say(f"{stage['method']} stage ({stage['trainer']}): {len(train)}/{len(val)} train/val rows, "
                  f"from {init_dir or model_dir}; run folder {out_dir}")
    _write_resolved(out_dir, cfg, stage, mode, notices, init_dir, args)
    trainer = build_trainer(stage["method"], model, tokenizer, args, datasets.Dataset.from_list(train),
                            datasets.Dataset.from_list(val) if val else None, [Metrics()], stage["reference_model"])
    train_mod.quiet_progress(trainer)
    trainer.train()
    final = out_dir / "final"
    trainer.save_model(str(final))
    final_mod.save_tokenizer(tokenizer, project, final)
    return summarize(out_dir, cfg, stage, mode, t0)


def _write_resolved(out_dir, cfg, stage, mode, notices, init_dir, args):
    (out_dir / "resolved_config.json").write_text(json.dumps(
        {"mode": mode, "stage": stage, "init": str(init_dir) if init_dir else "base_model",
         "config": config_mod.public(cfg), "notices": notices,
         "trl_arguments": json.loads(args.to_json_string())}, indent=2, default=str))


def summarize(out_dir, cfg, stage, mode, t0):
    recs = [json.loads(l) for l in (out_dir / "metrics.jsonl").read_text().splitlines() if l.strip()]
    steps = [r for r in recs if "loss" in r]
    margins = [r["rewards/margins"] for r in steps if "rewards/margins" in r]
    summary = {"name": cfg["name"], "mode": mode, "stage": stage["method"], "trainer": stage["trainer"],
               "steps": len(steps), "loss_first": steps[0]["loss"] if steps else None,
               "final_loss": steps[-1]["loss"] if steps else None,
               "margin_first": margins[0] if margins else None, "margin_last": margins[-1] if margins else None,
               "wall_seconds": round(time.time() - t0, 2), "run_dir": str(out_dir)}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\nsummary ({cfg['name']}, {stage['method']}, {mode}): loss {summary['loss_first']} -> "
          f"{summary['final_loss']}, reward margin {summary['margin_first']} -> {summary['margin_last']} "
          f"over {len(steps)} steps, {summary['wall_seconds']} s", flush=True)
    return summary
