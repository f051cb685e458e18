"""The Dask run of `cardrepro audit --corpus`: a `dask.bag` over the corpus's partitions, computed
on a local process pool (default) or a `dask.distributed` scheduler, in windows of a fixed number
of partitions. Each window's rows are appended to the parquet file and folded into the summary as
it completes, so the driver holds at most one window of rows and never a card: memory is flat in
the corpus size (workers read their own partitions: for a cluster, the corpus must be on storage
they share, as for `dask.dataframe.read_parquet`)."""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import dask
import dask.bag as db
import pyarrow as pa
import pyarrow.parquet as pq
from dask.callbacks import Callback

from cardrepro.corpus import sources
from cardrepro.coverage import Summary, render
from cardrepro.errors import CardError

PARTITIONS_PER_WINDOW = 64       # x 32 cards: ~2,000 rows held at once, whatever the corpus size
PARTITIONS_PER_WORKER = 4        # ... or more on a big cluster, so that no worker waits for work
TASK = "audit_partitions"        # the name of the bag's per-partition tasks (progress counts them)
SCHEMA = pa.schema([
    ("id", pa.string()), ("library_name", pa.string()), ("year", pa.string()), ("sha256", pa.string()),
    ("outcome", pa.string()), ("families", pa.list_(pa.string())), ("score", pa.int32()),
    ("findings", pa.list_(pa.string())), ("refusal", pa.string()), ("error", pa.string()),
])


def audit_corpus(corpus, out, summary_path=None, scheduler=None, workers=None, progress=True):
    """Audit every card of CORPUS; rows to OUT (parquet), the summary (Markdown + plots) to
    SUMMARY_PATH. Returns (Summary, rows written, cards in the corpus)."""
    parts = sources.partitions(corpus)
    total = sum(sources.cards_in(p) for p in parts)
    bag = db.from_sequence(parts, partition_size=1).map_partitions(sources.audit_partitions)
    tasks = bag.to_delayed(optimize_graph=False)
    summary = Summary(Path(corpus).name)
    bar = _bar(total, progress)
    with _engine(scheduler, workers, bar) as (compute, slots, pool):
        with _RowWriter(out) as writer:
            window = max(PARTITIONS_PER_WINDOW, PARTITIONS_PER_WORKER * slots)
            for start in range(0, len(tasks), window):
                for rows in compute(tasks[start:start + window]):
                    writer.write(rows)
                    for row in rows:
                        summary.add(row)
        bar.close()
        if summary_path:
            write_summary(summary, Path(summary_path), pool)
    return summary, writer.rows, total


def write_summary(summary, path, pool=None):
    """PATH (Markdown) and its plots in the folder PATH without its suffix (docs/coverage.md:
    docs/coverage/*.svg, *.png), the plots drawn on POOL's workers when given."""
    from cardrepro.corpus import plots
    path.parent.mkdir(parents=True, exist_ok=True)
    drawn = plots.draw(summary, path.with_suffix(""), relative_to=path.parent, pool=pool)
    path.write_text(render(summary, drawn), encoding="utf-8")


def _bar(total, progress):
    from tqdm import tqdm
    return tqdm(total=total, unit="card", file=sys.stderr, disable=not progress, mininterval=0.5,
                desc="audit --corpus", dynamic_ncols=True)


def _engine(scheduler, workers, bar):
    return _distributed(scheduler, bar) if scheduler else _local(workers or os.cpu_count() or 1, bar)


@contextlib.contextmanager
def _local(workers, bar):
    """A pool of WORKERS processes (spawned, as dask's own), kept for the whole run and its plots."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        def compute(window):
            with _Progress(bar):
                # chunksize 1: a partition is already 32 cards; dask's default of 6 leaves workers idle
                return dask.compute(*window, scheduler="processes", pool=pool, chunksize=1)
        yield compute, workers, pool


@contextlib.contextmanager
def _distributed(address, bar):
    """The cluster at ADDRESS computes the rows; the plots are drawn here (a cluster's workers may
    lack matplotlib or its fonts)."""
    from distributed import Client, as_completed
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as err:
        raise CardError(address, 0, f"cannot reach the Dask scheduler: {err}") from None
    with client:
        def compute(window):
            futures = client.compute(window)
            done = {}
            for future, rows in as_completed(futures, with_results=True):
                done[future.key] = rows
                bar.update(len(rows))
            return [done[f.key] for f in futures]
        yield compute, sum(w["nthreads"] for w in client.scheduler_info()["workers"].values()), None


class _Progress(Callback):
    """Advances the bar by a partition's cards when the local scheduler finishes its task."""

    def __init__(self, bar):
        super().__init__()
        self.bar = bar

    def _posttask(self, key, result, dsk, state, worker_id):
        if isinstance(key, tuple) and str(key[0]).startswith(TASK):
            self.bar.update(len(result))


class _RowWriter:
    """One parquet file, a row group per window; written beside OUT and renamed when complete."""

    def __init__(self, out):
        self.out = Path(out)
        self.partial = self.out.with_name(self.out.name + ".partial")
        self.rows = 0

    def __enter__(self):
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(self.partial, SCHEMA)
        return self

    def write(self, rows):
        if rows:
            self.writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))
            self.rows += len(rows)

    def __exit__(self, exc_type, *_):
        self.writer.close()
        if exc_type is None:
            os.replace(self.partial, self.out)
        else:
            self.partial.unlink(missing_ok=True)


def run(corpus, out=None, summary=None, scheduler=None, workers=None, progress=True):
    """`cardrepro audit --corpus`: the run, then one line of totals on stdout. Exit 0, or 1 when a
    card has no row (a lost card: a cardrepro bug) or a card raised anything but CardError."""
    out = Path(out or f"{Path(corpus).name}.audit.parquet")
    summary_path = Path(summary) if summary else out.with_suffix(".md")
    s, written, total = audit_corpus(corpus, out, summary_path, scheduler, workers, progress)
    print(f"{total:,} cards, {written:,} rows: {s.parsed:,} parsed, {s.outcomes['refused']:,} refused (CardError), "
          f"{s.error_count:,} other exceptions -> {out}; summary {summary_path}")
    if written != total:
        print(f"{corpus}:0: {total - written:,} cards have no row", file=sys.stderr)
    return 1 if written != total or s.error_count else 0
