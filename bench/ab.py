"""Two checkouts of cardrepro side by side on the Hub corpus: parse + audit (`coverage.card_row`)
per CPU second, in fresh subprocesses that alternate (A B, then B A, ...), so that a host whose
speed drifts moves both alike. The ratio of the medians is the figure; absolute cards/s are context.

    .venv/bin/python bench/ab.py TREE_A TREE_B [--every K] [--rounds R] [--corpus DIR]

TREE_A, TREE_B: repository roots (e.g. `git worktree add --detach /tmp/base HEAD~5`). Each run
warms up on 50 cards outside the sample, empties the memos, then times one pass over every K-th card."""
import argparse
import statistics
import subprocess
import sys
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "hub-readmes"
CHILD = r'''
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from cardrepro.coverage import card_row
paths = sorted(Path(sys.argv[3]).glob("*.md"))
for p in paths[1::97][:50]:
    card_row(p, p.stem)
try:
    from cardrepro import memo
    memo.clear()
except ImportError:  # a checkout from before memo.py
    pass
sample = paths[::int(sys.argv[2])]
t = time.process_time()
for p in sample:
    card_row(p, p.stem)
print(len(sample) / (time.process_time() - t))
'''


def run(tree, every, corpus):
    out = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(every), str(corpus)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--every", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    a = ap.parse_args(argv)
    got = {a.a: [], a.b: []}
    for r in range(a.rounds):
        for tree in (a.a, a.b) if r % 2 == 0 else (a.b, a.a):
            got[tree].append(run(tree, a.every, a.corpus))
            print(f"round {r} {tree}: {got[tree][-1]:.1f} cards per CPU second", flush=True)
    ma, mb = statistics.median(got[a.a]), statistics.median(got[a.b])
    print(f"median A {ma:.1f}, B {mb:.1f}: B/A = {mb / ma:.3f}")


if __name__ == "__main__":
    main()
