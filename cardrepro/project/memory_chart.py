"""A per-GPU memory chart (SVG, written by hand: no plotting library on the build path) from the
memory estimate the audit reports as CR502 (cardrepro/estimate/plan.py): one stacked bar per
ZeRO/offload variant, with and without activation checkpointing."""
from xml.sax.saxutils import escape

PARTS = [("weights", "weights", "#4c72b0"), ("gradients", "gradients", "#dd8452"),
         ("optimizer", "optimizer states", "#55a868"), ("buffer", "gathered-layer buffer", "#8172b3"),
         ("activations", "activations", "#c44e52")]
GB = 1e9  # as the audit reports it


def _bars(rows):
    out = []
    for r in rows:
        for gc in (True, False):
            act = r.get("activations_gc" if gc else "activations_no_gc") or 0
            values = [r.get("weights") or 0, r.get("gradients") or 0, r.get("optimizer") or 0,
                      r.get("buffer") or 0, act]
            label = f"ZeRO-{r.get('stage')}, {r.get('offload')}, {'with' if gc else 'without'} checkpointing"
            out.append((label, [v / GB for v in values]))
    return out


def svg(rows, title):
    """The chart for estimate.memory.zero_rows() rows, or None when there are none."""
    if not rows:
        return None
    bars = _bars(rows)
    top = max(sum(v) for _, v in bars) or 1.0
    left, width, bar_h, gap = 390, 420, 22, 10
    height = 60 + len(bars) * (bar_h + gap) + 50
    scale = width / top
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>']
    y = 45
    for label, values in bars:
        out.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        x = left
        for (_, _, colour), v in zip(PARTS, values):
            w = v * scale
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>')
            x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{sum(values):.1f} GB</text>')
        y += bar_h + gap
    x = 10
    for _, name, colour in PARTS:
        out.append(f'<rect x="{x}" y="{y + 8}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 16}" y="{y + 18}">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    out.append("</svg>")
    return "\n".join(out) + "\n"
