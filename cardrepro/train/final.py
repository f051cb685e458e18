"""A run's final/ folder: the model (or the LoRA adapter alone, in PEFT's format) and the tokenizer
carrying the card's chat template, so `apply_chat_template` renders the card's prompt."""
import json
from pathlib import Path

CHAT_TEMPLATE = "chat_template.jinja"    # written by `cardrepro build` (cardrepro/project/chat_template.py)
SMOKE_MODEL = Path("smoke") / "model"    # the tiny base a smoke LoRA run trains on, inside the project


def save_tokenizer(tokenizer, project, folder):
    """Save the tokenizer into folder with the project's chat template (when the build wrote one)."""
    template = Path(project) / CHAT_TEMPLATE
    if template.is_file():
        tokenizer.chat_template = template.read_text(encoding="utf-8")
    tokenizer.save_pretrained(str(folder))


def is_adapter(folder):
    return (Path(folder) / "adapter_config.json").is_file()


def adapter_base(adapter_dir, project=None):
    """The base model an adapter was trained on: the folder or hub id its adapter_config.json names.
    A smoke run's base is the project's smoke/model: a path recorded relative to another working
    folder, or a project moved since, is found there."""
    recorded = json.loads((Path(adapter_dir) / "adapter_config.json").read_text())["base_model_name_or_path"]
    if Path(recorded).is_dir():
        return str(Path(recorded).resolve())
    if project is not None and Path(recorded).parts[-2:] == SMOKE_MODEL.parts and (Path(project) / SMOKE_MODEL).is_dir():
        return str((Path(project) / SMOKE_MODEL).resolve())
    return recorded
