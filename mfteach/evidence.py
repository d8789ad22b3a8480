"""What the checks of a model ``mfteach`` did not train read: ``Evidence``, built from a
``watch`` recorder or from bare weight tables, plus the small computations several checks share
(dot products on a sample of the ratings, the weight-decay cliff λ*)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .watch import Recorder, TrainPairs, as_train

__all__ = ["Evidence", "from_recorder", "from_tables", "cliff_lambda", "sample_index"]

SAMPLE = 20_000  # ratings used for a std or an RMSE of dot products: plenty for 2 digits


@dataclass
class Evidence:
    train: TrainPairs
    P: np.ndarray                       # (n_user_rows, d) final user table
    Q: np.ndarray                       # (n_item_rows, d) final item table
    P0: np.ndarray | None = None        # the tables at attach time (None: not recorded)
    Q0: np.ndarray | None = None
    user_bias: np.ndarray | None = None  # (n_user_rows,) final biases, when the model has them
    item_bias: np.ndarray | None = None
    global_bias: float | None = None
    has_biases: bool | None = None      # None: unknown (bare tables)
    optimizer: str | None = None
    settings: dict = field(default_factory=dict)   # the tables' param group, last epoch
    steps: int | None = None
    epochs: int = 0
    shrink: float | None = None         # decoupled decay's total factor (1 − lr·λ)^steps
    sparse: bool = False                # the tables give sparse gradients
    lrs: list = field(default_factory=list)         # the tables' lr per epoch (0 = attach)
    val_rmse: list = field(default_factory=list)    # per epoch; None where not given
    train_rmse: list = field(default_factory=list)
    nonfinite_epoch: int | None = None  # first snapshot with a NaN/inf weight
    names: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)       # checks that cannot run, and why

    # -- what the checks share -------------------------------------------------------------------
    @property
    def spread(self) -> float:
        return float(np.std(self.train.ratings))

    @property
    def mean(self) -> float:
        return float(np.mean(self.train.ratings))

    @property
    def width(self) -> float:
        """Width of the rating scale (declared, else the ratings' range)."""
        lo, hi = self.train.scale or (self.train.ratings.min(), self.train.ratings.max())
        return max(float(hi - lo), 1e-12)

    def counts(self, which) -> np.ndarray:
        ids, n = ((self.train.users, len(self.P)) if which == "user"
                  else (self.train.items, len(self.Q)))
        return np.bincount(ids, minlength=n)

    def dots(self, P, Q) -> np.ndarray:
        """<P[u], Q[i]> on a sample of the training pairs, float64."""
        k = sample_index(len(self.train))
        return np.einsum("nd,nd->n", P[self.train.users[k]].astype(np.float64),
                         Q[self.train.items[k]].astype(np.float64))

    @property
    def predictions_known(self) -> bool:
        """Whether the tables alone give the model's predictions: no bias terms at all, or a
        global bias among the parameters. Bias tables without one usually mean a constant kept
        outside the parameters (``+ self.global_mean``), which the tables do not show."""
        return self.has_biases is False or self.global_bias is not None

    def predictions(self) -> np.ndarray:
        """The tables' predictions on the sampled training pairs: dot products plus the biases
        found (the model's own when ``predictions_known``)."""
        k = sample_index(len(self.train))
        z = self.dots(self.P, self.Q)
        if self.user_bias is not None:
            z = z + self.user_bias[self.train.users[k]]
        if self.item_bias is not None:
            z = z + self.item_bias[self.train.items[k]]
        return z + (self.global_bias or 0.0)

    def final(self, which):
        """The last reported RMSE of "val" or "train", or None."""
        xs = [x for x in (self.val_rmse if which == "val" else self.train_rmse) if x is not None]
        return xs[-1] if xs else None

    def reported(self):
        """(name, final RMSE) of the validation RMSE if reported, else the training one."""
        for which in ("val", "train"):
            x = self.final(which)
            if x is not None:
                return which, x
        return None, None

    def hidden_offset(self) -> bool:
        """The reported error is far below what the tables alone predict (dot products plus the
        biases found): the forward adds something the parameters do not show, e.g. a training
        mean kept as a plain number (``+ self.global_mean``)."""
        x = self.reported()[1]
        if x is None or not math.isfinite(x):
            return False
        z = self.predictions()
        k = sample_index(len(self.train))
        tables = float(np.sqrt(np.mean((z - self.train.ratings[k]) ** 2)))
        # half: a reported error that small cannot come from these predictions (validation
        # error is not below training error by a factor of 2)
        return x < 0.5 * tables and tables > self.spread


def sample_index(n) -> np.ndarray:
    """Evenly spaced indices: deterministic, no RNG, and not biased by a file sorted by user."""
    return np.unique(np.linspace(0, n - 1, min(n, SAMPLE)).astype(np.int64)) if n else np.zeros(0, int)


def cliff_lambda(train: TrainPairs, n_users, n_items, offset=0.0) -> float:
    """λ* = 2·σ_max(E)/N, E the (n_users × n_items) sparse matrix of the N ratings minus
    ``offset``: the coupled weight decay past which all-zero tables are a stable optimum of a mean
    squared loss (claim 02.cliff). Near P = Q = 0 the loss gradient pulls the tables apart at rate
    2σ_max/N and the decay pulls them back at rate λ. The same formula as
    ``mfteach.lessons.regularization.zero_cliff``, restated here because the core may not import
    lessons."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import svds

    E = sp.csr_matrix((train.ratings - offset, (train.users, train.items)),
                      shape=(n_users, n_items))
    if not E.count_nonzero():  # e.g. all-equal ratings, centred: nothing pulls the tables apart
        return 0.0
    if min(E.shape) <= 2:
        sigma = float(np.linalg.norm(E.toarray(), 2))
    else:
        sigma = float(svds(E, k=1, return_singular_vectors=False, random_state=0)[0])
    return 2 * sigma / len(train)


# -- building ------------------------------------------------------------------------------------
def from_recorder(rec: Recorder) -> Evidence:
    e = rec.epochs
    P0, Q0 = rec.tables[0]
    P, Q = rec.tables[e]
    b = rec.biases.get(e, {})
    g = b.get("global_bias")
    ev = Evidence(rec.train, P, Q, P0, Q0, user_bias=b.get("user_bias"),
                  item_bias=b.get("item_bias"), global_bias=float(g[0]) if g is not None else None,
                  has_biases=rec.has_biases, optimizer=rec.optimizer_name,
                  settings=rec.settings[-1] if rec.settings else {}, steps=rec.steps_at[-1],
                  epochs=e, shrink=rec.decoupled_shrink(), sparse=rec.sparse,
                  val_rmse=rec.reported("val"), train_rmse=rec.reported("train"),
                  nonfinite_epoch=rec.nonfinite_epoch, names=dict(rec.names))
    ev.lrs = [s.get("lr") for s in rec.settings]
    if e == 0:
        ev.notes.append("nothing after attach time: call rec.epoch_end() after each epoch")
    if all(x is None for x in ev.val_rmse):
        ev.notes.append("overfitting and learning-rate spikes need the validation RMSE: "
                        "rec.epoch_end(val_rmse=...)")
    elif all(x is None for x in ev.train_rmse):
        ev.notes.append("overfitting is judged on the validation RMSE alone (pass "
                        "rec.epoch_end(train_rmse=...) too, to see whether training error falls)")
    _note_hidden_offset(ev)
    if getattr(rec, "others", None):
        more = f", … {len(rec.others)} in all" if len(rec.others) > 3 else ""
        ev.notes.append(f"the model's other parameters ({', '.join(rec.others[:3])}{more}): "
                        f"these checks read predictions as ⟨p_u, q_i⟩ + biases only")
    if rec.optimizer_name is None:
        ev.notes.append("the optimizer's settings (weight decay, learning rate): pass the "
                        "optimizer to mf.watch")
    return ev


def _note_hidden_offset(ev):
    if ev.has_biases and not ev.predictions_known and ev.reported()[1] is None:
        ev.notes.append("predictions from the tables: the model has bias tables but no global "
                        "bias parameter (a mean added in forward is not in the weights)")


def _array(pname, t) -> np.ndarray:
    if isinstance(t, torch.nn.Embedding | torch.nn.EmbeddingBag):
        t = t.weight
    if isinstance(t, torch.Tensor):
        return t.detach().to("cpu", torch.float32, copy=True).numpy()
    try:
        a = np.array(t, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError(f"{pname} must be a tensor or an array, got {type(t).__name__}") from None
    return a


def from_tables(user_table, item_table, train, *, user_bias=None, item_bias=None,
                global_bias=None, has_biases=None, names=None) -> Evidence:
    """Evidence from trained weights alone (no run): tensors, arrays or nn.Embedding modules.
    ``has_biases``: whether the model has bias terms (None: unknown, unless a bias is given)."""
    P, Q = _array("user_table", user_table), _array("item_table", item_table)
    for pname, a in (("user_table", P), ("item_table", Q)):
        if a.ndim != 2:
            raise ValueError(f"{pname} must be a 2-D table (rows, dim), got shape {a.shape}")
    if P.shape[1] != Q.shape[1]:
        raise ValueError(f"user_table and item_table must have the same dim, got {P.shape[1]} "
                         f"and {Q.shape[1]}")
    pairs = as_train(train)
    pairs.check_rows(len(P), len(Q))
    bu = None if user_bias is None else _array("user_bias", user_bias).reshape(-1)
    bi = None if item_bias is None else _array("item_bias", item_bias).reshape(-1)
    for pname, a, n in (("user_bias", bu, len(P)), ("item_bias", bi, len(Q))):
        if a is not None and len(a) != n:
            raise ValueError(f"{pname} must have one value per row ({n}), got {len(a)}")
    g = None if global_bias is None else float(_array("global_bias", global_bias).reshape(-1)[0])
    if has_biases is None and any(x is not None for x in (bu, bi, g)):
        has_biases = True
    finite = np.isfinite(P).all() and np.isfinite(Q).all()
    ev = Evidence(pairs, P, Q, user_bias=bu, item_bias=bi, global_bias=g, has_biases=has_biases,
                  nonfinite_epoch=None if finite else 0, names=names or {})
    ev.notes.append("initial scale, rows never updated, optimizer settings, learning rate: need "
                    "the run — attach mf.watch(model, optimizer, train=...) before training")
    _note_hidden_offset(ev)
    if has_biases is None:
        ev.notes.append("bias terms and predictions: unknown from two tables — pass user_bias=, "
                        "item_bias=, global_bias= (or has_biases=False)")
    return ev
