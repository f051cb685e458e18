"""Which `checkpoint-N/` of a run folder `--resume` may continue from.

The HF Trainer writes a checkpoint in place: the model, then the optimizer, scheduler and RNG state
(DeepSpeed: `global_stepN/` and `latest`), and `trainer_state.json` last. A SIGKILL or a full disk
part-way leaves a folder without a readable `trainer_state.json` (or without weights): resuming
from it fails, so such a checkpoint is skipped and the previous complete one is used."""
import json
import re
import shutil
from pathlib import Path

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json",
           "adapter_model.safetensors", "adapter_model.bin")


def numbered(run_dir):
    """[(step, folder)] of the run folder's checkpoint-N folders, newest first."""
    found = [(int(m.group(1)), p) for p in Path(run_dir).iterdir() if p.is_dir() and (m := CHECKPOINT_RE.match(p.name))]
    return sorted(found, reverse=True)


def trainer_state(ckpt):
    """The checkpoint's trainer_state.json as a dict, or None when missing or unreadable."""
    try:
        state = json.loads((Path(ckpt) / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return state if isinstance(state, dict) else None


def incomplete_reason(ckpt, step):
    """Why checkpoint-STEP cannot be resumed from, or None when it is complete."""
    ckpt = Path(ckpt)
    if not (ckpt / "trainer_state.json").is_file():
        return "no trainer_state.json"
    state = trainer_state(ckpt)
    if state is None:
        return "trainer_state.json is unreadable (cut short)"
    if state.get("global_step") != step:
        return f"trainer_state.json is for step {state.get('global_step')}"
    if not any((ckpt / name).is_file() for name in WEIGHTS):
        return "no model weights"
    return _deepspeed_problem(ckpt)


def _deepspeed_problem(ckpt):
    """A DeepSpeed checkpoint names its state folder in `latest`; that folder must hold model states."""
    latest = ckpt / "latest"
    if not latest.is_file():
        return None
    tag = latest.read_text(encoding="utf-8", errors="replace").strip()
    if not tag or not any((ckpt / tag).glob("*model_states.pt")):
        return f"DeepSpeed state {tag or '(unnamed)'} missing"
    return None


def last_complete(run_dir, say=print):
    """The newest complete checkpoint folder (None when there is none). Newer incomplete ones are
    reported and removed: the resumed run writes those steps again, into clean folders."""
    for step, ckpt in numbered(run_dir):
        reason = incomplete_reason(ckpt, step)
        if reason is None:
            return ckpt
        say(f"--resume: skipping {ckpt.name}: incomplete ({reason}); removing it")
        shutil.rmtree(ckpt)
    return None


def steps_done(ckpt):
    """(global_step, the run's planned max_steps) recorded in a complete checkpoint."""
    state = trainer_state(ckpt) or {}
    return int(state.get("global_step") or 0), int(state.get("max_steps") or 0)


def is_finished(ckpt, target_steps):
    """Whether the checkpoint already reached the run's last step: TARGET_STEPS (--max-steps or the
    smoke profile's), else the max_steps the run itself planned (a full run's epochs)."""
    done, planned = steps_done(ckpt)
    target = target_steps or planned
    return bool(target) and done >= target


TRAINING_STATE = ("trainer_state.json", "training_args.bin", "optimizer.pt", "scheduler.pt", "scaler.pt", "latest")


def copy_model(ckpt, dest):
    """The checkpoint's model (or adapter), config and tokenizer files into DEST, without the
    optimizer, scheduler, RNG and DeepSpeed state."""
    def training_state(folder, names):
        return [n for n in names if n in TRAINING_STATE or n.startswith(("rng_state", "global_step", "zero_to_"))]
    shutil.copytree(ckpt, dest, ignore=training_state)
