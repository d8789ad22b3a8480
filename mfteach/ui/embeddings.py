"""Embedding tables: norm distributions, norms by popularity, norm vs popularity, spectrum."""
from __future__ import annotations

import numpy as np

from ..metrics import singular_values
from ..preprocessing import BUCKETS, popularity_buckets
from .plotbase import BUCKET_COLORS, COLORS, GHOST, _finite, _Plot, legend_room, log_y

__all__ = ['NormHistogram', 'NormsByBucket', 'NormVsPopularity', 'Spectrum', 'plot_norm_histogram', 'plot_norms_by_bucket', 'plot_norm_vs_popularity', 'plot_spectrum']


# -- embedding norms -----------------------------------------------------------------------------
class NormHistogram(_Plot):
    """Distribution of per-row embedding norms at init vs after training (users or items)."""

    def __init__(self, ax=None, *, which="item", bins=40, title=None):
        super().__init__(ax)
        self.which, self.bins = which, bins
        ax = self.ax
        self.init_steps = ax.stairs([0], [0, 1], color=COLORS["grey"], lw=2, ls="--",
                                    label="at init (epoch 0)")
        self.now_steps = ax.stairs([0], [0, 1], color=COLORS["blue"], lw=2.5,
                                   label="after training", fill=False)
        self.pin_steps = ax.stairs([0], [0, 1], color=COLORS["purple"], lw=1.5, ls=":",
                                   label="_A", fill=False)
        self._keep(self.init_steps, self.now_steps, self.pin_steps)
        ax.set_xlabel(f"‖{which} embedding‖ (L2 norm per row)")
        ax.set_ylabel(f"number of {which}s")
        ax.set_title(title or f"{which.capitalize()} embedding norms")
        ax.legend(fontsize="small")

    def update(self, history, pinned=None):
        self._clear_message()
        norms = history.item_norms if self.which == "item" else history.user_norms
        first, last = norms[0], norms[-1]
        extra = [] if pinned is None else [(pinned.item_norms if self.which == "item"
                                            else pinned.user_norms)[-1]]
        allv = _finite(np.concatenate([first, last, *extra]))
        hi = float(allv.max()) if len(allv) else 1.0
        edges = np.linspace(0, max(hi, 1e-6) * 1.02, self.bins + 1)
        hmax = 1
        for art, v in ((self.init_steps, first), (self.now_steps, last)):
            counts, _ = np.histogram(_finite(v), edges)
            art.set_data(counts, edges)
            hmax = max(hmax, counts.max())
        if pinned is not None:
            counts, _ = np.histogram(_finite(extra[0]), edges)
            self.pin_steps.set_data(counts, edges)
            self.pin_steps.set_label("A: after training")
            hmax = max(hmax, counts.max())
        else:
            self.pin_steps.set_data(np.zeros(self.bins), edges)
            self.pin_steps.set_label("_A")
        self.ax.set_xlim(0, edges[-1])
        self.ax.set_ylim(0, hmax * 1.1)
        self.ax.legend(fontsize="small")
        return self.artists


def plot_norm_histogram(history, ax=None, *, which="item", pinned=None):
    p = NormHistogram(ax, which=which)
    p.update(history, pinned)
    return p


def _bucket_of_items(history):
    return popularity_buckets(history.train_item_counts)


class NormsByBucket(_Plot):
    """Mean item-embedding norm per epoch, one line per popularity bucket."""

    def __init__(self, ax=None, *, title="Item norms by popularity"):
        super().__init__(ax)
        styles = {"cold": ":", "rare": "--", "mid": "-.", "popular": "-"}
        self.lines = {b: self.ax.plot([], [], color=BUCKET_COLORS[b], ls=styles[b], lw=2,
                                      label=b)[0] for b in BUCKETS}
        # the pinned run "A": the same buckets, thin and faint
        self.pin_lines = {b: self.ax.plot([], [], color=BUCKET_COLORS[b], lw=1.2, **GHOST,
                                          label=f"_A {b}")[0] for b in BUCKETS}
        self._keep(*self.lines.values(), *self.pin_lines.values())
        self.ax.set_xlabel("epoch")
        self.ax.set_ylabel("mean ‖item embedding‖")
        self.ax.set_title(title)
        self.ax.grid(True, alpha=0.3)

    def update(self, history, pinned=None, epochs=None):
        """``epochs``: the x axis runs this far at least (a run still training)."""
        self._clear_message()
        b = _bucket_of_items(history)
        norms = np.stack(history.item_norms)  # (epochs+1, n_items)
        top = 0.0
        pb = _bucket_of_items(pinned) if pinned is not None else None
        for k, name in enumerate(BUCKETS):
            line = self.pin_lines[name]
            m = pb == k if pb is not None else None
            if m is not None and m.any():
                y = np.stack(pinned.item_norms)[:, m].mean(1)
                line.set_data(pinned.epochs, y)
                top = max(top, np.nanmax(y))
                line.set_label("A (faint)" if name == "popular" else f"_A {name}")
            else:
                line.set_data([], [])
                line.set_label(f"_A {name}")
        for k, name in enumerate(BUCKETS):
            m = b == k
            line = self.lines[name]
            if m.any():
                y = norms[:, m].mean(1)
                line.set_data(history.epochs, y)
                line.set_label(f"{name} ({m.sum()} items)")
                top = max(top, np.nanmax(y))
            else:
                line.set_data([], [])
                line.set_label(f"_{name}")
        n_ep = max(len(history.epochs), len(pinned.epochs) if pinned is not None else 0,
                   (epochs or 0) + 1)
        self.ax.set_xlim(-0.3, max(n_ep - 1, 1) + 0.3)
        leg = self.ax.legend(fontsize="small", title="bucket (train ratings: 0 / 1–5 / 6–100 / >100)",
                             title_fontsize="x-small", loc="upper right", ncol=2, columnspacing=0.8,
                             handlelength=1.5, handletextpad=0.5)  # fits a projector-sized panel
        # headroom: every curve (A's too) stays below the legend, whatever its rows and font size
        room = legend_room(self.ax, leg)
        self.ax.set_ylim(0, (top / (1 - room - 0.05) if room is not None else top * 1.6) + 1e-6)
        return self.artists


def plot_norms_by_bucket(history, ax=None, pinned=None):
    p = NormsByBucket(ax)
    p.update(history, pinned)
    return p


class NormVsPopularity(_Plot):
    """Each item's embedding norm against its number of training ratings (log scale)."""

    def __init__(self, ax=None, *, title="Item norm vs popularity", max_unrated=2000):
        super().__init__(ax)
        self.max_unrated = max_unrated
        self.points = self.ax.scatter([], [], s=10, alpha=0.5, color=COLORS["blue"],
                                      edgecolors="none", label="after training")
        self.init_points = self.ax.scatter([], [], s=6, alpha=0.3, color=COLORS["grey"],
                                           marker="x", label="at init")
        self._keep(self.points, self.init_points)
        self.ax.set_xscale("symlog", linthresh=1)
        self.ax.set_xlabel("training ratings of the item (log scale)")
        self.ax.set_ylabel("‖item embedding‖")
        self.ax.set_title(title)
        self.ax.legend(fontsize="small", loc="upper left")

    def update(self, history, pinned=None):
        from ..metrics import norm_popularity_spearman

        self._clear_message()
        c = history.train_item_counts
        now, first = history.item_norms[-1], history.item_norms[0]
        rho = norm_popularity_spearman(now, c)  # on every row, drawn or not
        keep = _thin_unrated(c, self.max_unrated)
        self.points.set_offsets(np.c_[c[keep], now[keep]])
        self.init_points.set_offsets(np.c_[c[keep], first[keep]])
        label = "after training" + (f" ({len(keep):,} of {len(c):,} rows drawn)"
                                    if len(keep) < len(c) else "")
        if label != self.points.get_label():  # the legend copies labels: rebuild it on change
            self.points.set_label(label)
            self.ax.legend(fontsize="small", loc="upper left")
        # A correlation of norms that are all ~0 ranks rounding noise: do not show it as a finding.
        if not np.isfinite(rho) or not np.nanmax(now, initial=0.0) > 1e-3:
            self.ax.set_title("Item norm vs popularity (every norm ≈ 0)")
        else:
            a = _pinned_rho(pinned)  # shorter title when A's ρ joins it: it must fit a projector
            self.ax.set_title(f"Norm vs popularity (ρ = {rho:.2f}{a})" if a
                              else f"Item norm vs popularity (ρ = {rho:.2f})")
        ys = _finite(np.concatenate([now, first]))
        self.ax.set_xlim(-0.2, max(c.max(), 1) * 1.5)
        self.ax.set_ylim(0, (ys.max() if len(ys) else 1) * 1.35 + 1e-6)  # room for the legend
        return self.artists


def _pinned_rho(pinned) -> str:
    """", A: ρ = …" for the pinned run (its points are not drawn: one cloud is hard enough to read)."""
    from ..metrics import norm_popularity_spearman

    if pinned is None:
        return ""
    c, n = pinned.train_item_counts, pinned.item_norms[-1]
    rho = norm_popularity_spearman(n, c)
    return f"; A {rho:.2f}" if np.isfinite(rho) and np.nanmax(n, initial=0.0) > 1e-3 else ""


def _thin_unrated(counts, limit):
    """Rows to draw: every row with training ratings, and at most ``limit`` evenly spaced rows
    without (they all sit at x = 0; a padded 100k-row table would otherwise cost ~0.3 s a draw)."""
    rated = np.flatnonzero(counts > 0)
    unrated = np.flatnonzero(counts == 0)
    if len(unrated) > limit:
        unrated = unrated[np.linspace(0, len(unrated) - 1, limit).astype(int)]
    return np.sort(np.concatenate([rated, unrated]))


def plot_norm_vs_popularity(history, ax=None):
    p = NormVsPopularity(ax)
    p.update(history)
    return p


# -- spectrum, init scale, predictions ----------------------------------------------------------
class Spectrum(_Plot):
    """Singular values of the learned rating matrix P Qᵀ, true rank marked."""

    FLOOR = 1e-2  # singular values below this are "collapsed" (healthy ones here are ≫ 1)

    def __init__(self, ax=None, *, true_rank=None, n=12, log=True,
                 title="Singular values of the learned rating matrix"):
        super().__init__(ax)
        self.n = n
        self.line, = self.ax.plot([], [], "o-", color=COLORS["blue"], lw=2, label="learned")
        self.pin_line, = self.ax.plot([], [], "s", color=COLORS["purple"], **GHOST, label="_A")
        # values below the floor (a collapse) sit on the floor as ▼, with a note saying so
        self.below, = self.ax.plot([], [], "v", color=COLORS["vermillion"], ms=9, label="_below")
        self.note = self.ax.text(0.97, 0.95, "", transform=self.ax.transAxes, ha="right", va="top",
                                 fontsize="small", color=COLORS["vermillion"],
                                 bbox=dict(facecolor="white", alpha=0.85, edgecolor="none"))
        self._keep(self.line, self.pin_line, self.below, self.note)
        if true_rank:
            self._keep(self.ax.axvline(true_rank + 0.5, color=COLORS["green"], ls="--", lw=1.5,
                                       label=f"true rank = {true_rank}"))
        if log:
            log_y(self.ax)
        self.ax.set_xlabel("index of singular value")
        self.ax.set_ylabel("singular value")
        self.ax.set_title(title)
        self.ax.grid(True, alpha=0.3)
        self.ax.legend(fontsize="small")

    def update(self, P, Q, pinned=None):
        self._clear_message()
        s = singular_values(P, Q)[:self.n]
        self.line.set_data(np.arange(1, len(s) + 1), s)
        vals = list(s)
        if pinned is not None:
            sp = singular_values(*pinned)[:self.n]
            self.pin_line.set_data(np.arange(1, len(sp) + 1), sp)
            self.pin_line.set_label("A")
            vals += list(sp)
        else:
            self.pin_line.set_data([], [])
            self.pin_line.set_label("_A")
        v = _finite(vals)
        self.ax.set_xlim(0.5, self.n + 0.5)
        small = np.flatnonzero(~(s >= self.FLOOR))
        self.below.set_data(small + 1, np.full(len(small), self.FLOOR))
        self.note.set_text("" if not len(small) else
                           ("all" if len(small) == len(s) else f"{len(small)} of {len(s)}")
                           + f" values < {self.FLOOR:g} (▼): collapsed to ~0")
        if self.ax.get_yscale() == "log":
            # Never autoscale down to a collapse (it would look like a healthy spectrum at 1e-7):
            # the axis starts at a fixed floor and spans at most five decades above it.
            pos = v[v >= self.FLOOR]
            hi = max(pos.max() * 3 if len(pos) else 15.0, 15.0)  # not on a decade: its label
                                                                   # would sit on the title
            lo = max(self.FLOOR * 0.7, hi * 1e-5, (pos.min() / 3) if len(pos) else 0)
            self.ax.set_ylim(lo, hi)
            decades = np.log10(hi / lo)
            from matplotlib.ticker import LogLocator
            self.ax.yaxis.set_major_locator(LogLocator(subs=(1.0,) if decades > 3 else (1.0, 2.0, 5.0)))
        else:
            self.ax.set_ylim(0, (v.max() if len(v) else 1) * 1.1 + 1e-9)
        self.ax.legend(fontsize="small")
        return self.artists


def plot_spectrum(P, Q, ax=None, *, true_rank=None, pinned=None):
    p = Spectrum(ax, true_rank=true_rank)
    p.update(P, Q, pinned)
    return p
