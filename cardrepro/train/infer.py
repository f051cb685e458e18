"""Inference: the same rendering as training up to the assistant prefix, the card's generation
settings, stop at the assistant suffix (its closing text)."""
from pathlib import Path

from cardrepro.errors import CardError
from cardrepro.train import config as config_mod
from cardrepro.train import final as final_mod
from cardrepro.train import format as fmt
from cardrepro.train import rows

GEN_KEYS = ("max_new_tokens", "do_sample", "top_p", "top_k", "temperature", "repetition_penalty", "num_beams")


def prompt_ids(tokenizer, cfg, messages):
    """Token ids of the dialogue so far followed by a bare assistant prefix."""
    r = fmt.render(tokenizer, messages, cfg["prompt"], cfg["tokenizer"]["eos_token"], masking=cfg.get("masking", "oa"),
                   add_generation_prompt=True, add_bos=rows.add_bos(cfg))
    return r.input_ids


def find_checkpoint(project, checkpoint):
    if checkpoint:
        p = Path(checkpoint)
        if not p.is_dir():
            raise CardError(p, None, "checkpoint folder not found")
        return p
    for mode in ("smoke", "full"):
        p = Path(project) / "runs" / mode / "final"
        if p.is_dir():
            return p
    raise CardError(Path(project) / "runs", None, "no trained checkpoint: run `cardrepro run PROJECT --smoke` first or pass --checkpoint")


def released_model(cfg):
    """(hub id or folder, revision) of the released model the card names (train_config.json inference.model)."""
    inference = cfg.get("inference") or {}
    if not inference.get("model"):
        raise CardError(cfg["_path"], config_mod.line_of(cfg, "inference"),
                        "the card names no released model (inference.model): train one with `cardrepro run`")
    return inference["model"], inference.get("revision")


def load_released(name, revision):
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name, revision=revision)
    model = AutoModelForCausalLM.from_pretrained(name, revision=revision)
    model.eval()
    return tokenizer, model


def load(cfg, ckpt, project=None):
    import warnings

    import torch
    import logging
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(ckpt))
    if final_mod.is_adapter(ckpt):
        from peft import PeftModel
        from cardrepro.train.model import load_base
        base_path = final_mod.adapter_base(ckpt, project)
        base, _ = load_base(cfg, base_path, tokenizer, None, not torch.cuda.is_available())
        model = PeftModel.from_pretrained(base, str(ckpt))
    else:
        model = AutoModelForCausalLM.from_pretrained(str(ckpt))
    model.eval()
    return tokenizer, model


def generate(tokenizer, model, cfg, messages, max_new_tokens=None, seed=0):
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    ids = prompt_ids(tokenizer, cfg, messages)
    stop = fmt.closing_text(cfg["prompt"], cfg["tokenizer"]["eos_token"])
    stop_ids = fmt.encode(tokenizer, stop)

    class StopAtSuffix(StoppingCriteria):
        def __call__(self, input_ids, scores, **kw):
            n = len(stop_ids)
            return bool(n and input_ids.shape[1] >= len(ids) + n and input_ids[0, -n:].tolist() == stop_ids)

    gen = {k: v for k, v in (cfg.get("generation") or {}).items() if k in GEN_KEYS and v is not None}
    if max_new_tokens is not None:
        gen["max_new_tokens"] = max_new_tokens
    gen.setdefault("max_new_tokens", 128)
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                             stopping_criteria=StoppingCriteriaList([StopAtSuffix()]),
                             eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **gen)
    new = out[0, len(ids):].tolist()
    if stop_ids and new[-len(stop_ids):] == stop_ids:
        new = new[: -len(stop_ids)]
    return tokenizer.decode(new, skip_special_tokens=False)


def main(project, checkpoint, prompt, max_new_tokens=None, seed=0, echo=print, read=input, released=False):
    cfg, project = config_mod.load(project)
    if released:
        ckpt, revision = released_model(cfg)
        tokenizer, model = load_released(ckpt, revision)
    else:
        ckpt = find_checkpoint(project, checkpoint)
        tokenizer, model = load(cfg, ckpt, project)
    if prompt is not None:
        echo(generate(tokenizer, model, cfg, [{"role": "user", "content": prompt}], max_new_tokens, seed))
        return 0
    echo(f"{cfg['name']} ({ckpt}); empty line or Ctrl-D to quit, /reset to start over")
    history = []
    while True:
        try:
            line = read("> ")
        except EOFError:
            break
        if not line.strip():
            break
        if line.strip() == "/reset":
            history = []
            continue
        history.append({"role": "user", "content": line})
        answer = generate(tokenizer, model, cfg, history, max_new_tokens, seed)
        history.append({"role": "assistant", "content": answer})
        echo(answer)
    return 0
