"""``watch``: record a training loop you wrote yourself, so ``diagnose`` can read it.

    rec = mf.watch(model, optimizer, train=train_ratings)
    for epoch in range(epochs):
        ...                                   # your loop, unchanged
        rec.epoch_end(val_rmse=..., train_rmse=...)
    mf.diagnose(rec)

The recorder finds the user and item tables (``nn.Embedding``, ``nn.EmbeddingBag``, 2-D
``nn.Parameter``) and any bias terms, copies them at attach time, counts optimizer steps with a
step post-hook, and at each ``epoch_end`` keeps row norms, the latest tables and the optimizer's
settings. It never touches gradients, RNGs, or any global state, and works under
``torch.no_grad``; CUDA tables are copied to the CPU.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .data import Ratings
from .tables import _rows, candidates, check_tables, find_tables

__all__ = ["watch", "Recorder", "TrainPairs", "as_train", "find_tables"]

# column names accepted in a DataFrame, per role, in order of preference
COLUMNS = {"user": ("user", "user_id", "userId", "userid", "users"),
           "item": ("item", "item_id", "movieId", "movie_id", "itemId", "items", "movie"),
           "rating": ("rating", "user_rating", "ratings", "score")}


@dataclass(frozen=True)
class TrainPairs:
    """Training ratings as row indices into the tables: users, items (n,) int64, ratings (n,)."""

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    scale: tuple | None = None
    labels: tuple = ("user", "item", "rating")   # the caller's names, for error messages

    def __len__(self):
        return len(self.ratings)

    def check_rows(self, n_users: int, n_items: int):
        """ValueError naming the column and the id when an id is not a row of its table."""
        for label, ids, n, what in ((self.labels[0], self.users, n_users, "user"),
                                    (self.labels[1], self.items, n_items, "item")):
            if len(ids) and (ids.min() < 0 or ids.max() >= n):
                bad = int(ids.min()) if ids.min() < 0 else int(ids.max())
                raise ValueError(f"train column {label!r} holds id {bad}, but the {what} table has "
                                 f"{n} rows: ids must be 0-based row indices 0..{n - 1}")


def _ints(label, values) -> np.ndarray:
    a = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    if a.ndim != 1:
        raise ValueError(f"train column {label!r} must be one-dimensional, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        whole = np.issubdtype(a.dtype, np.floating) and np.isfinite(a).all() and (a == np.round(a)).all()
        if not whole:
            raise ValueError(f"train column {label!r} must hold integer row indices, got dtype "
                             f"{a.dtype}")
    if a.size and a.min() < 0:
        raise ValueError(f"train column {label!r} holds id {a.min():.17g}: ids must be 0-based "
                         f"row indices (≥ 0)")
    return a.astype(np.int64)


def as_train(train) -> TrainPairs:
    """``train`` as TrainPairs: an ``mf.Ratings`` (its indices), a DataFrame with user/item/rating
    columns (common names accepted: user_id, userId, movieId, ...) holding row indices, or a
    tuple (users, items, ratings) of tensors or arrays."""
    if isinstance(train, TrainPairs):
        return train
    if isinstance(train, Ratings):
        return TrainPairs(train.users, train.items, train.ratings.astype(np.float64), train.scale)
    if hasattr(train, "columns") and hasattr(train, "__getitem__"):  # a pandas DataFrame
        cols = {}
        for role, names in COLUMNS.items():
            hit = [c for c in names if c in train.columns]
            if not hit:
                raise ValueError(f"train has no {role} column: expected one of {list(names)}, "
                                 f"got columns {list(train.columns)}")
            cols[role] = hit[0]
        users, items, ratings = (train[cols[r]].to_numpy() for r in COLUMNS)
        labels = (cols["user"], cols["item"], cols["rating"])
    elif isinstance(train, (tuple, list)) and len(train) == 3:
        users, items, ratings = train
        labels = ("users", "items", "ratings")
    else:
        raise TypeError(f"train must be an mf.Ratings, a DataFrame with user/item/rating columns or "
                        f"a tuple (users, items, ratings), got {type(train).__name__}")
    u, i = _ints(labels[0], users), _ints(labels[1], items)
    r = (ratings.detach().cpu().numpy() if isinstance(ratings, torch.Tensor)
         else np.asarray(ratings)).astype(np.float64)
    if not (r.ndim == 1 and len(r) == len(u) == len(i)):
        raise ValueError(f"train columns must be 1-D of equal length, got {len(u)}, {len(i)}, "
                         f"{r.shape}")
    if not np.isfinite(r).all():
        k = int(np.flatnonzero(~np.isfinite(r))[0])
        raise ValueError(f"train column {labels[2]!r} must be finite: rating #{k} is {r[k]}")
    if not len(r):
        raise ValueError("train holds no ratings")
    return TrainPairs(u, i, r, None, labels)


def _numpy(t) -> np.ndarray:
    """A float32 CPU copy of a tensor (never a view of the live weights)."""
    return t.detach().to("cpu", torch.float32, copy=True).numpy()


def _settings(groups) -> dict:
    """The hyper-parameters of the optimizer's param groups that hold the tables (numbers, flags,
    tuples of numbers; a one-number tensor, e.g. ``lr=torch.tensor(0.01)``, as its float). Where
    two groups differ, the larger number (the lr that can diverge), but for weight_decay the
    smaller: the cliff needs decay on both tables (on one alone the other carries the product)."""
    ok = (int, float, bool, str, type(None))
    plain = lambda v: v.item() if isinstance(v, torch.Tensor) and v.numel() == 1 else v  # noqa: E731
    out: dict = {}
    for group in groups:
        for k, v in group.items():
            v = tuple(plain(x) for x in v) if isinstance(v, (tuple, list)) else plain(v)
            if k == "params" or not (isinstance(v, ok) or (isinstance(v, tuple) and all(
                    isinstance(x, ok) for x in v))):
                continue
            if k not in out:
                out[k] = v
            elif isinstance(v, (int, float)) and not isinstance(v, bool) \
                    and isinstance(out[k], (int, float)):
                out[k] = (min if k == "weight_decay" else max)(out[k], v)
    return out


class Recorder:
    """What ``watch`` returns. Call ``epoch_end`` once per epoch; read it with ``mf.diagnose``.

    Per epoch e (0 = attach time): ``user_norms[e]``, ``item_norms[e]`` (row norms), ``steps_at[e]``
    (optimizer steps so far), ``settings[e]`` (the tables' param-group settings), and ``val_rmse``,
    ``train_rmse`` (from epoch 1, NaN when not given). ``tables``: {0: (P, Q) at attach, e: the
    latest}. ``user_changed``/``item_changed``: rows that differ from their attach-time value.
    """

    def __init__(self, model, optimizer, train, *, user_table=None, item_table=None):
        self.train = as_train(train)
        nu, ni = int(self.train.users.max()) + 1, int(self.train.items.max()) + 1
        found = find_tables(model, nu, ni, user_table, item_table)
        self.names = {k: (v[0] if v else None) for k, v in found.items()}
        used = set(self.names.values())  # what else the model has is not read (an MLP on top)
        self.others = [n for n in candidates(model) if n not in used]
        self._P, self._Q = found["user"][1], found["item"][1]
        check_tables(self.names, self._P, self._Q)
        self.train.check_rows(_rows(self._P), _rows(self._Q))
        self._bias = {k: found[k][1] if found[k] else None
                      for k in ("user_bias", "item_bias", "global_bias")}
        self.has_biases = any(v is not None for v in self._bias.values())
        self.sparse = any(getattr(m, "sparse", False) for m in
                          (model.modules() if isinstance(model, nn.Module) else ())
                          if isinstance(m, (nn.Embedding, nn.EmbeddingBag))
                          and (m.weight is self._P or m.weight is self._Q))
        self.optimizer_name = type(optimizer).__name__ if optimizer is not None else None
        self._opt, self._groups = optimizer, None
        if optimizer is not None:
            hit = [g for g in optimizer.param_groups
                   if any(p is self._P or p is self._Q for p in g["params"])]
            if not hit:
                raise ValueError(f"optimizer ({self.optimizer_name}) does not update the tables "
                                 f"{self.names['user']!r} and {self.names['item']!r}: pass the "
                                 f"optimizer that does")
            self._groups = hit  # (each table's group: their settings may differ)
        self.steps = 0
        self._hook = (optimizer.register_step_post_hook(self._count)
                      if hasattr(optimizer, "register_step_post_hook") else None)
        self.val_rmse, self.train_rmse, self.steps_at, self.settings = [], [], [], []
        self.user_norms, self.item_norms, self.tables, self.biases = [], [], {}, {}
        self.nonfinite_epoch = None
        self._given = []   # per epoch: (val_rmse given, train_rmse given); a NaN given is news
        self._snapshot(0)

    # -- recording ---------------------------------------------------------------------------------
    def _count(self, optimizer, args, kwargs):  # step post-hook: one call per optimizer.step()
        self.steps += 1

    def _steps_now(self) -> int | None:
        if self._hook is not None or self._opt is None:
            return self.steps if self._opt is not None else None
        st = self._opt.state.get(self._Q, {}).get("step")  # old torch: read the optimizer state
        self.steps = int(st) if st is not None else 0
        return self.steps

    def _snapshot(self, epoch):
        P, Q = _numpy(self._P), _numpy(self._Q)                          # (n_users, d), (n_items, d)
        self.tables = {0: self.tables.get(0, (P, Q)), epoch: (P, Q)}     # attach time + the latest
        self.biases[epoch] = {k: _numpy(v).reshape(-1) for k, v in self._bias.items()
                              if v is not None}
        self.biases = {e: b for e, b in self.biases.items() if e in self.tables}
        self.user_norms.append(np.linalg.norm(P, axis=1))
        self.item_norms.append(np.linalg.norm(Q, axis=1))
        self.steps_at.append(self._steps_now())
        self.settings.append(_settings(self._groups) if self._groups is not None else {})
        finite = np.isfinite(P).all() and np.isfinite(Q).all()
        if not finite and self.nonfinite_epoch is None:
            self.nonfinite_epoch = epoch

    def epoch_end(self, val_rmse=None, train_rmse=None):
        """Snapshot the tables after an epoch; ``val_rmse``/``train_rmse``: numbers you already
        have (optional)."""
        for pname, v in (("val_rmse", val_rmse), ("train_rmse", train_rmse)):
            size = v.numel() if isinstance(v, torch.Tensor) else np.size(v)
            if v is not None and (isinstance(v, bool) or size != 1 or not isinstance(
                    v, (int, float, np.number, torch.Tensor))):
                raise TypeError(f"{pname} must be one number, got {v!r}")
        as_float = lambda v: float("nan") if v is None else float(v)  # noqa: E731
        self.val_rmse.append(as_float(val_rmse))
        self.train_rmse.append(as_float(train_rmse))
        self._given.append((val_rmse is not None, train_rmse is not None))
        self._snapshot(len(self.val_rmse))

    def close(self):
        """Stop counting optimizer steps (removes the hook); the record stays readable."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
            self._opt = None

    # -- as plain tensors, for a file loaded with torch.load(weights_only=True) -------------------
    _KEPT = ("val_rmse", "train_rmse", "steps_at", "settings", "nonfinite_epoch", "steps")

    def to_state(self) -> dict:
        """The record (not the model, optimizer or pairs) as tensors, numbers and strings."""
        t = torch.from_numpy
        return {**{k: getattr(self, k) for k in self._KEPT},
                "given": [tuple(g) for g in self._given],
                "user_norms": [t(n) for n in self.user_norms],
                "item_norms": [t(n) for n in self.item_norms],
                "tables": {int(e): (t(P), t(Q)) for e, (P, Q) in self.tables.items()},
                "biases": {int(e): {k: t(v) for k, v in b.items()} for e, b in self.biases.items()}}

    def restore(self, state: dict) -> "Recorder":
        """Replace the record with one ``to_state`` described (this Recorder's model should hold
        that run's final weights); returns self."""
        for k in self._KEPT:
            setattr(self, k, state[k])
        self._given = [tuple(g) for g in state["given"]]
        self.user_norms = [n.numpy() for n in state["user_norms"]]
        self.item_norms = [n.numpy() for n in state["item_norms"]]
        self.tables = {e: (P.numpy(), Q.numpy()) for e, (P, Q) in state["tables"].items()}
        self.biases = {e: {k: v.numpy() for k, v in b.items()} for e, b in state["biases"].items()}
        return self

    # -- reading -----------------------------------------------------------------------------------
    @property
    def epochs(self) -> int:
        return len(self.val_rmse)

    @property
    def user_changed(self) -> np.ndarray:
        return np.any(self.tables[self.epochs][0] != self.tables[0][0], axis=1)

    @property
    def item_changed(self) -> np.ndarray:
        return np.any(self.tables[self.epochs][1] != self.tables[0][1], axis=1)

    def reported(self, which="val") -> list:
        """The RMSEs passed to epoch_end, per epoch from 1; None where none was passed."""
        k, xs = (0, self.val_rmse) if which == "val" else (1, self.train_rmse)
        return [x if given[k] else None for x, given in zip(xs, self._given)]

    def decoupled_shrink(self) -> float | None:
        """(1 − lr·λ)^steps over the run for decoupled decay (AdamW), lr and λ read per epoch;
        None for an optimizer without decoupled decay."""
        if not self.settings or not _decoupled(self.optimizer_name, self.settings[0]):
            return None
        log = 0.0
        for e in range(1, len(self.settings)):
            s, n = self.settings[e], (self.steps_at[e] or 0) - (self.steps_at[e - 1] or 0)
            step = 1.0 - float(s.get("lr", 0.0)) * float(s.get("weight_decay", 0.0))
            log += n * math.log(step) if step > 0 else -math.inf
        return math.exp(log)

    def __repr__(self):
        last = (f", val RMSE {self.val_rmse[-1]:.3f}" if self.val_rmse
                and math.isfinite(self.val_rmse[-1]) else "")
        return (f"Recorder({self.names['user']} {tuple(self._P.shape)}, {self.names['item']} "
                f"{tuple(self._Q.shape)}, {'with' if self.has_biases else 'no'} biases, "
                f"{self.optimizer_name}, {self.epochs} epochs, {self.steps} steps{last})")


def _decoupled(name, settings) -> bool:
    return name == "AdamW" or bool(settings.get("decoupled_weight_decay", False))


def watch(model, optimizer, train, *, user_table=None, item_table=None) -> Recorder:
    """Record a training loop you wrote: attach before training, call ``rec.epoch_end(...)`` after
    each epoch, then ``mf.diagnose(rec)``.

    model: your nn.Module. optimizer: the torch.optim optimizer that updates its tables (or None).
    train: the training ratings as row indices — an ``mf.Ratings``, a DataFrame (user/item/rating
        columns) or a tuple (users, items, ratings).
    user_table, item_table: the tables' attribute or parameter names (or the modules/tensors),
        when they cannot be told apart from the ratings alone.
    """
    return Recorder(model, optimizer, train, user_table=user_table, item_table=item_table)
