"""What a run prints as it goes: the one-time DeepSpeed op compile, a line per logging step (step, loss,
learning rate) beside the progress bar, and where the run's files are at the end."""
from pathlib import Path

SHM_COMM_OP = "deepspeed_shm_comm"    # the op DeepSpeed's CPU accelerator JIT-compiles at its first init


def ds_op_built(name=SHM_COMM_OP):
    """Is DeepSpeed's CPU op already compiled in TORCH_EXTENSIONS_DIR (torch's default root when unset)?"""
    from torch.utils.cpp_extension import _get_build_directory
    return (Path(_get_build_directory(name, verbose=False)) / f"{name}.so").is_file()


def announce_ds_compile(say):
    if not ds_op_built():
        say("compiling DeepSpeed's CPU ops once (about 1-2 minutes) ...")


def _number(value):
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def step_line(step, max_steps, logs):
    """One parseable line per logging step: 'step 3/30  loss 4.1234  lr 0.003' (eval: eval_loss)."""
    parts = [f"step {step}/{max_steps}" if max_steps else f"step {step}"]
    if "loss" in logs:
        parts.append(f"loss {_number(logs['loss'])}")
    if "learning_rate" in logs:
        parts.append(f"lr {logs['learning_rate']:.3g}")
    if "eval_loss" in logs:
        parts.append(f"eval_loss {_number(logs['eval_loss'])}")
    return "  ".join(parts) if len(parts) > 1 else None


def progress_callback(trainer):
    """Replace the HF Trainer's progress bar with one that prints step_line above the bar instead of
    every log dict (metrics.jsonl holds those)."""
    from transformers.trainer_callback import ProgressCallback

    class Bar(ProgressCallback):
        def on_log(self, args, state, control, logs=None, **kw):
            line = step_line(state.global_step, state.max_steps, logs or {}) if state.is_world_process_zero else None
            if line is None:
                return
            if self.training_bar is not None:
                self.training_bar.write(line)
            else:
                print(line, flush=True)

    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(Bar())


def where_files_are(run_dir, final):
    """The end of a run: where to look."""
    run_dir, final = Path(run_dir), Path(final)
    kind = "adapter (PEFT)" if (final / "adapter_config.json").is_file() else "model"
    return [f"loss plot: {run_dir / 'loss.png'}", f"metrics: {run_dir / 'metrics.jsonl'}",
            f"final {kind}: {final} (from_pretrained; tokenizer with the card's chat template)"]
