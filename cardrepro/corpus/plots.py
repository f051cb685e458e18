"""The summary's plots: matplotlib with the Agg backend, SVG and PNG, byte for byte the same for
the same summary (a fixed SVG hash salt, no dates or software versions in the files)."""
from __future__ import annotations

from pathlib import Path

PLOTS = (   # (file stem, caption)
    ("families", "Share of cards stating each fact family"),
    ("by_library", "Share of cards stating each family, by library_name"),
    ("by_year", "Share of cards stating each family, by year"),
    ("findings", "Most common audit findings (share of parsed cards)"),
)


def draw(summary, folder, relative_to, pool=None):
    """Write every plot as FOLDER/STEM.svg and .png; [(caption, svg path relative to RELATIVE_TO)].
    With POOL (an executor: the corpus run's own workers), a plot a task: the plots, serial work
    after the cards, then take a share of the run's workers too."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shown = [(stem, caption, figure_data(summary, stem)) for stem, caption in PLOTS]
    files = pool.map(figure_files, *zip(*shown)) if pool else (figure_files(*plot) for plot in shown)
    out = []
    for (stem, caption, _), (svg, png) in zip(shown, files):
        (folder / f"{stem}.svg").write_bytes(svg)
        (folder / f"{stem}.png").write_bytes(png)
        out.append((caption, (folder / f"{stem}.svg").relative_to(relative_to).as_posix()))
    return out


def figure_data(summary, stem):
    """What the plot STEM shows of SUMMARY, as plain values (a worker is sent these, not the summary)."""
    base = {"corpus": summary.corpus, "cards": summary.cards}
    if stem == "families":
        return {**base, "bars": [(n, _pct(summary.stating[n], summary.cards)) for n in summary.families[::-1]]}
    if stem == "findings":
        return {**base, "bars": [(code, _pct(n, summary.parsed)) for code, n in summary.top_findings()[::-1]]}
    dim = {"by_library": "library_name", "by_year": "year"}[stem]
    rows = summary.top_groups(dim)
    return {**base, "families": summary.families,
            "grid": [[_pct(stating[f], cards) for f in summary.families] for _, cards, _, stating in rows],
            "labels": [f"{label} ({cards:,})" for label, cards, _, _ in rows]}


def figure_files(stem, caption, shown):
    """(SVG bytes, PNG bytes) of the plot STEM of SHOWN (figure_data)."""
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    drawers = {"families": _bars("#4C72B0", "% of the corpus"), "findings": _bars("#DD8452", "% of parsed cards"),
               "by_library": _grid, "by_year": _grid}
    files = []
    with matplotlib.rc_context({"svg.hashsalt": "cardrepro", "font.size": 9}):
        fig, ax = plt.subplots(figsize=(9, 5.5))
        drawers[stem](ax, shown)
        ax.set_title(f"{caption} ({shown['corpus']}, {shown['cards']:,} cards)")
        fig.tight_layout()
        for fmt, options in (("svg", {"metadata": {"Date": None, "Creator": None}}),
                             ("png", {"dpi": 100, "metadata": {"Software": None}})):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, **options)
            files.append(buf.getvalue())
        plt.close(fig)
    return tuple(files)


def _pct(n, of):
    return 100 * n / of if of else 0.0


def _bars(color, xlabel):
    def draw(ax, shown):
        ax.barh([name for name, _ in shown["bars"]], [pct for _, pct in shown["bars"]], color=color)
        ax.set_xlabel(xlabel)
        ax.set_xlim(0, 100)
    return draw


def _grid(ax, shown):
    families = shown["families"]
    image = ax.imshow(shown["grid"] or [[0.0] * len(families)], aspect="auto", cmap="viridis", vmin=0, vmax=100)
    ax.set_xticks(range(len(families)), families, rotation=45, ha="right")
    ax.set_yticks(range(len(shown["labels"])), shown["labels"])
    ax.figure.colorbar(image, ax=ax, label="% of the group's cards")
