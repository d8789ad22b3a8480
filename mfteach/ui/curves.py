"""Curves: RMSE per epoch, the validation U-curve, predictions at init, init std vs rows."""
from __future__ import annotations

import numpy as np

from ..model import init_std
from .plotbase import COLORS, GHOST, _finite, _Plot, log_y

__all__ = ['RmseCurves', 'SweepCurve', 'PredictionHistogram', 'InitStdVsRows', 'plot_rmse_curves', 'plot_sweep', 'plot_prediction_histogram', 'plot_init_std_vs_rows']


# -- training curves -----------------------------------------------------------------------------
class RmseCurves(_Plot):
    """Train and validation RMSE per epoch from epoch 0, with reference lines.

    update(history, mean_rmse=None, truth_rmse=None, pinned=None): ``mean_rmse`` is predicting the
    global mean, ``truth_rmse`` the true model (synthetic data). A divergence is marked with an ✕
    at the last finite epoch. ``pinned``: another history drawn faintly ("A" of an A/B comparison).
    ``epochs``: the x axis runs this far at least (a run still training: its curves stop early).
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
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 0.5 on a short run
        ax.set_ylabel("RMSE (rating points)")
        ax.set_title(title)
        if log:
            log_y(ax)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right", fontsize="small")

    def update(self, history, mean_rmse=None, truth_rmse=None, pinned=None, epochs=None):
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
                       + ([] if pinned is None or pinned.diverged  # a blown-up A: off the top
                          else list(pinned.train_rmse) + list(pinned.val_rmse))
                       + [v for v in (mean_rmse, truth_rmse) if v is not None])
        n_ep = max(len(ep), len(pinned.epochs) if pinned is not None else 0, (epochs or 0) + 1)
        self.ax.set_xlim(-0.3, max(n_ep - 1, 1) + 0.3)
        if len(vals):  # the data fills the lower ~60%: the legend sits above it, never on it
            lo, hi = vals.min(), vals.max()
            if self.ax.get_yscale() == "log":
                lo, hi = max(lo, 1e-3) / 1.15, hi * 1.15
                self.ax.set_ylim(lo, lo * (hi / lo) ** (1 / 0.6))
            else:
                pad = 0.05 * (hi - lo) + 1e-3
                lo, hi = max(0, lo - pad), hi + pad
                self.ax.set_ylim(lo, lo + (hi - lo) / 0.6)
        self.ax.legend(loc="upper center", ncol=2, fontsize="small", framealpha=0.8,
                       columnspacing=0.6, handlelength=1.2, handletextpad=0.4)
        return self.artists


def plot_rmse_curves(history, ax=None, *, log=False, mean_rmse=None, truth_rmse=None,
                     pinned=None, title="Training curves"):
    p = RmseCurves(ax, log=log, title=title)
    p.update(history, mean_rmse, truth_rmse, pinned)
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
        most = max(1e6, n_users, n_items)  # the axis reaches the tables' rows, however many
        rows = (self.rows if most == 1e6 else
                np.unique(np.logspace(0, np.log10(most), 200).astype(int)))
        for s, line in self.lines.items():
            line.set_data(rows, [init_std(s, int(r), dim, std=std) for r in rows])
            line.set_label(f"{s}" + (f" (std {std:g})" if s == "normal" else ""))
        plot_scheme = scheme if scheme in self.lines else "normal"
        ys = [init_std(plot_scheme, n, dim, std=std) for n in (n_users, n_items)]
        self.marks.set_data([n_users, n_items], ys)
        self.marks.set_label(f"your tables ({plot_scheme})")
        for k, (t, n, y, who) in enumerate(zip(self.mark_text, (n_users, n_items), ys,
                                               ("users", "items"))):
            t.xy = (n, y)
            t.set_text(f"{who}: {n:,} rows → {y:.3g}")
            # the two labels sit apart (users above its point, items below) so they never collide;
            # near the right end a label reads leftwards, inside the axes
            right = n > most / 300
            t.set_horizontalalignment("right" if right else "left")
            t.set_position(((-6 if right else 6), 6 if k == 0 else -16))
        self.ax.set_xlim(1, 1.2 * most)
        self.ax.set_ylim(min(5e-4, 0.5 * min(ys)), max(3, 2 * max(ys)))
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
        self.pin_steps = self.ax.stairs([0], [0, 1], color=COLORS["purple"], lw=1.5,
                                        linestyle=":", label="_A")  # the pinned run "A"
        self._keep(self.steps, self.span, self.pin_steps)
        self.ax.set_xlabel("predicted rating")
        self.ax.set_ylabel("number of ratings")
        self.ax.set_title(title)
        self.ax.legend(fontsize="small", loc="upper right")
        self.scale = scale

    def update(self, predictions, title=None, pinned=None):
        self._clear_message()
        p = _finite(predictions)
        q = _finite(pinned) if pinned is not None else np.zeros(0)
        both = np.concatenate([p, q])
        lo = min(np.percentile(both, 0.5) if len(both) else 0, self.scale[0] - 1)
        hi = max(np.percentile(both, 99.5) if len(both) else 1, self.scale[1] + 1)
        edges = np.linspace(lo, hi, self.bins + 1)
        counts, _ = np.histogram(np.clip(p, lo, hi), edges)
        self.steps.set_data(counts, edges)
        top = counts.max() if len(counts) else 1
        if len(q):
            qc, _ = np.histogram(np.clip(q, lo, hi), edges)
            self.pin_steps.set_data(qc, edges)
            self.pin_steps.set_label("A (dotted)")
            top = max(top, qc.max())
        else:
            self.pin_steps.set_data(np.zeros(self.bins), edges)
            self.pin_steps.set_label("_A")
        self.ax.set_xlim(lo, hi)
        self.ax.set_ylim(0, max(top, 1) * 1.45)  # headroom: the legend sits above the bars
        inside = float(np.mean((p >= self.scale[0]) & (p <= self.scale[1]))) if len(p) else 0.0
        self.steps.set_label("predictions (end bins: clipped tails)")
        self.ax.set_title(title or f"Predictions at init: {inside:.0%} inside "
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
                                      label="validation")
        self.train_line, = self.ax.plot([], [], "o--", color=COLORS["blue"], lw=1.5, alpha=0.8,
                                        label="train")
        self.best, = self.ax.plot([], [], "*", color=COLORS["green"], ms=16, zorder=4,
                                  label="best")
        self.now, = self.ax.plot([], [], "o", mfc="none", mec=COLORS["black"], mew=2.5, ms=16,
                                 zorder=5, label="your setting")
        self.ref = self.ax.axhline(np.nan, color=COLORS["grey"], ls="-.", lw=1.5,
                                   label="predict the mean")
        self.pin_now, = self.ax.plot([], [], "s", mfc="none", mec=COLORS["purple"], mew=2, ms=12,
                                     zorder=5, label="_A")  # the pinned run "A"
        self._keep(self.val_line, self.train_line, self.best, self.now, self.ref, self.pin_now)
        if log:
            self.ax.set_xscale("log")
        self.ax.set_xlabel(xlabel)
        self.ax.set_ylabel("final RMSE (rating points)")  # each point: the end of its run
        self._title = title
        self.ax.set_title(title)
        self.ax.grid(True, alpha=0.3)

    def update(self, xs, val, train=None, *, current=None, mean_rmse=None, xlabel=None,
               pinned=None, pending=0):
        """xs, val, train: the sweep (NaN: a point not finished, or diverged); current: (x, val)
        of the live run; pinned: (x, val) of the pinned run "A" (drawn when it has a λ on this
        axis); pending: points still being computed (said in the title; the best is "so far")."""
        self._clear_message()
        self.pin_now.set_data(*([[pinned[0]], [pinned[1]]] if pinned else ([], [])))
        self.pin_now.set_label("A" if pinned else "_A")
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
            self.best.set_label(f"best{' so far' if pending else ''}: {xs[k]:.3g} → {val[k]:.3f}")
        else:  # nothing finished (or everything diverged): no star
            self.best.set_data([], [])
            self.best.set_label("_best")
        self.ax.set_title(self._title + (f" (sweep: run {len(xs) - pending}/{len(xs)})"
                                         if pending else ""))
        self.now.set_data(*([[current[0]], [current[1]]] if current else ([], [])))
        self.ref.set_ydata([mean_rmse if mean_rmse is not None else np.nan] * 2)
        if xlabel:
            self.ax.set_xlabel(xlabel)
        ys = _finite(list(val) + (list(train) if train is not None else [])
                     + ([current[1]] if current else []) + ([mean_rmse] if mean_rmse else []))
        if len(xs):  # every point's λ, finished or not: the axis stays put as the curve fills in
            self.ax.set_xlim(xs.min() / 1.5, xs.max() * 1.5)
        if len(ys):  # headroom on top: the legend sits above the curves, never on them
            lo, hi = max(0, ys.min() - 0.05), ys.max() + 0.02
            self.ax.set_ylim(lo, hi + 0.75 * (hi - lo))
        # tight spacing, smaller markers, the long "best" label in the second column beside the
        # short ones: two columns fit a projector-sized panel's axes
        shown = [a for a in (self.val_line, self.train_line, self.now, self.best, self.ref,
                             self.pin_now) if not a.get_label().startswith("_")]
        self.ax.legend(handles=shown, fontsize="small", loc="upper center", ncol=2,
                       framealpha=0.8, columnspacing=0.6, handlelength=1.5, handletextpad=0.6,
                       markerscale=0.7)
        return self.artists


def plot_sweep(xs, val, train=None, ax=None, **kw):
    p = SweepCurve(ax, xlabel=kw.pop("xlabel", "strength"))
    p.update(xs, val, train, **kw)
    return p
