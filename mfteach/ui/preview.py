"""A first look: while a long run trains, a panel draws a shorter run of the same settings.

A move that must train 40 epochs keeps the student waiting 0.6-0.75 s on 2 cores. When the panel
has a ``preview`` (values → a cheaper setting whose run is the first part of this one's), the move
first draws that run (e.g. its first 5 epochs, 0.1-0.17 s; or the 15-epoch run it goes on from, at
no cost), said so on the plot and in the status, then the full run, which goes on from it: the
same numbers as training it alone. Only moves from the front end, in a kernel: code (``set``, a
display) waits for the full run anyway, and a first look would only cost it a drawing.
"""
from __future__ import annotations

import time
import traceback

from .jobs import SweepState
from .status import preview_html
from .worker import WORKER

__all__ = ["setting", "draw"]


def setting(panel, job) -> dict | None:
    """The shorter setting ``job`` could draw first; None when it has none, or when the panel
    cannot draw one."""
    if (panel.preview_of is None or not panel.scheduler.background
            or not hasattr(panel.view, "update_preview")):
        return None
    try:
        values = panel.preview_of(dict(job.values))
    except Exception:  # noqa: BLE001 - no first look; the full run says what is wrong
        return None
    return None if values is None else dict(values)


def draw(panel, job):
    """Draw ``job``'s first look (its phase becomes "compute" whatever happens: nothing here may
    stop the full run, a problem only skips the first look)."""
    job.phase = "compute"
    t = time.perf_counter()
    values = setting(panel, job)
    if values is None:  # (the worker may have computed it meanwhile)
        return
    task = WORKER.running(panel, job.key)  # computed ahead, under way: it goes on meanwhile
    if task is not None:                   # (its result is taken when this is drawn)
        WORKER.hurry(task)
    key = panel._key(values)
    fresh = key not in panel.cache
    try:
        if fresh:  # a real run of those settings: kept like any other
            result = panel.compute(dict(values))
            panel.cache.put(key, result)
        else:
            result = panel.cache[key]
    except Exception:  # noqa: BLE001 - the full run says what is wrong, in its own words
        return
    computed = time.perf_counter() - t if fresh else None
    pinned = panel.pinned[1] if panel.pinned else None
    with panel._rc():
        try:
            sweep, spec = None, panel.sweep_of(dict(job.values)) if panel.sweep_of else None
            if spec is not None:  # the full run's sweep, with its points finished so far
                pts = tuple(spec.points)
                sweep = SweepState(pts, {p: panel._points[p] for p in pts if p in panel._points})
            panel.view.update_preview(result, pinned, dict(job.values), sweep)
            panel.image.value = panel.renderer.png()
        except Exception:  # noqa: BLE001 - no first look, the full run follows
            if panel.debug:
                traceback.print_exc()
            return
    r = panel.renderer.seconds
    job.seconds["preview"] = time.perf_counter() - t
    panel.status.value = preview_html(values, job.values, computed, r["draw"] + r["encode"])
