"""Training stages the card describes (continual pre-training, SFT, RM + PPO), with what it says
of each, and the datasets of a mix stated in prose (bullets, names)."""
import bisect
import functools
import re

from cardrepro import data, memo
from cardrepro.extract.facts import Fact
from cardrepro.extract.util import joined_lines, line_indices, norm_dtype, number, prose_lines, prose_lines_holding, search_lines

_GPU_PATTERNS = [
    r"(?P<n>\d+)\s*(?:張|张|块|塊)\s*(?P<mem>\d+)\s*G(?:B)?\s*的?\s*(?P<gpu>{gpus})",
    r"(?P<n>\d+)\s+(?P<mem>\d+)\s*GB\s+(?P<gpu>{gpus})",
    r"(?P<n>\d+)\s+(?P<gpu>{gpus})s?\b(?:[^.。]*?(?P<mem>\d+)\s*GB)?",
    r"(?P<one>一|单|單)\s*[张張块塊]\s*(?P<gpu>{gpus})",
]
_TOKENS = re.compile(r"(?i)(?:train(?:ed)?|訓練|训练)\s*(?:of\s*)?([\d.]+\s*(?:B|billion|M|million))\s*tokens")
_DAYS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:天|days?\b)")
_TFLOPS = re.compile(r"(?i)([\d.]+)\s*TFLOP")
_DTYPE = re.compile(r"(?i)\b(fp\s?16|bf16|fp32|float16|bfloat16)\b")
_BULLET = re.compile(r"^\s*[•·●▪\-\*]\s*(?P<label>[^(（:：]+?)\s*[(（]\s*約?约?\s*(?P<size>[\d.]+\s*[KMB]?)\s*[)）]\s*[:：]\s*(?P<rest>.*)$")


@functools.lru_cache(maxsize=None)
def _gpu_alternation():
    return "|".join(re.escape(g) for g in data.load("training_stages").get("gpus", []))


@functools.lru_cache(maxsize=None)
def _gpu_names():
    return re.compile(_gpu_alternation())


@functools.lru_cache(maxsize=None)
def _gpu_regexes():
    return [re.compile(p.format(gpus=_gpu_alternation())) for p in _GPU_PATTERNS]


def gpu_fact(text):
    if not _gpu_names().search(text):
        return None
    for pat in _gpu_regexes():
        m = pat.search(text)
        if m:
            n = 1 if m.groupdict().get("one") else int(m.group("n"))
            mem = m.groupdict().get("mem")
            return n, m.group("gpu") + (f"-{mem}GB" if mem else ""), m.group(0)
    return None


@functools.lru_cache(maxsize=None)
def _section_words():
    """One regex for the stage headings (group name = method) and one for the section ends."""
    conf = data.load("training_stages")
    heads = "|".join(f"(?P<{m}>" + "|".join(re.escape(w) for w in words) + ")" for m, words in conf["stages"].items())
    ends = "(?:" + "|".join(re.escape(w) for w in conf["section_end"]) + ")$"
    return re.compile(heads), re.compile(ends)


def _sections(doc):
    """[(method, [(no, text), ...])] for cards whose stages have their own sections."""
    heads_re, ends_re = _section_words()
    lines = prose_lines(doc)
    named = set(line_indices(doc, heads_re))  # the lines a stage word stands in; none before the first
    heads = []
    for idx in range(min(named, default=len(lines)), len(lines)):
        no, text = lines[idx]
        if len(text) > 80:
            continue
        low = text.lower().strip()
        if len(low) > 60:
            continue
        m = heads_re.search(low) if idx in named else None
        if m:
            heads.append((idx, m.lastgroup))
        elif heads and ends_re.search(low):
            heads.append((idx, None))
    out = []
    for (i, method), nxt in zip(heads, heads[1:] + [(len(lines), None)]):
        if method:
            out.append((method, lines[i:nxt[0]], lines[i][0]))
    return out if len({m for m, _, _ in out}) >= 2 else []


@functools.lru_cache(maxsize=None)
def _registry_names():
    reg = data.load("datasets") or {}
    out = []
    for name, entry in reg.items():
        if not isinstance(entry, dict):
            continue
        for alias in [name] + list(entry.get("aliases") or []):
            if "/" not in alias and len(alias) >= 4:
                out.append((alias, name))
    out.sort(key=lambda a: len(a[0]), reverse=True)
    return tuple((alias, name, re.compile(r"(?<![A-Za-z0-9_\-])" + re.escape(alias) + r"(?![A-Za-z0-9_\-])"))
                 for alias, name in out)


def prose_datasets(section, facts):
    """Datasets named in bullets like `• 內部收集Code數據(300K):...` or `...:BELLE、Alpaca、Alpaca-GPT4`."""
    conf = data.load("training_stages")
    out = []
    for no, text in section:
        m = _BULLET.match(text)
        if not m:
            continue
        label, size, rest = m.group("label").strip(), m.group("size").replace(" ", ""), m.group("rest")
        internal = any(w in label or w in rest for w in conf["internal_words"])
        names, taken = [], rest
        for alias, name, pat in _registry_names():
            if pat.search(taken):
                names.append(alias)
                taken = taken.replace(alias, " ")
        if names and not internal:
            names.sort(key=rest.find)
            for n in names:
                out.append({"name": n, "options": {"group": label, "group_size": size}, "line": no,
                            "availability_text": None})
        else:
            out.append({"name": label, "options": {"size": size}, "line": no,
                        "availability_text": label if internal else None})
    return out


def extract(doc, facts):
    sections = _sections(doc)
    stages = []
    for method, section, head in sections:
        stage = {"method": method}
        prov = {"method": (head, None)}  # field -> (card line, the text that states it)
        text_lines = section[1:]
        for no, text in text_lines:
            if "num_gpus" not in stage and (g := gpu_fact(text)):
                stage["num_gpus"], stage["gpu"], said = g
                prov["num_gpus"] = prov["gpu"] = (no, said)
            if "dtype" not in stage and (m := _DTYPE.search(text)):
                stage["dtype"] = norm_dtype(m.group(1))
                prov["dtype"] = (no, m.group(0))
            if "tokens" not in stage and (m := _TOKENS.search(text)):
                stage["tokens"] = number(m.group(1).replace(" ", "").replace("billion", "B").replace("million", "M"))
                prov["tokens"] = (no, m.group(0))
            if "duration_days" not in stage and (m := _DAYS.search(text)):
                stage["duration_days"] = number(m.group(1))
                prov["duration_days"] = (no, m.group(0))
            if "tflops_per_gpu" not in stage and (m := _TFLOPS.search(text)):
                stage["tflops_per_gpu"] = number(m.group(1))
                prov["tflops_per_gpu"] = (no, m.group(0))
        if method == "rlhf":
            conf = data.load("training_stages")
            algos = []
            for algo, words in conf["rlhf_algorithms"].items():
                pat = "|".join(rf"\b{re.escape(w)}\b" for w in words)
                hit = next(((no, m.group(0)) for no, t in text_lines if (m := re.search(pat, t))), None)
                if hit:
                    algos.append(algo)
                    prov.setdefault("algorithms", hit)
            if algos:
                stage["algorithms"] = algos
            pat = "(?i)" + "|".join(re.escape(w) for w in conf["internal_framework_words"])
            hit = next(((no, m.group(0)) for no, t in text_lines if (m := re.search(pat, t))), None)
            if hit:
                stage["framework"] = "internal"
                prov["framework"] = hit
        ds = prose_datasets(text_lines, facts)
        if ds:
            stage["datasets"] = [d["name"] for d in ds]
            stage["_datasets"] = ds
            prov["datasets"] = (ds[0]["line"], None)
        stage["_prov"] = prov
        stages.append(stage)
    return stages


def single_stage(doc, facts, method):
    """A card without stage sections: one stage, with the hardware it mentions."""
    stage = {"method": method}
    prov = {}
    for no, text in _gpu_lines(doc):
        g = gpu_fact(text)
        if g:
            stage["num_gpus"], stage["gpu"], said = g
            prov["num_gpus"] = prov["gpu"] = (no, said)
            m = re.search(r"(\d+)\s*(分钟|分鐘|minutes?)", text)
            if m:
                stage["duration_text"] = m.group(0)
                prov["duration_text"] = (no, m.group(0))
            break
    stage["_prov"] = prov
    return stage


def _gpu_lines(doc):
    """The prose lines that name a GPU, in order (gpu_fact finds nothing in the others), found
    with one search of the card's joined lines: no GPU name holds a line end."""
    text, starts, lines = joined_lines(doc)
    last = -1
    for m in _gpu_names().finditer(text):
        i = bisect.bisect_right(starts, m.start()) - 1
        if i != last:
            last = i
            yield lines[i]


# --- The method the card states for its model (spec `method`).

_LINK_URL = re.compile(r"\]\([^)]*\)")
_SENTENCE_END = re.compile(r"[.。!?；;](?:\s|$)")


@functools.lru_cache(maxsize=None)
def _method_regexes():
    conf = data.load("training_stages")["methods"]
    names = {m: "(?:" + "|".join(ws) + ")" for m, ws in conf["names"].items()}
    verb, link, noun = conf["verb"], conf["link"], conf["noun"]
    said = {m: re.compile(rf"{verb}[^\n]{{0,120}}?{link}[^\n]{{0,80}}?{n}|{verb}\s+(?:[\w-]+\s+){{0,2}}?{n}|{n}\s+{noun}")
            for m, n in names.items()}
    options = {k: re.compile(conf[k], re.M) for k in ("stage_option", "finetuning_option", "four_bit_option")}
    return said, re.compile(conf["negation"]), options


@functools.lru_cache(maxsize=None)
def _methods_regex(key):
    """One regex of data/training_stages.yaml `methods`, compiled."""
    return re.compile(data.load("training_stages")["methods"][key])


@functools.lru_cache(maxsize=None)
def _name_regexes():
    """{method: its names as one regex}: every sentence stating the method holds one."""
    return {m: re.compile("|".join(names)) for m, names in data.load("training_stages")["methods"]["names"].items()}


def _needles(key):
    return data.load("training_stages")["methods"]["needles"][key]


class _Sentences:
    """The lines of the card's prose outside Python and JSON blocks, found in the card's one
    folded text (util.folded_prose_lines): a few literal searches find the lines that a pattern
    may match, and only these are read, each by `first_statement` (instead of a regex search of
    each sentence: a card can have 100,000); a line of a Python or JSON block is passed over."""

    def __init__(self, doc):
        # no reference to DOC: kept in doc.derived, it would make the card's whole object graph
        # a cycle, freed only by the cyclic collector rather than when the card is done
        self.code = {l.no for b in doc.of_kind("python", "json") for l in b.lines}
        self.lines = prose_lines(doc)

    def first(self, doc, key):
        """((line index, sentence index), card line, words) of the first sentence of DOC (the
        card these are the sentences of) that states `key` (first_statement), or None."""
        for i in prose_lines_holding(doc, _needles(key)):
            no, text = self.lines[i]
            if no not in self.code and (hit := first_statement(text, key)):
                return (i, hit[0]), no, hit[1]
        return None


@memo.memo(maxsize=1 << 14)
def first_statement(text, key):
    """(sentence index, the words) of the first sentence of one card line that states `key`: a
    method of `methods.names` (its pattern, not negated before its end), `fine_tuned` (likewise)
    or `reward_prose` (its pattern); None if no sentence does. Asked only of lines whose fold
    holds one of the key's needles. Markdown link targets are dropped first."""
    said, negation, _ = _method_regexes()
    if key in said:
        pattern, hint, negated = said[key], _name_regexes()[key], negation
    else:
        pattern, hint, negated = _methods_regex(key), None, negation if key == "fine_tuned" else None
    for j, sentence in enumerate(_split_sentences(text)):
        m = pattern.search(sentence) if hint is None or hint.search(sentence) else None
        if m and not (negated and negated.search(sentence[: m.end()])):
            return j, m.group(0)
    return None


def _split_sentences(text):
    text = _LINK_URL.sub("]", text)
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def _sentences(doc):
    return doc.derived("training_stages.method_sentences", _Sentences)


def _said_methods(doc):
    """{method: (line, text)}: the first sentence stating each method for the model, in the order
    the card states them. Only the sentences that may hold one of a method's names are searched."""
    said, _, _ = _method_regexes()
    found = {}  # method: (sentence's place, method's place, line, text)
    sentences = _sentences(doc)
    for order, method in enumerate(said):
        if hit := sentences.first(doc, method):
            found[method] = (hit[0], order, hit[1], hit[2])
    return {method: (no, text) for method, (_, _, no, text) in sorted(found.items(), key=lambda kv: kv[1][:2])}


def _option_methods(doc, out):
    """Trainer options: LLaMA-Factory `--stage orpo`, `--finetuning_type lora`, `--quantization_bit 4`."""
    conf = data.load("training_stages")["methods"]
    _, _, options = _method_regexes()
    four_bit = any(True for _ in search_lines(doc, options["four_bit_option"], "quantization_bit"))
    for key, table in (("stage_option", "stage_options"), ("finetuning_option", "finetuning_options")):
        for no, _, m in search_lines(doc, options[key], "stage" if key == "stage_option" else "finetuning_type"):
            method = conf[table].get(m.group(1).lower())
            if method == "lora" and four_bit:
                method = "qlora"
            if method and method != "sft":
                out.setdefault(method, (no, m.group(0)))
            elif method:
                out.setdefault("sft_option", (no, m.group(0)))


def _title(doc):
    """(line number, text) of the card's first line that starts with `# `, or None: one find in
    the joined prose lines (a line so starting is not blank)."""
    text, starts, lines = joined_lines(doc)
    if text.startswith("# "):
        return lines[0]
    at = text.find("\n# ")
    return lines[bisect.bisect_right(starts, at + 1) - 1] if at != -1 else None


def _reward_model(doc, out):
    conf = data.load("training_stages")["methods"]
    title = _title(doc)
    if title and re.search(conf["reward_title"], title[1]):
        out.setdefault("reward_model", (title[0], title[1].strip()))
    if hit := _sentences(doc).first(doc, "reward_prose"):
        out.setdefault("reward_model", hit[1:])


def _fine_tuned(doc, out):
    """`a fine-tuned version of X`: a full fine-tune, on a card that never speaks of adapters."""
    if "sft" in out or next(search_lines(doc, _methods_regex("adapter_words"), tuple(_needles("adapter_words"))), None):
        return
    if hit := _sentences(doc).first(doc, "fine_tuned"):
        out["sft"] = hit[1:]


def stated_methods(doc):
    """{method: (card line, the words stating it)} for each method the card states for its model
    (read once per card: every sentence is matched against every method's pattern)."""
    return dict(doc.derived("training_stages.stated_methods", _stated_methods))


def _stated_methods(doc):
    out = _said_methods(doc)
    _option_methods(doc, out)
    if "sft_option" in out:
        out.setdefault("sft", out.pop("sft_option"))
    _reward_model(doc, out)
    _fine_tuned(doc, out)
    return out


def stated_method(doc, facts, preference_only=False):
    """(method, Fact) for the latest method in a training pipeline the card states, or None;
    `preference_only`: only methods trained on top of an earlier model (DPO, ORPO, RLHF, ...)."""
    conf = data.load("training_stages")["methods"]
    stated = stated_methods(doc)
    allowed = conf["preference"] if preference_only else conf["rank"]
    best = max((m for m in stated if m in allowed), key=conf["rank"].index, default=None)
    if best is None:
        return None
    no, said = stated[best]
    return best, Fact(best, "card", no, facts.text_of(no, said),
                      "the card states this method for the model (data/training_stages.yaml methods)")
