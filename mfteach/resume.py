"""Going on from an earlier run: ``train(split, config, resume=earlier)`` trains only the epochs
``earlier`` has not, with the same numbers as a fresh run. What a run needs to go on is its
optimizers' state (Adam's moments: twice the tables) and where its batch order stopped. That is
kept beside the History, not in it: a History read back from disk (runcache) or pickled stays what
it was, and the state goes when the History does."""
from __future__ import annotations

import copy
import hashlib
import threading
import weakref

import numpy as np

from .config import TrainConfig
from .history import History

__all__ = ["can_resume"]


class _Resume:
    __slots__ = ("split", "optimizers", "generator", "fingerprint")

    def __init__(self, h, split, optimizers, generator):
        self.split = weakref.ref(split)                        # the Split it was trained on
        self.optimizers = [o.state_dict() for o in optimizers]  # no copy: the run is over
        self.generator = generator.get_state()                  # where the batch order stopped
        self.fingerprint = fingerprint(h)                       # what it held when it ended


def fingerprint(h: History) -> str:
    """A digest of everything of ``h`` a run going on from it reads: its config, curves, norms,
    tables and model. A History changed since (a table zeroed, a curve edited, the config
    relabelled) no longer matches, and is not gone on from (~1 ms on the notebooks' runs)."""
    d = hashlib.blake2b(digest_size=16)
    d.update(repr((h.config, h.steps, h.global_init, h.diverged, len(h.seconds))).encode())
    for k in ("train_rmse", "val_rmse", "seconds", "grad_norm"):
        d.update(np.asarray(getattr(h, k), np.float64).tobytes())
    for arrays in (h.user_norms, h.item_norms, *(h.tables[e] for e in sorted(h.tables))):
        for a in arrays:
            d.update(np.ascontiguousarray(a).tobytes())
    d.update(repr(sorted(h.tables)).encode())
    for v in h.model.state_dict().values():
        d.update(v.detach().cpu().contiguous().numpy().tobytes())
    return d.hexdigest()


# id(History) → (weak reference to it, its _Resume). By id: a History (a dataclass with eq) has
# no hash; the entry goes when the History does.
_RESUMABLE: dict = {}
_RESUMABLE_LOCK = threading.Lock()


def keep(h: History, split, optimizers, generator):
    """Keep what ``h`` (a run that just ended) needs to go on."""
    state = _Resume(h, split, optimizers, generator)
    key = id(h)
    with _RESUMABLE_LOCK:
        _RESUMABLE[key] = (weakref.ref(h), state)
    weakref.finalize(h, _drop_resume, key)


def export(h: History):
    """What ``adopt`` needs to make ``h`` resumable in another process (picklable), or None."""
    state = _resume_state(h)
    return None if state is None else (state.optimizers, state.generator)


def adopt(h: History, split, optimizers, generator):
    """Make ``h``, a run another process trained on a copy of ``split`` (``export`` there), one
    that this process can go on from on ``split``."""
    state = _Resume.__new__(_Resume)
    state.split, state.optimizers, state.generator = weakref.ref(split), optimizers, generator
    state.fingerprint = fingerprint(h)  # of the History as it arrived here
    with _RESUMABLE_LOCK:
        _RESUMABLE[id(h)] = (weakref.ref(h), state)
    weakref.finalize(h, _drop_resume, id(h))


def _drop_resume(key):
    with _RESUMABLE_LOCK:
        entry = _RESUMABLE.get(key)
        if entry is not None and entry[0]() is None:
            del _RESUMABLE[key]


def _resume_state(h):
    with _RESUMABLE_LOCK:
        entry = _RESUMABLE.get(id(h))
    return entry[1] if entry is not None and entry[0]() is h else None


def can_resume(history: History, data=None, config: TrainConfig | None = None) -> bool:
    """Whether ``train(data, config, resume=history)`` can go on from ``history``: a run this
    process trained (not read back from disk), without ``make_optimizer``, that did not diverge,
    on this very Split, with the same config but for fewer or as many epochs."""
    try:
        check(history, data, config, None)
    except (TypeError, ValueError):
        return False
    return True


def check(h, split, cfg, make_optimizer):
    if not isinstance(h, History):
        raise TypeError(f"resume must be a History, got {type(h).__name__}")
    if cfg is not None and not isinstance(cfg, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(cfg).__name__}")
    if make_optimizer is not None:
        raise ValueError("resume cannot be used with make_optimizer (its optimizer is yours)")
    state = _resume_state(h)
    if state is None:
        why = ("it diverged" if h.diverged is not None else
               "it was not trained by mf.train in this process (read back from disk, copied, "
               "or trained with make_optimizer)")
        raise ValueError(f"resume: this History cannot be continued: {why}")
    if state.split() is None:
        raise ValueError("resume: the Split this History was trained on is gone (mf.train on "
                         "Ratings splits them itself: train on a Split to go on from it)")
    if split is not None and state.split() is not split:
        raise ValueError("resume: the History was trained on another Split object; pass the "
                         "same Split it was trained on")
    if cfg is not None:
        if h.config.epochs > cfg.epochs:
            raise ValueError(f"resume: the History has {h.config.epochs} epochs, more than the "
                             f"{cfg.epochs} asked")
        other = h.config.replace(epochs=cfg.epochs)
        if other != cfg:
            diff = [k for k in cfg.__dataclass_fields__ if getattr(other, k) != getattr(cfg, k)]
            raise ValueError(f"resume: the History's config differs in {', '.join(diff)}: "
                             f"only epochs may change")
    if fingerprint(h) != state.fingerprint:
        raise ValueError("resume: this History was changed after it was trained (its model, "
                         "tables, curves or config): going on from it would not give the numbers "
                         "of a fresh run")


def go_on_from(prev: History, h: History, opts, gen, kept_epochs, last_good) -> int:
    """Fill ``h`` with ``prev``'s epochs and put the optimizers and batch order where ``prev``
    stopped. Returns the first epoch still to train."""
    state = _resume_state(prev)
    for o, sd in zip(opts, state.optimizers):
        o.load_state_dict(copy.deepcopy(sd))  # a copy: the state of prev stays as it was
    gen.set_state(state.generator)
    # copies: the two Histories share no arrays (an edit to one never shows in the other)
    for k in ("train_rmse", "val_rmse", "seconds", "grad_norm"):
        setattr(h, k, list(getattr(prev, k)))
    for k in ("user_norms", "item_norms"):
        setattr(h, k, [a.copy() for a in getattr(prev, k)])
    h.tables = {e: (P.copy(), Q.copy()) for e, (P, Q) in prev.tables.items() if e in kept_epochs}
    h.steps, h.global_init = prev.steps, prev.global_init
    done = prev.config.epochs
    tabs = h.tables.get(done) or tuple(a.copy() for a in prev.tables[done])
    last_good[0] = (done, tabs, [b.detach().clone() for b in h.model.bias_parameters()])
    return done + 1
