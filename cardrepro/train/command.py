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
@click.option("--save-steps", type=int, default=None, hidden=True)
@click.option("--zero-stage", type=click.Choice(["2", "3"]), default=None, hidden=True)
def run(project_dir, smoke, nproc, max_steps, resume, dry_run, output, packing, save_steps, zero_stage):
    _env()
    for option, value in (("--nproc", nproc), ("--max-steps", max_steps), ("--save-steps", save_steps)):
        require_positive(option, value)
    mode = "smoke" if smoke else "full"
    if dry_run:
        from cardrepro.train import dryrun
        sys.exit(dryrun.main(project_dir, mode))
    from cardrepro.train import config as config_mod
    from cardrepro.train import train

    cfg, project = config_mod.load(project_dir)
    run_dir = train.run_dir_for(project, mode, output)
    train.claim_run_dir(run_dir, project, cfg["name"], mode)
    opts = {"project": str(project), "mode": mode, "max_steps": max_steps, "resume": resume,
            "output": str(run_dir), "save_steps": save_steps, "packing": packing, "zero_stage": int(zero_stage) if zero_stage else None}
    if cfg.get("stages"):    # a preference card: its stages in order (TRL for the preference stage)
        from cardrepro.train import stages
        stages.refuse_unsupported(cfg, {**opts, "nproc": nproc})
    if mode == "smoke" and nproc > 1:   # build the tokenizer and tiny model once, before the workers start
        train.prepare_data(cfg, project, mode, [])
    opts["resume_ckpt"] = train.plan_run_dir(run_dir, resume)
    train.mark_run_dir(run_dir, cfg["name"], mode)
    if train.finished_already(opts, cfg):
        sys.exit(0)
    if cfg.get("stages"):
        sys.exit(stages.main(opts))
    if nproc == 1:
        sys.exit(train.main(opts))
    import torch
    from cardrepro.train import launch
    rc = launch.run_multi(nproc, opts, torch.cuda.is_available(), bool(cfg.get("deepspeed") or zero_stage))
    sys.exit(rc)


@click.command(help="Answer a prompt with a trained project, in the card's prompt format (interactive without --prompt).")
@click.argument("project_dir", type=click.Path())
@click.option("--checkpoint", type=click.Path(), default=None, help="model or adapter folder (default: the last run's final/)")
@click.option("--prompt", default=None, help="one user message; omit for an interactive session")
@click.option("--max-new-tokens", type=int, default=None, help="override the card's max_new_tokens")
@click.option("--seed", type=int, default=0, show_default=True)
def infer(project_dir, checkpoint, prompt, max_new_tokens, seed):
    _env()
    require_positive("--max-new-tokens", max_new_tokens)
    from cardrepro.train import infer as infer_mod
    sys.exit(infer_mod.main(project_dir, checkpoint, prompt, max_new_tokens, seed))


def require_positive(option, value):
    """An integer option, when given, must be >= 1 (0 or a negative count is bad input: exit 2)."""
    if value is not None and value < 1:
        raise CardError(option, None, f"must be a positive integer (got {value})")


def _env():
    os.environ.setdefault("DS_ACCELERATOR", "cpu")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
