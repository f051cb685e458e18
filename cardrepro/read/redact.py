"""Secrets and absolute machine paths never leave the reader as they are: each is replaced in
the card's lines, and what was replaced is kept (kind and line only) for the audit."""
import bisect
import itertools
import re

from cardrepro.read.source import Line, fold_case

# (kind, pattern, needle): the needle is a literal that every match contains (or a tuple of
# literals, one of which it contains), checked with `in` before the regex runs. Most text holds
# none, and a regex that starts with \b or a look-behind cannot skip ahead to a literal itself.
SECRET_PATTERNS = [
    ("huggingface_token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), "hf_"),
    ("openai_key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_\-]{20,}\b"), "sk-"),
    ("github_token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    ("aws_access_key", re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "AKIA"),
    ("wandb_key", re.compile(r"(?<=WANDB_API_KEY=)[0-9a-f]{40}\b"), "WANDB_API_KEY="),
    ("assigned_secret", re.compile(
        r"(?i)(?:api_key|apikey|api-key|access_token|auth_token|secret|password|token)[\"']?\s?[:=]\s?[\"']?"
        r"(?!\[REDACTED)([A-Za-z0-9_\-./+=]{12,})"), None),
]
# assigned_secret ignores case and "token" is in most cards, so no needle rules it out. Its
# pre-check is the same pattern run case-sensitively over `fold_case(text)`, which matches
# wherever the original does (and maybe elsewhere, which only costs the real search).
_ASSIGNED_FOLDED = re.compile(SECRET_PATTERNS[-1][1].pattern.removeprefix("(?i)"))

_PATH_TAIL = r"[^\s`'\"(),;|<>]"
_ROOTS = r"(?:home|root|Users|mnt|data|data\d*|scratch|nfs|lustre|gpfs|workspace|export|srv|opt)"
ABS_PATH = re.compile(rf"(?<![\w:/.~\-])(/{_ROOTS}/{_PATH_TAIL}*)|(?<![\w])([A-Za-z]:\\{_PATH_TAIL}+)")
# ABS_PATH's Unix branch with the look-behind moved after the leading "/", so that the engine
# skips from "/" to "/"; with `":\\" in text` it is a pre-check that never misses a match.
_UNIX_PATH_HINT = re.compile(rf"/(?<![\w:/.~\-]/){_ROOTS}/")


def _may_match(text, needle):
    if needle is None:
        return _ASSIGNED_FOLDED.search(fold_case(text)) is not None
    if isinstance(needle, tuple):
        return any(n in text for n in needle)
    return needle in text


def _may_hold_path(text):
    return ":\\" in text or _UNIX_PATH_HINT.search(text) is not None


def secret_kinds(text):
    """The kinds of secret in one string."""
    return [kind for kind, pat, needle in SECRET_PATTERNS if _may_match(text, needle) and pat.search(text)]


def absolute_paths(text):
    """The absolute machine paths in one string, each as `<local>/name`."""
    return [_local(m.group(0)) for m in ABS_PATH.finditer(text)] if _may_hold_path(text) else []


def _mask(match, kind):
    """Replace the secret (group 1 when the pattern has one) and keep what precedes it."""
    if match.lastindex:
        start = match.start(1) - match.start(0)
        return match.group(0)[:start] + f"[REDACTED:{kind}]"
    return f"[REDACTED:{kind}]"


def _local(path):
    name = re.split(r"[\\/]", path.rstrip("/\\"))[-1]
    return f"<local>/{name}" if name else "<local>"


def redact_text(text):
    """One string with every secret and absolute machine path replaced (idempotent)."""
    if not isinstance(text, str) or not text:
        return text
    for kind, pat, needle in SECRET_PATTERNS:
        if _may_match(text, needle):
            text = pat.sub(lambda m, k=kind: _mask(m, k), text)
    if _may_hold_path(text):
        text = ABS_PATH.sub(lambda m: _local(m.group(0)), text)
    return text


def redact_value(value):
    """`redact_text` over every string (keys included) of nested dicts and lists."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    return value


def redact_lines(lines):
    """Returns (new lines, {"secrets": [...], "absolute_paths": [...]})."""
    found = {"secrets": [], "absolute_paths": []}
    whole = "\n".join(l.text for l in lines)
    active = [(kind, pat) for kind, pat, needle in SECRET_PATTERNS
              if _may_match(whole, needle) and pat.search(whole)]
    hit = set()  # indices of the lines that hold something to redact
    starts = list(itertools.accumulate((len(l.text) + 1 for l in lines), initial=0))
    for pat in [p for _, p in active] + ([ABS_PATH] if _may_hold_path(whole) else []):
        for m in pat.finditer(whole):
            hit.add(bisect.bisect_right(starts, m.start()) - 1)
    if not hit:
        return list(lines), found
    out = list(lines)
    for i in sorted(hit):
        l = lines[i]
        text = l.text
        for kind, pat in active:
            if pat.search(text):
                found["secrets"].append({"line": l.no, "kind": kind})
                text = pat.sub(lambda m, k=kind: _mask(m, k), text)
        for m in ABS_PATH.finditer(text):
            path = m.group(0)
            found["absolute_paths"].append({"line": l.no, "path": _local(path)})
        text = ABS_PATH.sub(lambda m: _local(m.group(0)), text)
        out[i] = Line(l.no, text) if text != l.text else l
    return out, found
