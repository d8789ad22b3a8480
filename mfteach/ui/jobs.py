"""How a panel's work runs: the current run first, then its sweep points one at a time.

In a Jupyter kernel each piece of work is a callback on the kernel's own event loop (the main
thread, which also reads the front end's messages), scheduled a few milliseconds later: between
two pieces the kernel reads any message that arrived meanwhile, so a newer move supersedes stale
work and a burst of moves computes once, for the last value. A new image is sent the moment the
current run is drawn (ipykernel sends IOPub messages from its own thread), so it reaches the
browser while the sweep is still filling in. Without a running event loop (tests, scripts,
benchmarks) the same pieces run at once, in order.

Why not a worker thread: widgets and matplotlib are not thread-safe; ipykernel 7 no longer gives
output from threads a parent (ipywidgets issues #4001, #4020); and ``train`` sets torch's
process-wide thread count while it runs, so a sweep training in a thread beside a cell that trains
could leave that count changed or train with another one (other numbers).
"""
from __future__ import annotations

import asyncio
import sys
import threading
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Sweep", "SweepState", "Job", "Scheduler", "running_loop", "in_kernel"]


@dataclass(frozen=True)
class Sweep:
    """Points a panel fills in after it has drawn the current run.

    points: hashable settings, in drawing order (e.g. ``("l2_batch", True, 15, 0.01)``).
    run: point → result. It must depend on the point alone (each run seeded from its settings,
        never from shared random state), so a point gives the same numbers whatever order the
        points ran in and whichever move asked for them.
    """

    points: tuple
    run: Callable


@dataclass
class SweepState:
    """What a view gets while a sweep fills in: every point, and the results finished so far."""

    points: tuple
    done: dict = field(default_factory=dict)   # point → result

    @property
    def complete(self) -> bool:
        return all(p in self.done for p in self.points)

    def next_point(self):
        return next(p for p in self.points if p not in self.done)

    def __str__(self):
        return f"sweep: run {sum(p in self.done for p in self.points)}/{len(self.points)}"


@dataclass
class Job:
    """One move's work: compute → draw → sweep points → done."""

    values: dict
    key: tuple
    t0: float                       # when it was asked for
    cached: bool = False
    phase: str = "compute"
    result: object = None
    msg: str | None = None
    spec: Sweep | None = None       # the sweep this result asks for …
    sweep: SweepState | None = None  # … and its points so far
    seconds: dict = field(default_factory=dict)
    draw_queued: bool = False       # a drawing of newly arrived sweep points is on the loop


def running_loop():
    """The asyncio loop running in this thread (a Jupyter kernel's, while a cell or a widget
    callback runs), or None (a plain script or test)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def in_kernel() -> bool:
    """Whether this process is a Jupyter kernel: only a kernel's loop reads widget messages
    between a panel's steps. Another library's loop (Playwright's sync API keeps one running in
    a test process) must not turn a panel's work into background work that nothing drives."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


class Scheduler:
    """Calls ``step()`` until it returns False: on an event loop (one call per loop turn,
    ``delay`` seconds apart so incoming messages are read in between), or inline on ``drain``.

    The loop is the one running in the thread that asked last: JupyterLab 4.6 with ipykernel 7
    delivers widget messages on a kernel *subshell* thread (with its own loop) so that widgets
    answer while a cell runs; the panel's work then runs there, beside the cells. A lock keeps
    two threads from stepping the same panel at once.
    """

    def __init__(self, step: Callable[[], bool], loop=None, delay=0.003):
        self.step, self.loop, self.delay = step, loop, delay
        self._handle = None
        self._lock = threading.RLock()

    @property
    def background(self) -> bool:
        return self.loop is not None

    def kick(self):
        """Make sure a step is coming (no-op without a loop: the caller drains)."""
        if self.loop is None:
            return
        here = running_loop()
        if here is not None and here is not self.loop:  # asked from another thread's loop
            self._cancel()
            self.loop = here
        if self._handle is None and not self.loop.is_closed():
            self._handle = self.loop.call_later(self.delay, self._tick)

    def call(self, fn, *args):
        """``fn(*args)`` on the loop, from any thread (a worker's result), under the stepping lock."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return

        def run():
            with self._lock:
                fn(*args)
        loop.call_soon_threadsafe(run)

    def _cancel(self):
        handle, self._handle = self._handle, None
        if handle is not None:
            self.loop.call_soon_threadsafe(handle.cancel)

    def _tick(self):
        self._handle = None
        if not self._lock.acquire(blocking=False):  # another thread is stepping: come back
            self.kick()
            return
        try:
            more = self.step()
        finally:
            self._lock.release()
        if more:
            self.kick()

    def drain(self, until: Callable[[], bool] | None = None):
        """Run steps now until there is no work left (or ``until()`` is true); what remains
        goes back on the loop."""
        with self._lock:
            self._cancel()
            more = True
            while more and not (until is not None and until()):
                more = self.step()
        if more:
            self.kick()
