"""The one background thread that computes ahead for the panels of a kernel.

While a student looks at a plot, the settings they may pick next are computed into the panel's
cache. A move must never wait for that work. On the kernel's event loop it did: a move arriving
mid-run waited for the whole run (up to half a second in the browser). Here a thread computes
instead, and from the moment any panel gets a move until that move is drawn it stops at its next
optimizer step (about 1 ms; ``training.between_steps``): the move has the CPU and the GIL.

The thread only computes. Results go back to their panel through ``deliver``, which the panel
makes hand them to its own loop (widgets and matplotlib stay on one thread). It is the same
``compute`` on the same settings as on a move: every run is seeded by its settings and trains on
one torch thread, so the numbers do not depend on where or when they were computed.

Its name starts with "mfteach-prefetch": the lessons' training gate (lessons/common.py) then
treats its runs as background runs, which wait while a cell's run waits.
"""
from __future__ import annotations

import atexit
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Callable

from ..training import between_steps, quiet_for

__all__ = ["Task", "Worker", "WORKER"]

THREAD_NAME = "mfteach-prefetch-panels"


def _cells_run():
    """How many cells this kernel has run (None outside IPython): read, never changed."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "execution_count", None)


class _Closed(Exception):
    """Raised between two steps of a run when the worker closes or the task is dropped."""


@dataclass(eq=False)
class Task:
    """``fn()`` to compute for ``owner`` (a panel), under ``key`` (its settings)."""

    owner: object
    key: tuple
    fn: Callable
    deliver: Callable                 # (task) → None, called in the worker thread when done
    urgent: bool = False              # a move waits for this very result: never pause it
    idle: bool = False                # only once no cell has trained for ``Worker.idle_s``
    droppable: bool = False           # a newer move may stop it half done (a guess gone stale)
    dropped: bool = False
    result: object = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    paused: float = 0.0               # seconds it has waited for moves so far


class Worker:
    """A queue of Tasks computed one at a time in a daemon thread, made on first use.

    max_pause: a task waits at most this long in all for moves (a panel that never reports its
    move done, e.g. one deleted mid-move, cannot stop the thread for good).
    idle_s: an ``idle`` task (a panel's guesses before anyone moved it) starts only once, for
    this long, no run outside this thread has trained and no new cell has run: it must not slow
    down Run All.
    """

    def __init__(self, max_pause=3.0, idle_s=1.0):
        self.max_pause, self.idle_s = max_pause, idle_s
        self._cv = threading.Condition()
        self._queue: list[Task] = []
        self._busy = weakref.WeakKeyDictionary()  # panel → since when its move is computed
        # or drawn; a flag older than max_pause is ignored (a cell interrupted mid-move)
        self.current: Task | None = None
        self._thread = None
        self._closing = False
        self._cells = (None, 0.0)        # (cells run, since when): see _quiet

    # -- the panels' side --------------------------------------------------------------------
    def submit(self, task: Task) -> Task:
        with self._cv:
            self._queue.append(task)
            if self._closing:
                return task
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=THREAD_NAME, daemon=True)
                self._thread.start()
                atexit.register(self.close)
            self._cv.notify_all()
        return task

    def cancel(self, owner, keep=None):
        """Drop ``owner``'s queued tasks, and stop its droppable task under way at its next step
        unless its key is ``keep`` (the setting the new move wants)."""
        with self._cv:
            self._queue = [t for t in self._queue if t.owner is not owner]
            t = self.current
            if t is not None and t.owner is owner and t.droppable and t.key != keep:
                t.dropped = True
                self._cv.notify_all()

    def pending(self, owner) -> list:
        """``owner``'s tasks not yet delivered: the one under way, then the queued ones."""
        with self._cv:
            now = [self.current] if self.current is not None and self.current.owner is owner else []
            return now + [t for t in self._queue if t.owner is owner]

    def has(self, owner, key) -> bool:
        """Whether a task for ``owner`` and ``key`` is queued or under way."""
        with self._cv:
            return any(t.owner is owner and t.key == key
                       for t in ([self.current] if self.current is not None else []) + self._queue)

    def running(self, owner, key):
        """The task under way for ``owner`` and ``key``, or None."""
        with self._cv:
            t = self.current
            return t if t is not None and t.owner is owner and t.key == key else None

    def hurry(self, task: Task):
        """A move wants this task's result: it runs on without pausing."""
        with self._cv:
            task.urgent = True
            self._cv.notify_all()

    def busy(self, owner, flag: bool):
        """``owner`` is (not) computing or drawing a move: the thread pauses while any is."""
        with self._cv:
            if flag:
                self._busy[owner] = time.monotonic()
            else:
                self._busy.pop(owner, None)
                self._cv.notify_all()

    def _moving(self) -> bool:
        """Whether a move is being computed or drawn (call with the lock held)."""
        now = time.monotonic()
        return any(now - t < self.max_pause for t in self._busy.values())

    def close(self, timeout=5.0):
        """Stop the thread (at interpreter exit): the run under way stops at its next step. A
        daemon thread still inside torch when the process ends aborts it ("terminate called")."""
        with self._cv:
            self._closing = True
            self._queue.clear()
            self._cv.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # -- the thread --------------------------------------------------------------------------
    def _wait_for_moves(self, task: Task):
        """Block while a move is computed or drawn (called between two optimizer steps)."""
        if self._closing or task.dropped:
            raise _Closed
        if task.urgent:
            return
        with self._cv:
            t0 = time.monotonic()
            while not task.urgent and task.paused < self.max_pause and not self._closing \
                    and not task.dropped and self._moving():
                self._cv.wait(min(0.5, self.max_pause - task.paused))
                task.paused += time.monotonic() - t0
                t0 = time.monotonic()
        if self._closing or task.dropped:
            raise _Closed

    def _next_task(self):
        """The first queued task; idle ones last, and only once the notebook is quiet."""
        task = next((t for t in self._queue if not t.idle), None)
        if task is None and self._queue and self._quiet():
            task = self._queue[0]
        return task

    def _quiet(self) -> bool:
        """No run outside this thread and no new cell for ``idle_s`` (Run All is over)."""
        count, now = _cells_run(), time.monotonic()
        if count != self._cells[0]:
            self._cells = (count, now)
        return quiet_for() >= self.idle_s and now - self._cells[1] >= self.idle_s

    def _loop(self):
        # Not at a lower CPU priority: a move may wait for the task under way (Panel._compute
        # takes it over), and a niced thread next to a busy browser ran it half as fast. Moves
        # come first through the pauses; a notebook's cells through idle tasks.
        while True:
            with self._cv:
                while not self._closing and (task := self._next_task()) is None:
                    self._cv.wait(0.25 if self._queue else None)  # idle tasks: look again soon
                if self._closing:
                    return
                self._queue.remove(task)
                self.current = task
            try:
                self._wait_for_moves(task)  # do not even start while a move is on
                with between_steps(lambda: self._wait_for_moves(task)):
                    task.result = task.fn()
            except BaseException as e:  # noqa: BLE001 - handed to the panel, never raised here
                task.error = e
            with self._cv:
                self.current = None
            task.done.set()
            try:
                task.deliver(task)
            except Exception:  # noqa: BLE001 - a closed loop: nobody waits for it any more
                pass


WORKER = Worker()
