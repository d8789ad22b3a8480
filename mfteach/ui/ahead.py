"""Computing ahead: idle time in a live panel becomes the next move's result.

Once a move is drawn, a background thread (worker.py) computes into the panel's cache the settings
a student is likely to pick next: first those of the control just moved (a slider's step either
side, a toggle's other state, a dropdown's next and previous options), then one step (up, or
next) of every other control, then their other step, then the dropdown's further options. A panel
just built: one step of every control, once no cell has run or trained for a second. The same
``compute`` on the same settings: the results only arrive earlier. The thread stops at its next
optimizer step while any panel's move is computed or drawn (work between steps, e.g. making a
data set, is not interrupted); a new move drops what is still queued. A sweep's points (a U-curve) are computed there too, so a move
made while the sweep fills in is answered at once.

Background mode only (in a kernel, between messages); ``MFTEACH_AHEAD=0`` turns computing ahead
off (a crowded class server: it costs a few runs of CPU per move). Sweeps still fill in.
"""
from __future__ import annotations

import os

from .controls import Choice, Toggle
from .worker import WORKER, Task

__all__ = ["enabled", "neighbours", "plan", "submit", "busy", "after", "arrived", "take_running",
           "sweep_submit", "sweep_settle"]


def enabled(ahead=None) -> bool:
    """``ahead`` if given, else on unless $MFTEACH_AHEAD is 0/off/false/no."""
    if ahead is not None:
        return bool(ahead)
    return os.environ.get("MFTEACH_AHEAD", "").strip().lower() not in ("0", "off", "false", "no")


def neighbours(spec, wid, every=True) -> list:
    """The values a student may pick next on one control: a slider's step above and below, a
    toggle's other state, a dropdown's other options nearest first (``every=False``: only the
    next and the previous one)."""
    if wid.disabled:
        return []
    if isinstance(spec, Toggle):
        return [not wid.value]
    if isinstance(spec, Choice):
        opts = [v for _, v in spec.pairs()]
        i = opts.index(wid.value) if wid.value in opts else 0
        order = [j for d in range(1, len(opts)) for j in (i + d, i - d) if 0 <= j < len(opts)]
        return [opts[j] for j in (order if every else order[:2])]
    if spec.log:
        opts = [v for _, v in wid.options]
        i = opts.index(wid.value) if wid.value in opts else None
        return [] if i is None else [opts[j] for j in (i + 1, i - 1) if 0 <= j < len(opts)]
    step = wid.step or 1
    out = []
    for v in (wid.value + step, wid.value - step):
        if wid.min - 1e-12 <= v <= wid.max + 1e-12:
            out.append(int(round(v)) if spec.integer else round(v, 10))
    return out


def plan(panel, job) -> list:
    """After ``job`` is drawn: the settings to compute ahead, most likely first (values dicts).
    Before any move (a panel just built): one step of every control."""
    moved = panel._moved
    if not (panel.ahead and panel.scheduler.background and job.result is not None):
        return []
    near = {n: neighbours(panel.specs[n], panel.controls[n], every=n == moved) for n in panel.specs}
    others = [n for n in panel.specs if n != moved]
    # breadth first: the moved control's two nearest values, then one step of every other
    # control, then their other step, then the moved dropdown's further options
    order = ([(moved, v) for v in near[moved][:2]] if moved else []) \
        + [(n, near[n][0]) for n in others if near[n]] \
        + [(n, v) for n in others for v in near[n][1:]] \
        + ([(moved, v) for v in near[moved][2:]] if moved else [])
    out, seen = [], {job.key}
    for n, v in order:
        values = panel.settled({**job.values, n: v}, job.values)
        key = panel._key(values)
        if key not in seen and key not in panel.cache:
            seen.add(key)
            out.append(values)
    return out


def _deliver_to(panel, kind):
    """The worker thread's hand-over: the result goes to the panel on the panel's own loop."""
    def deliver(task):
        panel.scheduler.call(arrived, panel, kind, task)
    return deliver


def submit(panel, job):
    """Queue ``job``'s settings to compute ahead on the worker."""
    idle = panel._moved is None  # a panel just built: not while Run All goes on (worker.py)
    for values in plan(panel, job):
        values = dict(values)
        WORKER.submit(Task(panel, panel._key(values), (lambda v=values: panel.compute(dict(v))),
                           _deliver_to(panel, "ahead"), idle=idle, droppable=True))


def busy(panel, flag: bool):
    WORKER.busy(panel, flag)


def take_running(panel, key):
    """If the worker is computing ``key`` for ``panel`` right now, let it finish at full speed and
    return its Task (done); else None."""
    task = WORKER.running(panel, key)
    if task is None:
        return None
    WORKER.hurry(task)
    task.done.wait()
    return task


def sweep_submit(panel, job):
    """Queue ``job``'s missing sweep points on the worker (those already under way are not
    queued twice: their result is taken when it lands)."""
    for p in job.sweep.points:
        if p not in job.sweep.done and not WORKER.has(panel, ("sweep", p)):
            WORKER.submit(Task(panel, ("sweep", p), (lambda p=p: job.spec.run(p)),
                               _deliver_to(panel, "sweep")))


def sweep_settle(panel, job):
    """Finish ``job``'s sweep here and now (a cell waits for the finished figure): the point under
    way on the worker is awaited, the queued ones are computed here."""
    WORKER.cancel(panel)
    for p in job.sweep.points:
        task = take_running(panel, ("sweep", p))
        if task is not None and task.error is None:
            panel._points.put(p, task.result)
            job.sweep.done[p] = task.result


def after(panel, job):
    """After a piece of ``job`` on the panel's loop: the worker pauses while it is computed or
    drawn, then gets its sweep points, then the settings to compute ahead."""
    if panel._job is not job or not panel.scheduler.background:
        return
    busy(panel, job.phase in ("compute", "draw"))
    if job.phase == "sweep" and not panel._inline:
        sweep_submit(panel, job)
    elif job.phase == "done":
        submit(panel, job)


def arrived(panel, kind, task):
    """A result from the worker, on the panel's loop: into the cache; a sweep point of the current
    job is drawn soon (``_draw_soon``)."""
    if kind == "ahead":
        if task.error is None and task.key not in panel.cache:
            panel.cache.put(task.key, task.result)
        return
    job, point = panel._job, task.key[1]
    if task.error is None:
        panel._points.put(point, task.result)
    if job is None or job.phase != "sweep" or point not in job.sweep.points \
            or point in job.sweep.done:
        return
    if task.error is not None:
        try:
            if job.draw_queued:  # the points that arrived before it are drawn first, as they came
                panel._render(job, full=False)
        except Exception:  # noqa: BLE001 - the point's own error is what the status shows
            pass
        panel._failed(job, task.error)
        after(panel, job)
        return
    job.sweep.done[point] = task.result
    _draw_soon(panel, job)


def _draw_soon(panel, job):
    """Draw ``job``'s sweep once for all the points that arrived together. While a cell runs, the
    kernel's loop waits, and the points that finish meanwhile arrive at once after it: each drawing
    costs 0.1-0.25 s, and only the last one is ever seen. The drawing is queued behind the
    arrivals already waiting on the loop; the job stays in its "sweep" phase until it is drawn
    (``Panel.wait`` draws it itself if it comes first)."""
    if job.draw_queued:
        return
    job.draw_queued = True

    def draw():
        job.draw_queued = False
        if panel._job is not job or job.phase != "sweep":
            return  # superseded by a newer move, or drawn already by a cell's wait()
        try:
            panel._render(job, full=False)
            if job.sweep.complete:
                job.phase = "done"
        except Exception as e:  # noqa: BLE001 - never a traceback from a loop callback
            panel._failed(job, e)
        if job.phase == "done":
            after(panel, job)

    panel.scheduler.call(draw)
