"""What a reader would call a broken figure: text over text, text cut off at the edge, "nan" or
"inf" shown as a number, a legend drawn over the curves it explains or out of its axes."""
import itertools, re

def drawn_texts(fig):
    """(Text, bbox) of every text matplotlib will draw: titles, axis labels, visible tick
    labels (only ticks inside the view), legends, annotations, figure texts."""
    r = fig.canvas.get_renderer()
    out = []
    def add(t, where):
        if t is None or not t.get_visible() or not t.get_text().strip():
            return
        bb = t.get_window_extent(r)
        if bb.width > 0 and bb.height > 0:
            out.append((t, bb, where))
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        for t in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label):
            add(t, k)
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis._update_ticks():
                for t in (tick.label1, tick.label2):
                    if t.get_visible():
                        add(t, k)
            add(axis.offsetText, k)
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            add(leg.get_title(), ("legend", k))
            for t in leg.get_texts():
                add(t, ("legend", k))
        for t in ax.texts:
            add(t, k)
    for t in fig.texts:
        add(t, "fig")
    return out

def problems(fig):
    fig.canvas.draw()
    W, H = fig.canvas.get_width_height()
    ts = drawn_texts(fig)
    bad = []
    for t, bb, _ in ts:
        s = t.get_text()
        if re.search(r"\bnan\b|\binf\b", s, re.I):
            bad.append(f"nan/inf shown: {s!r}")
        if bb.x0 < -1 or bb.y0 < -1 or bb.x1 > W + 1 or bb.y1 > H + 1:
            bad.append(f"leaves the figure: {s!r}")
    r = fig.canvas.get_renderer()
    for ax in fig.axes:  # a legend wider than its axes covers the neighbour's tick labels
        leg = ax.get_legend()
        if leg is not None and leg.get_visible() and ax.get_visible():
            lb, ab = leg.get_window_extent(r), ax.get_window_extent(r)
            out = max(ab.x0 - lb.x0, lb.x1 - ab.x1, lb.y1 - ab.y1, ab.y0 - lb.y0)
            if out > 4:  # (its frame's edge may touch the axes' own)
                bad.append(f"legend of {ax.get_title()!r} leaves its axes by {out:.0f} px")
    for (a, ba, wa), (b, bb, wb) in itertools.combinations(ts, 2):
        if min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > 2 and min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > 2:
            bad.append(f"overlap: {a.get_text()!r} / {b.get_text()!r}")
    return bad

def legend_covers_data(fig, min_points=2):
    """Legends drawn over plotted points/lines (a legend hiding the curves it explains)."""
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.collections import PathCollection
    r = fig.canvas.get_renderer()
    bad = []
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None or not leg.get_visible() or not ax.get_visible():
            continue
        box = leg.get_window_extent(r)
        for art in ax.get_children():
            if isinstance(art, Line2D) and art.get_transform() != ax.transData:
                continue  # a reference line across the axes (axhline): crossing a legend is fine
            if isinstance(art, Line2D) and art.get_visible() and len(art.get_xdata()):
                x, y = np.asarray(art.get_xdata(), float), np.asarray(art.get_ydata(), float)
                if len(x) < 2 and art.get_linestyle() in ("", "None"):
                    continue
                # densify the line so a segment crossing the box counts
                if len(x) >= 2 and art.get_linestyle() not in ("", "None"):
                    t = np.linspace(0, len(x) - 1, 20 * len(x))
                    x, y = np.interp(t, np.arange(len(x)), x), np.interp(t, np.arange(len(y)), y)
                pts = art.get_transform().transform(np.c_[x, y])
            elif isinstance(art, PathCollection) and art.get_visible():
                pts = art.get_offset_transform().transform(art.get_offsets())
            else:
                continue
            pts = pts[np.isfinite(pts).all(1)]
            inside = ((pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1))
            axb = ax.get_window_extent(r)
            inview = ((pts[:, 0] >= axb.x0) & (pts[:, 0] <= axb.x1) & (pts[:, 1] >= axb.y0) & (pts[:, 1] <= axb.y1))
            if (inside & inview).sum() >= min_points and art.get_label() and not art.get_label().startswith("_line"):
                bad.append(f"legend covers {art.get_label()!r} in {ax.get_title()!r}")
    return bad
