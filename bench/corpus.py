"""A corpus of card variants for the compiler benchmarks (and the corpus test).

Every variant is derived deterministically (seeded) from one of the source cards — the four seed
cards in cards/ and the small test cards in tests/fixtures/audit/ — by one to three of these
mutations, the ways real cards differ from each other:

  shuffle   sections (at `#` headings) in a different order; the front matter stays first
  rename    numbers and model-size names changed (1e-5 -> 3e-5, 7b -> 13b, batch 4 -> 8, ...)
  noise     spam lines, table debris (`|`), full-width punctuation, blank runs, HTML comments
  flatten   the whole card on one line (the bloomz card's layout) or with `|` debris on every line

Variants are distinct by content (sha256); `generate(n)` keeps drawing until it has n of them.
Run `python bench/corpus.py OUT_DIR [N]` to write them out as files.
"""
from __future__ import annotations

import hashlib
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_GLOBS = [ROOT / "cards", ROOT / "tests" / "fixtures" / "audit"]

SPAM = [
    "Follow us on Twitter for more models!",
    "欢迎关注我们的公众号，获取更多模型信息。",
    "**Disclaimer:** this model may produce wrong answers.",
    "<!-- Provide a longer summary of what this model is. -->",
    "[More Information Needed]",
    "| |",
    "|",
    "---",
    "Star us on GitHub ⭐",
    "联系我们：example@example.com",
    "Thanks to everyone who contributed！",
    "> Note: numbers below are preliminary.",
]
SIZES = ["560m", "1b", "1.3b", "3b", "7b", "13b", "30b", "65b"]
HEADING = re.compile(r"^\s*#{1,6}\s", re.M)


def sources() -> list[tuple[str, str]]:
    out = []
    for folder in SOURCE_GLOBS:
        for p in sorted(folder.glob("*.md")):
            out.append((p.stem, p.read_text(encoding="utf-8")))
    return out


def _split_front(text):
    """(front matter incl. delimiters or '', rest) for a card whose front matter starts at byte 0."""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            nl = text.find("\n", end + 4)
            nl = len(text) if nl == -1 else nl + 1
            return text[:nl], text[nl:]
    return "", text


def shuffle_sections(text, rng):
    front, rest = _split_front(text)
    starts = [m.start() for m in HEADING.finditer(rest)]
    if len(starts) < 3:
        # one-line cards: headings are inline (`## x ## y`); shuffle at those instead
        parts = re.split(r"(?= #{2,3} )", rest)
        if len(parts) < 3:
            return text
        head, body = parts[0], parts[1:]
        rng.shuffle(body)
        return front + head + "".join(body)
    head = rest[:starts[0]]
    secs = [rest[a:b] for a, b in zip(starts, starts[1:] + [len(rest)])]
    first, others = secs[0], secs[1:]
    rng.shuffle(others)
    return front + head + first + "".join(s if s.endswith("\n") else s + "\n" for s in others)


def _new_number(tok, rng):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)e-(\d+)", tok)
    if m:
        mant = rng.choice(["1", "2", "3", "5", "8", "1.5", "2.5"])
        return f"{mant}e-{max(1, int(m.group(2)) + rng.choice([-1, 0, 0, 1]))}"
    if "." in tok:
        return f"{float(tok) * rng.choice([0.5, 2, 1.5]):g}"
    n = int(tok)
    if n == 0:
        return tok
    return str(max(1, n * rng.choice([2, 3]) // rng.choice([1, 2])))


def rename_values(text, rng):
    """Change some numbers and model sizes; leaves structure alone."""
    p = rng.uniform(0.2, 0.7)

    def num(m):
        tok = m.group(0)
        return _new_number(tok, rng) if rng.random() < p else tok

    text = re.sub(r"(?<![\w.\-/])\d+(?:\.\d+)?(?:e-\d+)?(?![\w.])", num, text)

    def size(m):
        return rng.choice(SIZES).upper() if m.group(0).isupper() else rng.choice(SIZES)

    if rng.random() < 0.5:
        text = re.sub(r"(?<=[-_ ])\d+(?:\.\d+)?[bB](?=\b)", size, text)
    return text


def add_noise(text, rng):
    lines = text.split("\n")
    for _ in range(rng.randint(1, 8)):
        i = rng.randint(0, len(lines))
        kind = rng.random()
        if kind < 0.5:
            lines.insert(i, rng.choice(SPAM))
        elif kind < 0.7:
            lines.insert(i, "")
        elif kind < 0.85 and lines:
            j = min(i, len(lines) - 1)
            lines[j] = lines[j] + " |"
        else:
            j = min(i, len(lines) - 1)
            lines[j] = lines[j].replace(":", "：", 1)
    return "\n".join(lines)


def flatten(text, rng):
    if rng.random() < 0.6:
        return " ".join(text.split("\n"))
    return "\n".join(l + " |" for l in text.split("\n")) + "\n|"


MUTATIONS = {"shuffle": shuffle_sections, "rename": rename_values, "noise": add_noise, "flatten": flatten}


def variant(source_text, seed):
    """One variant: (text, [mutation names]) — 1 to 3 mutations in a seeded order."""
    rng = random.Random(seed)
    names = rng.sample(sorted(MUTATIONS), rng.randint(1, 3))
    if "flatten" in names:                       # flatten last: the others work on lines
        names.remove("flatten")
        names.append("flatten")
    text = source_text
    for n in names:
        text = MUTATIONS[n](text, rng)
    return text, names


def generate(n=1000, seed=0):
    """n distinct variants: list of (name, text, mutations). Sources are used round robin."""
    srcs = sources()
    out, seen, k = [], set(), 0
    while len(out) < n:
        stem, text = srcs[k % len(srcs)]
        v, names = variant(text, seed * 1_000_003 + k)
        k += 1
        h = hashlib.sha256(v.encode("utf-8")).hexdigest()
        if h in seen:
            if k > 50 * n:
                raise RuntimeError(f"only {len(out)} distinct variants after {k} draws")
            continue
        seen.add(h)
        out.append((f"{stem}--v{len(out):04d}", v, names))
    return out


def write(out_dir, n=1000, seed=0):
    """Write n variants as OUT_DIR/<name>.md; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text, _ in generate(n, seed):
        p = out_dir / f"{name}.md"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths


if __name__ == "__main__":
    dest = sys.argv[1] if len(sys.argv) > 1 else "corpus"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    print(f"wrote {len(write(dest, count))} variants to {dest}")
