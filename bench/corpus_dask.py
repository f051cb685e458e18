"""`cardrepro audit --corpus` on Dask: parse + audit per core, and the 1 -> 2 worker scaling,
each side by side with its baseline in the same run.

    .venv/bin/python bench/corpus_dask.py [CORPUS_DIR] [--every K] [--rounds R] [--json FILE]

CORPUS_DIR defaults to ../shared/corpus/hub-readmes; --every K takes every K-th card (by name)
into a scratch folder, for a quicker run. In order, each timed on the same files:
  1. read + sha256 of every card (the I/O floor);
  2. parse + audit in this one process, no Dask (`cardrepro.coverage.card_row`): cards/s per core, in
     steady state: WARM_UP other cards go through card_row first (imports, data files, compiled
     patterns), then the memos (cardrepro/memo.py) are emptied and one pass over the sample is
     timed, as a worker's first partition would run; per CPU second of this process
     (the target's figure: on a shared machine the wall time adds what other processes took) and
     per wall second;
  3. the Dask engine (`cardrepro.corpus.engine.audit_corpus`, local process pool) with 1 worker,
     then 2 workers, twice each: the cards alone (`audit --corpus C --out rows.parquet`: pool
     start-up, every card's row, the parquet file), the scaling the target is about; and the whole
     command with `--summary` (the same, then the Markdown summary and its plots: matplotlib's
     import and 4 figures, about 1.5 s whatever the corpus size, which lowers the ratio of a small
     corpus);
  4. the machine's own 1 -> 2 process scaling right now: the same pure-Python CPU loop in 1 and
     in 2 processes, before each round of 3 and after the last (the machine is shared: its free
     cores are the baseline). --rounds R repeats 3 and 4; the scaling is best 1 / best 2.
Targets (issue "Audit at every scale"): >= 300 cards/s per core; 1 -> 2 workers >= 1.7x.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, print_table  # noqa: E402  (bench/common.py)

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "hub-readmes"
TARGET_PER_CORE = 300
TARGET_SCALING = 1.7
SPIN = 3_000_000          # iterations of the baseline CPU loop per task (~0.2-0.5 s; 16 tasks a measure)
WARM_UP = 50              # cards through card_row before the one-process timing


def spin(n=SPIN):
    x = 0
    for i in range(n):
        x += i * i
    return x


def machine_scaling(tasks=16):
    """The same CPU-bound tasks in 1 and in 2 spawned processes: the machine's free parallelism."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    seconds = {}
    for workers in (1, 2):
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(spin, [1000] * workers))          # start-up out of the timing
            t = time.perf_counter()
            list(pool.map(spin, [SPIN] * tasks))
            seconds[workers] = time.perf_counter() - t
    return seconds[1] / seconds[2]


def read_pass(paths):
    t = time.perf_counter()
    for p in paths:
        hashlib.sha256(p.read_bytes()).hexdigest()
    return time.perf_counter() - t


def in_process(paths, warm_up):
    """card_row over PATHS in this process once WARM_UP cards have been through it: (wall seconds,
    CPU seconds, outcomes)."""
    from cardrepro import memo
    from cardrepro.coverage import card_row
    for p in warm_up:
        card_row(p, p.stem)
    memo.clear()  # warm imports and data files, empty memos: a worker's first partition
    t, cpu = time.perf_counter(), time.process_time()
    outcomes = [card_row(p, p.stem)["outcome"] for p in paths]
    return time.perf_counter() - t, time.process_time() - cpu, outcomes


def warm_up_cards(folder, every):
    """WARM_UP cards of the corpus outside the sample (the sample's own first ones when it is the
    whole corpus): the timed pass then meets no card twice."""
    from cardrepro.coverage import corpus_files
    return corpus_files(folder)[1::every][:WARM_UP] if every > 1 else corpus_files(folder)[:WARM_UP]


def dask_run(folder, workers, scratch, with_summary):
    from cardrepro.corpus.engine import audit_corpus
    out = Path(scratch) / f"rows-{workers}.parquet"
    t = time.perf_counter()
    summary, written, total = audit_corpus(folder, out, out.with_suffix(".md") if with_summary else None,
                                           workers=workers, progress=False)
    return time.perf_counter() - t, summary, written, total


def corpus_copy(folder, every, scratch):
    from cardrepro.coverage import corpus_files
    if every <= 1:
        return Path(folder)
    sample = Path(scratch) / Path(folder).name
    sample.mkdir()
    for p in corpus_files(folder)[::every]:
        shutil.copyfile(p, sample / p.name)
    return sample


def measure(folder, every=1, rounds=1):
    from cardrepro.coverage import corpus_files
    with tempfile.TemporaryDirectory(prefix="cardrepro-bench-") as scratch:
        corpus = corpus_copy(folder, every, scratch)
        paths = corpus_files(corpus)
        n = len(paths)
        load = [os.getloadavg()[0]]
        read_s = read_pass(paths)
        parse_s, parse_cpu_s, outcomes = in_process(paths, warm_up_cards(folder, every))
        baseline, d1s, d2s, c1s, c2s = [], [], [], [], []
        for _ in range(rounds):      # each round: the machine's scaling, then 1 and 2 workers, back to back
            baseline.append(machine_scaling())
            c1s.append(dask_run(corpus, 1, scratch, with_summary=False)[0])
            c2s.append(dask_run(corpus, 2, scratch, with_summary=False)[0])
            d1, s1, w1, t1 = dask_run(corpus, 1, scratch, with_summary=True)
            d2, s2, w2, t2 = dask_run(corpus, 2, scratch, with_summary=True)
            d1s.append(d1)
            d2s.append(d2)
        baseline.append(machine_scaling())
        load.append(os.getloadavg()[0])
        d1, d2, c1, c2 = min(d1s), min(d2s), min(c1s), min(c2s)
    return {
        "corpus": str(folder), "every": every, "cards": n, "loadavg_1min": load,
        "read_cards_per_s": n / read_s, "warm_up_cards": WARM_UP,
        "per_core_cards_per_s": n / parse_cpu_s, "per_core_ms_per_card": 1000 * parse_cpu_s / n,
        "one_process_wall_cards_per_s": n / parse_s, "one_process_cpu_share": parse_cpu_s / parse_s,
        "dask_cards_1_worker_s": c1, "dask_cards_2_workers_s": c2,
        "dask_cards_1_worker_cards_per_s": n / c1, "dask_cards_2_workers_cards_per_s": n / c2,
        "dask_cards_scaling": c1 / c2, "dask_cards_scaling_by_round": [a / b for a, b in zip(c1s, c2s)],
        "dask_1_worker_s": d1, "dask_2_workers_s": d2,
        "dask_scaling": d1 / d2, "dask_scaling_by_round": [a / b for a, b in zip(d1s, d2s)],
        "machine_scaling": baseline, "rounds": rounds,
        "rows": [w1, w2], "expected_rows": [t1, t2],
        "same_summary": s1.fingerprint == s2.fingerprint and s1.stating == s2.stating and s1.findings == s2.findings,
        "parsed": s2.parsed, "refused": s2.outcomes["refused"], "errors": s2.error_count,
        "in_process_parsed": outcomes.count("parsed"),
    }


def rows(r):
    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    return [
        ("read + sha256 (I/O floor)", f"{r['read_cards_per_s']:,.0f} cards/s", "", "", ""),
        (f"parse + audit, one process, per CPU s (after {r['warm_up_cards']} warm-up cards)",
         f"{r['per_core_cards_per_s']:.0f} cards/s",
         f"{r['read_cards_per_s'] / r['per_core_cards_per_s']:.0f}x slower than read; "
         f"{r['per_core_ms_per_card']:.1f} ms/card", f">= {TARGET_PER_CORE} cards/s",
         verdict(r["per_core_cards_per_s"] >= TARGET_PER_CORE)),
        ("  the same pass per wall second", f"{r['one_process_wall_cards_per_s']:.0f} cards/s",
         f"CPU {r['one_process_cpu_share']:.0%} of the wall time", "", ""),
        ("Dask local pool, 1 worker: the cards", f"{r['dask_cards_1_worker_cards_per_s']:.0f} cards/s",
         f"{r['dask_cards_1_worker_s']:.1f} s", "", ""),
        ("Dask local pool, 2 workers: the cards", f"{r['dask_cards_2_workers_cards_per_s']:.0f} cards/s",
         f"{r['dask_cards_2_workers_s']:.1f} s", "", ""),
        (f"Dask 1 -> 2 workers, the cards (best of {r['rounds']} each)", f"{r['dask_cards_scaling']:.2f}x",
         "by round: " + ", ".join(f"{x:.2f}x" for x in r["dask_cards_scaling_by_round"]),
         f">= {TARGET_SCALING}x", verdict(r["dask_cards_scaling"] >= TARGET_SCALING)),
        ("  the whole command with --summary, 1 -> 2 workers", f"{r['dask_scaling']:.2f}x",
         f"{r['dask_1_worker_s']:.1f} s -> {r['dask_2_workers_s']:.1f} s; the summary adds "
         f"{r['dask_1_worker_s'] - r['dask_cards_1_worker_s']:.1f} s, "
         f"{r['dask_2_workers_s'] - r['dask_cards_2_workers_s']:.1f} s", "", ""),
        ("  baseline: CPU loop 1 -> 2 processes", ", ".join(f"{x:.2f}x" for x in r["machine_scaling"]),
         "before each round, and after", "", ""),
        ("rows written / cards", f"{r['rows'][1]:,} / {r['expected_rows'][1]:,}", "same summary 1 vs 2 workers: "
         f"{r['same_summary']}", "no lost card", verdict(r["rows"] == r["expected_rows"] and r["same_summary"])),
    ]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path, nargs="?", default=DEFAULT_CORPUS)
    ap.add_argument("--every", type=int, default=1, help="take every K-th card (default: all)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of (baseline, 1 worker, 2 workers)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    a = ap.parse_args(argv)
    if not a.corpus.is_dir():
        raise SystemExit(f"{a.corpus}: no such corpus folder")
    m = machine(loadavg=os.getloadavg())
    print(f"machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}, {m['date']}, "
          f"load average {m['loadavg'][0]:.1f}", flush=True)
    r = measure(a.corpus, a.every, a.rounds)
    print(f"\ncorpus {r['corpus']}{f' (every {a.every}th card)' if a.every > 1 else ''}: {r['cards']:,} cards; "
          f"{r['parsed']:,} parsed, {r['refused']:,} refused, {r['errors']} other exceptions; "
          f"1-min load average {r['loadavg_1min'][0]:.1f} -> {r['loadavg_1min'][1]:.1f}\n")
    print_table(("benchmark", "value", "ratio", "target", ""), rows(r))
    if a.json:
        a.json.write_text(json.dumps({"machine": m, "corpus_dask": r}, indent=2, default=str))
    return 0 if r["rows"] == r["expected_rows"] else 1


if __name__ == "__main__":
    sys.exit(main())
