"""Bars per popularity bucket: validation RMSE and recovery of the true factors."""
from __future__ import annotations

import numpy as np

from ..preprocessing import BUCKETS
from .plotbase import BUCKET_COLORS, COLORS, _finite, _Plot

__all__ = ['BucketBars', 'RecoveryBars', 'plot_bucket_rmse', 'plot_recovery']


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
        # Numbers at the foot of each bar (x: data, y: axes fraction), not on its top: a bar's
        # top sits near the overall line whenever the buckets are alike, and the line crossed
        # the number there. The white backing keeps them readable on the bar's colour.
        self.labels = [self.ax.text(i, 0.02, "", ha="center", va="bottom", fontsize="small",
                                    zorder=4, transform=self.ax.get_xaxis_transform(),
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
            t.set_text("no ratings" if n == 0 else "no finite\nprediction" if not np.isfinite(v)
                       else f"{v:.2f}\n(n={n})")
        self.overall.set_ydata([result["overall"]] * 2)
        self.per_item.set_ydata([result["per_item"]] * 2)
        top = _finite(vals + [result["overall"], result["per_item"]])
        if pinned is not None:
            pv = [pinned["buckets"][b]["rmse"] for b in BUCKETS]
            self.pin_marks.set_data(np.arange(len(BUCKETS)), np.where(np.isfinite(pv), pv, np.nan))
            self.pin_marks.set_label("A")
            top = np.concatenate([top, _finite(pv)])
        else:
            self.pin_marks.set_data([], [])
            self.pin_marks.set_label("_A")
        self.ax.set_ylim(0, (top.max() if len(top) else 1) * 1.9)  # room for labels and legend
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
        # a bucket with no items (or too few to fit) says so: a zero-height bar would read "R² 0"
        self.labels = [self.ax.text(i, 0.02, "", ha="center", va="bottom", fontsize="small",
                                    zorder=4, bbox=dict(facecolor="white", alpha=0.85,
                                                        edgecolor="none", pad=1)) for i in x]
        self.pin_marks, = self.ax.plot([], [], "_", color=COLORS["black"], ms=30, mew=2.5,
                                       label="_A")
        self._keep(*self.bars, self.overall, *self.labels, self.pin_marks)
        self.ax.set_xticks(x, [f"{b}\n{r}" for b, r in zip(BUCKETS, ("0", "1–5", "6–100", ">100"))])
        self.ax.set_xlabel("item popularity bucket (training ratings)")
        self.ax.set_ylabel("R² (1 = perfect, 0 = nothing)")
        self.ax.set_title(title)
        self.ax.set_ylim(-0.1, 1.05)
        self._keep(self.ax.axhline(0, color=COLORS["grey"], lw=0.8))
        self.ax.legend(fontsize="small", loc="upper left")

    def update(self, r2, pinned=None):
        """r2: a ``recovery_r2`` dict computed with popularity buckets as groups; ``pinned``: the
        same for the pinned run "A" (drawn as black marks)."""
        self._clear_message()
        if pinned is not None:
            pv = [pinned["groups"].get(k, np.nan) for k in range(len(self.bars))]
            self.pin_marks.set_data(np.arange(len(pv)), pv)
            self.pin_marks.set_label("A")
        else:
            self.pin_marks.set_data([], [])
            self.pin_marks.set_label("_A")
        for k, (bar, t) in enumerate(zip(self.bars, self.labels)):
            v = r2["groups"].get(k, np.nan)
            bar.set_height(max(v, -0.1) if np.isfinite(v) else 0)
            t.set_text("" if np.isfinite(v) else "no items\nto measure")
        self.overall.set_ydata([r2["overall"]] * 2)
        self.ax.legend(fontsize="small", loc="upper left")
        return self.artists


def plot_recovery(r2, ax=None):
    p = RecoveryBars(ax)
    p.update(r2)
    return p
