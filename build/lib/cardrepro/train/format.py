"""Render a dialogue in exactly the card's prompt format, tokenize it segment by segment, and build
the loss mask.

A dialogue becomes segments (text, role, part): for each turn prefix / text / suffix from the
config's `prompt` fields. Segments are tokenized one by one (no special tokens added) and the ids
concatenated, so the prompt `infer` builds is token-identical to the training rendering up to the
assistant prefix, by construction. Where prefixes/suffixes are special tokens (the OA formats)
this equals tokenizing the whole string.

Masks ("trained" = the token is a loss target):
  oa         Open-Assistant's counter rule on role-token ids (counter += 1 at every user/assistant
             prefix token; tokens while the counter is odd are trained), except that role tokens
             themselves and tokens before the first role token are never targets (upstream trains
             the next `<|prompter|>` and a leading BOS; see docs/trainer.md).
  assistant  segment rule: assistant text and assistant suffix trained, everything else not.
Both train exactly: every assistant turn's text and its closing text (assistant_suffix, or eos
when the format has none).
"""
from dataclasses import dataclass, field

IGNORE = -100


@dataclass
class Rendered:
    input_ids: list
    trained: list                    # bool per token: is this token a loss target
    seg_of: list                     # per token: index into segments
    segments: list = field(default_factory=list)   # (text, role, part, turn)


def closing_text(prompt, eos_token):
    return prompt.get("assistant_suffix") or eos_token


def segments(messages, prompt, eos_token, add_generation_prompt=False):
    """[(text, role, part, turn)] for a dialogue; with add_generation_prompt a bare assistant prefix
    is appended (the inference prompt)."""
    out = []
    for turn, m in enumerate(messages):
        role = m["role"]
        key = {"user": "user", "assistant": "assistant", "system": "system"}[role]
        prefix = prompt.get(f"{key}_prefix") or ""
        suffix = closing_text(prompt, eos_token) if role == "assistant" else (prompt.get(f"{key}_suffix") or "")
        if prefix:
            out.append((prefix, role, "prefix", turn))
        out.append((m["content"], role, "text", turn))
        if suffix:
            out.append((suffix, role, "suffix", turn))
    if add_generation_prompt:
        out.append((prompt["assistant_prefix"], "assistant", "prefix", len(messages)))
    return out


def encode(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"] if text else []


def render(tokenizer, messages, prompt, eos_token, masking="oa", add_generation_prompt=False, add_bos=False):
    segs = segments(messages, prompt, eos_token, add_generation_prompt)
    ids, seg_of = [], []
    if add_bos and tokenizer.bos_token_id is not None:
        ids.append(tokenizer.bos_token_id)
        seg_of.append(-1)
    for k, (text, _, _, _) in enumerate(segs):
        t = encode(tokenizer, text)
        ids.extend(t)
        seg_of.extend([k] * len(t))
    if masking == "oa":
        trained = _oa_mask(tokenizer, ids, prompt)
    else:
        trained = [k >= 0 and segs[k][1] == "assistant" and segs[k][2] in ("text", "suffix") for k in seg_of]
    return Rendered(ids, trained, seg_of, segs)


def _oa_mask(tokenizer, ids, prompt):
    """OA label_masking: counter starts at -1, +1 at every role token; a token is an *input* whose
    next token is a target while the counter is odd. Returned as 'target' flags per position."""
    role_ids = set()
    for key in ("user_prefix", "assistant_prefix"):
        t = encode(tokenizer, prompt.get(key) or "")
        if len(t) == 1:
            role_ids.add(t[0])
    counter, started = -1, False
    input_mask = []
    for t in ids:
        if t in role_ids:
            counter += 1
            started = True
        input_mask.append(started and counter % 2 == 1)
    input_mask[-1:] = [False] if input_mask else []        # OA: last token of a row never an input
    trained = [False] * len(ids)
    for t in range(len(ids) - 1):
        if input_mask[t] and ids[t + 1] not in role_ids:
            trained[t + 1] = True
    return trained


def labels(r):
    return [tok if m else IGNORE for tok, m in zip(r.input_ids, r.trained)]


def check_assistant_trained(r):
    """Problems: assistant turns whose text or closing text has no trained token."""
    problems = []
    for k, (text, role, part, turn) in enumerate(r.segments):
        if role != "assistant" or part not in ("text", "suffix"):
            continue
        flags = [m for s, m in zip(r.seg_of, r.trained) if s == k]
        if part == "suffix" and flags and not all(flags):
            problems.append(f"assistant turn {turn}: closing text {text!r} is not fully trained")
        elif flags and not any(flags):
            what = "closing text" if part == "suffix" else "text"
            problems.append(f"assistant turn {turn}: {what} is never trained")
    return problems
