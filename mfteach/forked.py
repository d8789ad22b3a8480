"""Runs trained in a second process, forked from this one: the lessons' background work.

A run's steps are small (~1 ms on the notebooks' data) and much of each step is Python that holds
the GIL, so two runs in two threads of one kernel end only 1.1-1.4x sooner than one after the
other; in two processes, 1.85x. ``train(data, cfg)`` here forks a child for the run (a few ms:
torch is already imported there), which trains with ``mf.train`` exactly what this process would
and sends the History back: the same numbers, field for field (tests/test_forked.py). What
``train(..., resume=)`` needs to go on from the run comes back too.

One child per job, forked at that moment: it is this process as it is then (its settings, its
default dtype, anything a student changed), never a copy that went stale. Nothing is pickled on
the way there; the answer comes back with plain pickle (no shared memory). Used only where it is
safe and worth it: on Linux (where PyTorch's DataLoader forks its workers from notebooks every
day; elsewhere fork is unsafe or absent), while torch and numpy's BLAS run on one thread (see
``usable``), unless ``MFTEACH_FORK=off``. The child ignores Ctrl-C (stopping a cell does not stop background work)
and writes nothing to the notebook. A child that dies or stops answering is ended, and the job
done here instead: slower, never lost (``call(..., here=False)``: not done here, for a timing).
"""
from __future__ import annotations

import gc
import os
import pickle
import sys
import threading
import time

import torch

from . import resume as _resume
from . import training as _training

__all__ = ["ENV", "Unavailable", "usable", "train", "call"]

ENV = "MFTEACH_FORK"
_OFF = ("0", "off", "false", "no", "none", "disabled")
SILENCE = 20.0         # seconds without a word from the child (it says so every second): stuck
NICE = 10              # a run ahead comes after a student's own cells and panels
_FAILED = [0]          # children lost: after 3, jobs stay in this process
STATS = {"runs": 0, "calls": 0}  # ``train`` runs / all jobs a child did and sent back
_FORKED = [False]      # whether this process has forked a child yet
_READY = threading.Lock()


class Unavailable(RuntimeError):
    """``call(..., here=False)`` could not be done in a child process."""


def usable() -> bool:
    """Whether ``train`` and ``call`` would use a child process (else they work here): on Linux,
    unless switched off, while torch and numpy's BLAS each run on one thread. A fork while
    another thread is inside a multi-threaded OpenBLAS call deadlocks (OpenBLAS's fork handler
    waits for that call, the call for the GIL the forking thread holds: seen in a notebook whose
    cell fitted a regression as the prefetch thread forked); the notebooks' setup cells put both
    on one thread. Once this process has forked, BLAS seen on more threads switches forking off
    for the rest of the session (``STATS["off"]`` says why): code that raises them may do it
    again. Not closed: a cell that raises BLAS's threads while runs train ahead
    (``threadpool_limits(2)`` around a product) can meet a fork before it is first seen; the
    notebooks never do."""
    return (sys.platform.startswith("linux") and _FAILED[0] < 3 and "off" not in STATS
            and os.environ.get(ENV, "").strip().lower() not in _OFF
            and torch.get_num_threads() == 1 and _blas_on_one_thread())


def _blas_on_one_thread() -> bool:
    try:
        from threadpoolctl import threadpool_info  # installed with scikit-learn
    except ImportError:
        return False
    one = all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    if not one and _FORKED[0]:  # raised after we began forking: it may happen again, mid-fork
        STATS["off"] = ("a BLAS library (numpy's, or scipy's own, loaded later) ran on more than "
                        "one thread after runs began in a child")
    return one


def train(data, cfg):
    """``mf.train(data, cfg)`` in a child process when ``usable()``, else here. Blocks until
    the run ends; counts as a run of this process for ``training.quiet_for``."""
    h, state = call(_train_there, data, cfg, nice=NICE)
    if state is not None:
        _resume.adopt(h, data, *state)
    return h


def _train_there(data, cfg):
    h = _training.train(data, cfg)
    return h, _resume.export(h)


def call(fn, *args, nice=0, here=True):
    """``fn(*args)`` in a child process when ``usable()``, else here; its exceptions are raised
    here. ``nice``: the child's niceness at least (Linux: 0 normal, 19 lowest). ``here=False``:
    never done in this process (raise ``Unavailable`` instead: a timing must not share this
    process's CPU and GIL). Blocks until done; counts as a run of this process for
    ``training.quiet_for``."""
    if usable():
        _training._foreground(+1)  # a cell waits for it, as for a run trained here
        try:
            out = _ask(fn, args, nice)
        finally:
            _training._foreground(-1)
        if out is not None:
            kind, value = out
            if kind == "error":
                raise value
            STATS["runs"] += fn is _train_there
            STATS["calls"] += 1
            return value
    if not here:
        raise Unavailable(f"{getattr(fn, '__name__', fn)} could not run in a second process")
    return fn(*args)


def _ask(fn, args, nice):
    """The child's answer: ("ok", result) or ("error", exception); None when it could not give
    one (it died, stopped answering, or its answer would not pickle)."""
    import multiprocessing

    _warm()
    if not _blas_on_one_thread():  # again, just before the fork (see usable)
        return None
    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_serve, args=(theirs, mine, fn, args, nice), name="mfteach-fork",
                       daemon=True)
    try:
        _FORKED[0] = True
        proc.start()
    except OSError:  # no memory or processes left for a fork
        _FAILED[0] += 1
        mine.close()
        theirs.close()
        return None
    theirs.close()
    try:
        while True:
            if not mine.poll(SILENCE):  # not a word for a while: stuck, not slow
                raise TimeoutError
            msg = mine.recv_bytes()
            if msg != b"alive":
                break
    except (EOFError, OSError, TimeoutError):  # died or stuck
        _FAILED[0] += 1
        return None
    finally:
        mine.close()
        if proc.is_alive():
            proc.kill()
        proc.join()
    if msg == b"cannot":
        return None
    try:
        return pickle.loads(msg)
    except Exception:  # an exception class that does not come back: do it here
        return None


def _warm():
    """The first torch.optim optimizer imports torch._dynamo (~1.3 s): here, once, so that no
    child pays it again and again."""
    with _READY:
        if "torch._dynamo" not in sys.modules:
            torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


# -- in the child ---------------------------------------------------------------------------------
def _serve(conn, parents_end, fn, args, nice):
    """The child: ``fn(*args)``, then ("ok", result) or ("error", exception) back, pickled (or
    b"cannot"); b"alive" every second while it trains (which fails, and ends it, once the parent
    is gone)."""
    import signal
    import warnings

    parents_end.close()  # else the pipe stays open after the parent has gone
    gc.disable()  # one short job: a collection would touch (and so copy) every page of the heap

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the kernel's interrupt is for its cell
    sys.stdout = sys.stderr = open(os.devnull, "w")  # not the kernel's streams: they are its
    warnings.simplefilter("ignore")  # nobody would see them (the kernel's own runs warn)
    try:  # at least ``nice`` (absolute: the thread it was forked from may be lower already)
        if os.getpriority(os.PRIO_PROCESS, 0) < nice:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
    except (AttributeError, OSError):
        pass
    # Locks another thread of the parent may have held at the fork: fresh ones here.
    _training._FOREGROUND["lock"] = threading.Lock()
    _training._LOCAL = threading.local()
    _resume._RESUMABLE_LOCK = threading.Lock()
    _resume._RESUMABLE.clear()
    last = [time.monotonic()]

    def tick():
        if time.monotonic() - last[0] > 1.0:
            last[0] = time.monotonic()
            conn.send_bytes(b"alive")

    try:
        with _training.between_steps(tick):
            msg = ("ok", fn(*args))
    except Exception as e:  # the parent raises it where it was asked for
        msg = ("error", e)
    try:
        out = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # (one that pickles but does not unpickle: the parent does it itself)
        out = b"cannot"
    conn.send_bytes(out)
    conn.close()
    os._exit(0)
