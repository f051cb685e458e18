"""Resolve: one winner per spec path, by a precedence stated once, as data.

Every reader keeps its candidates (extract/facts.py), each tagged with the kind of card text it
was read from (`Fact.source`). The winner of a path is the candidate whose source comes first in
the trainer profile's `precedence` (data/trainers/hf-trainer.yaml, inherited by every diff on
it): the card's command line, then its config blocks and code, front matter, tables and lists,
prose, then derived values and the trainer's documented defaults; among kinds that rank alike
the first stated wins. Every loser whose value differs is recorded as a conflict the audit
reports (CR304).

A trainer with config layering (a profile with `configs_flag`, such as oa-trainer-sft) first
merges its own layers into one candidate per key: `defaults` always, then every `--configs` name
left to right (shallow update, lists replaced), then CLI flags; each value keeps the layer that
set it (`layer`).

A card whose own words name its framework (a profile's `detect`: the Axolotl badge, LLaMA-Factory's
CLI or tag, TRL's auto-card, the HF Trainer's hyperparameter list, or a config block of the
framework's own keys) gets that framework's documented defaults for what it leaves open, each
citing the framework's source (`fill_defaults`)."""
import bisect
import functools
import itertools
import math
import operator
import re
from types import MappingProxyType

from cardrepro import data
from cardrepro.extract import canonical, literals, util
from cardrepro.extract.util import joined_lines
from cardrepro.extract.facts import FILLERS, SHOWN, SOURCES, Fact
from cardrepro.read import yamlsafe

BASE_PROFILE = "hf-trainer"
_NO_PLACES = MappingProxyType({})   # no word's places known: each is found by a find


def detect(doc):
    """(profile, shell block) for the first card command whose script a trainer profile knows;
    else (profile, None) for the framework the card's own words name (named_framework)."""
    for block in doc.of_kind("shell"):
        argv = block.value
        for profile in data.trainer_profiles().values():
            if any(a.split("/")[-1] in profile.get("scripts", []) for a in argv[:3]):
                return profile, block
    return named_framework(doc)[0], None


def named_framework(doc):
    """(profile, card line) of the framework the card's own words name (a profile's `detect`:
    literal words, whole lines, or a config block or command holding all of one set of its
    keys); the lowest `detect.order` among several; (None, None) if none."""
    return doc.derived("named_framework", _named_framework)


def _named_framework(doc):
    text, starts, lines = _folded_lines(doc)
    places = util._head_places(doc) if text is util.folded_text(doc) else _NO_PLACES
    found = []
    for profile in data.trainer_profiles().values():
        rule = profile.get("detect")
        if not rule:
            continue
        line = (_config_evidence(doc, rule.get("config_keys") or ())
                or _words_evidence(text, starts, lines, profile["name"], places))
        if line:
            found.append((rule.get("order", 50), line, profile))
    if not found:
        return None, None
    _, line, profile = min(found, key=lambda f: f[:2])
    return profile, line


def _folded_lines(doc):
    """(the card's lines case-folded and joined by newlines, where each starts, the lines as
    (number, text)): one search per profile, not one per line. The card's non-empty lines as
    extract/util.py joins them (an empty line holds no words); all of them, as they are, when
    case folding changes the text's length (`ß` -> `ss`): a place then tells its line as before."""
    text, starts, lines = joined_lines(doc)
    kept = util.folded_text(doc)
    if _casefolded(kept, text, starts, lines):
        return kept, starts, lines
    folded = text.casefold()
    if len(folded) == len(text):
        return folded, starts, lines
    return doc.derived("resolve.joined_lines", _joined_lines)


def _casefolded(kept, text, starts, lines):
    """Whether `kept` (fold_case of `text`, the card's lines joined) is text.casefold(), casefold
    being the cost: the two agree on ASCII (lower()), and casefold maps each character alone, so
    they agree when they agree on each line beyond ASCII. fold_case only ever shortens a text
    (`i` + U+0307 -> `i`): of the same length, each line stands where it stood."""
    if len(kept) != len(text):
        return False
    if text.isascii():
        return True
    texts = list(map(operator.itemgetter(1), lines))
    beyond = itertools.compress(range(len(texts)), map(operator.not_, map(str.isascii, texts)))  # in C
    return all(texts[i].casefold() == kept[starts[i]:starts[i] + len(texts[i])] for i in beyond)


def _joined_lines(doc):
    """All the card's lines case-folded and joined by newlines, where each starts, and the lines."""
    texts = [l.text for l in doc.lines]
    starts = list(itertools.accumulate((len(t) + 1 for t in texts), initial=0))
    starts.pop()  # where the line after the last would start
    return "\n".join(texts).casefold(), starts, doc.lines


@functools.lru_cache(maxsize=None)
def _words_terms(name):
    """(the part every one of its words holds, its words, [(whole line's words, its pattern)]) of
    a profile's `detect`, case-folded: a card without that part holds none of them."""
    rule = data.trainer_profile(name)["detect"]
    lines = [(w.casefold(), re.compile(r"^[ \t]*" + re.escape(w.casefold()) + r"[ \t]*$", re.M))
             for w in rule.get("lines") or ()]
    words = [w.casefold() for w in rule.get("words") or ()]
    for w in words + [w for w, _ in lines]:
        literals.register(w)   # the card's one pass over its literals finds them from now on
    return _common_part(words + [w for w, _ in lines]), words, lines


def _common_part(texts):
    """The longest text every one of `texts` holds ("" for none)."""
    if not texts:
        return ""
    first = min(texts, key=len)
    for size in range(len(first), 0, -1):
        for at in range(len(first) - size + 1):
            part = first[at:at + size]
            if all(part in t for t in texts):
                return part
    return ""


def _words_evidence(text, starts, lines, name, places=_NO_PLACES):
    """The card line of the first place the profile's words stand (the leftmost of them): each
    word's places from the card's one pass over its literals (`places`: util._head_places, when
    `text` is the text that pass read; none by default), else a plain find; a pattern only for a
    whole line whose words the card holds."""
    common, words, patterns = _words_terms(name)
    if not places and common not in text:
        return None
    found = [i for i in map(functools.partial(_first_place, text, places), words) if i >= 0]
    found += [m.start() for w, pattern in patterns
              if _first_place(text, places, w) >= 0 and (m := pattern.search(text))]
    return lines[bisect.bisect_right(starts, min(found)) - 1][0] if found else None


def _first_place(text, places, word):
    """Where `word` first stands in `text` (-1: nowhere): from its places when the card's pass
    holds them, else a find (and the word is registered: later cards' passes find it)."""
    at = places.get(word)
    if at is None:
        literals.register(word)
        return text.find(word)
    return at[0] if at else -1


def _config_evidence(doc, key_sets):
    """The first line of a YAML block whose top-level keys, or a command whose --flags, hold all
    of one of `key_sets`."""
    if not key_sets:
        return None
    for block in doc.of_kind("yaml", "shell"):
        if _holds_key_set(block, key_sets):
            return block.start
    return None


def _holds_key_set(block, key_sets):
    if block.kind == "yaml":
        keys = set(block.value) if isinstance(block.value, dict) else set()
    else:
        keys = {a[2:].partition("=")[0] for a in block.value if isinstance(a, str) and a.startswith("--")}
    return any(keys.issuperset(s) for s in key_sets)


def framework_config(block):
    """The profile whose own config keys (`detect.config_keys`) a YAML block holds: the block is
    that framework's training config (its `model_name_or_path:` / `base_model:` is the base model,
    unlike a mergekit config's); None for any other block."""
    for profile in data.trainer_profiles().values():
        key_sets = (profile.get("detect") or {}).get("config_keys")
        if key_sets and _holds_key_set(block, key_sets):
            return profile
    return None


def fill_defaults(facts, profile, evidence_line):
    """What the card leaves open, from the documented defaults of the framework its words name
    (named_framework), at their spec paths with origin `default:<profile>`: never a path the card
    states, nor one a stated value makes moot (the base profile's `overridden_by`), nor one whose
    `when` paths the card leaves open."""
    overridden = data.trainer_profile(BASE_PROFILE).get("overridden_by") or {}
    skip = set(profile["detect"].get("skip") or ())
    told = f"the card names {profile['title']} (line {evidence_line})"
    for key in profile["defaults"]:
        entry = _default_entry(profile, key)
        if key in skip or not all(facts.has(p) for p in entry.get("when") or ()):
            continue
        value = _default_value(facts, profile, entry)
        for path, v in (canonical.facts(key, value) if value is not None else ()):
            if facts.has(path) or any(facts.has(p) for p in overridden.get(path) or ()):
                continue
            facts.put(path, v, origin=f"default:{profile['name']}", source="default",
                      text=f"{profile['name']}: {key} defaults to {value} ({entry['source']})"[:SHOWN],
                      rule=f"{entry['why']}; {told}")


def _default_entry(profile, key):
    """A profile default as {value or from/times, source, why, when}: a bare value cites the
    profile's `source`, one it marks `inherit` its base's (with the profile's `inherits` why)."""
    entry = profile["defaults"][key]
    if isinstance(entry, dict):
        return entry
    own = (data.load(f"trainers/{profile['name']}").get("defaults") or {}).get(key)
    if own == data.INHERIT:
        base = data.trainer_profile(profile["base"])
        return {"value": entry, "source": base["source"], "why": profile.get("inherits") or f"{base['title']} default"}
    return {"value": entry, "source": profile["source"], "why": f"{profile['title']} default"}


def _default_value(facts, profile, entry):
    """The entry's value; a derived one (`from` another key, `times` a factor) from that key's
    value in the spec so far (the card's, or its filled default)."""
    if "from" not in entry:
        return entry.get("value")
    base = facts.get(canonical.path(entry["from"]))
    return base * entry["times"] if isinstance(base, (int, float)) and "times" in entry else base


def precedence(profile=None):
    """The profile's ranking of card text kinds, strongest first (the base profile's without one)."""
    return tuple((profile or {}).get("precedence") or data.trainer_profile(BASE_PROFILE).get("precedence")
                 or SOURCES + FILLERS)


def _same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0) or a == b
    return a == b


def _entry(fact):
    return {"value": fact.value, "origin": fact.origin, "source": fact.source, "line": fact.line}


def pick(facts, profile=None, quiet=()):
    """Settle every path: the candidate of the strongest source wins (the first put among
    equals); each loser whose value differs is a `precedence` conflict, once per value (none for
    the `quiet` paths, which the spec does not show)."""
    order = " > ".join(" = ".join(e) if isinstance(e, (list, tuple)) else e for e in precedence(profile))
    named = (profile or {}).get("name") or BASE_PROFILE
    already = {c.get("path") for c in facts.conflicts}
    for path in list(facts.items):  # a path an extractor took back (del facts.items[p]) stays out
        candidates = facts.candidates.get(path) or [facts.items[path]]
        winner = min(candidates, key=facts.rank_of)  # min keeps the first of equal rank
        facts.items[path] = winner
        if path in already or path in quiet:
            continue
        losers = []
        for fact in candidates:
            if fact is winner or _same(fact.value, winner.value) or fact.source == "derived":
                continue
            if not any(_same(fact.value, l.value) for l in losers):
                losers.append(fact)
        if losers:
            facts.conflicts.append({
                "kind": "precedence", "path": path, "values": [_entry(winner)] + [_entry(l) for l in losers],
                "resolution": f"the {winner.source} value {winner.value!r} is used ({named} precedence: {order})"})


def named_configs(doc, skip=()):
    """Config blocks the card includes: top-level `name:` mappings of YAML blocks."""
    out = {}
    for block in doc.of_kind("yaml"):
        if id(block) in skip or not isinstance(block.value, dict):
            continue
        for name, value in block.value.items():
            if isinstance(value, dict) and value:
                out[name] = (block, value, (name,))
            elif isinstance(value, list) and name == "datasets":
                out[name] = (block, {name: value}, ())
    return out


def split_command(argv, profile):
    """launcher, script, --configs names, CLI flags {key: (raw value or True)} in order."""
    script_idx = next(i for i, a in enumerate(argv) if a.split("/")[-1] in profile["scripts"])
    configs, flags, i = [], [], script_idx + 1
    args = argv[script_idx + 1:]
    while i < len(argv):
        a = argv[i]
        if a == profile["configs_flag"]:
            i += 1
            while i < len(argv) and not argv[i].startswith("--"):
                configs.extend(argv[i].split(","))
                i += 1
            continue
        if a.startswith("--"):
            key, _, val = a[2:].partition("=")
            if not val and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                val = argv[i + 1]
                i += 1
            flags.append((key, val if val != "" else True))
        i += 1
    return {"launcher": argv[0] if script_idx > 0 else None, "script": argv[script_idx], "args": args}, configs, flags


def _typed(raw, like):
    if raw is True:
        return True
    if isinstance(like, bool):
        return str(raw).lower() in ("1", "true", "yes", "y", "t", "on")
    if isinstance(like, int):
        try:
            return int(raw)
        except ValueError:
            return yamlsafe.scalar(raw)
    if isinstance(like, float):
        return float(raw)
    return raw


def layer(doc, facts, profile, shell_block, skip_blocks=()):
    """Merge the trainer's config layers; returns {trainer key: Fact} plus the command parts."""
    origin_default = f"default:{profile['name']}"
    cmd, configs, flags = split_command(shell_block.value, profile)
    line = shell_block.start
    merged = {k: Fact(v, origin_default, None, f"{profile['name']} defaults: {k}: {v}"[:160], source="default")
              for k, v in profile["defaults"].items()}
    found = named_configs(doc, skip_blocks)
    missing = []
    for name in configs:
        if name == "defaults":
            continue
        if name not in found:
            missing.append(name)
            continue
        block, values, prefix = found[name]
        for key, value in values.items():
            no = block.where.get(prefix + (key,), block.start)
            merged[key] = Fact(value, "card", no, facts.text_of(no), f"config '{name}'", source="config")
    first = profile.get("first_parser", {})
    cli_state = {}
    for key, raw in flags:
        if key in first:
            cli_state[key] = raw if first[key] != "bool" else True
            if key == "rng_seed":
                merged[key] = Fact(int(raw), "cli", line, facts.text_of(line, f"--{key}"), source="cli")
            continue
        like = merged[key].value if key in merged else None
        value = _typed(raw, like)
        prev = merged.get(key)
        if prev is not None and prev.origin == "card" and prev.value != value:
            facts.conflicts.append({
                "kind": "cli_overrides_config", "path": key,
                "values": [{"value": prev.value, "origin": "card", "line": prev.line},
                           {"value": value, "origin": "cli", "line": line}],
                "resolution": f"{profile['name']}: CLI flags beat every config layer; {value!r} is used"})
        merged[key] = Fact(value, "cli", line, facts.text_of(line, f"--{key}"), None, source="cli")
    return {"command": cmd, "configs": configs, "missing_configs": missing, "merged": merged,
            "cli_state": cli_state, "command_line": line,
            "config_blocks": {id(block) for block, _, _ in found.values()}}
