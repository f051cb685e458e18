"""The training loop on one screen: data -> tokenizer -> model -> HF Trainer (+ DeepSpeed) -> run folder.

Run folder (PROJECT/runs/<smoke|full>/ by default): cardrepro-run.json (whose run it is),
metrics.jsonl, loss.png, resolved_config.json, env.json,
checkpoint-N/ (HF checkpoints, --resume continues from the last), final/ (the model, or
a LoRA adapter alone in PEFT's format, + the tokenizer with the card's chat template), summary.json."""
import json
import os
import shutil
import socket
import sys
import time
from pathlib import Path

from cardrepro.train import checkpoints
from cardrepro.errors import CardError
from cardrepro.train import config as config_mod
from cardrepro.train import data as data_mod
from cardrepro.project import dsconfig
from cardrepro.train import console, envlock, rows, smoke
from cardrepro.train import final as final_mod
from cardrepro.train import model as model_mod
from cardrepro.train import tokenizer as tok_mod


def say(msg):
    if int(os.environ.get("RANK", "0")) == 0:
        print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def single_process_env():
    """1-process DeepSpeed: set the rank env vars so it never tries MPI discovery (mpi4py)."""
    for k, v in (("RANK", "0"), ("WORLD_SIZE", "1"), ("LOCAL_RANK", "0"), ("MASTER_ADDR", "127.0.0.1")):
        os.environ.setdefault(k, v)
    os.environ.setdefault("MASTER_PORT", str(free_port()))


def run_dir_for(project, mode, output):
    return Path(output) if output else Path(project) / "runs" / mode


RUN_MARKER = "cardrepro-run.json"    # {"project": name, "mode": ...}: whose run a folder holds


def claim_run_dir(run_dir, project, name, mode):
    """Refuse a run folder `cardrepro run` may not clear: a file, or a non-empty folder that is neither
    the project's own runs/<mode> nor marked as a run of this project (--output can name any folder)."""
    run_dir = Path(run_dir)
    if os.path.lexists(run_dir) and not run_dir.is_dir():
        raise CardError(run_dir, None, "exists and is not a folder; refusing to replace it")
    if not run_dir.is_dir() or not any(run_dir.iterdir()):
        return
    if os.path.realpath(run_dir) == os.path.realpath(run_dir_for(project, mode, None)) or _run_of(run_dir) == name:
        return
    raise CardError(run_dir, None, f"folder is not empty and is not a run folder of {name} (no {RUN_MARKER} "
                                   "naming it); refusing to clear it: choose a new or empty folder")


def _run_of(run_dir):
    try:
        marker = json.loads((Path(run_dir) / RUN_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker.get("project") if isinstance(marker, dict) else None


def mark_run_dir(run_dir, name, mode):
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / RUN_MARKER).write_text(json.dumps({"project": name, "mode": mode}) + "\n")


def plan_run_dir(run_dir, resume):
    """Before any worker starts: the checkpoint to resume from (None = fresh; a fresh run clears the
    folder so old checkpoints never mix in). A resume skips incomplete checkpoints and says where it starts."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        if resume:
            print(f"--resume: no run folder {run_dir}, starting fresh", flush=True)
        return None
    last = checkpoints.last_complete(run_dir) if resume else None
    if last:
        print(f"--resume: continuing from {last} (step {checkpoints.steps_done(last)[0]})", flush=True)
        return str(last)
    if resume:
        print(f"--resume: no complete checkpoint in {run_dir}, starting fresh", flush=True)
    shutil.rmtree(run_dir)
    return None


def finished_already(opts, cfg):
    """--resume of a run whose last checkpoint reached its final step: say so (and restore final/ if
    the run stopped while writing it) instead of training past the end."""
    ckpt = opts.get("resume_ckpt")
    target = opts.get("max_steps") or (cfg["smoke"]["max_steps"] if opts["mode"] == "smoke" else None)
    if not ckpt or not checkpoints.is_finished(ckpt, target):
        return False
    final = Path(opts["output"]) / "final"
    if not final.is_dir():
        checkpoints.copy_model(ckpt, final)
        print(f"--resume: final/ was missing (the run stopped while writing it): copied from {ckpt}", flush=True)
    print(f"--resume: the run in {opts['output']} is complete (step {checkpoints.steps_done(ckpt)[0]}, "
          f"{Path(ckpt).name}); nothing to train", flush=True)
    return True


def prepare_data(cfg, project, mode, notices):
    data = data_mod.build(cfg, project, mode, notices)
    if mode == "smoke":
        tok_dir, model_dir = smoke.prepare(cfg, project, data, log=say)
        model_dir = Path(model_dir).resolve()    # an adapter's base_model_name_or_path, from any working folder
        tokenizer = tok_mod.load_dir(tok_dir)
    else:
        model_dir = cfg["base_model"]
        tokenizer = tok_mod.load_full(cfg)
    return data, tokenizer, model_dir


CUDA_ONLY_OPTIM = ("bnb", "8bit", "paged")     # bitsandbytes optimizers: a CPU run swaps in adamw_torch
SMOKE_HYPERPARAMETERS = ("per_device_train_batch_size", "gradient_accumulation_steps", "learning_rate")


def hyperparameters(cfg, mode):
    """The card's TrainingArguments (train_config `training`, verbatim). A smoke run takes the smoke
    profile's batch, accumulation and learning rate, and its warmup unless the card's is a ratio
    (600 warmup steps would outlast a 30-step run; a ratio keeps the card's schedule shape)."""
    hp = dict(cfg["training"])
    if mode == "smoke":
        sm = cfg["smoke"]
        hp.update({k: sm[k] for k in SMOKE_HYPERPARAMETERS})
        if not 0 < float(hp.get("warmup_steps") or 0) < 1:
            hp["warmup_steps"] = sm["warmup_steps"]
    return hp


def runtime_overrides(cfg, mode, opts, run_dir, ds_cfg, on_cpu, world, rank, notices):
    """What a run sets over the card's TrainingArguments: where it writes, the step budget (--max-steps,
    the smoke profile), the device and precision, DeepSpeed, and the smoke run's logging and saving."""
    tr, sm, loop = cfg["training"], cfg["smoke"], cfg["loop"]
    smoke_mode = mode == "smoke"
    fp16 = bf16 = False
    if on_cpu and loop["dtype"] in ("fp16", "bf16"):
        notices.append(f"card precision {loop['dtype']}: training in fp32 on CPU (DeepSpeed rejects fp16 on CPU)")
    elif not on_cpu:
        fp16, bf16 = loop["dtype"] == "fp16", loop["dtype"] == "bf16"
    out = dict(
        output_dir=str(run_dir), seed=int(tr["seed"]), data_seed=int(tr["seed"]),
        activation_checkpointing=bool(tr.get("activation_checkpointing")) and not cfg.get("quantization"),
        deepspeed=ds_cfg, fp16=fp16, bf16=bf16,
        report_to=list(opts.get("report_to") or []), remove_unused_columns=False, dataloader_num_workers=0,
        ddp_backend="gloo" if on_cpu and world > 1 and ds_cfg is None else None,
        save_only_model=False, disable_tqdm=rank != 0, dataloader_pin_memory=not on_cpu, use_cpu=on_cpu and world > 1,
    )
    if opts.get("max_steps") or smoke_mode:
        out["max_steps"] = int(opts.get("max_steps") or sm["max_steps"])
    if smoke_mode:
        out.update(per_device_eval_batch_size=int(sm.get("per_device_eval_batch_size", 4)), logging_steps=1,
                   save_strategy="steps", save_steps=out["max_steps"], eval_strategy="no", eval_steps=None)
    if opts.get("save_steps"):
        out["save_steps"] = int(opts["save_steps"])
    optim = str(tr.get("optim") or "")
    if on_cpu and any(k in optim for k in CUDA_ONLY_OPTIM):
        out["optim"] = "adamw_torch"
        notices.append(f"optim {optim} needs CUDA (bitsandbytes): this CPU run uses adamw_torch")
    return out


def average_loss_per_micro_batch(trainer):
    """OA averages the loss per micro-batch (sum over trained tokens / their count), then over the
    accumulation window; transformers 5 would instead divide by the window's token count."""
    trainer.model_accepts_loss_kwargs = False


def main(opts):
    """opts: project, mode, max_steps, resume, output, save_steps, zero_stage (test hook), datasets (a stage's)."""
    import torch
    import transformers
    from transformers import Trainer, TrainerCallback, TrainingArguments
    transformers.logging.set_verbosity_error()
    quiet_warnings()
    t0 = time.time()
    mode = opts["mode"]
    cfg, project = config_mod.load(opts["project"])
    if opts.get("datasets") is not None:     # one stage of a staged project (cardrepro/train/stages.py)
        cfg["datasets"] = [d for d in cfg["datasets"] if d["name"] in opts["datasets"]]
    notices = []
    on_cpu = not torch.cuda.is_available()
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    tr, sm = cfg["training"], cfg["smoke"]
    run_dir = run_dir_for(project, mode, opts.get("output"))

    ds_cfg = dsconfig.for_run(cfg, project, mode, on_cpu, notices, opts.get("zero_stage"))
    if ds_cfg is not None and on_cpu:
        console.announce_ds_compile(say)
    if ds_cfg is not None and world == 1:
        single_process_env()
    if ds_cfg is not None and world > 1 and on_cpu:
        import deepspeed   # one process group for DeepSpeed and accelerate (gloo), before zero.Init
        deepspeed.init_distributed(dist_backend="gloo", auto_mpi_discovery=False)
    dtype_name = cfg["loop"]["dtype"]

    data, tokenizer, model_dir = prepare_data(cfg, project, mode, notices)
    seed = int(tr["seed"])
    max_length = int(sm["max_length"] if mode == "smoke" else cfg["loop"]["max_length"])
    train_rows, val_rows, counts = [], [], {}
    for name, (train, val, _) in data.items():
        r = rows.build_rows(tokenizer, cfg, train, max_length, seed)
        v = rows.build_rows(tokenizer, cfg, val, max_length, seed + 1)
        train_rows += r
        val_rows += v
        counts[name] = {"train": len(r), "val": len(v)}

    resume_ckpt = opts.get("resume_ckpt")
    run_dir.mkdir(parents=True, exist_ok=True)

    args = TrainingArguments(**{**hyperparameters(cfg, mode),
                                **runtime_overrides(cfg, mode, opts, run_dir, ds_cfg, on_cpu, world, rank, notices)})
    torch_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(dtype_name) if not on_cpu else torch.float32
    model = model_mod.load(cfg, model_dir, tokenizer, torch_dtype, tr.get("activation_checkpointing"), on_cpu)
    total, trainable = model_mod.count_params(model)
    frozen_before = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad} \
        if cfg.get("peft") and total < 50_000_000 else None

    if opts.get("packing"):
        from cardrepro.train import packing
        packing.enable(model)
        collator = packing.PackingCollator(tokenizer.pad_token_id)
        notices.append("padding-free batching (--packing): each micro-batch is one row of concatenated samples, "
                       "each attending only to itself; same trained tokens and loss as the faithful batching")
    else:
        collator = rows.Collator(tokenizer.pad_token_id)
    for n in notices:
        say(f"notice: {n}")
    say("data: " + ", ".join(f"{k} {v['train']}/{v['val']}" for k, v in counts.items()) + " (train/val rows)")
    say(f"model: {cfg['architecture']} {total:,} params, {trainable:,} trainable; world size {world}; "
        f"DeepSpeed {'ZeRO-' + str(ds_cfg['zero_optimization']['stage']) if ds_cfg else 'off'}; run folder {run_dir}")

    metrics_path = run_dir / "metrics.jsonl"
    start_step = int(Path(resume_ckpt).name.split("-")[-1]) if resume_ckpt else 0
    if rank == 0:
        old = metrics_path.read_text().splitlines() if metrics_path.is_file() and resume_ckpt else []
        kept = [l for l in old if l.strip() and "loss" in (r := json.loads(l)) and r.get("step", 0) <= start_step]
        metrics_path.write_text("".join(l + "\n" for l in kept))
        (run_dir / "resolved_config.json").write_text(json.dumps(
            {"mode": mode, "config": config_mod.public(cfg), "deepspeed": ds_cfg, "notices": notices,
             "rows": counts, "training_arguments": json.loads(args.to_json_string())}, indent=2, default=str))
        (run_dir / "env.json").write_text(json.dumps(envlock.collect(world), indent=2))


    class Metrics(TrainerCallback):
        def on_log(self, a, state, control, logs=None, **kw):
            if state.is_world_process_zero and logs:
                rec = {"step": state.global_step, "epoch": state.epoch, "time": round(time.time() - t0, 3), **logs}
                with metrics_path.open("a") as f:
                    f.write(json.dumps(rec) + "\n")

    class KillHook(TrainerCallback):
        """Test hook: CARDREPRO_SIGKILL_AFTER_SAVE=N sends SIGKILL to this process right after the
        checkpoint of step N is written (the resume-after-SIGKILL test)."""
        def on_save(self, a, state, control, **kw):
            if os.environ.get("CARDREPRO_SIGKILL_AFTER_SAVE") == str(state.global_step):
                import signal
                os.kill(os.getpid(), signal.SIGKILL)

    trainer = Trainer(model=model, args=args, train_dataset=train_rows, eval_dataset=val_rows or None,
                      data_collator=collator, processing_class=tokenizer, callbacks=[Metrics(), KillHook()])
    average_loss_per_micro_batch(trainer)
    quiet_progress(trainer)
    t_train = time.time()
    trainer.train(resume_from_checkpoint=resume_ckpt)
    train_s = time.time() - t_train
    eval_loss = None
    if val_rows:
        eval_loss = trainer.evaluate().get("eval_loss")
    final = run_dir / "final"
    trainer.save_model(str(final))
    if rank == 0:
        final_mod.save_tokenizer(tokenizer, project, final)
    frozen_ok = None
    if frozen_before is not None:
        after = dict(trainer.model.named_parameters())
        frozen_ok = all(torch.equal(v, after[n].detach()) for n, v in frozen_before.items() if n in after)
    if rank == 0:
        summary = finish(run_dir, cfg, mode, t0, train_s, collator.tokens, total, trainable, model, frozen_ok, eval_loss, world)
        for k, v in summary.items():
            say(f"  {k}: {v}")
        for line in console.where_files_are(run_dir, final):
            say(line)
    if world > 1 and torch.distributed.is_initialized():
        torch.distributed.barrier()
    return 0


def quiet_warnings():
    import logging
    import warnings
    warnings.filterwarnings("ignore", message=".*MatMul8bitLt.*")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*pin_memory.*")
    logging.getLogger("DeepSpeed").setLevel(logging.WARNING)
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)


def quiet_progress(trainer):
    """Keep tqdm's bar; a line per logging step (step, loss, lr) instead of every log dict (metrics.jsonl has them)."""
    console.progress_callback(trainer)


def finish(run_dir, cfg, mode, t0, train_s, tokens, total, trainable, model, frozen_ok, eval_loss, world):
    recs = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines() if l.strip()]
    losses = [r["loss"] for r in recs if "loss" in r]
    plot(run_dir, recs)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    first5 = sum(losses[:5]) / max(1, len(losses[:5]))
    last5 = sum(losses[-5:]) / max(1, len(losses[-5:]))
    summary = {
        "name": cfg["name"], "mode": mode, "steps": len(losses), "world_size": world,
        "loss_first5": round(first5, 4), "loss_last5": round(last5, 4), "final_loss": losses[-1] if losses else None,
        "eval_loss": eval_loss, "params_total": total, "params_trainable": trainable,
        "adapter_only": all("lora_" in n for n in names) if cfg.get("peft") else None,
        "frozen_params_unchanged": frozen_ok,
        "train_seconds": round(train_s, 2), "wall_seconds": round(time.time() - t0, 2),
        "tokens_per_second_rank0": round(tokens / train_s, 1) if train_s > 0 else None,
        "run_dir": str(run_dir),
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\nsummary ({cfg['name']}, {mode}): loss {first5:.3f} -> {last5:.3f} over {len(losses)} steps, "
          f"{trainable:,}/{total:,} params trained, {summary['wall_seconds']} s", flush=True)
    return summary


def plot(run_dir, recs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    tr = [(r["step"], r["loss"]) for r in recs if "loss" in r]
    ev = [(r["step"], r["eval_loss"]) for r in recs if "eval_loss" in r]
    if tr:
        ax.plot(*zip(*tr), label="train loss")
    if ev:
        ax.plot(*zip(*ev), "o-", label="eval loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(run_dir / "loss.png", dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
