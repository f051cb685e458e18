"""Compiler speed: cold start, corpus throughput, incremental regeneration (issue 6, `bench/compile`).

    .venv/bin/python bench/compile.py [--reps 7] [--corpus 1000] [--hub-corpus DIR] [--regen-cards 100] [--profile]

Every figure that the machine's noise could move is measured side by side with its baseline in
this one run (interleaved repetitions, medians) and reported as a ratio; absolute times are only
context. Prints a table with PASS/MISS against the issue's targets; `--json FILE` also writes the
figures. `--profile` adds the top functions (own time) of parse and audit over the seed cards.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402  (bench/corpus.py)
import hub_corpus  # noqa: E402  (bench/hub_corpus.py)
from common import machine, print_table  # noqa: E402  (bench/common.py)

SEED = ROOT / "cards" / "stablelm-7b-sft.md"
# `cardrepro parse --format json` minus the schema check and the CLI: shows what jsonschema
# (required in parse's code path by the parse issue) costs a process.
UNVALIDATED_PARSE = ("import json, sys; from cardrepro.spec import build_spec; "
                     "sys.stdout.write(json.dumps(build_spec(sys.argv[1]), indent=2, ensure_ascii=False))")
# the yardstick for reading a card: huggingface_hub's own loader, of the same file
MODELCARD_LOAD = "import sys; from huggingface_hub import ModelCard; ModelCard.load(sys.argv[1])"


def cli_cmd():
    exe = Path(sys.executable).parent / "cardrepro"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "cardrepro"]


def timed_run(cmd, cwd=None, ok=(0,), env=None):
    t = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd or ROOT, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t
    if res.returncode not in ok:
        raise SystemExit(f"{' '.join(map(str, cmd))} exited {res.returncode}:\n{res.stderr[-2000:]}")
    return dt


def timed_cpu_run(cmd, env=None):
    """(wall s, CPU s) of one whole process: CPU is the child's user + system time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed_run(cmd, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bytecode_env(cache):
    """This environment with bytecode written to and read from CACHE (PYTHONPYCACHEPREFIX), whatever
    PYTHONDONTWRITEBYTECODE says: a process then starts as from an installed wheel, whose modules
    are compiled once at install. Without it, an editable install under PYTHONDONTWRITEBYTECODE
    compiles every cardrepro module from source at every start."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(cache)}


BYTECODE_RUNS = ("parse_pyc", "audit_pyc")       # the runs of cold_start that start from cached bytecode


# ---------------------------------------------------------------------------------------------
def cold_start(reps):
    """Whole processes, interleaved: python -c pass | cardrepro parse | cardrepro audit | the same
    two from cached bytecode | references; wall and CPU time of each."""
    with tempfile.TemporaryDirectory(prefix="cardrepro-pyc-") as cache:
        return _cold_start(reps, bytecode_env(cache))


def _cold_start(reps, pyc_env):
    cli = cli_cmd()
    cmds = {
        "floor": [sys.executable, "-c", "pass"],
        "parse": cli + ["parse", str(SEED), "--format", "json"],
        "audit": cli + ["audit", str(SEED), "--fail-on", "never"],
        "parse_pyc": cli + ["parse", str(SEED), "--format", "json"],
        "audit_pyc": cli + ["audit", str(SEED), "--fail-on", "never"],
        # references, not product paths: what the schema check costs a process
        "import_jsonschema": [sys.executable, "-c", "import jsonschema"],
        "parse_unvalidated": [sys.executable, "-c", UNVALIDATED_PARSE, str(SEED)],
        "modelcard_load": [sys.executable, "-c", MODELCARD_LOAD, str(SEED)],
    }
    envs = {k: pyc_env if k in BYTECODE_RUNS else None for k in cmds}
    for k, c in cmds.items():        # warm the page cache (and write the bytecode cache) once, not measured
        timed_run(c, env=envs[k])
    times, cpu = {k: [] for k in cmds}, {k: [] for k in cmds}
    for _ in range(reps):
        for k, c in cmds.items():
            wall, used = timed_cpu_run(c, env=envs[k])
            times[k].append(wall)
            cpu[k].append(used)
    med = {k: statistics.median(v) for k, v in times.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    return {"median_s": med, "all_s": times, **{f"ratio_{k}": med[k] / med["floor"] for k in cmds},
            "dont_write_bytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
            "median_cpu_s": med_cpu, "all_cpu_s": cpu,
            **{f"cpu_ratio_{k}": med_cpu[k] / med_cpu["floor"] for k in cmds},
            **{f"cpu_ratio_{k}_modelcard": med_cpu[k] / med_cpu["modelcard_load"] for k in cmds}}


def cold_cpu_rows(cs):
    """CPU time of the cold starts against the floor and against ModelCard.load of the same card."""
    cpu = cs["median_cpu_s"]
    out = []
    for k, label in (("floor", "python -c pass"), ("modelcard_load", "ModelCard.load (reference)"),
                     ("parse", "cardrepro parse"), ("audit", "cardrepro audit"),
                     ("parse_pyc", "cardrepro parse, cached .pyc"), ("audit_pyc", "cardrepro audit, cached .pyc")):
        out.append((f"  CPU: {label}", f"{cpu[k]:.3f} s",
                    f"{cs[f'cpu_ratio_{k}']:.2f}x floor, {cs[f'cpu_ratio_{k}_modelcard']:.2f}x ModelCard.load", "", ""))
    return out


# ---------------------------------------------------------------------------------------------
def throughput(n, passes=2):
    """In-process, single process: cards/s for parse and for audit over n generated variants.
    Baseline measured side by side: reading + hashing each file (the I/O floor)."""
    import hashlib

    from cardrepro import validate
    from cardrepro.audit import audit_spec
    from cardrepro.errors import CardError
    from cardrepro.spec import parse_card

    tmp = Path(tempfile.mkdtemp(prefix="cardrepro-bench-corpus-"))
    try:
        t = time.perf_counter()
        paths = corpus.write(tmp, n)
        gen_s = time.perf_counter() - t
        parse_s, audit_s, io_s, seed_parse_s, validate_s = [], [], [], [], []
        seed_names = {p.stem for p in (ROOT / "cards").glob("*.md")}
        n_seed = sum(1 for p in paths if p.name.split("--")[0] in seed_names)
        specs, errors, other, audit_bugs = [], 0, [], set()
        for k in range(passes):
            t = time.perf_counter()
            for p in paths:
                hashlib.sha256(p.read_bytes()).hexdigest()
            io_s.append(time.perf_counter() - t)
            got, errors, seed_s = [], 0, 0.0
            t = time.perf_counter()
            for p in paths:
                t1 = time.perf_counter()
                try:
                    got.append(parse_card(p))
                except CardError:
                    errors += 1
                except Exception as err:  # a parser bug: report it, never hide it
                    other.append(f"{p.name}: {type(err).__name__}: {err}")
                if p.name.split("--")[0] in seed_names:
                    seed_s += time.perf_counter() - t1
            parse_s.append(time.perf_counter() - t)
            seed_parse_s.append(seed_s)
            specs = got
            # the schema check alone, on the same specs (parse_card ran it once already)
            t = time.perf_counter()
            for spec in specs:
                validate.check(spec, spec["card"]["path"])
            validate_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            for s in specs:
                try:
                    audit_spec(s)
                except Exception as err:  # an audit bug: counted and reported, never hidden
                    audit_bugs.add(f"{Path(s['card']['path']).name}: {type(err).__name__}: {err}")
            audit_s.append(time.perf_counter() - t)
        best_p, best_a, best_io = min(parse_s), min(audit_s), min(io_s)
        return {"cards": len(paths), "parsed": len(specs), "card_errors": errors, "other_exceptions": other[:20], "audit_exceptions": sorted(audit_bugs),
                "generate_s": gen_s, "parse_s": parse_s, "audit_s": audit_s, "io_s": io_s,
                "parse_cards_per_s": len(paths) / best_p, "audit_cards_per_s": len(specs) / best_a,
                "validate_s": validate_s, "validate_share": min(validate_s) / best_p,
                "parse_unvalidated_cards_per_s": len(paths) / (best_p - min(validate_s)),
                "io_cards_per_s": len(paths) / best_io, "seed_variants": n_seed,
                "parse_seed_cards_per_s": n_seed / min(seed_parse_s),
                "sources": sorted({p.name.split("--")[0] for p in paths})}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
def regen_bench(n_cards, reps):
    """`cardrepro regen` over n_cards with one changed vs `cardrepro build` of that card alone;
    whole processes, interleaved."""
    from cardrepro.errors import CardError
    from cardrepro.spec import parse_card

    tmp = Path(tempfile.mkdtemp(prefix="cardrepro-bench-regen-"))
    try:
        cards, gen = tmp / "cards", tmp / "generated"
        cards.mkdir()
        # n_cards variants that parse (regen stops at the first card that does not); the four seeds first
        picked = []
        for src in sorted((ROOT / "cards").glob("*.md")):
            picked.append((src.stem, src.read_text(encoding="utf-8")))
        for name, text, _ in corpus.generate(4 * n_cards, seed=7):
            if len(picked) >= n_cards:
                break
            p = cards / f"{name}.md"
            p.write_text(text, encoding="utf-8")
            try:
                parse_card(p)
                picked.append((name, text))
            except CardError:
                pass
            p.unlink()
        for name, text in picked:
            (cards / f"{name}.md").write_text(text, encoding="utf-8")
        cli = cli_cmd()
        t = time.perf_counter()
        timed_run(cli + ["regen", str(cards), "--generated", str(gen)])
        initial_s = time.perf_counter() - t
        target = cards / "stablelm-7b-sft.md"
        alone = tmp / "alone"
        regen_t, build_t = [], []
        timed_run(cli + ["build", str(target), "-o", str(alone)])      # warm
        for k in range(reps):
            with target.open("a", encoding="utf-8") as f:
                f.write(f"\nEdited for the regen benchmark, round {k}.\n")
            regen_t.append(timed_run(cli + ["regen", str(cards), "--generated", str(gen)]))
            build_t.append(timed_run(cli + ["build", str(target), "-o", str(alone)]))
        # check: the last regen rebuilt exactly one project
        out = subprocess.run(cli + ["regen", str(cards), "--generated", str(gen), "--check"], capture_output=True,
                             text=True, cwd=ROOT)
        med_r, med_b = statistics.median(regen_t), statistics.median(build_t)
        return {"cards": len(picked), "initial_regen_s": initial_s, "regen_s": regen_t, "build_s": build_t,
                "median_regen_s": med_r, "median_build_s": med_b, "ratio": med_r / med_b,
                "clean_after": out.returncode == 0}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
def profile(top=25):
    """Own-time hot spots of parse and audit over the seed cards (in-process, repeated)."""
    import cProfile
    import io
    import pstats

    from cardrepro.audit import audit_spec
    from cardrepro.spec import parse_card

    seeds = sorted((ROOT / "cards").glob("*.md"))
    out = {}
    for label, fn in (("parse", lambda: [parse_card(p) for p in seeds]),
                      ("audit", lambda specs=[parse_card(p) for p in seeds]: [audit_spec(s) for s in specs])):
        fn()
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(5):
            fn()
        pr.disable()
        s = io.StringIO()
        st = pstats.Stats(pr, stream=s)
        st.sort_stats("tottime").print_stats(top)
        s2 = io.StringIO()
        pstats.Stats(pr, stream=s2).sort_stats("cumulative").print_stats(top)
        out[label] = s.getvalue() + "\n" + s2.getvalue()
    return out


def import_times():
    """`python -X importtime` of `cardrepro parse`: the modules that cost most at cold start."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "cardrepro", "parse", str(SEED), "--format", "json"],
                         capture_output=True, text=True, cwd=ROOT)
    rows = []
    for line in res.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self [us]" not in line:
            parts = [x.strip() for x in line[len("import time:"):].split("|")]
            rows.append((int(parts[1]), int(parts[0]), parts[2]))
    rows.sort(reverse=True)
    return rows


# ---------------------------------------------------------------------------------------------
def verdict(ok):
    return "PASS" if ok else "MISS"


def bytecode_rows(cs):
    """The cold starts from cached bytecode (bytecode_env)."""
    med = cs["median_s"]
    return [(f"cold start: cardrepro {k}, cached .pyc", f"{med[f'{k}_pyc']:.3f} s", f"{cs[f'ratio_{k}_pyc']:.2f}x floor",
             "< 0.5 s", verdict(med[f"{k}_pyc"] < 0.5)) for k in ("parse", "audit")]


def bytecode_note(cs):
    if cs["dont_write_bytecode"]:
        return ("PYTHONDONTWRITEBYTECODE is set here: the plain cardrepro rows compile every cardrepro module "
                "from source at each start; the `cached .pyc` rows read bytecode a first run wrote (PYTHONPYCACHEPREFIX)")
    return "bytecode is cached here (no PYTHONDONTWRITEBYTECODE): the plain and `cached .pyc` rows differ only in noise"


def print_cold_start(cs, a):
    med = cs["median_s"]
    rows = [("cold start: python -c pass (floor)", f"{med['floor']:.3f} s", "1.00x", "", "")]
    for k in ("parse", "audit"):
        rows.append((f"cold start: cardrepro {k}", f"{med[k]:.3f} s", f"{cs[f'ratio_{k}']:.2f}x floor",
                     "< 0.5 s", verdict(med[k] < 0.5)))
    rows += bytecode_rows(cs)
    for k, label in (("import_jsonschema", "python -c 'import jsonschema'"), ("modelcard_load", "ModelCard.load of the card")):
        rows.append((f"  reference: {label}", f"{med[k]:.3f} s", f"{cs[f'ratio_{k}']:.2f}x floor", "", ""))
    print()
    print_table(("benchmark", "value", "ratio", "target", ""), rows + cold_cpu_rows(cs))
    print(f"whole-process medians over {a.reps} interleaved repetitions (wall; CPU = user + system of the process)")
    print(bytecode_note(cs))
    if a.json:
        a.json.write_text(json.dumps({"machine": machine(), "cold_start": cs}, indent=2, default=str))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=7, help="repetitions of each whole-process timing")
    ap.add_argument("--corpus", type=int, default=1000, help="card variants for the throughput figures")
    ap.add_argument("--hub-corpus", type=Path, default=hub_corpus.DEFAULT_CORPUS,
                    help="the real READMEs for the hub-corpus rows (skipped when the folder is absent)")
    ap.add_argument("--hub-passes", type=int, default=1, help="passes over the hub corpus (bench/hub_corpus.py: 2)")
    ap.add_argument("--regen-cards", type=int, default=100)
    ap.add_argument("--regen-reps", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="print parse/audit hot spots and import times")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    ap.add_argument("--cold-start-only", action="store_true", help="only the cold start rows (wall and CPU)")
    a = ap.parse_args(argv)

    m = machine()
    print(f"machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}, {m['date']}", flush=True)
    print("cold start ...", flush=True)
    cs = cold_start(a.reps)
    if a.cold_start_only:
        return print_cold_start(cs, a)
    print("corpus throughput ...", flush=True)
    tp = throughput(a.corpus)
    hub = None
    if a.hub_corpus.is_dir():
        print("hub corpus throughput ...", flush=True)
        hub = hub_corpus.measure(a.hub_corpus, a.hub_passes)
    print("incremental regen ...", flush=True)
    rg = regen_bench(a.regen_cards, a.regen_reps)

    med = cs["median_s"]
    rows = [
        ("cold start: python -c pass (floor)", f"{med['floor']:.3f} s", "1.00x", "", ""),
        ("cold start: cardrepro parse", f"{med['parse']:.3f} s", f"{cs['ratio_parse']:.2f}x floor",
         "< 0.5 s and <= 3x floor", verdict(med["parse"] < 0.5 and cs["ratio_parse"] <= 3)),
        ("cold start: cardrepro audit", f"{med['audit']:.3f} s", f"{cs['ratio_audit']:.2f}x floor",
         "< 0.5 s and <= 3x floor", verdict(med["audit"] < 0.5 and cs["ratio_audit"] <= 3)),
        *bytecode_rows(cs),
        ("  reference: python -c 'import jsonschema'", f"{med['import_jsonschema']:.3f} s",
         f"{cs['ratio_import_jsonschema']:.2f}x floor", "", ""),
        ("  reference: parse minus CLI and jsonschema", f"{med['parse_unvalidated']:.3f} s",
         f"{cs['ratio_parse_unvalidated']:.2f}x floor", "", ""),
        ("  reference: ModelCard.load of the card", f"{med['modelcard_load']:.3f} s",
         f"{cs['ratio_modelcard_load']:.2f}x floor", "", ""),
        *cold_cpu_rows(cs),
        (f"throughput: parse ({tp['cards']} variants)", f"{tp['parse_cards_per_s']:.0f} cards/s",
         f"{tp['io_cards_per_s'] / tp['parse_cards_per_s']:.0f}x slower than read+sha256",
         ">= 200 cards/s", verdict(tp["parse_cards_per_s"] >= 200)),
        (f"  of which seed-card variants ({tp['seed_variants']})", f"{tp['parse_seed_cards_per_s']:.0f} cards/s", "",
         ">= 200 cards/s", verdict(tp["parse_seed_cards_per_s"] >= 200)),
        ("  reference: parse minus the jsonschema check", f"{tp['parse_unvalidated_cards_per_s']:.0f} cards/s",
         f"check = {100 * tp['validate_share']:.0f}% of parse", "", ""),
        *(hub_corpus.rows(hub) if hub else []),
        (f"throughput: audit ({tp['parsed']} specs)", f"{tp['audit_cards_per_s']:.0f} cards/s", "", "(none)", ""),
        (f"regen: {rg['cards']} cards, 1 changed", f"{rg['median_regen_s']:.3f} s",
         f"{rg['ratio']:.2f}x build alone ({rg['median_build_s']:.3f} s)", "<= 2x build alone", verdict(rg["ratio"] <= 2)),
    ]
    print()
    print_table(("benchmark", "value", "ratio", "target", ""), rows)
    print(f"\ncorpus: {tp['cards']} distinct variants of {len(tp['sources'])} source cards ({', '.join(tp['sources'])}); "
          f"{tp['parsed']} parsed, {tp['card_errors']} CardError (exit 2), {len(tp['other_exceptions'])} other exceptions")
    for e in tp["other_exceptions"]:
        print(f"  ! parse: {e}")
    if tp["audit_exceptions"]:
        print(f"audit raised on {len(tp['audit_exceptions'])} of {tp['parsed']} specs (audit bugs, timed anyway):")
        for e in tp["audit_exceptions"][:10]:
            print(f"  ! audit: {e}")
    if hub:
        hub_corpus.report(hub)
    print(f"regen: initial build of all {rg['cards']} projects {rg['initial_regen_s']:.1f} s; "
          f"regen --check clean afterwards: {rg['clean_after']}")
    print(f"whole-process medians over {a.reps} interleaved repetitions; throughput: best of 2 passes")
    print(bytecode_note(cs))

    result = {"machine": m, "cold_start": cs, "throughput": tp, "hub_corpus": hub, "regen": rg}
    if a.profile:
        prof = profile()
        for k, v in prof.items():
            print(f"\n=== profile: {k} (4 seed cards x 5) ===\n{v}")
        print("=== import time of `cardrepro parse` (cumulative us, self us, module), top 25 ===")
        for cum, self_, mod in import_times()[:25]:
            print(f"{cum:>9} {self_:>9}  {mod}")
        result["profile"] = prof
    if a.json:
        a.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
