"""`cardrepro run` of a project with a `stages` section (a card whose last step is a preference method):
each stage in order, each starting from the one before's final/.

Run folder: the last stage writes where a one-stage run would (RUN/final/ is what `infer` serves);
an earlier stage writes RUN/stage<N>-<method>/ (the SFT stage: the embedded trainer, on the stage's
datasets). A LoRA stage's adapter is merged into its base (RUN/stage<N>-<method>/merged/) for the
next stage to start from."""
from pathlib import Path

from cardrepro.errors import CardError
from cardrepro.train import config as config_mod
from cardrepro.train import preference
from cardrepro.train import train as train_mod

UNSUPPORTED = (("nproc", "--nproc above 1"), ("packing", "--packing"), ("resume", "--resume"))


def refuse_unsupported(cfg, opts):
    for key, option in UNSUPPORTED:
        if opts.get(key) and not (key == "nproc" and int(opts[key]) <= 1):
            raise CardError(cfg["_path"], config_mod.line_of(cfg, "stages"),
                            f"{option} is not supported for a project with preference stages (one process, from the start)")


def main(opts):
    """opts as train.main takes them (project, mode, max_steps, output, ...)."""
    cfg, project = config_mod.load(opts["project"])
    refuse_unsupported(cfg, opts)
    run_dir = Path(opts["output"])
    init = None
    for i, stage in enumerate(cfg["stages"]):
        last = i == len(cfg["stages"]) - 1
        out = run_dir if last else run_dir / f"stage{i + 1}-{stage['method']}"
        start = init if stage["init"] == "previous_stage" else None
        if stage["method"] == "sft":
            rc = train_mod.main({**opts, "output": str(out), "resume_ckpt": None, "datasets": stage["datasets"]})
            if rc:
                return rc
        else:
            preference.run_stage(cfg, project, stage, opts["mode"], opts, out, start)
        init = start_from(cfg, out / "final")
    return 0


def start_from(cfg, final):
    """The folder the next stage loads: final/ itself, or a LoRA adapter merged into its base."""
    if not (final / "adapter_config.json").is_file():
        return final
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    merged = final.parent / "merged"
    AutoPeftModelForCausalLM.from_pretrained(str(final)).merge_and_unload().save_pretrained(str(merged))
    AutoTokenizer.from_pretrained(str(final)).save_pretrained(str(merged))
    return merged
