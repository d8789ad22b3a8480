"""One general live-panel builder: controls described in data, a compute function, a figure.

Moving a control retrains (through ``compute``) and redraws the same figure in place; the figure
is shown as a PNG in an ``ipywidgets.Image``, so it works in JupyterLab, Notebook 7, VS Code,
Colab and Voilà with the plain inline backend and no extension. The panel is *returned*, not
displayed; displaying it also embeds a PNG of the current figure, so a notebook saved with
outputs shows a real plot on GitHub and nbviewer where widgets are not live.
"""
from __future__ import annotations

import html
import math
import numbers
import os
import re
import time
import traceback
from collections import OrderedDict
from typing import Callable

import numpy as np

from .controls import Choice, Slider, Toggle, log_options, make_widget, snap
from .cache import ResultCache
from .render import PngRenderer
from .reproduce import panel_factory, reproduce_line

__all__ = ["Slider", "Choice", "Toggle", "Panel", "PanelMessage", "PROJECTOR_RC", "panel_factory",
           "projector",
           "log_options"]


class PanelMessage(Exception):
    """Raised by a compute function to show a plain-language message instead of a plot."""


# Bigger text and lines for a lecture-hall projector (applied with rc_context, never globally).
PROJECTOR_RC = {"font.size": 15, "axes.titlesize": 16, "axes.labelsize": 15,
                "legend.fontsize": 13, "xtick.labelsize": 13, "ytick.labelsize": 13,
                "lines.linewidth": 3, "lines.markersize": 8}
PROJECTOR_HEIGHT = 1.35
_PROJECTOR = {"on": False}


def projector(on: bool = True):
    """Make every panel built from now on projector-sized (what MFTEACH_PROJECTOR=1 does, for
    front ends where you cannot set an environment variable before launch, e.g. Colab)."""
    _PROJECTOR["on"] = bool(on)
NORMAL_RC = {"font.size": 10.5, "axes.titlesize": 12, "axes.labelsize": 11}


class Panel:
    """A live panel: controls → ``compute(values)`` → ``view.update(result, pinned)`` → PNG.

    controls: Slider/Choice/Toggle descriptions. compute: values dict → result; raise
        PanelMessage (or ValueError) to show a plain message instead of a plot.
    make_view: ``fig → view`` building the axes and artists once; ``view.update(result, pinned)``
        changes them in place (``pinned`` is the "A" result of an A/B comparison, or None).
    describe: result → one line for the status (what was trained, the finding); optional.
    code: values → one line of code reproducing this panel state (the "copy settings" text).
    links: values → {control name: {"min"/"max"/"value"/"default"/"disabled": …}} to retarget
        dependent controls (e.g. a strength slider whose range follows the chosen regularizer;
        "default" is used only when the current value falls outside the new range).
    projector: bigger fonts and lines. cache_size / cache_bytes: results kept by configuration
        (the least recently used go first; the pinned "A" result is kept apart).
    """

    def __init__(self, controls, compute: Callable, make_view: Callable, *, title="",
                 describe: Callable | None = None, code: Callable | None = None,
                 links: Callable | None = None, figsize=(11, 6.5), dpi=80, projector=False,
                 cache_size=64, cache_bytes=256 * 2**20, debug=False):
        import ipywidgets as w
        from matplotlib.figure import Figure

        self.specs = OrderedDict((c.name, c) for c in controls)
        self.compute, self.describe, self.code_of, self.links = compute, describe, code, links
        # A teacher can make every panel projector-sized at once: MFTEACH_PROJECTOR=1.
        projector = projector or _PROJECTOR["on"] or \
            os.environ.get("MFTEACH_PROJECTOR", "") not in ("", "0")
        self.projector, self.dpi, self.debug = projector, dpi, debug
        self.cache = ResultCache(cache_size, cache_bytes)
        self.origin = None            # (factory, its arguments): set by @panel_factory
        self.pinned = None            # (values, result) of "A"
        self.result = None            # the current result ("B" when pinned)
        self.last_seconds = {}        # timings of the last update
        self._hold = False

        with self._rc():
            # Projector: the same width, a taller canvas, so that bigger text still leaves the
            # curves room (legends and labels grow, the plots must not shrink under them).
            size = (figsize[0], figsize[1] * PROJECTOR_HEIGHT) if projector else figsize
            self.fig = Figure(figsize=size, dpi=dpi, layout="constrained")
            self.view = make_view(self.fig)
        self.renderer = PngRenderer(self.fig)
        self.controls = OrderedDict((n, make_widget(c)) for n, c in self.specs.items())
        self.start_values = {n: wid.value for n, wid in self.controls.items()}
        self.title = w.HTML(f"<b style='font-size:1.15em'>{html.escape(title)}</b>" if title else "")
        self.status = w.HTML(layout=w.Layout(width="100%"))
        self.status.add_class("mfteach-status")  # a handle for browser tests and custom CSS
        self.image = w.Image(format="png", layout=w.Layout(width="100%", max_width=f"{int(figsize[0] * 96)}px"))
        self.pin_button = w.ToggleButton(value=False, description="Pin as A", icon="thumb-tack",
                                         tooltip="Keep the current run as 'A' and compare "
                                                 "the next setting ('B') on the same axes")
        self.reset_button = w.Button(description="Reset", icon="undo",
                                     tooltip="Back to the settings this panel started with")
        self.copy_box = w.Text(description="Reproduce:", layout=w.Layout(width="100%"),
                               style={"description_width": "initial"})
        self.log = w.Output(layout=w.Layout(max_height="160px", overflow="auto"))
        for wid in self.controls.values():
            wid.observe(self._on_change, names="value")
        self.pin_button.observe(self._on_pin, names="value")
        self.reset_button.on_click(self._on_reset)
        boxes = list(self.controls.values())
        grid = w.GridBox(boxes, layout=w.Layout(grid_template_columns="repeat(3, minmax(240px, 1fr))",
                                                grid_gap="4px 16px"))
        self.save_button = w.Button(description="Save figure", icon="download",
                                    tooltip="Make a download link for this figure as a PNG")
        self.save_link = w.HTML()
        self.save_button.on_click(self._on_save)
        self.widget = w.VBox([self.title, grid, w.HBox([self.pin_button, self.reset_button,
                                                        self.save_button, self.save_link,
                                                        self.copy_box]),
                              self.status, self.image, self.log],
                             layout=w.Layout(width="100%"))
        self.widget.add_class("mfteach-panel")
        self.update()  # first render on creation: saved notebooks show a real plot

    # -- state -------------------------------------------------------------------------------
    @property
    def values(self) -> dict:
        return {n: wid.value for n, wid in self.controls.items()}

    def set(self, **values):
        """Change several controls at once and retrain once (what a shared one-liner does)."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; this panel has "
                             f"{list(self.controls)}")
        prev, self._hold = self._hold, True
        try:
            for n, v in values.items():
                self._set_widget(n, v)
                self._apply_links()  # a range that follows a choice follows it before the next value
        finally:
            self._hold = prev
        self.update()
        return self

    def reset(self):
        """Back to the settings the panel started with (one update, usually from the cache)."""
        return self.set(**self.start_values)

    def reproduce(self, values=None) -> str:
        """One line of code that rebuilds this panel with these control values."""
        values = self.values if values is None else values
        if self.origin is None:
            return self.code_of(values) if self.code_of is not None else ""
        return reproduce_line(*self.origin, values)

    def _set_widget(self, name, value):
        """Set one control, refusing values it cannot take (a ValueError naming the control)."""
        wid, spec = self.controls[name], self.specs[name]
        if isinstance(spec, Slider):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                    or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            if spec.log:
                wid.value = snap(value, [v for _, v in wid.options])
                return
            value = min(max(value, wid.min), wid.max)
            if spec.integer:
                value = int(round(value))
            elif wid.step:  # land on the slider's grid, as the front end would
                value = round(wid.min + round((value - wid.min) / wid.step) * wid.step, 10)
        elif isinstance(spec, Choice):
            allowed = [v for _, v in spec.pairs()]
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        elif not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}")
        wid.value = value

    def _apply_links(self):
        if self.links is None:
            return
        prev, self._hold = self._hold, True
        try:
            for name, change in (self.links(self.values) or {}).items():
                wid, spec = self.controls[name], self.specs[name]
                if "disabled" in change:
                    wid.disabled = bool(change["disabled"])
                if isinstance(spec, Slider) and spec.log and ("min" in change or "max" in change):
                    lo, hi = change.get("min", spec.min), change.get("max", spec.max)
                    opts = log_options(lo, hi)
                    old = wid.value
                    keep = lo * (1 - 1e-9) <= old <= hi * (1 + 1e-9)
                    if [v for _, v in wid.options] != opts:
                        wid.options = [(f"{v:.3g}", v) for v in opts]
                    wid.value = snap(change.get("value", old if keep else change.get("default", old)), opts)
                    continue
                # widen first so that min/max/value never cross while being set
                if "min" in change:
                    wid.min = min(wid.min, change["min"])
                if "max" in change:
                    wid.max = max(wid.max, change["max"])
                if "value" in change:
                    wid.value = change["value"]
                elif "default" in change:
                    # keep the student's value when it still fits the new range
                    lo, hi = change.get("min", -np.inf), change.get("max", np.inf)
                    if not lo <= wid.value <= hi:
                        wid.value = change["default"]
                if "min" in change:
                    wid.min = change["min"]
                if "max" in change:
                    wid.max = change["max"]
        finally:
            self._hold = prev

    # -- the update path ---------------------------------------------------------------------
    def _on_change(self, change):
        if self._hold:
            return
        with self.log:  # anything printed lands in the panel, nothing is lost
            self.update()

    def _on_reset(self, button):
        with self.log:
            self.reset()

    def _on_save(self, button):
        """A download link for the figure as shown now (made on demand: a link kept up to date
        would send every figure twice)."""
        import base64

        data = base64.b64encode(self.image.value).decode("ascii")
        name = re.sub(r"[^a-z0-9]+", "-", (self.reproduce() or "mfteach-panel").lower())[-60:]
        self.save_link.value = (f"<a download='{name.strip('-')}.png' href='data:image/png;base64,"
                                f"{data}'>⬇ download PNG</a>")

    def _on_pin(self, change):
        with self.log:
            if change["new"] and self.result is not None:
                self.pinned = (self.values, self.result)
                self.pin_button.description = "Unpin A"
            else:
                self.pinned = None
                self.pin_button.description = "Pin as A"
            self.update()

    def _key(self, values):
        return tuple(sorted((k, round(v, 12) if isinstance(v, float) else v)
                            for k, v in values.items()))

    def _rc(self):
        import matplotlib

        return matplotlib.rc_context(PROJECTOR_RC if self.projector else NORMAL_RC)

    def update(self):
        """Recompute (or take from the cache) and redraw. Never raises: problems become text."""
        t0 = time.perf_counter()
        self._apply_links()
        values = self.values
        key = self._key(values)
        cached = key in self.cache
        msg = None
        if not cached:
            # Shown while the retrain runs (the front end gets it at once, even though the kernel
            # is busy): a slow first visit, e.g. a U-curve sweep, never looks like a dead panel.
            self.status.value = ("<div style='font-size:1.05em;color:#666'>⏳ retraining with "
                                 + html.escape(", ".join(f"{k}={_fmt(v)}" for k, v in values.items()))
                                 + " …</div>")
        try:
            if cached:
                result = self.cache[key]
            else:
                result = self.compute(dict(values))
                self.cache.put(key, result)
        except (PanelMessage, ValueError) as e:
            result, msg = None, str(e)
        except Exception as e:  # never a traceback in front of a class
            result = None
            msg = f"Something unexpected went wrong ({type(e).__name__}: {e}). Try another setting."
            if self.debug:
                traceback.print_exc()
        t1 = time.perf_counter()
        self.result = result
        with self._rc():
            try:
                if result is not None:
                    self.view.update(result, self.pinned[1] if self.pinned else None)
            except Exception as e:
                msg = f"Could not draw this result ({type(e).__name__}: {e})."
                if self.debug:
                    traceback.print_exc()
            if msg is not None and hasattr(self.view, "message"):
                self.view.message(msg)
            self.image.value = self.png()
        t2 = time.perf_counter()
        self.last_seconds = {"compute": t1 - t0, "draw": t2 - t1, "total": t2 - t0,
                             "cached": cached}
        self._write_status(result, msg, cached)
        self.copy_box.value = self.reproduce(values)
        return result

    def png(self) -> bytes:
        """The figure as PNG bytes (see ``render.PngRenderer``: one draw, layout frozen)."""
        return self.renderer.png()

    def _write_status(self, result, msg, cached):
        s = self.last_seconds
        timing = ("from cache" if cached else f"computed in {s['compute']:.2f} s") + \
                 f", drawn in {s['draw']:.2f} s"
        if msg is not None:
            body = f"<span style='color:#D55E00'>⚠ {html.escape(msg)}</span>"
        else:
            line = self.describe(result) if self.describe else ""
            body = html.escape(line)
        pin = ""
        if self.pinned:
            pin = (" <span style='color:#CC79A7'>A (dotted) = "
                   + html.escape(", ".join(f"{k}={_fmt(v)}" for k, v in self.pinned[0].items()))
                   + "</span>")
        self.status.value = (f"<div style='font-size:1.05em'>{body}"
                             f"<span style='color:#666'> ({timing})</span>{pin}</div>")

    # -- display -----------------------------------------------------------------------------
    @property
    def status_text(self) -> str:
        """The status line as plain text (for tests and printing)."""
        import re

        return html.unescape(re.sub(r"<[^>]+>", "", self.status.value))

    def _repr_mimebundle_(self, **kwargs):
        import base64

        own = getattr(self.widget, "_repr_mimebundle_", None)
        if own is not None:
            bundle = dict(own(**kwargs) or {})
        else:
            # ipywidgets 7 (Colab's preinstalled version) displays widgets through
            # _ipython_display_; this is the same view reference it sends.
            bundle = {"application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id}}
        # A static copy of the figure for viewers without live widgets (GitHub, nbviewer).
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        bundle["text/plain"] = f"<mfteach panel: {self.status_text}>"
        return bundle

    def __repr__(self):
        return f"Panel({', '.join(f'{k}={_fmt(v)}' for k, v in self.values.items())})"


def _fmt(v):
    return f"{v:.3g}" if isinstance(v, float) else repr(v) if isinstance(v, str) else str(v)
