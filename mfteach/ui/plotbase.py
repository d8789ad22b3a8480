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

__all__ = ["log_y", "COLORS", "BUCKET_COLORS", "GHOST"]


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


def legend_room(ax, legend, *, most=0.6):
    """The share of ``ax``'s height ``legend`` takes (at most ``most``), measured with the figure's
    renderer; None where its canvas has none. For headroom that keeps curves below the legend."""
    get = getattr(ax.figure.canvas, "get_renderer", None)
    if get is None:
        return None
    r = get()
    h = ax.get_window_extent(r).height
    return min(legend.get_window_extent(r).height / h, most) if h > 0 else None


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
        """Blank the plot and show ``text`` instead (e.g. why there is nothing to draw): its
        artists, legend and axes hidden, its title back to its own, so that no number or label
        of an earlier result stays on screen beside the message."""
        title = self._own_title()
        for a in self.artists:
            if hasattr(a, "set_visible"):
                a.set_visible(False)
        ax = self.ax
        legend = ax.get_legend()
        if legend is not None:
            legend.set_visible(False)
        ax.set_title(title)
        ax.xaxis.set_visible(False)  # its ticks, label and grid: a λ axis under "no λ" misleads
        ax.yaxis.set_visible(False)
        if not hasattr(self, "_msg"):
            self._msg = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center",
                                va="center", fontsize="large")
        self._msg.set_text(_wrapped(text, ax, self._msg.get_fontsize()))
        self._msg.set_visible(True)
        # A log axis that never held data has limits matplotlib cannot tick: give it some.
        for scale, lim, set_lim in ((ax.get_xscale(), ax.get_xlim(), ax.set_xlim),
                                    (ax.get_yscale(), ax.get_ylim(), ax.set_ylim)):
            if scale == "log" and not (np.isfinite(lim).all() and min(lim) > 0):
                set_lim(0.1, 1.0)

    def _own_title(self) -> str:
        """The plot's title as built (taken before any result changed it: the first ``update``
        or ``message`` calls this before it sets a title of its own)."""
        if not hasattr(self, "_title0"):
            self._title0 = self.ax.get_title()
        return self._title0

    def _clear_message(self):
        self._own_title()
        if hasattr(self, "_msg"):
            self._msg.set_visible(False)
        for a in self.artists:
            if hasattr(a, "set_visible"):
                a.set_visible(True)
        self.ax.xaxis.set_visible(True)
        self.ax.yaxis.set_visible(True)
        legend = self.ax.get_legend()
        if legend is not None:
            legend.set_visible(True)


def _wrapped(text: str, ax, fontsize: float) -> str:
    """``text`` broken into lines that fit inside ``ax`` (matplotlib's own wrap=True wraps to
    the figure's width, so a centred message ran over the next plot)."""
    import textwrap

    width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72
    chars = max(12, int(0.9 * width_pt / (0.55 * fontsize)))  # ~0.55 em per character
    return "\n".join(textwrap.fill(part, chars) for part in str(text).split("\n"))
