"""Training: a frozen config, a plain minibatch loop with real autograd and ``torch.optim``, and a
history of everything the notebooks plot.

Speed comes from the loop's shape, not from tricks that change the maths: index tensors made once,
one seeded permutation per epoch (no DataLoader), ``index_select`` lookups, fused optimizers where
PyTorch has them, and one torch thread (on a busy 2-core machine one thread was many times faster
than two). Every optimizer step costs ~1 ms of fixed overhead, so the number of steps is the budget.
"""
from __future__ import annotations

import copy
import math
import threading
import time
from contextlib import contextmanager

import numpy as np
import torch

from .data import Ratings, Split
from .splits import random_split
from .history import Divergence, History, blowup_reason, divergence, scale_width
from .config import OPTIMIZERS, REGULARIZERS, TrainConfig
from .model import MF, predict_rows
from .preprocessing import Normalizer
from . import resume as _resume
from .resume import can_resume

__all__ = ["TrainConfig", "History", "Divergence", "train", "can_resume", "between_steps", "step_hook",
           "quiet_for", "OPTIMIZERS", "REGULARIZERS"]

# -- pausing -------------------------------------------------------------------------------------
# A thread that trains ahead (a panel's likely next setting) gives the CPU back to the run a
# student waits for by blocking between two optimizer steps. Per thread: the other threads' runs
# never pause. A pause only delays the next step; the numbers are the same.
_LOCAL = threading.local()


_FOREGROUND = {"lock": threading.Lock(), "n": 0, "last": time.monotonic()}


def quiet_for() -> float:
    """Seconds since the last run outside ``between_steps`` ended (0 while one trains): a
    notebook's cells are running (Run All) unless it has been quiet for a while."""
    with _FOREGROUND["lock"]:
        return 0.0 if _FOREGROUND["n"] else time.monotonic() - _FOREGROUND["last"]


def _foreground(delta):
    with _FOREGROUND["lock"]:
        _FOREGROUND["n"] += delta
        _FOREGROUND["last"] = time.monotonic()


def step_hook():
    """This thread's ``between_steps`` function, or None."""
    return getattr(_LOCAL, "fn", None)


@contextmanager
def between_steps(fn):
    """While inside, every ``train`` in this thread calls ``fn()`` after each optimizer step
    (``fn`` may block, e.g. while another thread needs the CPU)."""
    if not callable(fn):
        raise TypeError(f"between_steps needs a function, got {type(fn).__name__}")
    old = getattr(_LOCAL, "fn", None)
    _LOCAL.fn = fn
    try:
        yield
    finally:
        _LOCAL.fn = old


# -- the loop ------------------------------------------------------------------------------------
def _make_optimizers(model: MF, cfg: TrainConfig):
    """The optimizer(s): embeddings and biases as two parameter groups (biases may need their own
    lr: with SGD the global bias sees every example and diverges at the embeddings' lr)."""
    wd = cfg.reg_strength if cfg.reg == "weight_decay" else 0.0
    bias_lr = cfg.bias_lr if cfg.bias_lr is not None else cfg.lr
    factors, biases = model.factor_parameters(), model.bias_parameters()
    fused = cfg.fused and not cfg.uses_sparse

    if cfg.optimizer == "sparse_adam":
        sparse_b = [b for b in biases if b is not model.global_bias]
        opts = [torch.optim.SparseAdam([{"params": factors}] +
                                       ([{"params": sparse_b, "lr": bias_lr}] if sparse_b else []),
                                       lr=cfg.lr)]
        if model.global_bias is not None:  # SparseAdam refuses dense parameters
            opts.append(torch.optim.Adam([model.global_bias], lr=bias_lr))
        return opts

    groups = [{"params": factors}] + ([{"params": biases, "lr": bias_lr}] if biases else [])
    cls, kw = {
        "sgd": (torch.optim.SGD, {}),
        "momentum": (torch.optim.SGD, {"momentum": cfg.momentum}),
        "adam": (torch.optim.Adam, {}),
        "adamw": (torch.optim.AdamW, {}),
        "rmsprop": (torch.optim.RMSprop, {}),
        "adagrad": (torch.optim.Adagrad, {}),
    }[cfg.optimizer]
    # weight_decay is always passed: AdamW's own default (0.01) would otherwise sneak in.
    if fused:
        try:
            return [cls(groups, lr=cfg.lr, weight_decay=wd, fused=True, **kw)]
        except (RuntimeError, TypeError, ValueError):
            pass  # this optimizer/device has no fused kernel: fall back to the default one
    return [cls(groups, lr=cfg.lr, weight_decay=wd, **kw)]


def _penalty(cfg: TrainConfig, model: MF, ub, ib, p, q):
    """The regularization term added to the batch's mean squared error.

    For the batch-row penalties, λ·mean_b(‖p_u‖² + ‖q_i‖²) equals
    λ/B · Σ_rows count_in_batch(row)·‖row‖², which is cheaper on the (small) table than on the
    (B, dim) batch rows when the table has fewer rows than the batch: same value, same gradient.
    """
    lam = cfg.reg_strength
    if cfg.reg == "l2_all":
        P, Q = model.user_factors.weight, model.item_factors.weight
        return lam * (P.pow(2).sum(1).mean() + Q.pow(2).sum(1).mean())
    if cfg.reg not in ("l2_batch", "l1_batch"):
        return None
    rowwise = (lambda x: (x * x).sum(1)) if cfg.reg == "l2_batch" else (lambda x: x.abs().sum(1))
    total = 0.0
    for idx, rows, table in ((ub, p, model.user_factors.weight),
                             (ib, q, model.item_factors.weight)):
        if not model.sparse and table.shape[0] < len(idx):
            counts = torch.bincount(idx, minlength=table.shape[0]).to(table.dtype)  # (n_rows,)
            total = total + torch.dot(counts, rowwise(table)) / len(idx)
        else:
            total = total + rowwise(rows).mean()
    return lam * total


def _grad_norm(params) -> float:
    total = 0.0
    for w in params:
        g = w.grad
        if g is None:
            continue
        if g.is_sparse:
            g = g.coalesce().values()
        total += float(g.pow(2).sum())
    return math.sqrt(total)


def _row_norms(w) -> np.ndarray:
    return torch.linalg.vector_norm(w.detach(), dim=1).cpu().numpy()


def train(data: Split | Ratings, config: TrainConfig | None = None, *, make_optimizer=None,
          resume: History | None = None, **overrides) -> History:
    """Train a fresh MF model on ``data.train`` and return its History.

    ``data``: a Split (trained on ``train``, validated on ``val``) or Ratings (split 80/10/10 with
    the config's seed). ``overrides`` change single config fields: ``train(split, lr=0.1)``.
    ``make_optimizer``: ``model -> optimizer`` (or a list of them) to use your own instead of the
    one the config describes (its optimizer, lr, bias_lr and weight_decay are then not used).
    Divergence stops training and is reported in ``history.diverged``; it never raises. It is a
    non-finite loss, weight or prediction, or an RMSE that exploded while staying finite (see
    ``history.BLOWUP_FACTOR``); the epoch that diverged is not recorded. Without validation
    ratings ``val_rmse`` is NaN by design (``history.has_val`` is False), not a divergence.
    ``resume``: a History this process trained on the same Split with the same config but fewer
    (or as many) epochs; training goes on from its end instead of from scratch, with the same
    numbers as a fresh run (its optimizer state and batch order go on where they stopped; the
    earlier History is not changed). See ``can_resume``.
    Global torch state (threads, denormal flushing) is left as the caller had it.
    """
    if make_optimizer is not None and not callable(make_optimizer):
        raise TypeError(f"make_optimizer must be a function model -> optimizer, got "
                        f"{type(make_optimizer).__name__}")
    cfg = TrainConfig() if config is None else config
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(cfg).__name__}")
    cfg = cfg.replace(**overrides) if overrides else cfg
    split = random_split(data, seed=cfg.seed) if isinstance(data, Ratings) else data
    if not isinstance(split, Split):
        raise TypeError(f"data must be a Split or Ratings, got {type(data).__name__}")
    if len(split.train) == 0:
        raise ValueError("the training set is empty")
    _check_device(cfg.device)
    if resume is not None:
        _resume.check(resume, split, cfg, make_optimizer)

    # Torch state changed here is put back exactly as this thread had it (see _enter_threads).
    foreground = getattr(_LOCAL, "fn", None) is None
    if foreground:
        _foreground(+1)
    _enter_threads(cfg.threads)
    # Regularised weights and Adam's second moments drift into denormal floats, which the CPU
    # handles ~100x slower; flushing them to zero changes nothing visible and saves ~30%.
    was_flushing = _flushing_denormals()
    switched = torch.set_flush_denormal(True) and not was_flushing
    try:  # (a call from inside torch.no_grad() or inference_mode() still needs its gradients)
        with torch.inference_mode(False), torch.enable_grad():
            return _train(split, cfg, make_optimizer, resume)
    finally:
        if switched:
            torch.set_flush_denormal(False)
        _leave_threads()
        if foreground:
            _foreground(-1)


def _enter_threads(threads):
    """Set this thread's torch thread count for a run, saving the old one. Per thread: with the
    OpenMP backend of the pip builds ``set_num_threads`` changes only the calling thread, so a
    count saved once for all threads left a cell's thread at 1 after a worker's run ended last."""
    stack = _LOCAL.__dict__.setdefault("threads", [])
    old = torch.get_num_threads()
    stack.append(old)
    if threads is not None and threads != old:
        torch.set_num_threads(threads)


def _leave_threads():
    old = _LOCAL.threads.pop()
    if torch.get_num_threads() != old:
        torch.set_num_threads(old)


def _flushing_denormals() -> bool:
    """Whether this thread flushes denormal floats to zero (torch has a setter but no getter):
    half the smallest normal float32 is a denormal, which flushing turns into 0."""
    return (torch.tensor(torch.finfo(torch.float32).tiny) / 2).item() == 0.0


def _check_device(name: str):
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r} asked but CUDA is not available here")
    if dev.type == "cuda" and (dev.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"device={name!r} asked but this machine has "
                         f"{torch.cuda.device_count()} CUDA device(s)")
    mps = getattr(torch.backends, "mps", None)
    if dev.type == "mps" and not (mps is not None and mps.is_available()):
        raise ValueError(f"device={name!r} asked but MPS is not available here")


def _custom_optimizers(model, make_optimizer):
    opts = make_optimizer(model)
    opts = list(opts) if isinstance(opts, (list, tuple)) else [opts]
    if not opts or not all(isinstance(o, torch.optim.Optimizer) for o in opts):
        raise TypeError(f"make_optimizer must return a torch.optim.Optimizer (or a list of them), "
                        f"got {opts!r}")
    return opts


def _train(split: Split, cfg: TrainConfig, make_optimizer=None, resume=None) -> History:
    t0 = time.perf_counter()
    dev = torch.device(cfg.device)
    tr, va = split.train, split.val
    norm = Normalizer(cfg.normalize).fit(tr)
    # Targets in the normalised space, as float32 tensors made once.
    def targets(r: Ratings):
        u, i, _ = r.tensors(dev)
        z = torch.as_tensor(norm.transform(r.users, r.ratings), dtype=torch.float32, device=dev)
        return u, i, z
    u_tr, i_tr, z_tr = targets(tr)
    u_va, i_va, z_va = targets(va)
    n = len(tr)
    gen = torch.Generator().manual_seed(cfg.seed + 1)  # batch order; init uses its own generator
    if cfg.train_eval_sample is not None and cfg.train_eval_sample < n:
        sample = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed + 2))
        sample = sample[:cfg.train_eval_sample].sort().values.to(dev)
        ev_tr = (u_tr.index_select(0, sample), i_tr.index_select(0, sample),
                 z_tr.index_select(0, sample))
    else:
        ev_tr = (u_tr, i_tr, z_tr)

    if resume is None:
        model = MF(tr.n_users, tr.n_items, cfg.dim, user_bias=cfg.user_bias,
                   item_bias=cfg.item_bias, global_bias=cfg.global_bias,
                   global_init=float(z_tr.mean()), sparse=cfg.uses_sparse, init=cfg.init,
                   init_std=cfg.init_std, init_value=cfg.init_value, seed=cfg.seed, device=dev)
    else:  # a copy: the earlier History keeps its own model
        model = copy.deepcopy(resume.model)
    opts = (_make_optimizers(model, cfg) if make_optimizer is None
            else _custom_optimizers(model, make_optimizer))
    factors = model.factor_parameters()
    h = History(cfg, model=model, normalizer=norm, train_item_counts=tr.item_counts(),
                train_user_counts=tr.user_counts(), n_val=len(va))
    h.global_init = model.global_bias.detach().item() if model.global_bias is not None else 0.0
    keep = {0, cfg.epochs, *cfg.snapshot_epochs}
    scale = norm.divisor  # errors in the normalised space × scale = errors in rating points
    width = scale_width(tr)

    def rmse(u, i, z):
        if len(z) == 0:
            return float("nan")  # no validation ratings: NaN by design, not a divergence
        with torch.no_grad():
            pred = predict_rows(model, u, i)  # (N,) in pieces: 20k at once was 7x slower
            return float(torch.sqrt(torch.mean((pred - z) ** 2))) * scale

    def record(epoch, gnorm, errors):
        P, Q = factors
        h.train_rmse.append(errors[0])
        h.val_rmse.append(errors[1])
        h.user_norms.append(_row_norms(P))
        h.item_norms.append(_row_norms(Q))
        h.grad_norm.append(gnorm)
        tabs = (P.detach().cpu().numpy().copy(), Q.detach().cpu().numpy().copy())
        if epoch in keep:
            h.tables[epoch] = tabs
        # so a diverged run still shows (and predicts with) its last sane state
        last_good[0] = (epoch, tabs, [b.detach().clone() for b in model.bias_parameters()])
        h.seconds.append(time.perf_counter() - t0)

    last_good = [None]
    if resume is None:
        record(0, float("nan"), (rmse(*ev_tr), rmse(u_va, i_va, z_va)))
        first = 1
    else:
        first = _resume.go_on_from(resume, h, opts, gen, keep, last_good)
        t0 = time.perf_counter() - h.seconds[-1]  # seconds go on from the earlier run's
    bs = cfg.batch_size
    penal = cfg.reg not in ("weight_decay", "none") and cfg.reg_strength > 0
    custom = make_optimizer is not None
    pause = getattr(_LOCAL, "fn", None)  # see between_steps
    for epoch in range(first, cfg.epochs + 1):
        perm = torch.randperm(n, generator=gen).to(dev)
        u_e, i_e, z_e = (t.index_select(0, perm) for t in (u_tr, i_tr, z_tr))
        for s in range(0, n, bs):
            ub, ib, zb = u_e[s:s + bs], i_e[s:s + bs], z_e[s:s + bs]
            pred, p, q = model.forward_parts(ub, ib)
            loss = torch.nn.functional.mse_loss(pred, zb)
            if penal:
                loss = loss + _penalty(cfg, model, ub, ib, p, q)
            for o in opts:
                o.zero_grad(set_to_none=True)
            loss.backward()
            for o in opts:
                o.step()
            h.steps += 1
            if pause is not None:
                pause()
            lv = loss.detach().item()
            if not math.isfinite(lv):
                what = "NaN (not a number)" if math.isnan(lv) else "infinite"  # never "nan"
                h.diverged = divergence(cfg, epoch, h.steps, f"loss became {what}", custom)
                break
        if h.diverged:
            break
        gnorm = _grad_norm(factors)
        bad = [name for name, w in zip(("user", "item"), factors) if not torch.isfinite(w).all()]
        if bad:
            h.diverged = divergence(cfg, epoch, h.steps, f"{' and '.join(bad)} embeddings "
                                                          f"became infinite or NaN", custom)
            break
        errors = (rmse(*ev_tr), rmse(u_va, i_va, z_va))
        why = blowup_reason(h, errors, width)
        if why:  # the blown-up epoch is not recorded: its numbers would flatten every curve
            h.diverged = divergence(cfg, epoch, h.steps, why, custom)
            break
        record(epoch, gnorm, errors)
    if h.diverged:  # the model goes back to its last sane epoch: predictions stay meaningful
        epoch, tabs, biases = last_good[0]
        h.tables[epoch] = tabs
        with torch.no_grad():
            for w, t in zip(factors, tabs):
                w.copy_(torch.as_tensor(t, device=w.device))
            for b, saved in zip(model.bias_parameters(), biases):
                b.copy_(saved)
        h.last_sane_epoch = epoch
    # A History keeps the model for predictions, not its gradients (as big as the tables).
    for p in model.parameters():
        p.grad = None
    if make_optimizer is None and h.diverged is None:
        _resume.keep(h, split, opts, gen)  # what train(..., resume=h) needs to go on
    return h
