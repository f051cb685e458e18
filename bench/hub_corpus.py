"""The whole Hub corpus (3,433 published READMEs) through `parse_card` in one process, side by side
with reading the same files.

    .venv/bin/python bench/hub_corpus.py [CORPUS_DIR] [--passes 2] [--json FILE]

CORPUS_DIR defaults to ../shared/corpus/hub-readmes. Each pass reads + sha256s every file (the I/O
floor), then parses every file, starting from empty memos (cardrepro/memo.py: the per-line work a
card shares with earlier cards of the pass is reused, as in one worker's run, but nothing carries
from one pass to the next); throughput is the best pass, a card's time its best over the passes. Checks the issue's promises on every card: no exception other than CardError, no card
over 2 s (exit 1 if either fails), and parse throughput >= 200 cards/s (PASS/MISS, no exit code:
it depends on the machine). Refusals (CardError) are counted by reason, not failed: only a card
that cannot be read is refused.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, print_table  # noqa: E402  (bench/common.py)

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "hub-readmes"
BUDGET_S = 2.0
TARGET_CARDS_PER_S = 200


def read_pass(paths):
    t = time.perf_counter()
    for p in paths:
        hashlib.sha256(p.read_bytes()).hexdigest()
    return time.perf_counter() - t


def parse_pass(paths, best, outcomes):
    """Parse every card; keeps each card's best time in BEST and its outcome in OUTCOMES. Returns
    (wall seconds, this process's CPU seconds): on a shared machine the CPU time is what the
    parser itself cost, the wall time adds what the other processes took."""
    from cardrepro import memo
    from cardrepro.coverage import refusal_reason
    from cardrepro.errors import CardError
    from cardrepro.spec import parse_card
    memo.clear()
    t, cpu = time.perf_counter(), time.process_time()
    for p in paths:
        t1 = time.perf_counter()
        try:
            parse_card(p)
            outcomes[p] = "parsed"
        except CardError as err:
            outcomes[p] = f"refused: {refusal_reason(err)}"
        except Exception as err:  # a parser bug: reported, never hidden
            outcomes[p] = f"exception: {type(err).__name__}: {str(err)[:200]}"
        best[p] = min(best.get(p, float("inf")), time.perf_counter() - t1)
    return time.perf_counter() - t, time.process_time() - cpu


def measure(folder, passes=2):
    from cardrepro.coverage import corpus_files
    paths = corpus_files(folder)
    read_s, parse_s, parse_cpu_s, best, outcomes = [], [], [], {}, {}
    for _ in range(passes):
        read_s.append(read_pass(paths))
        wall, cpu = parse_pass(paths, best, outcomes)
        parse_s.append(wall)
        parse_cpu_s.append(cpu)
    n = len(paths)
    kinds = Counter(o.split(":", 1)[0] for o in outcomes.values())
    slowest = sorted(best.items(), key=lambda kv: -kv[1])[:10]
    return {
        "corpus": str(folder), "cards": n, "passes": passes, "read_s": read_s, "parse_s": parse_s,
        "parse_cpu_s": parse_cpu_s, "parse_cards_per_cpu_s": n / min(parse_cpu_s),
        "bytes": sum(p.stat().st_size for p in paths),
        "read_cards_per_s": n / min(read_s), "parse_cards_per_s": n / min(parse_s),
        "parsed": kinds["parsed"], "refused": kinds["refused"],
        "refusals": dict(Counter(o.split(": ", 1)[1] for o in outcomes.values() if o.startswith("refused")).most_common()),
        "exceptions": [f"{p.name}: {o}" for p, o in outcomes.items() if o.startswith("exception")],
        "over_budget": [f"{p.name}: {s:.2f} s" for p, s in best.items() if s > BUDGET_S],
        "slowest": [(p.name, round(s, 3)) for p, s in slowest],
    }


def rows(r):
    """Table rows for this benchmark (bench/compile.py prints them in its table too)."""
    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    return [
        (f"hub corpus: parse ({r['cards']:,} READMEs)", f"{r['parse_cards_per_s']:.0f} cards/s",
         f"{r['read_cards_per_s'] / r['parse_cards_per_s']:.0f}x slower than read+sha256",
         f">= {TARGET_CARDS_PER_S} cards/s", verdict(r["parse_cards_per_s"] >= TARGET_CARDS_PER_S)),
        ("  reference: read+sha256 of the same files", f"{r['read_cards_per_s']:.0f} cards/s", "", "", ""),
        ("  the same parse, per CPU second of this process", f"{r['parse_cards_per_cpu_s']:.0f} cards/s",
         f"CPU {r['parse_cards_per_s'] / r['parse_cards_per_cpu_s']:.0%} of the wall time", "", ""),
        ("hub corpus: exceptions other than CardError", str(len(r["exceptions"])), "", "0", verdict(not r["exceptions"])),
        (f"hub corpus: cards over {BUDGET_S:.0f} s (best of {r['passes']})", str(len(r["over_budget"])),
         f"slowest {r['slowest'][0][1]:.2f} s" if r["slowest"] else "", "0", verdict(not r["over_budget"])),
    ]


def report(r):
    print(f"\nhub corpus {r['corpus']}: {r['cards']:,} cards, {r['bytes'] / 1e6:.1f} MB; {r['parsed']:,} parsed, "
          f"{r['refused']:,} refused (CardError, exit 2), {len(r['exceptions'])} other exceptions")
    for reason, n in list(r["refusals"].items())[:8]:
        print(f"  refused {n:>5}  {reason}")
    for e in r["exceptions"][:20]:
        print(f"  ! parse: {e}")
    for e in r["over_budget"]:
        print(f"  ! over {BUDGET_S:.0f} s: {e}")
    print("  slowest: " + ", ".join(f"{name} {s:.2f} s" for name, s in r["slowest"][:5]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path, nargs="?", default=DEFAULT_CORPUS)
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    a = ap.parse_args(argv)
    if not a.corpus.is_dir():
        raise SystemExit(f"{a.corpus}: no such corpus folder")
    m = machine()
    print(f"machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}, {m['date']}", flush=True)
    r = measure(a.corpus, a.passes)
    print()
    print_table(("benchmark", "value", "ratio", "target", ""), rows(r))
    report(r)
    if a.json:
        a.json.write_text(json.dumps({"machine": m, "hub_corpus": r}, indent=2, default=str))
    return 1 if r["exceptions"] or r["over_budget"] else 0


if __name__ == "__main__":
    sys.exit(main())
