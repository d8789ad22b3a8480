"""What every lesson shares: the notebooks' data, the reference errors, and a panel's result."""
from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache, partial

import torch

from ..config import TrainConfig
from ..data import Split, synthetic
from ..splits import random_split
from ..metrics import baseline_rmse
from ..training import between_steps, can_resume, step_hook, train
from .. import forked, runcache
from .background import Gate as _Gate, Later as _Later, cores
from .background import lower_priority  # (check_own imports it from here too)

__all__ = ["notebook_data", "reference_rmse", "Run", "grid", "finished", "show_diverged", "trained",
           "train_many", "thread_map", "prefetch", "kept_run", "call_ahead", "called",
           "epochs_at_hand"]


def notebook_data(item_zipf=1.2, user_zipf=0.8, noise=0.5, cold_items=0.0, n_items=1500,
                  seed=0) -> Split:
    """The notebooks' default data (600 users × 1,500 items, 50k ratings from a known rank-4
    model), split 80/10/10; cached, since it is deterministic: the same settings, however they
    are written (``notebook_data()``, ``notebook_data(seed=0)``), give the same object, so a
    notebook's cells and its panels share the runs ``trained`` keeps for it."""
    return _notebook_data(item_zipf, user_zipf, noise, cold_items, n_items, seed)


@lru_cache(maxsize=16)
def _notebook_data(item_zipf, user_zipf, noise, cold_items, n_items, seed) -> Split:
    d = synthetic(600, n_items, 50_000, item_zipf=item_zipf, user_zipf=user_zipf, noise=noise,
                  cold_items=cold_items, seed=seed)
    return random_split(d, seed=seed)


def reference_rmse(split: Split) -> tuple:
    """(predicting the training mean, the true model or None) on the validation set."""
    truth = baseline_rmse(split.train, split.val, "truth") if split.truth is not None else None
    return baseline_rmse(split.train, split.val), truth


@dataclass
class Run:
    """What a panel computed: the history plus the numbers its plots and status need."""

    history: object
    split: Split
    mean_rmse: float
    truth_rmse: float | None
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, history, split: Split, **extra) -> "Run":
        return cls(history, split, *reference_rmse(split), extra)


def grid(fig, rows=2, cols=2):
    """A rows × cols grid of axes on ``fig`` (always 2-D)."""
    return fig.subplots(rows, cols, squeeze=False)


def finished(pinned):
    """``pinned`` (a run "A") if it is a result to draw, else None: one that diverged is drawn in
    the training curves only (its last finite epoch is no result)."""
    return None if pinned is None or pinned.history.diverged else pinned


def show_diverged(history, plots) -> bool:
    """For a run that diverged, the plots of its trained model show a note instead (the first
    plot), and True: its last finite epoch is no result (bars or norms of it read as findings)."""
    if not history.diverged:
        return False
    for k, p in enumerate(plots):
        p.message("" if k else f"Training diverged at epoch {history.diverged.epoch}: there is "
                               f"no trained model to measure. The training curves show where.")
    return True


# -- trained once, shared ------------------------------------------------------------------------
# Same data + same config = same numbers (every run is seeded by its config), so a notebook that
# asks for the same run in two cells, or in a cell and a panel, trains it once; and across kernels
# (a second Run All, a class on one server) the run kept on disk by mfteach.runcache is read
# back. In memory: keyed on the data object (held here, so its id cannot be reused) and the frozen
# config; the oldest go first, so that at most _RUNS_MAX runs and about _RUNS_BYTES are kept.
_RUNS: OrderedDict = OrderedDict()
_RUNS_MAX = 64
_RUNS_BYTES = 512 * 2 ** 20
_RUNS_LOCK = threading.Lock()
_PENDING: dict = {}          # key → Future of a run started ahead by ``prefetch``
# How ``trained`` found its runs (benchmarks/bench_notebooks.py prints them): in memory, under way
# in the background, queued there but taken back, or trained where asked (+ ahead: by prefetch).
STATS: Counter = Counter()
_BACKGROUND = []             # the one background worker, made on first use
_BACKGROUND_LOCK = threading.Lock()
_CALLS: dict = {}            # key → Future of a call started by ``call_ahead``
_PREFETCH = "mfteach-prefetch"  # its thread's name
_LATER = threading.local()   # .active: this is the prefetch thread, running a run ahead


def _config(config=None, **overrides) -> TrainConfig:
    cfg = TrainConfig() if config is None else config
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(cfg).__name__}")
    return cfg.replace(**overrides) if overrides else cfg


def trained(data, config=None, **overrides):
    """``mf.train(data, config, **overrides)``, remembered: the same data object and settings
    return the History trained the first time (treat it as read-only)."""
    cfg = _config(config, **overrides)
    key = _key(data, cfg)
    while True:
        mine = None
        with _RUNS_LOCK:
            if key in _RUNS:
                _RUNS.move_to_end(key)
                STATS["found"] += 1
                return _RUNS[key][1]
            pending = _PENDING.get(key)
            # Queued by prefetch but not started: train it here, now, rather than wait behind
            # the runs queued before it (the one background worker trains them in order, while
            # this thread, or train_many's second one, would sit idle). Whoever asks next waits
            # for ours. (Not by a background thread: a panel's guess can be dropped half done,
            # and whoever waits for its Future would get that.)
            if pending is not None and not pending.running() and not _in_background() \
                    and pending.cancel():
                mine = _PENDING[key] = Future()
                mine.set_running_or_notify_cancel()  # running: nobody can cancel (steal) it
                pending = None
        if pending is None:
            break
        try:  # under way in the background: wait for it rather than train it twice
            STATS["waited"] += 1
            return pending.result()
        except CancelledError:  # taken over by a cell meanwhile: ask again (it is theirs now)
            continue
    STATS["took back" if mine is not None else "trained"] += 1
    try:
        h = _remember(key, data, _load_or_train(data, cfg, _shorter(data, cfg)))
        if mine is not None:
            mine.set_result(h)
        return h
    except BaseException as e:
        if mine is not None:
            mine.set_exception(e)  # whoever waits on it sees the same error
        raise
    finally:
        if mine is not None:
            with _RUNS_LOCK:
                if _PENDING.get(key) is mine:
                    del _PENDING[key]


def _key(data, cfg) -> tuple:
    """A run in memory: its data object, torch's default dtype (``train`` follows it: float64
    gives other numbers) and its config."""
    return id(data), str(torch.get_default_dtype()), cfg


def _in_background() -> bool:
    """The prefetch thread, or a panel's worker (mfteach.ui.worker: its name has the prefix)."""
    return threading.current_thread().name.startswith(_PREFETCH)


def _shorter(data, cfg):
    """The longest run kept in memory of the same data and config but fewer epochs that can be
    trained on (``mf.train(..., resume=)``: the same numbers as from scratch), or None. A panel's
    epochs slider moved from 15 to 20 then trains 5 epochs, not 20."""
    with _RUNS_LOCK:
        runs = [(c, h) for (i, dt, c), (_, h, _) in _RUNS.items()
                if (i, dt) == _key(data, cfg)[:2] and c.epochs < cfg.epochs]
    for c, h in sorted(runs, key=lambda r: -r[0].epochs):
        if c.replace(epochs=cfg.epochs) == cfg and can_resume(h, data, cfg):
            return h
    return None


def epochs_at_hand(data, config) -> int:
    """How many of ``config``'s epochs ``trained`` has without training: all of them when the run
    is in memory or kept on disk, else those of the longest shorter run it would go on from (0:
    none). What a panel asks before showing a long run's first epochs."""
    cfg = _config(config)
    with _RUNS_LOCK:
        if _key(data, cfg) in _RUNS:
            return cfg.epochs
    if runcache.has(data, cfg):
        return cfg.epochs
    shorter = _shorter(data, cfg)
    return 0 if shorter is None else shorter.config.epochs


def _load_or_train(data, cfg, shorter=None):
    """The run kept on disk by an earlier kernel (mfteach.runcache), else trained (on from
    ``shorter`` when given) and kept."""
    h = runcache.load(data, cfg)
    if h is None and shorter is None and getattr(_LATER, "active", False) and forked.usable():
        h = forked.train(data, cfg)  # the prefetch thread's run, in a second process: no GIL shared
        runcache.save(data, cfg, h)
    elif h is None:
        background = _in_background()
        if getattr(_LATER, "active", False):
            lower_priority()  # the prefetch thread training here: the cells' runs come first
        with _GATE.slot(background=background):
            hook = step_hook()
            if hook is None:
                h = train(data, cfg, resume=shorter)
            else:  # a panel's worker, which pauses for moves: not while holding a slot
                with between_steps(lambda: _GATE.aside(hook)):
                    h = train(data, cfg, resume=shorter)
        runcache.save(data, cfg, h)
    return h


def kept_run(data, tag: str, config: TrainConfig, fn):
    """``fn()`` (a run of ``config`` that ``mf.train`` alone cannot describe: a custom init or
    optimizer, named by ``tag``) kept on disk like ``trained``'s runs (mfteach.runcache): a later
    kernel reads the History back. Not kept when torch picks the thread count (threads=None)."""
    if config.threads is None:
        return fn()
    h = runcache.load(data, config, tag)
    if h is None:
        h = fn()
        runcache.save(data, config, h, tag)
    return h


_GATE = _Gate(max(2, cores()))


def _size(data, cfg) -> int:
    """Rough bytes a History holds: the model, two table snapshots, the optimizer's state kept
    to go on from it (Adam: two moments; grads are dropped), and a norm per row per epoch."""
    r = data.train if isinstance(data, Split) else data  # mf.train takes Ratings too
    rows = r.n_users + r.n_items
    return 4 * rows * (5 * cfg.dim + cfg.epochs + 1 + len(cfg.snapshot_epochs) * cfg.dim)


def _remember(key, data, h):
    size = _size(data, key[-1])
    if size > _RUNS_BYTES // 4:  # a huge run (padded tables) is not worth keeping
        return h
    with _RUNS_LOCK:
        _RUNS[key] = (data, h, size)
        while len(_RUNS) > _RUNS_MAX or sum(v[2] for v in _RUNS.values()) > _RUNS_BYTES:
            _RUNS.popitem(last=False)
    return h


def _background() -> _Later:
    with _BACKGROUND_LOCK:  # not _RUNS_LOCK: prefetch holds that one here
        if not _BACKGROUND:
            _BACKGROUND.append(_Later(_PREFETCH))
        return _BACKGROUND[0]


def prefetch(data, configs, *, first=False) -> int:
    """Start training ``configs`` on ``data`` now, one after the other in the background, so
    that the cell which shows them later finds them done (``trained`` waits for a run still under
    way instead of training it twice; same numbers as training it there). ``first``: before the
    runs queued earlier (what a cell waits for now). On Linux the runs are trained in a second
    process (mfteach.forked: no GIL shared with this one). Returns how many runs it started.
    Starts nothing unless torch runs on one thread (``torch.set_num_threads(1)``, as the
    notebooks' setup does): a run must not see the thread count change under it."""
    import torch

    if torch.get_num_threads() != 1:
        return 0
    started = 0
    todo = list(dict.fromkeys(_config(c) for c in configs))
    for cfg in (reversed(todo) if first else todo):  # first: the list keeps its order in front
        key = _key(data, cfg)
        with _RUNS_LOCK:
            if key in _RUNS:
                continue
            if key in _PENDING:  # queued already: to the front if first (waiters ask again)
                if not (first and _PENDING[key].cancel()):
                    continue
            _PENDING[key] = _background().submit(_run_ahead, key, data, cfg, front=first)
            started += 1
    return started


def call_ahead(key, fn, *args) -> bool:
    """Start ``fn(*args)`` now, behind the runs queued in the background, in the second process
    (mfteach.forked), for a cell that asks ``called(key)`` later. Only there: a measurement (a
    timing) in a thread of this process would share its GIL with the cells. Returns whether it
    started."""
    if not forked.usable():
        return False
    with _RUNS_LOCK:
        if key in _CALLS:
            return False
        _CALLS[key] = _background().submit(partial(forked.call, fn, *args, here=False))
    return True


def called(key):
    """The result of the call ``call_ahead(key, ...)`` started: waited for if under way; None if
    none was started, it has not begun, or the second process could not do it (then the caller
    does it itself, now)."""
    with _RUNS_LOCK:
        f = _CALLS.pop(key, None)
    if f is None or f.cancel():
        return None
    try:
        return f.result()
    except forked.Unavailable:  # the second process could not: never redone in a thread here
        return None


def _run_ahead(key, data, cfg):
    _LATER.active = True  # this thread's runs may go to a second process (mfteach.forked)
    STATS["ahead"] += 1
    try:
        return _remember(key, data, _load_or_train(data, cfg, _shorter(data, cfg)))
    finally:
        _LATER.active = False
        with _RUNS_LOCK:
            _PENDING.pop(key, None)


def thread_map(fn, items, workers=2) -> list:
    """``[fn(x) for x in items]``, ``workers`` at a time in threads, for independent trainings
    (torch releases the GIL inside its kernels, but a small run's steps are mostly Python:
    1.1-1.4× on 2 cores; ``train_many`` uses a second process where it can). torch keeps to one thread
    meanwhile, so every run computes exactly what it computes alone; order is kept."""
    import torch

    items = list(items)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    old = torch.get_num_threads()
    torch.set_num_threads(1)  # global: runs in parallel threads must not change it under each other
    try:
        if workers == 1 or len(items) < 2:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(min(workers, len(items))) as pool:
            return list(pool.map(fn, items))
    finally:
        torch.set_num_threads(old)


def train_many(data, configs, workers=2) -> list:
    """``[trained(data, c) for c in configs]``, trained ``workers`` at a time: on Linux this
    thread and a second process (mfteach.forked: ~1.8× on 2 cores, where two threads share one
    GIL), else ``thread_map``. The same numbers as one run at a time: each run is seeded by its
    config."""
    configs = [_config(c) for c in configs]
    todo = list(dict.fromkeys(configs))  # a config asked twice trains once
    if workers > 1 and len(todo) > 1 and forked.usable():
        # Two processes, not two threads: the second one (mfteach.forked) trains from the front
        # of the list, this thread from the back (taking back runs not started), until they meet.
        prefetch(data, todo, first=True)
        for c in reversed(todo):
            trained(data, c)
    else:
        thread_map(lambda c: trained(data, c), todo, workers)
    return [trained(data, c) for c in configs]
