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


def draw(summary, folder, relative_to):
    """Write every plot as FOLDER/STEM.svg and .png; [(caption, svg path relative to RELATIVE_TO)]."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    drawers = {"families": _families, "by_library": lambda ax, s: _groups(ax, s, "library_name"),
               "by_year": lambda ax, s: _groups(ax, s, "year"), "findings": _findings}
    out = []
    with matplotlib.rc_context({"svg.hashsalt": "cardrepro", "font.size": 9}):
        for stem, caption in PLOTS:
            fig, ax = plt.subplots(figsize=(9, 5.5))
            drawers[stem](ax, summary)
            ax.set_title(f"{caption} ({summary.corpus}, {summary.cards:,} cards)")
            fig.tight_layout()
            fig.savefig(folder / f"{stem}.svg", metadata={"Date": None, "Creator": None})
            fig.savefig(folder / f"{stem}.png", dpi=100, metadata={"Software": None})
            plt.close(fig)
            out.append((caption, (folder / f"{stem}.svg").relative_to(relative_to).as_posix()))
    return out


def _pct(n, of):
    return 100 * n / of if of else 0.0


def _families(ax, s):
    names = s.families[::-1]
    ax.barh(names, [_pct(s.stating[n], s.cards) for n in names], color="#4C72B0")
    ax.set_xlabel("% of the corpus")
    ax.set_xlim(0, 100)


def _groups(ax, s, dim):
    rows = s.top_groups(dim)
    grid = [[_pct(stating[f], cards) for f in s.families] for _, cards, _, stating in rows]
    image = ax.imshow(grid or [[0.0] * len(s.families)], aspect="auto", cmap="viridis", vmin=0, vmax=100)
    ax.set_xticks(range(len(s.families)), s.families, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), [f"{label} ({cards:,})" for label, cards, _, _ in rows])
    ax.figure.colorbar(image, ax=ax, label="% of the group's cards")


def _findings(ax, s):
    top = s.top_findings()[::-1]
    ax.barh([code for code, _ in top], [_pct(n, s.parsed) for _, n in top], color="#DD8452")
    ax.set_xlabel("% of parsed cards")
    ax.set_xlim(0, 100)
