"""Training facts from the command lines a card shows: any launcher (deepspeed, torchrun,
accelerate launch, python [-m module], llamafactory-cli, axolotl), `NAME=value` prefixes,
`\\` continuation lines, `--k v`, `--k=v` and switches. A command splits into launcher, launcher
options, script (the .py file, the `-m` module or the CLI subcommand) and the script's flags;
flags map to spec paths through data/keys.yaml, the rest of the vocabulary is data/commands.yaml.

`read(doc)` is pure: it returns candidates (path, value, line, text, source); `extract` puts them."""
import ast
import bisect
import functools
import operator
import re
from dataclasses import dataclass, field

from cardrepro import data
from cardrepro.extract import canonical
from cardrepro.extract.util import folded_places, folded_text, joined_lines, norm_dtype, norm_key
from cardrepro.read import shellwords, yamlsafe

SOURCE = "cli"
MAX_CONTINUATION = 200  # `\` lines joined into one command
MAX_ASSIGN_LOOKBACK = 30  # lines above a command searched for `NAME=value`
_ENV = r"(?:(?:export\s+)?[A-Za-z_]\w*=\S*\s+)*"
_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=(\S+)\s*$")
_ASSIGN_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=(\$\(\([^()]*\)\)|\S+)\s*$")
_SUBCOMMAND = re.compile(r"^[a-z][\w-]*$")
_ARITH = re.compile(r"^\$\(\(([\w\s*+-]{1,80})\)\)$")
_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_STOP_TOKENS = {"&&", "||", ";", "|", ">", ">>", "2>&1", "&"}


@dataclass
class Command:
    line: int  # card line of the first word
    text: str  # the command as one line
    env: dict
    launcher: str | None  # `torchrun`, `accelerate launch`, `python -m torch.distributed.launch`, ...
    launcher_options: dict
    script: str | None
    flags: list = field(default_factory=list)  # (key as written, raw value or True)
    args: list = field(default_factory=list)  # everything after the script, as written
    parts: list = field(default_factory=list)  # (card line, text) of each line the command spans

    def where(self, key):
        """(card line, text) of the line that writes `--key` (the first line if none does)."""
        flag = "--" + key
        return next(((no, t.strip()) for no, t in self.parts if flag in t), (self.line, self.parts[0][1].strip()))


@functools.lru_cache(maxsize=None)
def _conf():
    return data.load("commands")


@functools.lru_cache(maxsize=None)
def _start():
    """A command's first word at a line's start (after `$ `, `!`, `>`, env assignments) or after a backtick."""
    progs = sorted({name.split()[0] for name in _conf()["launchers"]} | set(_conf()["cli_programs"]), key=len, reverse=True)
    words = "|".join(re.escape(p) for p in progs)
    return re.compile(rf"(?:^\s*(?:[$>]\s*|!|%\s*)?|`)({_ENV})((?:{words}))(?=\s)")


@functools.lru_cache(maxsize=None)
def _needles():
    """The program names, found literally: a line without one holds no command."""
    names = {name.split()[0] for name in _conf()["launchers"]} | set(_conf()["cli_programs"])
    return tuple(n for n in sorted(names) if not any(o != n and o in n for o in names))  # `python` finds `python3`


def commands(doc):
    """Every command line of the card, in card order (found once per card: several readers ask)."""
    return doc.derived("command.commands", _commands)


def _commands(doc):
    lines = doc.lines
    out = []
    i = 0
    for k in _program_lines(doc):
        if k < i:  # a continuation line of the command before
            continue
        text = lines[k].text
        m = _start().search(text)
        if not m:
            continue
        parts = _joined(lines, k, m.start(1), inline=text[m.start():m.start() + 1] == "`")
        cmd = _parse(parts, _assignments(lines, k))
        if cmd:
            out.append(cmd)
        i = k + max(len(parts), 1)
    return out


def _program_lines(doc):
    """Indices into doc.lines of the lines that name a program, in order: a find per name over
    the card's non-empty lines joined (extract/util.py), not a search per line."""
    text, starts, lines = joined_lines(doc)
    aligned = len(folded_text(doc)) == len(text)  # the folded text's places are the text's
    found = set()
    for name in _needles():
        places = folded_places(doc, name) if aligned else None
        if places is not None:  # the places of its fold, the name's own among them
            found.update(bisect.bisect_right(starts, a) - 1 for a in places if text.startswith(name, a))
            continue
        at = text.find(name)
        while at >= 0:
            k = bisect.bisect_right(starts, at) - 1
            found.add(k)
            at = text.find(name, starts[k + 1]) if k + 1 < len(starts) else -1
    numbers = [lines[k][0] for k in sorted(found)]
    return [bisect.bisect_left(doc.lines, no, key=operator.attrgetter("no")) for no in numbers]


def _joined(lines, i, start, inline):
    """(card line, text) of the command from lines[i][start:] on, with its `\\` continuation lines."""
    text = lines[i].text[start:]
    if inline:
        return [(lines[i].no, text.split("`", 1)[0])]
    parts, j = [], i
    while True:
        stripped = text.rstrip()
        if not stripped.endswith("\\") or j + 1 >= len(lines) or j - i >= MAX_CONTINUATION:
            parts.append((lines[j].no, stripped.rstrip("\\")))
            break
        parts.append((lines[j].no, stripped[:-1]))
        j += 1
        text = lines[j].text
    return parts


def _assignments(lines, i):
    """`NAME=value` shell assignments on the lines just above a command (a fence or a command ends the search)."""
    found = {}
    for l in reversed(lines[max(0, i - MAX_ASSIGN_LOOKBACK):i]):
        s = l.text.strip()
        if s.startswith(("```", "~~~")):
            break
        m = _ASSIGN_LINE.match(s)
        if m:
            found.setdefault(m.group(1), m.group(2).strip("\"'"))
    resolved = {}
    for name, value in reversed(list(found.items())):
        value = _expand(value, resolved)
        if value is not None:
            resolved[name] = value
    return resolved


def _expand(token, env):
    """The token with `$NAME` / `${NAME}` / `$((a * b))` replaced from env; None if any is unknown."""
    arith = _ARITH.match(token)
    if arith:
        return _arith(arith.group(1), env)
    if "$" not in token:
        return token
    missing = []

    def sub(m):
        name = m.group(1) or m.group(2)
        if name not in env:
            missing.append(name)
            return ""
        return env[name]
    out = _VAR.sub(sub, token)
    return None if missing or "$" in out else out


def _arith(expr, env):
    """`num_machines * 8` with integers and known names, + - * only."""
    words = re.sub(r"[A-Za-z_]\w*", lambda m: env.get(m.group(0), "?"), expr)
    if "?" in words or not re.fullmatch(r"[\d\s*+-]+", words):
        return None
    try:
        tree = ast.parse(words, mode="eval").body
    except SyntaxError:
        return None
    value = _int_expr(tree)
    return None if value is None else str(value)


def _int_expr(node):
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
        a, b = _int_expr(node.left), _int_expr(node.right)
        if a is None or b is None or abs(a) > 10**6 or abs(b) > 10**6:
            return None
        return a + b if isinstance(node.op, ast.Add) else a - b if isinstance(node.op, ast.Sub) else a * b
    return None


def _tokens(text):
    try:
        toks = shellwords.split(text, comments=True)
    except ValueError:  # an unbalanced quote (`--save_step 2000"`): words as they are, quotes dropped
        toks = [t.strip("\"'") for t in text.split()]
    out = []
    for t in toks:
        if t in _STOP_TOKENS:
            break
        out.append(t)
    return out


def _parse(parts, assigned):
    text = " ".join(t for _, t in parts)
    toks = _tokens(text)
    env = {}
    while toks and _ASSIGN.match(toks[0]):
        name, _, value = toks.pop(0).partition("=")
        env[name] = value
    if toks and toks[0] == "export":
        return None
    launcher, name = _launcher(toks)
    if launcher is None:
        return None
    rest = toks[len(launcher.split()):]
    opts, script, after = _split_launcher(name, rest)
    if script is None:
        return None
    scope = {**assigned, **env}
    flags = _flags(after, scope)
    launcher_opts = {k: _expand(v, scope) if isinstance(v, str) else v for k, v in opts.items()}
    return Command(parts[0][0], text.strip(), env, launcher, launcher_opts, script, flags, after, parts)


def _launcher(toks):
    """(launcher as the card writes it, its name in commands.yaml) from the first words."""
    conf = _conf()["launchers"]
    for n in (3, 2, 1):
        words = " ".join(toks[:n])
        if words in conf:
            entry = conf[words]
            return words, entry.get("same_as", words)
    if toks and toks[0] in _conf()["cli_programs"]:
        return toks[0], toks[0]
    return None, None


def _split_launcher(name, rest):
    """(launcher options, script, the script's words) for the words after the launcher."""
    if name in _conf()["cli_programs"]:
        if not rest or not _SUBCOMMAND.match(rest[0]):
            return {}, None, []
        return {}, rest[0], rest[1:]
    valued = set(_conf()["launchers"].get(name, {}).get("options") or [])
    opts, i = {}, 0
    while i < len(rest):
        tok = rest[i]
        if tok == "-m" and i + 1 < len(rest):
            return opts, rest[i + 1], rest[i + 2:]
        if not tok.startswith("-") or tok == "-":
            return opts, tok, rest[i + 1:]
        key, eq, val = tok.lstrip("-").partition("=")
        key = key.replace("-", "_")
        if eq:
            opts[key] = val
        elif (key in valued or not _looks_like_script(rest[i + 1] if i + 1 < len(rest) else "-")) \
                and i + 1 < len(rest) and not rest[i + 1].startswith("-"):
            opts[key] = rest[i + 1]
            i += 1
        else:
            opts[key] = True
        i += 1
    return opts, None, []


def _looks_like_script(tok):
    return tok.endswith(".py") or tok.startswith("-")


def _flags(words, scope):
    """(key, value) of `--k v`, `--k=v` and switches (`--fp16` → True); `$NAME` values expanded
    from the card's assignments, else None (a value the card does not state)."""
    out, i = [], 0
    while i < len(words):
        tok = words[i]
        if not tok.startswith("--") or len(tok) < 3:
            i += 1
            continue
        key, eq, val = tok[2:].partition("=")
        if not eq:
            if i + 1 < len(words) and not words[i + 1].startswith("--"):
                val = words[i + 1]
                i += 1
            else:
                val = True
        out.append((key, _expand(val, scope) if isinstance(val, str) else val))
        i += 1
    return out


def is_training(cmd):
    """A command that trains: a training subcommand or module, a script named for training, or a
    training flag. A distributed launcher alone is no sign: cards run inference under it too."""
    conf = _conf()
    if cmd.launcher in conf["cli_programs"]:
        return cmd.script in conf["cli_programs"][cmd.launcher]["train"]
    if cmd.script in conf["training_modules"]:
        return True
    if _has_word(cmd.script, conf["training_script_words"]):
        return True
    return any(norm_key(k) in conf["training_flags"] or _training_path(norm_key(k)) in conf["training_fields"]
               for k, _ in cmd.flags)


def _canonical(launcher):
    entry = _conf()["launchers"].get(launcher) or {}
    return entry.get("same_as", launcher)


def _has_word(script, words):
    stem = re.split(r"[/\\]", script or "")[-1].lower()
    return any(w in stem for w in words)


def _training_path(key):
    return canonical.path(key, canonical.SETTING_SECTIONS)


def _base_model_path(key):
    return canonical.path(key, ("base_model",))


def _deepspeed_path(key, raw):
    """`--deepspeed configs/ds_config.json`: the DeepSpeed config file the command names."""
    return canonical.path(key, ("deepspeed",)) if isinstance(raw, str) and raw.endswith(".json") else None


def _generation_path(key):
    return canonical.path(key, ("generation",))


def _typed(raw):
    if raw is True:
        return True
    value = yamlsafe.scalar(raw)
    return None if value in ("", "None", "null") else value


def read(doc):
    """Candidates (path, value, line, text, source) from every command of the card: the training
    commands' flags and world size, an inference command's sampling settings."""
    out = []
    for cmd in commands(doc):
        out.extend(candidates(cmd))
    return out


def candidates(cmd):
    training = is_training(cmd)
    gen_ok = _has_word(cmd.script, _conf()["generation_script_words"])
    out = []
    for key, raw in cmd.flags:
        if raw is None:
            continue
        k = norm_key(key)
        for path, value in _flag_facts(k, raw, training, gen_ok):
            out.append((path, value, *cmd.where(key), SOURCE))
    if training:
        world = world_size(cmd)
        if world:
            out.append(("training.num_gpus", world, cmd.line, cmd.parts[0][1].strip(), SOURCE))
    return out


def _flag_facts(k, raw, training, gen_ok):
    conf = _conf()
    if training and k in canonical.switches() and canonical.switched_on(raw):
        s = canonical.switches()[k]
        return [(s["path"], s["value"])]
    if training and k in canonical.valued():
        implied = canonical.valued()[k].get(str(raw).lower())
        return list(implied.items()) if implied else []
    path = (_training_path(k) or _base_model_path(k) or _deepspeed_path(k, raw)) if training else None
    if path is None and gen_ok and not training:
        path = _generation_path(k)
    if path is None or k in canonical.switches():
        return []
    value = canonical.key_value(k, _typed(raw))
    if value is None or isinstance(value, str) != (path in _STRING_PATHS) or is_placeholder(value):
        return []
    if path.startswith("training.") and isinstance(value, (int, float)) and value < 0:
        return []  # `--max_steps -1`: the framework's "not set"
    if path == "training.dtype":
        value = norm_dtype(value)
        if value not in conf["training_dtypes"]:
            return []
    if path == "peft.target_modules" and "," in value:
        value = [v.strip() for v in value.split(",") if v.strip()]
    return [(path, value)]


# Spec paths whose value is a word; any other path takes only a number or a boolean from a command.
_STRING_PATHS = {"training.lr_scheduler_type", "training.save_strategy", "training.optim", "training.dtype",
                 "peft.target_modules", "base_model.name", "quantization.bnb_4bit_quant_type",
                 "quantization.bnb_4bit_compute_dtype", "deepspeed.config_ref"}
# `<your-model-path>`, `[MODEL]`, `{path}`, `path/to/model`: a slot for the reader to fill, no value
_PLACEHOLDER = re.compile(r"[<>\[\]{}]|^/?path/to/|^your[_-]|^\.\.\.$", re.I)


def is_placeholder(value):
    return isinstance(value, str) and _PLACEHOLDER.search(value) is not None


def world_size(cmd):
    """Processes in all, as the launcher's options state them (literal integers only)."""
    entry = _conf()["launchers"].get(_canonical(cmd.launcher) or "") or {}
    world = entry.get("world") or {}
    opts = cmd.launcher_options
    if "total" in world:
        return _count(opts.get(world["total"]))
    per_node = _count(opts.get(world.get("per_node")))
    nodes = opts.get(world.get("nodes"), 1)
    nodes = _count(nodes) if nodes != 1 else 1
    if per_node and nodes:
        return per_node * nodes
    if cmd.launcher in ("python", "python3") and "CUDA_VISIBLE_DEVICES" in cmd.env:
        devices = cmd.env["CUDA_VISIBLE_DEVICES"]
        if re.fullmatch(r"\d+(?:,\d+)*", devices):
            return len(devices.split(","))
    return None


def _count(raw):
    if isinstance(raw, str) and re.fullmatch(r"\d{1,5}", raw) and int(raw) > 0:
        return int(raw)
    return None


def training_command(doc, skip_lines=()):
    """({launcher, script, args}, line) of the card's first training command, or None."""
    for cmd in commands(doc):
        if cmd.line not in skip_lines and is_training(cmd):
            return {"launcher": cmd.launcher.split()[0], "script": cmd.script, "args": cmd.args}, cmd.line
    return None


def extract(doc, facts, skip_lines=()):
    """Put the candidates of the commands not on `skip_lines` (a trainer profile's command).
    The first put for a path wins, so this runs before the readers of weaker sources."""
    for cmd in commands(doc):
        if cmd.line in skip_lines:
            continue
        for path, value, line, text, source in candidates(cmd):
            facts.put(path, value, line, origin="cli", source=source)
