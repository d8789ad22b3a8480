"""Runs trained in a second process, forked from this one: the lessons' background work.

A run's steps are small (~1 ms on the notebooks' data) and much of each step is Python that holds
the GIL, so two runs in two threads of one kernel end only 1.1-1.4x sooner than one after the
other; in two processes, 1.85x. ``train(data, cfg)`` here hands the run to one child process,
forked from this one the first time (torch is already imported there: nothing to start), which
trains with ``mf.train`` exactly what this process would: the same numbers, field for field
(tests/test_forked.py). What ``train(..., resume=)`` needs to go on from the run comes back too.

Used only where it is safe and worth it: on Linux (where PyTorch's DataLoader forks its workers
from notebooks every day; elsewhere fork is unsafe or absent), while torch runs on one thread,
unless ``MFTEACH_FORK=off``. The child ignores Ctrl-C (stopping a cell does not stop background
work), writes nothing to the notebook, and ends when this process does (its pipe closes). A child
that dies or stops answering is replaced, and the run trained here instead: slower, never lost.
"""
from __future__ import annotations

import os
import sys
import threading
import time

import torch

from . import resume as _resume
from . import training as _training

__all__ = ["ENV", "usable", "train", "call", "shutdown"]

ENV = "MFTEACH_FORK"
_OFF = ("0", "off", "false", "no", "none", "disabled")
SILENCE = 60.0         # seconds without a word from the child (it says so every second): stuck
_LOCK = threading.Lock()  # one run at a time through the one child
_CHILD: list = []      # [(process, connection)] once forked
_FAILED = [0]          # children lost: after 3, runs stay in this process
IDLE = 30.0            # seconds without a job, then the child ends (see _retire_later)
_USED = [0.0]          # when the last job ended
STATS = {"runs": 0}    # runs the child trained (benchmarks/bench_notebooks.py prints it)


def usable() -> bool:
    """Whether ``train`` would use a child process (else it trains in this one)."""
    return (sys.platform.startswith("linux") and _FAILED[0] < 3
            and os.environ.get(ENV, "").strip().lower() not in _OFF
            and torch.get_num_threads() == 1)


def train(data, cfg):
    """``mf.train(data, cfg)`` in the child process when ``usable()``, else here. Blocks until
    the run ends; counts as a run of this process for ``training.quiet_for``."""
    h, state = call(_train_there, data, cfg)
    if state is not None:
        _resume.adopt(h, data, *state)
    STATS["runs"] += 1
    return h


def _train_there(data, cfg):
    h = _training.train(data, cfg)
    return h, _resume.export(h)


def call(fn, *args):
    """``fn(*args)`` in the child process when ``usable()``, else here (``fn``: a module-level
    function; ``args`` and its result are pickled). Its exceptions are raised here. Blocks until
    it returns; counts as a run of this process for ``training.quiet_for``."""
    if not usable():
        return fn(*args)
    _training._foreground(+1)  # a cell waits for it, as for a run trained here
    try:
        with _LOCK:
            out = _ask(fn, args)
            _USED[0] = time.monotonic()
    finally:
        _training._foreground(-1)
    _retire_later()
    if out is None:  # the child could not: do it here
        return fn(*args)
    kind, value = out
    if kind == "error":
        raise value
    return value


def _ask(fn, args):
    """The child's answer: ("ok", result) or ("error", exception); None when there is no
    working child (it died, stopped answering, or the job would not pickle)."""
    from multiprocessing.reduction import ForkingPickler

    try:
        job = bytes(ForkingPickler.dumps((fn, args)))
    except Exception:  # a lambda, a lock...: not for another process
        return None
    try:
        proc, conn = _child()
        conn.send_bytes(job)
        while True:
            if not conn.poll(SILENCE):  # not a word for a minute: stuck, not slow
                raise TimeoutError
            msg = conn.recv()
            if msg == "cannot":  # the child could not read the job back
                return None
            if msg != "alive":
                return msg
    except Exception:  # died or stuck: a new child next time
        _lost()
        return None


def _child():
    if _CHILD and _CHILD[0][0].is_alive():
        return _CHILD[0]
    if _CHILD:
        _lost()
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(theirs, mine), name="mfteach-fork", daemon=True)
    proc.start()
    theirs.close()
    _CHILD.append((proc, mine))
    return _CHILD[0]


def _retire_later():
    """End the child once it has had nothing to do for ``IDLE`` seconds: it holds ~190 MB of its
    own (the notebooks' runs), which a long session of panel moves (none of them here) should
    not keep. A new one is forked when next needed (milliseconds)."""
    def retire():
        if _LOCK.acquire(blocking=False):  # not while a job is under way
            try:
                if time.monotonic() - _USED[0] >= IDLE:
                    shutdown()
            finally:
                _LOCK.release()

    t = threading.Timer(IDLE, retire)
    t.daemon = True
    t.start()


def _lost():
    """Forget the child (ending it if it still runs)."""
    _FAILED[0] += 1
    shutdown()


def shutdown():
    """End the child process, if there is one (a new one is forked when next needed)."""
    while _CHILD:
        proc, conn = _CHILD.pop()
        conn.close()
        if proc.is_alive():
            proc.kill()
        proc.join(1)


# -- in the child ---------------------------------------------------------------------------------
def _serve(conn, parents_end):
    """The child's loop: (function, args) in, ("ok", result) or ("error", exception) out, until
    the pipe closes; "alive" now and then while a run trains."""
    import pickle
    import signal
    import warnings

    parents_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the kernel's interrupt is for its cell
    sys.stdout = sys.stderr = open(os.devnull, "w")  # not the kernel's streams: they are its
    warnings.simplefilter("ignore")  # nobody would see them (the parent's own runs warn)
    try:
        os.nice(10)  # background work: a student's own cells and panels come first
    except OSError:
        pass
    # Locks another thread of the parent may have held at the fork: fresh ones here.
    _training._FOREGROUND["lock"] = threading.Lock()
    _training._LOCAL = threading.local()
    _resume._RESUMABLE_LOCK = threading.Lock()
    _resume._RESUMABLE.clear()
    last = [time.monotonic()]

    def tick():  # "still alive" to the parent, at most once a second
        if time.monotonic() - last[0] > 1.0:
            last[0] = time.monotonic()
            conn.send("alive")

    while True:
        try:
            job = conn.recv_bytes()
        except (EOFError, OSError):  # the parent is gone
            os._exit(0)
        try:
            fn, args = pickle.loads(job)
        except Exception:  # e.g. a function the parent defined after the fork
            conn.send("cannot")
            continue
        try:
            last[0] = time.monotonic()
            with _training.between_steps(tick):
                msg = ("ok", fn(*args))
        except Exception as e:  # the parent raises it where it was asked for
            msg = ("error", e)
        try:
            conn.send(msg)
        except Exception:  # a result or an exception that does not pickle: the parent does it
            conn.send("cannot")
