"""A corpus as partitions, and the work of one partition. No Dask here: a worker unpickles only
this module's function and a partition descriptor (a few paths, or one parquet row group)."""
from __future__ import annotations

from pathlib import Path

from cardrepro.coverage import UNKNOWN, card_row, corpus_files
from cardrepro.errors import CardError

PARQUET_COLUMNS = ("modelId", "card", "library_name", "createdAt")
CARDS_PER_PARTITION = 32


def parquet_files(path):
    p = Path(path)
    if p.is_file():
        return [p] if p.suffix == ".parquet" else []
    return sorted(p.glob("*.parquet"), key=lambda f: f.name)


def partitions(path, cards_per_partition=CARDS_PER_PARTITION):
    """PATH's partitions, in corpus order: ("cards", (card path, ...)) for a folder of `*.md`
    (by name), ("parquet", file, row group) for parquet files (by name, then row group)."""
    p = Path(path)
    if not p.exists():
        raise CardError(path, 0, "no such corpus (a folder of *.md cards or parquet files)")
    if files := parquet_files(p):
        import pyarrow.parquet as pq
        return [("parquet", str(f), i) for f in files for i in range(_row_groups(pq, f))]
    if p.is_dir() and (cards := corpus_files(p)):
        names = [str(c) for c in cards]
        return [("cards", tuple(names[i:i + cards_per_partition]))
                for i in range(0, len(names), cards_per_partition)]
    raise CardError(path, 0, "not a corpus: no *.md cards or *.parquet files in it")


def _row_groups(pq, f):
    try:
        return pq.ParquetFile(f).metadata.num_row_groups
    except Exception as err:  # pyarrow's errors are many kinds; all mean the same here
        raise CardError(f, 0, f"not a readable parquet file: {err}") from None


def cards_in(partition):
    """How many cards (rows) PARTITION holds, from its names or the parquet metadata alone."""
    if partition[0] == "cards":
        return len(partition[1])
    import pyarrow.parquet as pq
    return pq.ParquetFile(partition[1]).metadata.row_group(partition[2]).num_rows


def audit_partitions(partitions):
    """A Dask partition (a list of partition descriptors) → its rows, in order."""
    return [row for part in partitions for row in audit_partition(part)]


def audit_partition(partition):
    if partition[0] == "cards":
        return [card_row(Path(p), Path(p).stem) for p in partition[1]]
    _, file, group = partition
    try:
        records = _read_row_group(file, group)
    except Exception as err:  # an unreadable row group: a row per card it holds says so, the run goes on
        error = f"unreadable row group: {type(err).__name__}: {err}"[:300]
        return [{**card_row("", f"{Path(file).name}#{group}:{i}"), "outcome": "error", "refusal": None, "error": error}
                for i in range(cards_in(partition))]
    return [card_row(r.get("card") or "", r.get("modelId") or f"{Path(file).name}#{group}:{i}",
                     r.get("library_name") or None, _year(r.get("createdAt")))
            for i, r in enumerate(records)]


def _read_row_group(file, group):
    import pyarrow.parquet as pq
    f = pq.ParquetFile(file)
    columns = [c for c in PARQUET_COLUMNS if c in f.schema_arrow.names]
    return f.read_row_group(group, columns=columns).to_pylist()


def _year(created):
    """`createdAt` (a timestamp, or an ISO string) → "2023"; UNKNOWN when absent or unreadable."""
    if created is None:
        return UNKNOWN
    if hasattr(created, "year"):
        return str(created.year)
    text = str(created)
    return text[:4] if text[:4].isdigit() else UNKNOWN
