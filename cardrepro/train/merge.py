"""What `cardrepro merge RUN` (and `cardrepro run --merge`) do: a LoRA run's adapter merged into its base model,
saved as a plain model folder (from_pretrained, no PEFT needed) with the tokenizer of final/ (the
card's chat template). The base is loaded unquantized at its stored precision: merging into 8-bit
weights would round the adapter's update away."""
import os
from pathlib import Path

from cardrepro.errors import CardError
from cardrepro.train import final as final_mod

PROJECT_DEPTH = 3    # final/ -> run folder -> runs/ -> project: how far up a run's project is looked for


def adapter_folder(run_dir):
    """The adapter folder of a run: RUN itself or RUN/final."""
    run_dir = Path(run_dir)
    for folder in (run_dir, run_dir / "final"):
        if final_mod.is_adapter(folder):
            return folder
    raise CardError(run_dir, None, "no LoRA adapter here (adapter_config.json in RUN or RUN/final): "
                                   "only a LoRA run can be merged")


def project_of(adapter_dir):
    """The built project a run folder lies in (the default PROJECT/runs/<mode>), else None."""
    for parent in list(Path(adapter_dir).resolve().parents)[:PROJECT_DEPTH]:
        if (parent / "train_config.json").is_file():
            return parent
    return None


def merged_model(adapter_dir, project=None):
    """(merged model, tokenizer) of an adapter folder."""
    import warnings

    import torch
    warnings.filterwarnings("ignore", category=FutureWarning)
    from peft import PeftModel
    from transformers import AutoTokenizer

    from cardrepro.train import config as config_mod
    from cardrepro.train import model as model_mod

    cfg = config_mod.load(project)[0] if project else {"tokenizer": {}}
    tokenizer = AutoTokenizer.from_pretrained(str(adapter_dir))
    base, _ = model_mod.load_base({**cfg, "quantization": None}, final_mod.adapter_base(adapter_dir, project),
                                  tokenizer, "auto", not torch.cuda.is_available())
    model = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    model.eval()
    return model, tokenizer


def merge_run(run_dir, output=None):
    """Merge RUN's adapter into its base; writes output (default RUN/merged) and returns its path."""
    adapter = adapter_folder(run_dir)
    out = Path(output) if output else adapter.parent / "merged"
    refuse_foreign_folder(out)
    model, tokenizer = merged_model(adapter, project_of(adapter))
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def refuse_foreign_folder(out):
    """A merge rewrites only an empty folder or an earlier merged model (one holding config.json)."""
    if os.path.lexists(out) and not out.is_dir():
        raise CardError(out, None, "exists and is not a folder; refusing to replace it")
    if out.is_dir() and any(out.iterdir()) and not (out / "config.json").is_file():
        raise CardError(out, None, "folder is not empty and holds no model (config.json); choose a new or empty folder")
