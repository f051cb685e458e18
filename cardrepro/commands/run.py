"""`cardrepro run` and `cardrepro infer`. Heavy imports stay inside the command bodies."""
import os
import sys

import click

from cardrepro.errors import CardError


@click.command(help="Train a built project: the tiny embedded default (--smoke, CPU, offline) or the card's real run (--full).")
@click.argument("project_dir", type=click.Path())
@click.option("--smoke/--full", "smoke", default=True, help="tiny offline model and samples (default) or the card's base model and datasets")
@click.option("--nproc", type=int, default=1, show_default=True, help="processes (torchrun + gloo on CPU)")
@click.option("--max-steps", type=int, default=None, help="stop after N optimizer steps")
@click.option("--resume", is_flag=True, help="continue from the last checkpoint in the run folder")
@click.option("--dry-run", is_flag=True, help="print one formatted sample with trained tokens marked; no training")
@click.option("--output", type=click.Path(), default=None, help="run folder (default PROJECT_DIR/runs/<smoke|full>)")
@click.option("--packing", is_flag=True, help="padding-free batching: samples concatenated, each attending only to itself (same losses, less padding)")
@click.option("--report-to", default=None, help="with --full: tensorboard and/or wandb (comma-separated), as TrainingArguments(report_to=...); the smoke run logs locally")
@click.option("--merge", "merge_adapter", is_flag=True, help="after a LoRA run: merge the adapter into its base (RUN/merged), as `cardrepro merge RUN`")
@click.option("--save-steps", type=int, default=None, hidden=True)
@click.option("--zero-stage", type=click.Choice(["2", "3"]), default=None, hidden=True)
def run(project_dir, smoke, nproc, max_steps, resume, dry_run, output, packing, report_to, merge_adapter, save_steps, zero_stage):
    _env()
    report_to = report_targets(report_to, smoke)
    for option, value in (("--nproc", nproc), ("--max-steps", max_steps), ("--save-steps", save_steps)):
        require_positive(option, value)
    mode = "smoke" if smoke else "full"
    if dry_run:
        from cardrepro.train import dryrun
        sys.exit(dryrun.main(project_dir, mode))
    from cardrepro.train import config as config_mod
    from cardrepro.train import train

    cfg, project = config_mod.load(project_dir)
    if merge_adapter and not cfg.get("peft"):
        raise CardError(project / "train_config.json", None, "--merge: this project trains no LoRA adapter (no peft section)")
    run_dir = train.run_dir_for(project, mode, output)
    train.claim_run_dir(run_dir, project, cfg["name"], mode)
    opts = {"project": str(project), "mode": mode, "max_steps": max_steps, "resume": resume,
            "output": str(run_dir), "save_steps": save_steps, "packing": packing, "report_to": report_to, "zero_stage": int(zero_stage) if zero_stage else None}
    if cfg.get("stages"):    # a preference card: its stages in order (TRL for the preference stage)
        from cardrepro.train import stages
        stages.refuse_unsupported(cfg, {**opts, "nproc": nproc})
    if mode == "smoke" and nproc > 1:   # build the tokenizer and tiny model once, before the workers start
        train.prepare_data(cfg, project, mode, [])
    opts["resume_ckpt"] = train.plan_run_dir(run_dir, resume)
    train.mark_run_dir(run_dir, cfg["name"], mode)
    if train.finished_already(opts, cfg):
        sys.exit(0)
    rc = train_project(cfg, opts, nproc, zero_stage)
    if rc == 0 and merge_adapter:
        from cardrepro.train import merge
        click.echo(f"merged model: {merge.merge_run(run_dir)}")
    sys.exit(rc)


def train_project(cfg, opts, nproc, zero_stage):
    """The run's exit status: a staged project's stages, one process in this one, or N launched."""
    from cardrepro.train import train
    if cfg.get("stages"):
        from cardrepro.train import stages
        return stages.main(opts)
    if nproc == 1:
        return train.main(opts)
    import torch
    from cardrepro.train import launch
    return launch.run_multi(nproc, opts, torch.cuda.is_available(), bool(cfg.get("deepspeed") or zero_stage))


def report_targets(value, smoke):
    """--report-to as TrainingArguments' report_to list; only a full run reports, and only to an
    integration whose package is installed (imported by the HF Trainer, never here)."""
    if value is None:
        return []
    if smoke:
        raise CardError("--report-to", None, "only with --full: the smoke run keeps its logs local (metrics.jsonl, loss.png)")
    from importlib.util import find_spec

    from cardrepro import data
    packages = data.load("report_to")
    names = [n.strip() for n in value.split(",") if n.strip() and n.strip() != "none"]
    for name in names:
        if name not in packages:
            raise CardError("--report-to", None, f"unknown integration {name!r} (choose from {', '.join(packages)})")
        if not any(find_spec(p) for p in packages[name]):
            raise CardError("--report-to", None, f"{name} is not installed: pip install {packages[name][0]}")
    return names


@click.command(help="Answer a prompt with a trained project, in the card's prompt format (interactive without --prompt).")
@click.argument("project_dir", type=click.Path())
@click.option("--checkpoint", type=click.Path(), default=None, help="model or adapter folder (default: the last run's final/)")
@click.option("--prompt", default=None, help="one user message; omit for an interactive session")
@click.option("--max-new-tokens", type=int, default=None, help="override the card's max_new_tokens")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--released", is_flag=True, help="the released model the card names (inference.model), not a trained run")
def infer(project_dir, checkpoint, prompt, max_new_tokens, seed, released):
    _env()
    require_positive("--max-new-tokens", max_new_tokens)
    if released and checkpoint:
        raise CardError("--released", None, "give either --released or --checkpoint, not both")
    from cardrepro.train import infer as infer_mod
    sys.exit(infer_mod.main(project_dir, checkpoint, prompt, max_new_tokens, seed, released=released))


def require_positive(option, value):
    """An integer option, when given, must be >= 1 (0 or a negative count is bad input: exit 2)."""
    if value is not None and value < 1:
        raise CardError(option, None, f"must be a positive integer (got {value})")


def _env():
    os.environ.setdefault("DS_ACCELERATOR", "cpu")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
