"""Lesson 05 — check your own model: the article's ``MF`` class and a plain PyTorch training
loop, as a reader wrote them, on real ratings (MovieLens latest-small, offline); ``mf.watch``
records the run in two added lines, ``mf.diagnose`` reads it; then one fix at a time.

Nothing here trains through ``mf.train``: the point is a loop the reader owns. ``fit`` is the loop
notebook 05 writes out in full (a test checks that the two are the same code).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn as nn

from ..data import Ratings, Split
from ..splits import random_split
from ..training import _enter_threads, _flushing_denormals, _leave_threads

__all__ = ["EPOCHS", "BATCH_SIZE", "STEPS", "reader_data", "article_mf", "MFWithBiases",
           "Batches", "val_rmse", "fit", "build", "run_step", "prefetch_steps", "STEP_CHANGES",
           "plot_steps"]

EPOCHS = 10        # a reader's quick experiment; long enough for every fix to show
BATCH_SIZE = 1024  # the batch size of the course's article glue (notebooks 01-03)


@lru_cache(maxsize=4)
def reader_data(seed=0) -> Split:
    """MovieLens latest-small (671 users × 9,066 movies, ~100k ratings, offline), split 80/10/10."""
    from ..datasets import load_movielens_small

    return random_split(load_movielens_small(), seed=seed)


@lru_cache(maxsize=1)
def article_mf():
    """The article's ``MF`` class, made by running its Example 1 exactly as written."""
    from .article import run_example

    with torch.random.fork_rng(devices=[]):  # its example model draws from the global generator
        return run_example(1, {})["MF"]


def MFWithBiases(num_users, num_items, embedding_dim, global_mean):
    """The article's MF plus what uncentred ratings need: a user bias, an item bias and the
    training mean, so the dot product only has to model each rating's deviation."""
    base = article_mf()

    class _MFWithBiases(base):
        def __init__(self):
            super().__init__(num_users, num_items, embedding_dim)
            self.user_bias = nn.Embedding(num_users, 1)
            self.item_bias = nn.Embedding(num_items, 1)
            nn.init.zeros_(self.user_bias.weight)
            nn.init.zeros_(self.item_bias.weight)
            self.global_mean = float(global_mean)

        def forward(self, user_ids, item_ids):
            dot = super().forward(user_ids, item_ids)                          # (batch,)
            return (dot + self.user_bias(user_ids).squeeze(1)
                    + self.item_bias(item_ids).squeeze(1) + self.global_mean)

    _MFWithBiases.__name__ = _MFWithBiases.__qualname__ = "MFWithBiases"
    return _MFWithBiases()


class Batches:
    """(user_ids, item_ids, ratings) batches of the training ratings, reshuffled every epoch by
    its own generator: what the article's ``data_loader`` yields, reproducibly."""

    def __init__(self, ratings: Ratings, batch_size=BATCH_SIZE, seed=0):
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.users = torch.as_tensor(ratings.users)                      # (n,) int64
        self.items = torch.as_tensor(ratings.items)                      # (n,) int64
        self.ratings = torch.as_tensor(ratings.ratings, dtype=torch.float32)
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self):
        return -(-len(self.users) // self.batch_size)

    def __iter__(self):
        order = torch.randperm(len(self.users), generator=self.generator)
        for k in range(0, len(order), self.batch_size):
            j = order[k:k + self.batch_size]
            yield self.users[j], self.items[j], self.ratings[j]


def val_rmse(model, ratings: Ratings) -> float:
    """RMSE of ``model`` on ``ratings`` (no gradient, unclipped predictions)."""
    with torch.no_grad():
        pred = model(torch.as_tensor(ratings.users), torch.as_tensor(ratings.items))
        err = pred.double() - torch.as_tensor(ratings.ratings, dtype=torch.float64)
        return float(err.pow(2).mean().sqrt())


def fit(model, optimizer, data_loader, val, num_epochs=EPOCHS, l2=0.0, rec=None):
    """The reader's loop as notebook 05 writes it out: the article's Example 2, an optional L2
    penalty on the batch's rows (fix 3; off while l2 = 0) and ``rec.epoch_end`` (mfteach's line)."""
    criterion = nn.MSELoss()
    for epoch in range(num_epochs):
        for user_ids, item_ids, ratings in data_loader:
            optimizer.zero_grad()
            predictions = model(user_ids, item_ids)
            loss = criterion(predictions, ratings)
            if l2:  # an L2 penalty on the rows this batch used (not on the whole table)
                loss = loss + l2 * (model.user_embeddings(user_ids).pow(2).sum(1).mean()
                                    + model.item_embeddings(item_ids).pow(2).sum(1).mean())
            loss.backward()
            optimizer.step()
        if rec is not None:
            rec.epoch_end(val_rmse=val_rmse(model, val))


# The course's path from the reader's job to a healthy one: each step changes ONE thing.
STEPS = ("as written", "no coupled decay", "+ biases", "+ L2 on the batch's rows")
STEP_CHANGES = {
    "as written": "the article's MF (Xavier init, no biases) and its Example 2 optimizer: "
                  "Adam(lr=0.001, weight_decay=0.01), raw 0.5–5 ratings",
    "no coupled decay": "optim.Adam(model.parameters(), lr=0.001)  # weight_decay removed",
    "+ biases": "MFWithBiases(...): a user bias, an item bias and the training mean",
    "+ L2 on the batch's rows": "loss += 0.05 · (mean ‖p_u‖² + mean ‖q_i‖²) over the batch",
}


def build(step: str, split: Split, *, dim=64):
    """(model, optimizer, l2) for one of ``STEPS``, built as the notebook builds it."""
    if step not in STEPS:
        raise ValueError(f"step must be one of {STEPS}, got {step!r}")
    k = STEPS.index(step)
    tr = split.train
    if k < 2:
        model = article_mf()(tr.n_users, tr.n_items, dim)
    else:
        model = MFWithBiases(tr.n_users, tr.n_items, dim, float(tr.ratings.mean()))
    decay = 0.01 if k == 0 else 0.0
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, weight_decay=decay)
    return model, optimizer, (0.05 if k == 3 else 0.0)


class _ValOnly:
    """Keeps only the validation RMSE per epoch: for experiments that do not read a report."""

    def __init__(self):
        self.val_rmse = []

    def epoch_end(self, val_rmse=None):
        self.val_rmse.append(float(val_rmse))


def run_step(step: str, split: Split, *, seed=0, epochs=EPOCHS, watch=True, dim=64,
             optimizer=None):
    """Train one step of the path with ``fit`` under its own seed (global RNG state restored);
    returns (model, recorder) — ``mf.watch``'s, or one that keeps only the validation RMSE per
    epoch when ``watch=False``. ``optimizer``: a function params → optimizer replacing the step's
    (e.g. the AdamW detour). A run started ahead by ``prefetch_steps`` is waited for, not
    trained again; a run an earlier kernel kept on disk (mfteach.runcache) is read back (not for
    a custom ``optimizer``: a function has no key)."""
    for pname, v, low in (("seed", seed, 0), ("epochs", epochs, 1), ("dim", dim, 1)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"{pname} must be an integer, got {v!r}")
        if v < low:
            raise ValueError(f"{pname} must be an integer >= {low}, got {v!r}")
    if optimizer is None:
        ahead = _AHEAD.pop((step, id(split), int(seed), int(epochs), bool(watch), int(dim)), None)
        if ahead is not None:
            return ahead[1].result()
        kept = _kept(step, split, seed, epochs, watch, dim)
        if kept is not None:
            return kept
    model, opt, l2 = _build(step, split, seed, dim)
    if optimizer is not None:  # a function: no key for it, so not kept on disk
        return _train_built(model, optimizer(model.parameters()), l2, split, seed, epochs, watch)
    return _keep(_train_built(model, opt, l2, split, seed, epochs, watch),
                 step, split, seed, epochs, watch, dim)


def _tag(step, seed, epochs, watch, dim) -> str:
    # everything the numbers depend on besides the data and the package's code (runcache's key)
    return (f"check_own.run_step step={step!r} seed={int(seed)} epochs={int(epochs)} "
            f"watch={bool(watch)} dim={int(dim)} threads=1 flush_denormal=True")


def _kept(step, split, seed, epochs, watch, dim):
    """(model, recorder) of a run an earlier kernel kept on disk (mfteach.runcache), or None:
    the model rebuilt as ``build`` makes it with the run's final weights, the record as it was."""
    from .. import runcache

    state = runcache.load_state(split, _tag(step, seed, epochs, watch, dim))
    if state is None:
        return None
    model, opt, _ = _build(step, split, seed, dim)
    try:
        model.load_state_dict(state["model"])
        if watch:
            from ..watch import watch as watch_fn

            rec = watch_fn(model, opt, train=split.train).restore(state["record"])
        else:
            rec = _ValOnly()
            rec.val_rmse = [float(v) for v in state["record"]["val_rmse"]]
    except Exception:  # noqa: BLE001 - a file of another shape is a miss, not a failure
        return None
    return model, rec


def _keep(result, step, split, seed, epochs, watch, dim):
    from .. import runcache

    model, rec = result
    record = rec.to_state() if watch else {"val_rmse": list(rec.val_rmse)}
    runcache.save_state(split, _tag(step, seed, epochs, watch, dim),
                        {"model": {k: v.detach().clone() for k, v in model.state_dict().items()},
                         "record": record})
    return result


def _build(step, split, seed, dim):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))  # nn.Embedding and Xavier draw from the global generator
        return build(step, split, dim=dim)


def _train_built(model, opt, l2, split, seed, epochs, watch):
    # CPU speed, as mf.train does (both restored afterwards): Adam's moments of rows a batch does
    # not touch decay into denormal floats, which the CPU handles many times slower. Flushing them
    # is a per-thread switch, so torch's worker threads would keep them: train on one thread
    # (measured here: 2.5 s instead of 6.7 s for fix 2, the same numbers).
    was_flushing = _flushing_denormals()
    switched = torch.set_flush_denormal(True) and not was_flushing
    _enter_threads(1)
    try:
        return _run(model, opt, l2, split, seed, epochs, watch)
    finally:
        _leave_threads()
        if switched:
            torch.set_flush_denormal(False)


_AHEAD: dict = {}  # (step, id(split), seed, epochs, watch, dim) → (split, Future of run_step's result)
_WORKERS: list = []


def _workers():
    """Background threads, made on first use: two (one per core of a laptop) when the runs train
    in this process; one per fix when they train in second processes (``_train_ahead``), which
    run at low priority: all three then start at once and share the cores the notebook's own
    cells leave, instead of the third waiting for a core that frees up only at the end."""
    if not _WORKERS:
        from concurrent.futures import ThreadPoolExecutor

        from .. import forked
        from .common import lower_priority

        n = len(STEPS) - 1 if forked.usable() else 2
        _WORKERS.append(ThreadPoolExecutor(n, thread_name_prefix="mfteach-steps",
                                           initializer=lower_priority))
    return _WORKERS[0]


def prefetch_steps(split: Split, *, seed=0, steps=STEPS[1:], epochs=EPOCHS, dim=64) -> int:
    """Start ``steps`` now in background threads (each in a second process where
    ``mfteach.forked`` can: ``_train_ahead``; see ``_workers``), so that the cells which
    run them later find them done (``run_step`` waits for a run under way instead of training it
    twice). The same numbers as ``run_step`` alone: the models are built here, in the calling
    thread, as ``run_step`` builds them (their init draws from torch's global generator, which
    no other thread may touch meanwhile), and each trains on one thread with its own batch
    generator. Starts nothing unless torch runs on one thread (the notebook's setup makes it so).
    Runs an earlier call queued for other settings (a new SEED) and not yet started are dropped
    (their cells would train them again); runs kept on disk are read back, not started.
    Returns how many runs it started."""
    bad = [s for s in steps if s not in STEPS]
    if bad:
        raise ValueError(f"steps must be among {STEPS}, got {bad[0]!r}")
    if torch.get_num_threads() != 1:
        return 0
    keys = {(step, id(split), int(seed), int(epochs), True, int(dim)) for step in steps}
    for old in [k for k in _AHEAD if k not in keys]:
        if _AHEAD[old][1].cancel():  # True only for a run that has not started
            del _AHEAD[old]
    started = 0
    for step in steps:
        key = (step, id(split), int(seed), int(epochs), True, int(dim))
        if key in _AHEAD:
            continue
        kept = _kept(step, split, seed, epochs, True, dim)
        if kept is not None:  # trained by an earlier kernel: nothing to start
            _AHEAD[key] = (split, _done(kept))
            continue
        model, opt, l2 = _build(step, split, seed, dim)
        _AHEAD[key] = (split, _workers().submit(_train_ahead, step, model, opt, l2, split,
                                                seed, epochs, dim))
        started += 1
    return started


def _train_and_keep(step, model, opt, l2, split, seed, epochs, dim):
    return _keep(_train_built(model, opt, l2, split, seed, epochs, True),
                 step, split, seed, epochs, True, dim)


def _train_ahead(step, model, opt, l2, split, seed, epochs, dim):
    """A step's run for ``prefetch_steps``, in a second process where ``mfteach.forked`` can (two
    runs in two threads here mostly share the GIL). The reader's model classes are made with
    ``exec`` and do not pickle, so the child sends back what a run kept on disk holds (its final
    weights and record) and this process's own copy of the model takes them, as ``_kept`` does:
    the same weights and record; the optimizer keeps its settings, not its moments. Where no
    child can run, it trains here (then loading its own weights changes nothing)."""
    from .. import forked

    if not forked.usable():
        return _train_and_keep(step, model, opt, l2, split, seed, epochs, dim)
    state = forked.call(_state_of_run, step, model, opt, l2, split, seed, epochs, dim,
                        nice=forked.NICE)
    from ..watch import watch as watch_fn

    model.load_state_dict(state["model"])
    return model, watch_fn(model, opt, train=split.train).restore(state["record"])


def _state_of_run(step, model, opt, l2, split, seed, epochs, dim):
    model, rec = _train_and_keep(step, model, opt, l2, split, seed, epochs, dim)
    return {"model": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "record": rec.to_state()}


def _done(value):
    from concurrent.futures import Future

    f = Future()
    f.set_result(value)
    return f


def _run(model, opt, l2, split, seed, epochs, watch):
    if watch:
        from ..watch import watch as watch_fn
        rec = watch_fn(model, opt, train=split.train)
    else:
        rec = _ValOnly()
    fit(model, opt, Batches(split.train, seed=seed), split.val, epochs, l2=l2, rec=rec)
    return model, rec


_STYLES = {"as written": ("vermillion", "-", "o"), "no coupled decay": ("orange", "--", "s"),
           "+ biases": ("blue", "-.", "^"), "+ L2 on the batch's rows": ("green", "-", "D")}


def plot_steps(runs: dict, mean_rmse: float, ax=None):
    """Validation RMSE per epoch of each step's recorder in ``runs`` ({step: recorder}), with the
    predict-the-mean line; returns the figure. Log y: the steps span 0.9 to 3.7 stars."""
    import matplotlib.pyplot as plt

    from ..ui.plotbase import COLORS

    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    fig = ax.figure
    for step, rec in runs.items():
        color, ls, marker = _STYLES.get(step, ("grey", ":", "x"))
        val = list(rec.val_rmse)
        ax.plot(range(1, len(val) + 1), val, ls, marker=marker, color=COLORS[color], label=step)
    ax.axhline(mean_rmse, color="black", lw=1, ls=":", label=f"predict the mean ({mean_rmse:.2f})")
    ax.set_yscale("log")
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    ax.yaxis.set_major_locator(FixedLocator([0.8, 0.9, 1.0, 1.5, 2.0, 3.0, 4.0]))
    ax.yaxis.set_major_formatter(ScalarFormatter())      # "3", not "3×10⁰"
    ax.yaxis.set_minor_formatter(NullFormatter())
    top = max([mean_rmse] + [v for rec in runs.values() for v in rec.val_rmse if v == v])
    ax.set_ylim(top=top * 1.15)
    ax.set(xlabel="epoch", ylabel="validation RMSE (stars, log scale)",
           title="The reader's job, one fix at a time (lower is better)")
    # below the axes: the curves fill the whole plot area from top to bottom
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize="small")
    ax.grid(alpha=0.3, which="major")
    return fig
