"""`cardrepro audit --corpus PATH`: parse + audit every card of a corpus on Dask.

- `sources`: the corpus as partitions (a folder of `*.md`, or parquet files in the layout of
  `librarian-bots/model_cards_with_metadata`) and the per-partition work; imports no Dask, so a
  worker needs nothing but cardrepro and its partition.
- `engine`: the Dask run (a local process pool, or a `dask.distributed` scheduler), streaming rows
  to one parquet file and into the summary (`cardrepro.coverage`).
- `plots`: the summary's plots (matplotlib, Agg, deterministic SVG and PNG).
Nothing here is imported by the other commands (tests/test_light_imports.py).
"""
