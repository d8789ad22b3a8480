"""Plots that draw results and never train.

Each plot is a small class: create it on an ``ax`` (default: the current axes), call
``update(...)`` with a result, call ``update`` again with another result and the same artists are
changed in place (fast redraws in live panels). ``artists`` lists what was drawn. Each also has a
one-call function form, e.g. ``plot_rmse_curves(history, ax=ax)``, that returns the plot object.

Colours are the Okabe–Ito palette (safe for the common colour-vision deficiencies); each series
also differs by line style or marker, so the plots read in greyscale and on a washed-out projector.
No ``plt.show()``, ``plt.figure()`` or rcParams changes here.
"""
from __future__ import annotations

import numpy as np

from .metrics import singular_values
from .model import init_std
from .preprocessing import BUCKETS, popularity_buckets

__all__ = ["log_y", "COLORS", "BUCKET_COLORS", "RmseCurves", "NormHistogram", "NormsByBucket",
           "NormVsPopularity", "BucketBars", "Spectrum", "InitStdVsRows", "SweepCurve",
           "SweepHeatmap", "PredictionHistogram", "RecoveryBars", "plot_rmse_curves",
           "plot_norm_histogram", "plot_norms_by_bucket", "plot_norm_vs_popularity",
           "plot_bucket_rmse", "plot_spectrum", "plot_init_std_vs_rows", "plot_sweep",
           "plot_sweep_heatmap", "plot_prediction_histogram", "plot_recovery"]

# Okabe & Ito (2008), colour-blind-safe.
COLORS = {"blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
          "sky": "#56B4E9", "purple": "#CC79A7", "yellow": "#F0E442", "black": "#000000",
          "grey": "#999999"}
BUCKET_COLORS = {"cold": COLORS["grey"], "rare": COLORS["vermillion"], "mid": COLORS["orange"],
                 "popular": COLORS["blue"]}
GHOST = dict(alpha=0.45, linestyle=":")  # how a pinned "A" result is drawn under the live "B"


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def log_y(ax):
    """Log-scale y axis labelled 0.5, 1, 2, 5 … (plain numbers, not 5×10⁻¹)."""
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    return ax


def _finite(values):
    v = np.asarray(values, float)
    return v[np.isfinite(v)]


class _Plot:
    """Base: holds the axes and the artists; subclasses implement ``update``."""

    def __init__(self, ax=None):
        self.ax = _ax(ax)
        self.artists = []

    def _keep(self, *artists):
        self.artists.extend(a for a in artists if a is not None)
        return artists[0] if len(artists) == 1 else artists

    def message(self, text):
        """Blank the plot and show ``text`` instead (e.g. why there is nothing to draw)."""
        for a in self.artists:
            if hasattr(a, "set_visible"):
                a.set_visible(False)
        if not hasattr(self, "_msg"):
            self._msg = self.ax.text(0.5, 0.5, "", transform=self.ax.transAxes, ha="center",
                                     va="center", wrap=True, fontsize="large")
        self._msg.set_text(text)
        self._msg.set_visible(True)

    def _clear_message(self):
        if hasattr(self, "_msg"):
            self._msg.set_visible(False)
        for a in self.artists:
            if hasattr(a, "set_visible"):
                a.set_visible(True)


# -- training curves -----------------------------------------------------------------------------
class RmseCurves(_Plot):
    """Train and validation RMSE per epoch from epoch 0, with reference lines.

    update(history, mean_rmse=None, truth_rmse=None, pinned=None): ``mean_rmse`` is predicting the
    global mean, ``truth_rmse`` the true model (synthetic data). A divergence is marked with an ✕
    at the last finite epoch. ``pinned``: another history drawn faintly ("A" of an A/B comparison).
    """

    def __init__(self, ax=None, *, log=False, title="Training curves"):
        super().__init__(ax)
        ax = self.ax
        self.train_line, = ax.plot([], [], color=COLORS["blue"], lw=2, marker="o", ms=3,
                                   label="train")
        self.val_line, = ax.plot([], [], color=COLORS["vermillion"], lw=2, ls="--", marker="s",
                                 ms=3, label="validation")
        self.pin_train, = ax.plot([], [], color=COLORS["blue"], lw=1.5, **GHOST, label="_A train")
        self.pin_val, = ax.plot([], [], color=COLORS["vermillion"], lw=1.5, **GHOST,
                                label="_A validation")
        self.mean_line = ax.axhline(np.nan, color=COLORS["grey"], lw=1.5, ls="-.",
                                    label="predict the mean")
        self.truth_line = ax.axhline(np.nan, color=COLORS["green"], lw=1.5, ls=":",
                                     label="true model")
        self.div_marker, = ax.plot([], [], "X", color=COLORS["black"], ms=12, label="diverged")
        self._keep(self.train_line, self.val_line, self.pin_train, self.pin_val, self.mean_line,
                   self.truth_line, self.div_marker)
        ax.set_xlabel("epoch")
        ax.set_ylabel("RMSE (rating points)")
        ax.set_title(title)
        if log:
            log_y(ax)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right", fontsize="small")

    def update(self, history, mean_rmse=None, truth_rmse=None, pinned=None):
        self._clear_message()
        ep = history.epochs
        self.train_line.set_data(ep, history.train_rmse)
        self.val_line.set_data(ep, history.val_rmse)
        for line, attr in ((self.pin_train, "train_rmse"), (self.pin_val, "val_rmse")):
            if pinned is not None:
                line.set_data(pinned.epochs, getattr(pinned, attr))
                line.set_label("A: " + ("train" if attr == "train_rmse" else "validation"))
            else:
                line.set_data([], [])
                line.set_label("_" + line.get_label().lstrip("_"))
        self.mean_line.set_ydata([mean_rmse if mean_rmse is not None else np.nan] * 2)
        self.truth_line.set_ydata([truth_rmse if truth_rmse is not None else np.nan] * 2)
        if history.diverged is not None:
            self.div_marker.set_data([ep[-1]], [history.val_rmse[-1]])
            self.div_marker.set_label(f"diverged after epoch {ep[-1]}")
        else:
            self.div_marker.set_data([], [])
            self.div_marker.set_label("_diverged")
        self.truth_line.set_label("true model" if truth_rmse is not None else "_true model")
        self.mean_line.set_label("predict the mean" if mean_rmse is not None else "_mean")
        vals = _finite(list(history.train_rmse) + list(history.val_rmse)
                       + ([] if pinned is None else list(pinned.train_rmse) + list(pinned.val_rmse))
                       + [v for v in (mean_rmse, truth_rmse) if v is not None])
        n_ep = max(len(ep), len(pinned.epochs) if pinned is not None else 0)
        self.ax.set_xlim(-0.3, max(n_ep - 1, 1) + 0.3)
        if len(vals):
            lo, hi = vals.min(), vals.max()
            if self.ax.get_yscale() == "log":
                self.ax.set_ylim(max(lo, 1e-3) / 1.15, hi * 1.15)
            else:
                pad = 0.05 * (hi - lo) + 1e-3
                self.ax.set_ylim(max(0, lo - pad), hi + pad)
        self.ax.legend(loc="best", fontsize="small", framealpha=0.8)
        return self.artists


def plot_rmse_curves(history, ax=None, *, log=False, mean_rmse=None, truth_rmse=None,
                     pinned=None, title="Training curves"):
    p = RmseCurves(ax, log=log, title=title)
    p.update(history, mean_rmse, truth_rmse, pinned)
    return p


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
        self._keep(*self.lines.values())
        self.ax.set_xlabel("epoch")
        self.ax.set_ylabel("mean ‖item embedding‖")
        self.ax.set_title(title)
        self.ax.grid(True, alpha=0.3)

    def update(self, history):
        self._clear_message()
        b = _bucket_of_items(history)
        norms = np.stack(history.item_norms)  # (epochs+1, n_items)
        top = 0.0
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
        self.ax.set_xlim(-0.3, max(len(history.epochs) - 1, 1) + 0.3)
        self.ax.set_ylim(0, top * 1.1 + 1e-6)
        self.ax.legend(fontsize="small", title="bucket (train ratings: 0 / 1–5 / 6–100 / >100)",
                       title_fontsize="x-small")
        return self.artists


def plot_norms_by_bucket(history, ax=None):
    p = NormsByBucket(ax)
    p.update(history)
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

    def update(self, history):
        from .metrics import norm_popularity_spearman

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
        self.ax.set_title(f"Item norm vs popularity (Spearman ρ = {rho:.2f})")
        ys = _finite(np.concatenate([now, first]))
        self.ax.set_xlim(-0.2, max(c.max(), 1) * 1.5)
        self.ax.set_ylim(0, (ys.max() if len(ys) else 1) * 1.08 + 1e-6)
        return self.artists


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


# -- per-bucket errors ---------------------------------------------------------------------------
class BucketBars(_Plot):
    """Validation RMSE per popularity bucket, with the overall and per-item-average lines."""

    def __init__(self, ax=None, *, title="Error by item popularity"):
        super().__init__(ax)
        x = np.arange(len(BUCKETS))
        self.bars = self.ax.bar(x, np.zeros(len(x)), color=[BUCKET_COLORS[b] for b in BUCKETS],
                                edgecolor="black", width=0.6)
        self.pin_marks, = self.ax.plot([], [], "_", color=COLORS["black"], ms=30, mew=2.5,
                                       label="_A")
        self.overall = self.ax.axhline(np.nan, color=COLORS["black"], lw=2, ls="-",
                                       label="overall (what you usually report)")
        self.per_item = self.ax.axhline(np.nan, color=COLORS["purple"], lw=2, ls="--",
                                        label="average over items")
        # a white backing keeps the numbers readable where the reference lines cross them
        self.labels = [self.ax.text(i, 0, "", ha="center", va="bottom", fontsize="small", zorder=4,
                                    bbox=dict(facecolor="white", alpha=0.85, edgecolor="none", pad=1))
                       for i in x]
        self._keep(*self.bars, self.pin_marks, self.overall, self.per_item, *self.labels)
        self.ax.set_xticks(x, [f"{b}\n{r}" for b, r in zip(BUCKETS, ("0", "1–5", "6–100", ">100"))])
        self.ax.set_xlabel("item popularity bucket (training ratings)")
        self.ax.set_ylabel("validation RMSE (rating points)")
        self.ax.set_title(title)
        self.ax.legend(fontsize="small", loc="upper right")

    def update(self, result, pinned=None):
        """result: a ``bucket_rmse`` dict (or a History + val Ratings via ``from_history``)."""
        self._clear_message()
        vals = [result["buckets"][b]["rmse"] for b in BUCKETS]
        for bar, v, t, b in zip(self.bars, vals, self.labels, BUCKETS):
            bar.set_height(0 if not np.isfinite(v) else v)
            n = result["buckets"][b]["ratings"]
            t.set_position((t.get_position()[0], 0 if not np.isfinite(v) else v))
            t.set_text("no ratings" if n == 0 else f"{v:.2f}\n(n={n})")
        self.overall.set_ydata([result["overall"]] * 2)
        self.per_item.set_ydata([result["per_item"]] * 2)
        top = _finite(vals + [result["overall"], result["per_item"]])
        if pinned is not None:
            pv = [pinned["buckets"][b]["rmse"] for b in BUCKETS]
            self.pin_marks.set_data(np.arange(len(BUCKETS)), pv)
            self.pin_marks.set_label("A")
            top = np.concatenate([top, _finite(pv)])
        else:
            self.pin_marks.set_data([], [])
            self.pin_marks.set_label("_A")
        self.ax.set_ylim(0, (top.max() if len(top) else 1) * 1.5)  # room for labels and legend
        self.ax.legend(fontsize="small", loc="upper right")
        return self.artists


def plot_bucket_rmse(result, ax=None, pinned=None):
    p = BucketBars(ax)
    p.update(result, pinned)
    return p


class RecoveryBars(_Plot):
    """Cross-fitted R² of the true item factors from the learned ones, per popularity bucket."""

    def __init__(self, ax=None, *, title="Recovery of the true item factors"):
        super().__init__(ax)
        x = np.arange(len(BUCKETS))
        self.bars = self.ax.bar(x, np.zeros(len(x)), color=[BUCKET_COLORS[b] for b in BUCKETS],
                                edgecolor="black", width=0.6)
        self.overall = self.ax.axhline(np.nan, color=COLORS["black"], lw=2, label="all items")
        self._keep(*self.bars, self.overall)
        self.ax.set_xticks(x, [f"{b}\n{r}" for b, r in zip(BUCKETS, ("0", "1–5", "6–100", ">100"))])
        self.ax.set_xlabel("item popularity bucket (training ratings)")
        self.ax.set_ylabel("R² (1 = perfect, 0 = nothing)")
        self.ax.set_title(title)
        self.ax.set_ylim(-0.1, 1.05)
        self.ax.axhline(0, color=COLORS["grey"], lw=0.8)
        self.ax.legend(fontsize="small", loc="upper left")

    def update(self, r2):
        """r2: a ``recovery_r2`` dict computed with popularity buckets as groups."""
        self._clear_message()
        for k, bar in enumerate(self.bars):
            v = r2["groups"].get(k, np.nan)
            bar.set_height(max(v, -0.1) if np.isfinite(v) else 0)
        self.overall.set_ydata([r2["overall"]] * 2)
        return self.artists


def plot_recovery(r2, ax=None):
    p = RecoveryBars(ax)
    p.update(r2)
    return p


# -- spectrum, init scale, predictions ----------------------------------------------------------
class Spectrum(_Plot):
    """Singular values of the learned rating matrix P Qᵀ, true rank marked."""

    def __init__(self, ax=None, *, true_rank=None, n=12, log=True,
                 title="Singular values of the learned rating matrix"):
        super().__init__(ax)
        self.n = n
        self.line, = self.ax.plot([], [], "o-", color=COLORS["blue"], lw=2, label="learned")
        self.pin_line, = self.ax.plot([], [], "s", color=COLORS["purple"], **GHOST, label="_A")
        self._keep(self.line, self.pin_line)
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
        if self.ax.get_yscale() == "log":
            pos = v[v > 0]
            lo = max(pos.min() / 3, pos.max() * 1e-6) if len(pos) else 1e-3
            hi = pos.max() * 3 if len(pos) else 1
            self.ax.set_ylim(lo, hi)
        else:
            self.ax.set_ylim(0, (v.max() if len(v) else 1) * 1.1 + 1e-9)
        self.ax.legend(fontsize="small")
        return self.artists


def plot_spectrum(P, Q, ax=None, *, true_rank=None, pinned=None):
    p = Spectrum(ax, true_rank=true_rank)
    p.update(P, Q, pinned)
    return p


class InitStdVsRows(_Plot):
    """The std each init scheme gives a (rows, dim) table, against rows (1 … 1M, log axes)."""

    SCHEMES = ("default", "normal", "xavier_uniform", "kaiming")
    STYLE = {"default": (COLORS["vermillion"], "-"), "normal": (COLORS["green"], "--"),
             "xavier_uniform": (COLORS["blue"], "-"), "kaiming": (COLORS["orange"], "-.")}

    def __init__(self, ax=None, *, title="Init std depends on table size only for Xavier"):
        super().__init__(ax)
        self.rows = np.unique(np.logspace(0, 6, 200).astype(int))
        self.lines = {s: self.ax.plot([], [], color=self.STYLE[s][0], ls=self.STYLE[s][1], lw=2.5,
                                      label=s)[0] for s in self.SCHEMES}
        self.marks, = self.ax.plot([], [], "o", color=COLORS["black"], ms=9, zorder=5,
                                   label="your user / item tables")
        self.mark_text = [self.ax.annotate("", (1, 1), textcoords="offset points", xytext=(6, 6),
                                           fontsize="small") for _ in range(2)]
        self._keep(*self.lines.values(), self.marks, *self.mark_text)
        self.ax.set_xscale("log")
        self.ax.set_yscale("log")
        self.ax.set_xlabel("rows in the embedding table (users or items)")
        self.ax.set_ylabel("std of the initial weights")
        self.ax.set_title(title)
        self.ax.grid(True, which="both", alpha=0.25)

    def update(self, dim, n_users, n_items, *, std=0.1, scheme="xavier_uniform"):
        self._clear_message()
        for s, line in self.lines.items():
            line.set_data(self.rows, [init_std(s, int(r), dim, std=std) for r in self.rows])
            line.set_label(f"{s}" + (f" (std {std:g})" if s == "normal" else ""))
        plot_scheme = scheme if scheme in self.lines else "normal"
        ys = [init_std(plot_scheme, n, dim, std=std) for n in (n_users, n_items)]
        self.marks.set_data([n_users, n_items], ys)
        self.marks.set_label(f"your tables ({plot_scheme})")
        for t, n, y, who in zip(self.mark_text, (n_users, n_items), ys, ("users", "items")):
            t.xy = (n, y)
            t.set_text(f"{who}: {n:,} rows → {y:.3g}")
        self.ax.set_xlim(1, 1.2e6)
        self.ax.set_ylim(5e-4, 3)
        self.ax.legend(fontsize="small", loc="lower left", title=f"dim = {dim}",
                       title_fontsize="small")
        return self.artists


def plot_init_std_vs_rows(dim, n_users, n_items, ax=None, **kw):
    p = InitStdVsRows(ax)
    p.update(dim, n_users, n_items, **kw)
    return p


class PredictionHistogram(_Plot):
    """Predictions (e.g. at init) against the rating scale the model should hit."""

    def __init__(self, ax=None, *, scale=(1, 5), bins=60, title="Predictions at init"):
        super().__init__(ax)
        self.bins = bins
        self.steps = self.ax.stairs([0], [0, 1], fill=True, color=COLORS["sky"], alpha=0.8,
                                    label="predictions")
        self.span = self.ax.axvspan(*scale, color=COLORS["green"], alpha=0.15,
                                    label=f"rating scale {scale[0]:g}–{scale[1]:g}")
        self._keep(self.steps, self.span)
        self.ax.set_xlabel("predicted rating")
        self.ax.set_ylabel("number of ratings")
        self.ax.set_title(title)
        self.ax.legend(fontsize="small", loc="upper right")
        self.scale = scale

    def update(self, predictions, title=None):
        self._clear_message()
        p = _finite(predictions)
        lo = min(np.percentile(p, 0.5) if len(p) else 0, self.scale[0] - 1)
        hi = max(np.percentile(p, 99.5) if len(p) else 1, self.scale[1] + 1)
        edges = np.linspace(lo, hi, self.bins + 1)
        counts, _ = np.histogram(np.clip(p, lo, hi), edges)
        self.steps.set_data(counts, edges)
        self.ax.set_xlim(lo, hi)
        self.ax.set_ylim(0, max(counts.max(), 1) * 1.1)
        inside = float(np.mean((p >= self.scale[0]) & (p <= self.scale[1]))) if len(p) else 0.0
        self.steps.set_label("predictions (end bins: clipped tails)")
        self.ax.set_title(title or f"Predictions before training: {inside:.0%} inside "
                                   f"{self.scale[0]:g}–{self.scale[1]:g}")
        self.ax.legend(fontsize="small", loc="upper right")
        return self.artists


def plot_prediction_histogram(predictions, ax=None, *, scale=(1, 5)):
    p = PredictionHistogram(ax, scale=scale)
    p.update(predictions)
    return p


# -- sweeps --------------------------------------------------------------------------------------
class SweepCurve(_Plot):
    """Validation (and train) RMSE over one parameter — the U-curve — with the live point marked."""

    def __init__(self, ax=None, *, xlabel="strength", log=True, title="Validation U-curve"):
        super().__init__(ax)
        self.val_line, = self.ax.plot([], [], "s-", color=COLORS["vermillion"], lw=2,
                                      label="validation (end of training)")
        self.train_line, = self.ax.plot([], [], "o--", color=COLORS["blue"], lw=1.5, alpha=0.8,
                                        label="train")
        self.best, = self.ax.plot([], [], "*", color=COLORS["green"], ms=16, zorder=4,
                                  label="best")
        self.now, = self.ax.plot([], [], "o", mfc="none", mec=COLORS["black"], mew=2.5, ms=16,
                                 zorder=5, label="your setting")
        self.ref = self.ax.axhline(np.nan, color=COLORS["grey"], ls="-.", lw=1.5,
                                   label="predict the mean")
        self._keep(self.val_line, self.train_line, self.best, self.now, self.ref)
        if log:
            self.ax.set_xscale("log")
        self.ax.set_xlabel(xlabel)
        self.ax.set_ylabel("RMSE (rating points)")
        self.ax.set_title(title)
        self.ax.grid(True, alpha=0.3)

    def update(self, xs, val, train=None, *, current=None, mean_rmse=None, xlabel=None):
        """xs, val, train: the sweep; current: (x, val) of the live run."""
        self._clear_message()
        xs, val = np.asarray(xs, float), np.asarray(val, float)
        self.val_line.set_data(xs, val)
        self.train_line.set_data(xs, train if train is not None else [np.nan] * len(xs))
        self.train_line.set_label("train" if train is not None else "_train")
        self.now.set_label("your setting" if current else "_your setting")
        self.ref.set_label("predict the mean" if mean_rmse is not None else "_mean")
        ok = np.isfinite(val)
        if ok.any():
            k = int(np.nanargmin(np.where(ok, val, np.nan)))
            self.best.set_data([xs[k]], [val[k]])
            self.best.set_label(f"best: {xs[k]:.3g} → {val[k]:.3f}")
        self.now.set_data(*([[current[0]], [current[1]]] if current else ([], [])))
        self.ref.set_ydata([mean_rmse if mean_rmse is not None else np.nan] * 2)
        if xlabel:
            self.ax.set_xlabel(xlabel)
        ys = _finite(list(val) + (list(train) if train is not None else [])
                     + ([current[1]] if current else []) + ([mean_rmse] if mean_rmse else []))
        if len(xs):
            self.ax.set_xlim(xs.min() / 1.5, xs.max() * 1.5)
        if len(ys):
            self.ax.set_ylim(max(0, ys.min() - 0.05), ys.max() + 0.05)
        self.ax.legend(fontsize="small", loc="best", framealpha=0.8)
        return self.artists


def plot_sweep(xs, val, train=None, ax=None, **kw):
    p = SweepCurve(ax, xlabel=kw.pop("xlabel", "strength"))
    p.update(xs, val, train, **kw)
    return p


class SweepHeatmap(_Plot):
    """Validation RMSE over two parameters (rows × columns), best cell outlined."""

    def __init__(self, ax=None, *, title="Validation RMSE", cmap="cividis"):
        super().__init__(ax)
        self.im = self.ax.imshow(np.zeros((1, 1)), cmap=cmap, origin="lower", aspect="auto")
        self.cbar = self.ax.figure.colorbar(self.im, ax=self.ax, label="validation RMSE")
        self.best, = self.ax.plot([], [], "s", mfc="none", mec=COLORS["vermillion"], mew=3, ms=18)
        self.texts = []
        self._keep(self.im, self.best)
        self.ax.set_title(title)

    def update(self, grid, row_values, col_values, *, row_label="", col_label="",
               annotate=True):
        self._clear_message()
        grid = np.asarray(grid, float)
        shown = np.where(np.isfinite(grid), grid, np.nan)
        self.im.set_data(shown)
        self.im.set_extent((-0.5, grid.shape[1] - 0.5, -0.5, grid.shape[0] - 0.5))
        fin = _finite(grid)
        if len(fin):
            self.im.set_clim(fin.min(), fin.max() if fin.max() > fin.min() else fin.min() + 1e-6)
            r, c = np.unravel_index(np.nanargmin(shown), grid.shape)
            self.best.set_data([c], [r])
        self.ax.set_xticks(range(len(col_values)), [f"{v:g}" for v in col_values])
        self.ax.set_yticks(range(len(row_values)), [f"{v:g}" for v in row_values])
        self.ax.set_xlabel(col_label)
        self.ax.set_ylabel(row_label)
        for t in self.texts:
            t.remove()
        self.texts = []
        if annotate:
            mid = np.nanmean(fin) if len(fin) else 0
            for (r, c), v in np.ndenumerate(grid):
                self.texts.append(self.ax.text(c, r, "NaN" if not np.isfinite(v) else f"{v:.2f}",
                                               ha="center", va="center", fontsize="small",
                                               color="white" if np.isfinite(v) and v < mid else "black"))
        return self.artists + self.texts


def plot_sweep_heatmap(grid, row_values, col_values, ax=None, **kw):
    p = SweepHeatmap(ax)
    p.update(grid, row_values, col_values, **kw)
    return p
