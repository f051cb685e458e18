"""One loader per record format. Each turns raw records (dicts, as read from a sample jsonl or a
hub copy) into conversations: {"messages": [{"role", "content"}], "group": key}.
`group` keeps records that must not be split across train/val together (an OA message tree).
Behaviour follows Open-Assistant's SLM-era loaders (docs/reference/oa-trainer-sft.md §3)."""
import random
import re

USER, ASSISTANT = "user", "assistant"


def _conv(pairs, group):
    msgs = [{"role": USER if i % 2 == 0 else ASSISTANT, "content": t} for i, t in enumerate(pairs)]
    return {"messages": msgs, "group": group}


# ------------------------------------------------------------------ OA message-tree export
def _threads(node, prefix):
    """All root->leaf threads of a message tree (lists of message dicts)."""
    path = prefix + [node]
    replies = node.get("replies") or []
    if not replies:
        return [path]
    out = []
    for child in replies:
        out.extend(_threads(child, path))
    return out


def oasst_tree(records, options):
    """Keep trees that are ready_for_export, whose prompt passed review and whose prompt language is
    in `lang` (comma list, default "en"); every root->leaf thread, dropping threads with deleted or
    synthetic messages; a trailing prompter message is popped so threads end on an assistant turn.
    `top_k`: drop threads with an assistant reply of rank >= top_k."""
    langs = {x.strip() for x in str(options.get("lang", "en")).split(",") if x.strip()}
    top_k = options.get("top_k")
    out = []
    for tree in records:
        prompt = tree.get("prompt")
        if not prompt or tree.get("tree_state") != "ready_for_export":
            continue
        if not prompt.get("review_result") or prompt.get("lang") not in langs:
            continue
        gid = tree.get("message_tree_id") or prompt.get("message_id")
        seen = set()
        for thread in _threads(prompt, []):
            if any(m.get("deleted") or m.get("synthetic") for m in thread):
                continue
            if thread[-1].get("role") == "prompter":
                thread = thread[:-1]
            if len(thread) < 2:
                continue
            if top_k is not None and any(m.get("role") == "assistant" and m.get("rank") is not None
                                         and m["rank"] >= top_k for m in thread):
                continue
            key = tuple(m.get("message_id") for m in thread)
            if key in seen:      # popping a prompter leaf can make two threads equal
                continue
            seen.add(key)
            out.append(_conv([m["text"] for m in thread], gid))
    return out


# ------------------------------------------------------------------ ShareGPT (vicuna)
def sharegpt(records, options):
    """Skip empty conversations and those opening with `gpt`; join consecutive messages of one
    speaker with a newline; un-escape `\\_` / `\\*`; truncate each message to input_max_length chars."""
    max_chars = int(options.get("input_max_length", 2048))
    out = []
    for i, rec in enumerate(records):
        conv = rec.get("conversations") or []
        if not conv or conv[0].get("from") != "human":
            continue
        turns = []
        for msg in conv:
            speaker = "human" if msg.get("from") in ("human", "user") else "gpt"
            text = (msg.get("value") or "").replace("\\_", "_").replace("\\*", "*")
            if turns and turns[-1][0] == speaker:
                turns[-1][1] += "\n" + text
            else:
                turns.append([speaker, text])
        if turns[-1][0] == "human":
            turns.pop()
        texts = [t[:max_chars] for _, t in turns]
        if len(texts) < 2 or any(not t.strip() for t in texts[1::2]):
            continue
        out.append(_conv(texts, rec.get("id", i)))
    return out


# ------------------------------------------------------------------ INSTRUCTION / RESPONSE
_CITATION = re.compile(r"\[(?:\d+|[a-z]|citation needed)\]")


def instruction_response(records, options):
    """(instruction, response); for dolly a non-empty METADATA.CONTEXT (citations stripped) is put
    in front of the instruction, as OA's SLM-era DatabricksDolly15k did."""
    max_chars = int(options.get("input_max_length", 2048))
    out = []
    for i, rec in enumerate(records):
        q, a = rec.get("INSTRUCTION") or "", rec.get("RESPONSE") or ""
        meta = rec.get("METADATA") or {}
        ctx = meta.get("CONTEXT") if isinstance(meta, dict) else None
        if ctx:
            q = _CITATION.sub("", ctx).strip() + " " + q
        if q.strip() and a.strip():
            out.append(_conv([q[:max_chars], a[:max_chars]], i))
    return out


# ------------------------------------------------------------------ instruction / input / output
def instruction_input_output(records, options):
    """question = instruction (+ "\\n" + input when non-empty); rows mentioning "openai" are dropped
    when drop_openai is set (OA's alpaca/code_alpaca loader)."""
    drop = options.get("drop_openai", False)
    out = []
    for i, rec in enumerate(records):
        q = rec.get("instruction") or ""
        if rec.get("input"):
            q += "\n" + rec["input"]
        a = rec.get("output") or ""
        if drop and "openai" in (q + a).lower():
            continue
        if q.strip() and a.strip():
            out.append(_conv([q, a], i))
    return out


# ------------------------------------------------------------------ translation pairs
TRANSLATION_PROMPT = {  # cardrepro's own templates, keyed by target language ("{}" = source text)
    "en": ["Translate into English: {}", "What is this in English? {}", "{}\nTranslate the text above into English."],
    "zh": ["翻译成中文:{}", "请把下面这句话翻译成中文:{}", "{}\n这句话用中文怎么说?"],
    "ja": ["日本語に翻訳してください:{}", "次の文を日本語に訳してください:{}", "{}\nこれを日本語で言うと?"],
    "de": ["Übersetze ins Deutsche: {}", "{}\nWie heißt das auf Deutsch?"],
}
MIX_PROB = 0.2


def translation(records, options):
    """Each row {"translation": {a: x, b: y}} becomes one (prompt, translation) pair: direction a->b or
    b->a with probability 0.5, prompt a template of the target language. OA's pair mixing (p=0.2,
    indices 6..len-6, prepend a neighbouring pair) raises TypeError upstream; cardrepro implements
    the intended behaviour: the previous pair becomes an earlier dialogue turn (4 messages).
    `mix: false` turns it off. Deterministic: seeded by `seed` (default 0)."""
    rng = random.Random(options.get("seed", 0))
    langs = options.get("languages")
    pairs = []
    for rec in records:
        tr = rec.get("translation") or {}
        keys = list(langs) if langs else list(tr)
        if len(keys) != 2 or not all(tr.get(k) for k in keys):
            continue
        src, tgt = keys if rng.random() < 0.5 else keys[::-1]
        tmpl = rng.choice(TRANSLATION_PROMPT.get(tgt, TRANSLATION_PROMPT["en"]))
        pairs.append([tmpl.format(tr[src].strip()), tr[tgt].strip()])
    out = []
    for i, pair in enumerate(pairs):
        texts = pair
        if options.get("mix", True) and 6 <= i < len(pairs) - 6 and rng.random() < MIX_PROB:
            texts = pairs[i - 1] + pair
        out.append(_conv(texts, i))
    return out


# ------------------------------------------------------------------ small QA formats
def joke_explanation(records, options):
    return [_conv([r["joke"], r["explaination"]], i) for i, r in enumerate(records)
            if r.get("joke") and r.get("explaination")]


def question_answer(records, options):
    return [_conv([r["question"], r["answer"]], i) for i, r in enumerate(records)
            if r.get("question") and r.get("answer")]


_REF = re.compile(r"\s*\[\d+(?:,\s*\d+)*\]")


def webgpt_comparisons(records, options):
    """Group comparisons by question; the answer with the highest score wins (first on ties);
    `[n]` references stripped. One (question, best answer) per question."""
    best = {}
    for rec in records:
        q = (rec.get("question") or {}).get("full_text", "").strip()
        for k in (0, 1):
            ans = _REF.sub("", rec.get(f"answer_{k}") or "").strip()
            score = rec.get(f"score_{k}", 0.0)
            if q and ans and (q not in best or score > best[q][0]):
                best[q] = (score, ans)
    return [_conv([q, a], i) for i, (q, (_, a)) in enumerate(best.items())]


_TURN = re.compile(r"(human|assistant):", re.IGNORECASE)


def text_dialogue(records, options):
    """Plain text with inline speaker markers: {"text": "human:...assistant:...end"} (bloomz-mona).
    The trailing end marker (`end_marker`, default "end") is the data's own turn terminator; it is
    stripped here and put back by the prompt format as the assistant suffix."""
    end = options.get("end_marker", "end")
    out = []
    for i, rec in enumerate(records):
        parts = _TURN.split(rec.get("text") or "")
        turns = [(parts[j].lower(), parts[j + 1]) for j in range(1, len(parts) - 1, 2)]
        texts = []
        for who, text in turns:
            text = text.strip()
            if who == "assistant" and end and text.endswith(end):
                text = text[: -len(end)].rstrip()
            texts.append(text)
        roles = [w for w, _ in turns]
        if len(texts) >= 2 and roles[0] == "human" and all(r == ("human", "assistant")[k % 2] for k, r in enumerate(roles)):
            if roles[-1] == "human":
                texts.pop()
            out.append(_conv(texts, i))
    return out


# ------------------------------------------------------------------ role-tagged message lists
def chat_messages(records, options):
    """{"messages": [{"role", "content"}]} (UltraChat-200k): system turns kept, a trailing user turn
    dropped so a dialogue ends on an assistant turn; dialogues with an empty assistant turn skipped."""
    out = []
    for i, rec in enumerate(records):
        msgs = [{"role": m.get("role"), "content": m.get("content") or ""} for m in rec.get("messages") or []]
        if msgs and msgs[-1]["role"] == USER:
            msgs.pop()
        if not any(m["role"] == ASSISTANT for m in msgs) or any(m["role"] == ASSISTANT and not m["content"].strip() for m in msgs):
            continue
        out.append({"messages": msgs, "group": rec.get("prompt_id", i)})
    return out


LOADERS = {
    "chat_messages": chat_messages,
    "oasst_tree": oasst_tree,
    "sharegpt": sharegpt,
    "instruction_response": instruction_response,
    "instruction_input_output": instruction_input_output,
    "translation": translation,
    "joke_explanation": joke_explanation,
    "question_answer": question_answer,
    "webgpt_comparisons": webgpt_comparisons,
    "text_dialogue": text_dialogue,
}
