"""What a corpus of model cards states: one row per card, and the share of cards stating each
fact family, overall, by `library_name` and by year, with the most common audit findings.

    cardrepro audit --corpus CORPUS [--scheduler ADDRESS] [--out rows.parquet] [--summary FILE.md]
    python -m cardrepro.coverage CORPUS_DIR [-o docs/coverage.md]     # one process, no Dask

`card_row` is the per-card work (card → row dict, a pure function: it needs the card only);
`Summary` folds rows, in corpus order, into the counts `render` writes as Markdown. The families,
the spec paths that count for each and the summary's sizes are data (`cardrepro/data/coverage.yaml`).
The report depends only on the cards' names and bytes, never on the machine, the time or the
number of workers: rerunning it on the same corpus writes the same file.
"""
from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

from cardrepro import data
from cardrepro.errors import CardError

PARENT = re.compile(r"(\.[^.\[]+|\[\d+\])$")
UNKNOWN = "unknown"     # the year of a card with no date (a folder of cards has none)
NO_LIBRARY = "(none)"
OUTCOMES = ("parsed", "refused", "error")
TEXT_CARD_NAME = Path("card.md")  # what a card given as text (a parquet row) is called


def corpus_files(folder):
    """The corpus: every `*.md` directly in FOLDER, sorted by name."""
    return sorted(Path(folder).glob("*.md"), key=lambda p: p.name)


@lru_cache(maxsize=None)
def families():
    """[(family name, [compiled path patterns])] from cardrepro/data/coverage.yaml."""
    return [(f["name"], [_pattern(p) for p in f["paths"]]) for f in data.load("coverage")["families"]]


def summary_sizes():
    return data.load("coverage")["summary"]


def _pattern(path):
    # `stages[*].dtype` covers `stages[0].dtype`; `peft` covers `peft.r`
    return re.compile(re.escape(path).replace(r"\[\*\]", r"\[\d+\]") + r"(?:$|[.\[])")


def _origin(provenance, path):
    """The origin of PATH's value: its own provenance or its nearest ancestor's; `card` when none
    has any (values the reader took from the card as a whole, such as a shell command)."""
    while path in provenance or PARENT.search(path):
        if path in provenance:
            return provenance[path]["origin"]
        path = PARENT.sub("", path)
    return "card"


def stated_paths(spec):
    """The spec's fact paths whose value the card states (not null, not a trainer default)."""
    from cardrepro.spec_view import spec_facts
    prov = spec.get("provenance", {})
    return [path for path, value in spec_facts(spec)
            if value is not None and not _origin(prov, path).startswith("default:")]


def stated_families(spec):
    """The names of the families SPEC states, in the order of coverage.yaml."""
    stated = set().union(*map(_families_of, stated_paths(spec)))
    return [name for name, _ in families() if name in stated]


@lru_cache(maxsize=16384)
def _families_of(path):
    """The families whose patterns match PATH (a spec's paths recur from card to card)."""
    return frozenset(name for name, patterns in families() if any(p.match(path) for p in patterns))


def refusal_reason(err):
    """A CardError's kind: its message up to the first colon or parenthesis (`malformed JSON`,
    `training.learning_rate`, `no recognisable training facts`)."""
    return err.message.split(":", 1)[0].split(" (", 1)[0].strip()[:80]


@lru_cache(maxsize=None)
def _front_matter_library():
    cfg = data.load("coverage")
    return (re.compile(cfg["front_matter_library"]), cfg["front_matter_lines"],
            cfg["front_matter_library_needle"].encode("utf-8"))


FRONT_MATTER_BYTES = (4096, 65536)     # the card's head read first, then as much as is ever read


def front_matter_library(raw):
    """The `library_name:` of the card's front matter (bytes: a `---` first line, up to the next
    `---`, in the first 64 KiB), or None. Most front matters end in the first 4 KiB: the rest of
    the card is decoded only when they do not, and not at all when it lacks the pattern's needle."""
    if raw.find(_front_matter_library()[2], 0, FRONT_MATTER_BYTES[-1]) < 0:
        return None
    for size in FRONT_MATTER_BYTES:
        lines = raw[:size].decode("utf-8-sig", "replace").splitlines()
        whole = size == FRONT_MATTER_BYTES[-1] or len(raw) <= size
        decided, library = _library_in(lines if whole else lines[:-1])    # a cut card's last line may be cut
        if decided or whole:
            return library
    return None


def _library_in(lines):
    """(decided, library): the front matter's library in LINES, the card's first lines; decided
    is False when the lines end before the answer does."""
    pattern, most, _ = _front_matter_library()
    if not lines:
        return False, None
    if lines[0].strip() != "---":
        return True, None
    for line in lines[1:most + 1]:
        if line.strip() == "---":
            return True, None
        if m := pattern.match(line):
            return True, m.group(1)
    return len(lines) > most, None


# --- one card -------------------------------------------------------------------------------------
def card_row(card, card_id, library_name=None, year=UNKNOWN):
    """CARD (a path to a card file, or the card's text) parsed and audited: one row. Never raises:
    a card cardrepro refuses (CardError) is a row with its `refusal`, any other exception (a
    cardrepro bug) a row with its `error`. The library is LIBRARY_NAME, else the front matter's."""
    row = {"id": str(card_id), "library_name": library_name, "year": str(year or UNKNOWN), "sha256": None,
           "outcome": "error", "families": [], "score": None, "findings": [], "refusal": None, "error": None}
    try:
        if isinstance(card, str):
            _fill_from_text(row, card)
        else:
            _fill(row, Path(card))
    except CardError as err:
        row.update(outcome="refused", refusal=refusal_reason(err))
    except Exception as err:  # a cardrepro bug: one row says so, the run goes on
        row.update(outcome="error", error=f"{type(err).__name__}: {err}"[:300])
    return row


def _fill_from_text(row, text):
    # the bytes go to parse_card as they are (no file); a fixed name, which names no model size
    _fill(row, TEXT_CARD_NAME, text.encode("utf-8", "surrogatepass"))


def _fill(row, path, raw=None):
    """The row of the card at PATH, or of the card's bytes RAW (PATH then only names it): the
    bytes are read and hashed once, by parse_card."""
    from cardrepro.audit import codes_and_score
    from cardrepro.read import source
    from cardrepro.spec import parse_card
    raw = source.load_bytes(path) if raw is None else source.checked_bytes(path, raw)
    row["library_name"] = row["library_name"] or front_matter_library(raw)
    try:
        spec = parse_card(path, raw)
    except Exception:  # refused (or a parser bug): the row still names the bytes
        row["sha256"] = source.sha256(raw)
        raise
    row["sha256"] = spec["card"]["sha256"]
    codes, score = codes_and_score(spec)
    row.update(outcome="parsed", families=stated_families(spec), score=score, findings=codes)


# --- the summary ----------------------------------------------------------------------------------
class Summary:
    """Counts over rows, added in corpus order; its size is the number of distinct libraries,
    years and finding codes, never the number of cards."""

    MAX_ERRORS_LISTED = 50

    def __init__(self, corpus):
        self.corpus = corpus
        self.families = [name for name, _ in families()]
        self.cards = 0
        self.outcomes = Counter()
        self.refused = Counter()
        self.errors, self.error_count = [], 0
        self.stating = Counter()                        # family -> cards
        self.first = {}                                 # family -> first card id stating it
        self.groups = {"library_name": Counter(), "year": Counter()}          # group -> cards
        self.group_parsed = {"library_name": Counter(), "year": Counter()}
        self.group_stating = {"library_name": Counter(), "year": Counter()}   # (group, family) -> cards
        self.findings = Counter()                       # code -> cards
        self._fingerprint = hashlib.sha256()

    def add(self, row):
        self.cards += 1
        self.outcomes[row["outcome"]] += 1
        self._fingerprint.update(f"{row['id']}\0{row['sha256'] or '-'}\n".encode("utf-8", "surrogatepass"))
        if row["outcome"] == "refused":
            self.refused[row["refusal"]] += 1
        elif row["outcome"] == "error":
            self.error_count += 1
            if len(self.errors) < self.MAX_ERRORS_LISTED:
                self.errors.append(f"{row['id']}: {row['error']}")
        keys = {"library_name": row["library_name"] or NO_LIBRARY, "year": row["year"]}
        for dim, key in keys.items():
            self.groups[dim][key] += 1
            self.group_parsed[dim][key] += row["outcome"] == "parsed"
        for name in row["families"]:
            self.stating[name] += 1
            self.first.setdefault(name, row["id"])
            for dim, key in keys.items():
                self.group_stating[dim][key, name] += 1
        self.findings.update(row["findings"])
        return self

    @property
    def parsed(self):
        return self.outcomes["parsed"]

    @property
    def fingerprint(self):
        return self._fingerprint.hexdigest()[:16]

    def top_groups(self, dim):
        """The rows of the by-DIM table: [(label, cards, parsed, {family: cards})], the largest
        groups first; by library, groups past the top N are summed into `other`."""
        counts = self.groups[dim]
        if dim == "year":
            keys = sorted(counts, key=lambda k: (k == UNKNOWN, k))
        else:
            keys = sorted(counts, key=lambda k: (-counts[k], k))
        top, rest = (keys, []) if dim == "year" else (keys[:summary_sizes()["top_libraries"]],
                                                       keys[summary_sizes()["top_libraries"]:])
        out = [(k, counts[k], self.group_parsed[dim][k],
                {f: self.group_stating[dim][k, f] for f in self.families}) for k in top]
        if rest:
            out.append((f"other ({len(rest)} libraries)", sum(counts[k] for k in rest),
                        sum(self.group_parsed[dim][k] for k in rest),
                        {f: sum(self.group_stating[dim][k, f] for k in rest) for f in self.families}))
        return out

    def top_findings(self):
        """[(code, cards)], most cards first, then by code."""
        return sorted(self.findings.items(), key=lambda kv: (-kv[1], kv[0]))[:summary_sizes()["top_findings"]]


def summarise(rows, corpus):
    s = Summary(corpus)
    for row in rows:
        s.add(row)
    return s


def _share(n, of):
    return f"{100 * n / of:.1f} %" if of else "–"


def _cell(text):
    return str(text).replace("|", "/")


def render(s, plots=()):
    """The Markdown report of a Summary; PLOTS: [(caption, relative path)] shown under the heading."""
    from cardrepro import __version__
    out = [
        "# Coverage: which training facts published model cards state",
        "",
        "Generated by `cardrepro audit --corpus CORPUS --summary FILE` (on Dask; in one process: "
        f"`python -m cardrepro.coverage CORPUS -o FILE`, cardrepro {__version__}); do not edit by hand. "
        "Families and the spec paths that count for each: `cardrepro/data/coverage.yaml`.",
        "",
        f"Corpus `{s.corpus}`: {s.cards:,} cards (fingerprint `{s.fingerprint}`: sha256 over the card ids "
        f"and the sha256 of each card, in corpus order). Parsed: {s.parsed:,}; refused with exit 2 "
        f"(`CardError`): {s.outcomes['refused']:,}; other exceptions: {s.error_count}.",
        "",
        "A card states a family when the spec `parse_card` returns has a value for one of the family's "
        "paths that is not a trainer default. A refused card states nothing.",
        "",
    ]
    out += [f"![{caption}]({path})" for caption, path in plots] + ([""] if plots else [])
    out += ["| fact family | cards stating it | share of the corpus | share of parsed cards | first card |",
            "| --- | ---: | ---: | ---: | --- |"]
    for name in s.families:
        n = s.stating[name]
        out.append(f"| {name} | {n:,} | {_share(n, s.cards)} | {_share(n, s.parsed)} | "
                   f"{_cell(s.first.get(name, '–'))} |")
    out += _group_table(s, "library_name", "By `library_name` (front matter for a folder of cards; the "
                        "`library_name` column for parquet)")
    out += _group_table(s, "year", f"By year (`createdAt`; `{UNKNOWN}`: a folder of cards carries no date)")
    out += ["", "## Most common findings", "",
            "Cards whose audit (`cardrepro audit`) has the finding, of the parsed cards.", "",
            "| code | family | cards | share of parsed cards |", "| --- | --- | ---: | ---: |"]
    from cardrepro.audit.findings import FAMILIES
    for code, n in s.top_findings():
        out.append(f"| {code} | {FAMILIES.get(code[2:3], '?')} | {n:,} | {_share(n, s.parsed)} |")
    out += ["", "## Refused cards", "", "| reason (the error message up to its first colon or parenthesis) | cards |",
            "| --- | ---: |"]
    for reason, n in sorted(s.refused.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"| {_cell(reason)} | {n:,} |")
    if s.error_count:
        out += ["", f"## Other exceptions (cardrepro bugs): {s.error_count}", ""] + [f"- {e}" for e in s.errors]
    return "\n".join(out) + "\n"


def _group_table(s, dim, heading):
    out = ["", f"## {heading}", "", "Share of each group's cards that state the family.", "",
           "| group | cards | parsed | " + " | ".join(s.families) + " |",
           "| --- | ---: | ---: | " + " | ".join("---:" for _ in s.families) + " |"]
    for label, cards, parsed, stating in s.top_groups(dim):
        out.append(f"| {_cell(label)} | {cards:,} | {parsed:,} | "
                   + " | ".join(_share(stating[f], cards) for f in s.families) + " |")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cardrepro.coverage", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path, help="a folder of model cards (*.md)")
    ap.add_argument("-o", "--output", type=Path, help="write the report here (default: stdout)")
    a = ap.parse_args(argv)
    if not a.corpus.is_dir() or not corpus_files(a.corpus):
        print(f"{a.corpus}:0: not a folder of model cards (*.md)", file=sys.stderr)
        return 2
    report = render(summarise((card_row(p, p.stem) for p in corpus_files(a.corpus)), a.corpus.name))
    if a.output:
        a.output.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
