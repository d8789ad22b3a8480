"""The lessons' threads: the gate that keeps training threads to the cores, and the one background
thread that trains runs ahead (mfteach.lessons.common uses both)."""
from __future__ import annotations

import os
import threading
from collections import deque
from concurrent.futures import Future
from contextlib import contextmanager

__all__ = ["Gate", "Later", "cores", "lower_priority"]


class Gate:
    """At most ``n`` runs train at once, and the background worker starts one only while no
    cell's run is waiting. A third training thread on 2 cores only adds GIL contention: 12 runs
    took 1.42 s on two threads and 1.57-1.63 s on three (more CPU, less done)."""

    def __init__(self, n):
        self.n, self.busy, self.waiting = n, 0, 0
        self.cv = threading.Condition()

    @contextmanager
    def slot(self, background=False):
        with self.cv:
            self.waiting += not background
            try:
                while self.busy >= self.n or (background and self.waiting):
                    self.cv.wait()
            finally:
                self.waiting -= not background
            self.busy += 1
        try:
            yield
        finally:
            with self.cv:
                self.busy -= 1
                self.cv.notify_all()

    def aside(self, fn):
        """``fn()`` (which may block) with this background thread's slot given back meanwhile;
        then the slot again, once no cell's run waits (between two steps of a background run:
        a move's run must not wait for a paused one)."""
        with self.cv:
            self.busy -= 1
            self.cv.notify_all()
        try:
            fn()
        finally:
            with self.cv:
                while self.busy >= self.n or self.waiting:
                    self.cv.wait()
                self.busy += 1


def cores() -> int:
    """The CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 2


def lower_priority():
    """A thread pool's initializer: on Linux the notebook's own cells come first on a busy CPU."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


class Later:
    """One background thread running the jobs given to it in order, ``front`` ones first (the
    lessons' prefetch: a cell's own runs before the rest). A job not started yet can be cancelled
    (``trained`` takes a run back to train it where it is needed). Daemon: a kernel that ends
    drops what is queued."""

    def __init__(self, name):
        self.name, self.jobs, self.cv, self.thread = name, deque(), threading.Condition(), None

    def submit(self, fn, *args, front=False) -> Future:
        f = Future()
        with self.cv:
            (self.jobs.appendleft if front else self.jobs.append)((f, fn, args))
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self.thread.start()
            self.cv.notify()
        return f

    def _loop(self):
        # Not at a lower priority: its jobs mostly wait for a second process (mfteach.forked,
        # which sets its own) and a timing forked from here must run at the kernel's priority.
        # A job that trains here lowers it (common._load_or_train).
        while True:
            with self.cv:
                while not self.jobs:
                    self.cv.wait()
                f, fn, args = self.jobs.popleft()
            if not f.set_running_or_notify_cancel():  # taken back by a cell
                continue
            try:
                f.set_result(fn(*args))
            except BaseException as e:
                f.set_exception(e)
