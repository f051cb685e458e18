"""Secrets and absolute machine paths never leave the reader as they are: each is replaced in
the card's lines, and what was replaced is kept (kind and line only) for the audit."""
import bisect
import itertools
import re

SECRET_PATTERNS = [
    ("huggingface_token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("openai_key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_\-]{20,}\b")),
    ("github_token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),
    ("aws_access_key", re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    ("wandb_key", re.compile(r"(?<=WANDB_API_KEY=)[0-9a-f]{40}\b")),
    ("assigned_secret", re.compile(
        r"(?i)(?:api_key|apikey|api-key|access_token|auth_token|secret|password|token)[\"']?\s?[:=]\s?[\"']?"
        r"(?!\[REDACTED)([A-Za-z0-9_\-./+=]{12,})")),
]

ABS_PATH = re.compile(
    r"(?<![\w:/.~\-])(/(?:home|root|Users|mnt|data|data\d*|scratch|nfs|lustre|gpfs|workspace|export|srv|opt)"
    r"/[^\s`'\"(),;|<>]*)"
    r"|(?<![\w])([A-Za-z]:\\[^\s`'\"(),;|<>]+)"
)


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
    for kind, pat in SECRET_PATTERNS:
        text = pat.sub(lambda m, k=kind: _mask(m, k), text)
    return ABS_PATH.sub(lambda m: _local(m.group(0)), text)


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
    from cardrepro.read.source import Line

    found = {"secrets": [], "absolute_paths": []}
    whole = "\n".join(l.text for l in lines)
    active = [(kind, pat) for kind, pat in SECRET_PATTERNS if pat.search(whole)]
    hit = set()  # indices of the lines that hold something to redact
    starts = list(itertools.accumulate((len(l.text) + 1 for l in lines), initial=0))
    for pat in [p for _, p in active] + [ABS_PATH]:
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
