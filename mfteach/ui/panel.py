"""One general live-panel builder: controls described in data, a compute function, a figure.

Moving a control retrains (through ``compute``) and redraws the same figure in place; the figure
is shown as a PNG in an ``ipywidgets.Image``, so it works in JupyterLab, Notebook 7, VS Code,
Colab and Voilà with the plain inline backend and no extension. The panel is *returned*, not
displayed; displaying it also embeds a PNG of the current figure, so a notebook saved with
outputs shows a real plot on GitHub and nbviewer where widgets are not live.
"""
from __future__ import annotations

import contextlib
import html
import io
import os
import time
import traceback
from collections import OrderedDict
from typing import Callable

from .controls import (Choice, Slider, Toggle, log_options, make_widget, retarget, set_widget,
                       settle)
from . import ahead as ahead_, preview as preview_
from .cache import ResultCache
from .display import PanelDisplay
from .jobs import Job, Scheduler, Sweep, SweepState, running_loop, in_kernel
from .render import PngRenderer
from .style import NORMAL_RC, PROJECTOR_HEIGHT, PROJECTOR_RC, _PROJECTOR, projector
from .status import fmt as _fmt, retraining_html, status_html
from .reproduce import panel_factory, reproduce_line

__all__ = ["Slider", "Choice", "Toggle", "Panel", "PanelMessage", "PROJECTOR_RC", "panel_factory",
           "projector", "log_options", "Sweep"]


class PanelMessage(Exception):
    """Raised by a compute function to show a plain-language message instead of a plot."""


class Panel(PanelDisplay):
    """A live panel: controls → ``compute(values)`` → ``view.update(result, pinned)`` → PNG.

    controls: Slider/Choice/Toggle descriptions. compute: values dict → result; raise
        PanelMessage (or ValueError) to show a plain message instead of a plot.
    make_view: ``fig → view`` building the axes and artists once; ``view.update(result, pinned)``
        changes them in place (``pinned`` is the "A" result of an A/B comparison, or None).
    describe: result → one line for the status (what was trained, the finding); optional.
    code: values → one line of code reproducing this panel state (the "copy settings" text).
    links: (values, before) → {control name: {"min"/"max"/"value"/"default"/"disabled": …}} to
        retarget dependent controls (e.g. a strength slider whose range follows the chosen
        regularizer; "default" is used only when the current value falls outside the new range).
        ``before``: the values the links saw last (None the first time). A pure function of the
        two: the panel also calls it to know what a move would train before it is made.
    sweep: values → ``Sweep`` (points to fill in after the current run is drawn, e.g. a U-curve)
        or None; the view then gets ``update(result, pinned, sweep=SweepState)``, and may offer
        ``update_sweep(result, pinned, sweep) → [axes changed]`` for cheaper partial redraws.
    projector: bigger fonts and lines. cache_size / cache_bytes: results kept by configuration
        (the least recently used go first; the pinned "A" result is kept apart).
    background: None = in a kernel, work runs between messages (jobs.py), else now; False: now.
    ahead: in background mode, compute the next step either side of the control moved last
        while idle (None: on unless $MFTEACH_AHEAD is 0). The same results as computing them on
        the move: they only land in the cache earlier.
    preview: values → a cheaper setting whose run is the first part of this one's, or None (a
        long move draws it first: ``view.update_preview(result, pinned, values, sweep)``).
    """

    def __init__(self, controls, compute: Callable, make_view: Callable, *, title="",
                 describe: Callable | None = None, code: Callable | None = None,
                 links: Callable | None = None, figsize=(11, 6.5), dpi=80, projector=False,
                 cache_size=64, cache_bytes=256 * 2**20, debug=False, sweep: Callable | None = None,
                 background: bool | None = None, ahead: bool | None = None,
                 preview: Callable | None = None):
        import ipywidgets as w
        from matplotlib.figure import Figure

        self.specs = OrderedDict((c.name, c) for c in controls)
        self.compute, self.describe, self.code_of, self.links = compute, describe, code, links
        # A teacher can make every panel projector-sized at once: MFTEACH_PROJECTOR=1.
        projector = projector or _PROJECTOR["on"] or \
            os.environ.get("MFTEACH_PROJECTOR", "") not in ("", "0")
        self.projector, self.dpi, self.debug = projector, dpi, debug
        self.cache = ResultCache(cache_size, cache_bytes)
        self.sweep_of = sweep
        self.preview_of = preview
        self._points = ResultCache(1024, 64 * 2**20)   # sweep point → its result
        self._job = None
        # auto (None): in a Jupyter kernel only; True: any running loop (tests drive one)
        loop = running_loop() if background or (background is None and in_kernel()) else None
        if background and loop is None:
            raise ValueError("background=True needs a running event loop (a Jupyter kernel), "
                             "and none is running here")
        self.scheduler = Scheduler(self._step, loop)
        self.ahead = ahead_.enabled(ahead)  # idle time computes the next moves (see ahead.py)
        self._inline = False          # True while a cell waits: a sweep finishes here
        self._linked = None           # the values the links last saw
        self._moved = None            # the control moved last
        self.origin = None            # (factory, its arguments): set by @panel_factory
        self.pinned = None            # (values, result) of "A"
        self.result = self._shown = None  # the current result ("B" when pinned), its values
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
        """Change several controls at once and retrain once (what a shared one-liner does);
        choices first, since a slider's range may follow one (lr follows the optimizer)."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; this panel has "
                             f"{list(self.controls)}")
        prev, self._hold, self._moved = self._hold, True, None  # (code: no "next step" to guess)
        values = sorted(values.items(), key=lambda nv: not isinstance(self.specs[nv[0]], Choice))
        try:
            for n, v in values:
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
        set_widget(self.controls[name], self.specs[name], value)

    def _apply_links(self):
        if self.links is None:
            return
        prev, self._hold = self._hold, True
        try:
            for name, change in (self.links(self.values, self._linked) or {}).items():
                retarget(self.controls[name], self.specs[name], change)
        finally:
            self._hold = prev
        self._linked = self.values  # "before" for the next move's links

    def settled(self, values, before) -> dict:
        """The values the panel would train after a move from ``before`` to ``values`` (its
        links applied, as on the widgets), without touching the widgets."""
        if self.links is None:
            return dict(values)
        out = dict(values)
        for name, change in (self.links(out, before) or {}).items():
            out[name] = settle(self.specs[name], self.controls[name], out[name], change)
        return out

    # -- the update path ---------------------------------------------------------------------
    # A move becomes a job: compute (or take from the cache) → draw → sweep points, one piece per
    # step (see jobs.py). A newer move replaces the job: stale work is dropped between steps.
    def _on_change(self, change):
        if not self._hold:
            self._moved = next((n for n, wid in self.controls.items()
                                if wid is change.get("owner")), None)
            self._request()

    def _on_reset(self, button):
        self.reset()

    def _request(self):
        """A control moved: in a kernel, queue the work and return at once (the next message can
        be read); elsewhere, do it now."""
        if self.scheduler.background:
            self._submit(preview=True)
        else:
            self.update()

    def _on_pin(self, change):
        if change["new"] and self.result is not None:
            self.pinned = (self._shown, self.result)  # (not the values of a move under way)
            self.pin_button.description = "Unpin A"
        else:
            self.pinned = None
            self.pin_button.description = "Pin as A"
        self._request()

    def _key(self, values):
        return tuple(sorted((k, round(v, 12) if isinstance(v, float) else v)
                            for k, v in values.items()))

    def _rc(self):
        import matplotlib

        return matplotlib.rc_context(PROJECTOR_RC if self.projector else NORMAL_RC)

    def update(self):
        """Recompute (or take from the cache) and redraw; returns the current run's result. Never
        raises: problems become text. In a kernel a sweep goes on filling in afterwards (``wait``
        waits for it); elsewhere it is complete when this returns."""
        job = self._submit()
        self.scheduler.drain(until=(lambda: self._job is not job or job.phase in ("sweep", "done"))
                             if self.scheduler.background else None)
        return self.result

    def wait(self):
        """Finish all pending work now (the current run and its sweep); returns the panel. (The
        settings computed ahead go on in the background.)"""
        prev, self._inline = self._inline, True
        try:
            self.scheduler.drain(until=lambda: self._job is None or self._job.phase == "done")
        finally:
            self._inline = prev
        return self

    def _submit(self, preview=False) -> Job:
        """Queue the current values' job (``preview``: a move from the front end; preview.py)."""
        self._apply_links()
        values = self.values
        job = Job(values, self._key(values), time.perf_counter())
        job.cached = job.key in self.cache
        if preview and not job.cached and preview_.setting(self, job) is not None:
            job.phase = "preview"
        self._job = job                    # supersedes whatever was pending ...
        if self.scheduler.background:
            ahead_.WORKER.cancel(self, keep=job.key)  # ... and the worker's stale guesses
            ahead_.busy(self, True)        # which pauses meanwhile
        if not job.cached:
            # Shown at once (the front end gets it while the retrain runs): a slow first visit
            # never looks like a dead panel.
            self.status.value = retraining_html(values)
        self.scheduler.kick()
        return job

    def _step(self) -> bool:
        """One piece of the current job (then one setting computed ahead); True while work is
        left."""
        job = self._job
        if job is None:
            return False
        if job.phase == "done" or self._offloaded(job):
            return False  # the worker computes (ahead.py); its results land in ahead.arrived
        out, err = io.StringIO(), io.StringIO()
        try:  # anything printed lands in the panel's log, nothing is lost
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                {"preview": self._preview, "compute": self._compute, "draw": self._draw,
                 "sweep": self._sweep}[job.phase](job)
        except Exception as e:  # a safety net: never a traceback from a loop callback
            self._failed(job, e)
        except BaseException:  # Ctrl-C in a cell's set(): the worker must not wait for this move
            ahead_.busy(self, False)
            raise
        for text, append in ((out.getvalue(), self.log.append_stdout),
                             (err.getvalue(), self.log.append_stderr)):
            if text:
                append(text)
        ahead_.after(self, job)
        return self._job is not None and self._job.phase != "done" and not self._offloaded(self._job)

    def _offloaded(self, job) -> bool:
        """Whether ``job``'s sweep points are the worker's (in a kernel, unless a cell waits)."""
        return job.phase == "sweep" and self.scheduler.background and not self._inline

    def _failed(self, job, e):
        job.phase = "done"
        self.status.value = f"<span style='color:#D55E00'>⚠ {html.escape(repr(e))}</span>"

    def _preview(self, job):  # a first look (preview.py)
        preview_.draw(self, job)

    def _compute(self, job):
        t = time.perf_counter()
        job.cached = job.key in self.cache
        try:
            task = None if job.cached else ahead_.take_running(self, job.key)
            if job.cached:
                job.result = self.cache[job.key]
            elif task is not None and task.error is None:  # under way ahead: finished, not redone
                job.result = task.result
                self.cache.put(job.key, job.result)
            else:
                job.result = self.compute(dict(job.values))
                self.cache.put(job.key, job.result)
        except (PanelMessage, ValueError) as e:
            job.msg = str(e)
        except Exception as e:  # never a traceback in front of a class
            job.msg = f"Something unexpected went wrong ({type(e).__name__}: {e}). Try another setting."
            if self.debug:
                traceback.print_exc()
        job.seconds["compute"] = time.perf_counter() - t
        job.phase = "draw"

    def _draw(self, job):
        self.result, self._shown = job.result, dict(job.values)
        if job.result is not None and self.sweep_of is not None:
            job.spec = self.sweep_of(dict(job.values))
            if job.spec is not None:
                pts = tuple(job.spec.points)
                job.sweep = SweepState(pts, {p: self._points[p] for p in pts if p in self._points})
        self._render(job, full=True)
        self.copy_box.value = self.reproduce(job.values)
        job.phase = "sweep" if job.sweep is not None and not job.sweep.complete else "done"

    def _sweep(self, job):
        ahead_.sweep_settle(self, job)  # a point the worker is computing is finished, not redone
        if not job.sweep.complete:
            point = job.sweep.next_point()
            t = time.perf_counter()
            value = job.spec.run(point)
            job.seconds["sweep"] = job.seconds.get("sweep", 0.0) + time.perf_counter() - t
            self._points.put(point, value)
            job.sweep.done[point] = value
        self._render(job, full=False)
        if job.sweep.complete:
            job.phase = "done"

    def _render(self, job, full):
        t0 = time.perf_counter()
        msg, only = job.msg, None
        pinned = self.pinned[1] if self.pinned else None
        with self._rc():
            try:
                if job.result is not None:
                    if not full and hasattr(self.view, "update_sweep"):
                        only = self.view.update_sweep(job.result, pinned, job.sweep)
                    elif job.sweep is not None:
                        self.view.update(job.result, pinned, sweep=job.sweep)
                    else:
                        self.view.update(job.result, pinned)
            except Exception as e:
                msg, only = f"Could not draw this result ({type(e).__name__}: {e}).", None
                if self.debug:
                    traceback.print_exc()
            if msg is not None and hasattr(self.view, "message"):
                self.view.message(msg)
            t1 = time.perf_counter()
            self.image.value = self.renderer.png(only=only)
            if full and job.sweep is not None and not job.sweep.complete:
                self.renderer.remember(getattr(self.view, "sweep_axes", ()))  # for partial redraws
        r = self.renderer.seconds
        self.last_seconds = {"compute": job.seconds.get("compute", 0.0),
                             "draw": t1 - t0 + r["draw"], "encode": r["encode"],
                             "total": time.perf_counter() - job.t0, "cached": job.cached,
                             "partial": only is not None}
        if full:  # the current run's own timings (a sweep's redraws follow)
            job.seconds.update(draw=self.last_seconds["draw"], encode=r["encode"])
        self._write_status(job, msg)

    def _write_status(self, job, msg):
        line = None if msg is not None else (self.describe(job.result) if self.describe else "")
        # the current run's own draw time, not that of the sweep point drawn last
        seconds = {**self.last_seconds, **{k: job.seconds[k] for k in ("draw", "encode")
                                           if k in job.seconds}}
        self.status.value = status_html(line, msg, job, seconds, self.pinned)

    def __repr__(self):
        return f"Panel({', '.join(f'{k}={_fmt(v)}' for k, v in self.values.items())})"

