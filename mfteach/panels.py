"""The notebooks' live panels: each owns its retrain (core) and its figure (plots).

Every factory returns a ``Panel`` (not displayed) whose controls start at values that show the
effect at once; keyword arguments set other start values, so one line such as
``mf.panels.init_panel(init="xavier_uniform", dim=64)`` reproduces what a student saw.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import plots
from .data import Split, random_split, synthetic
from .metrics import baseline_rmse, bucket_rmse, recovery_r2
from .model import INIT_SCHEMES, expected_initial_rmse
from .preprocessing import popularity_buckets
from .training import TrainConfig, train
from .widgets import Choice, Panel, PanelMessage, Slider, Toggle

__all__ = ["init_panel", "init_std_panel", "reg_panel", "skew_panel", "capstone_panel", "Run", "notebook_data",
           "OPT_LR", "REG_CHOICES", "REG_RANGES"]


@dataclass
class Run:
    """What a panel computed: the history plus the numbers its plots and status need."""

    history: object
    split: Split
    mean_rmse: float
    truth_rmse: float | None
    extra: dict = field(default_factory=dict)


@lru_cache(maxsize=16)
def notebook_data(item_zipf=1.2, user_zipf=0.8, noise=0.5, cold_items=0.0, n_items=1500,
                  seed=0) -> Split:
    """The notebooks' default data (FINDINGS' data "B": 600 users × 1,500 items, 50k ratings),
    split 80/10/10; cached, since it is deterministic."""
    d = synthetic(600, n_items, 50_000, item_zipf=item_zipf, user_zipf=user_zipf, noise=noise,
                  cold_items=cold_items, seed=seed)
    return random_split(d, seed=seed)


def _refs(split):
    truth = (baseline_rmse(split.train, split.val, "truth") if split.truth is not None else None)
    return baseline_rmse(split.train, split.val), truth


def _code(name, values, defaults):
    diff = {k: v for k, v in values.items() if defaults.get(k) != v}
    args = ", ".join(f"{k}={(round(v, 6) if isinstance(v, float) else v)!r}" for k, v in diff.items())
    return f"mf.panels.{name}({args})"


def _grid(fig, rows, cols):
    return fig.subplots(rows, cols, squeeze=False)


def _start(controls, values):
    """Controls with start values replaced by ``values`` (unknown names are an error)."""
    names = {c.name for c in controls}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"unknown panel setting(s) {sorted(unknown)}; settings: {sorted(names)}")
    from dataclasses import replace

    return [replace(c, value=values[c.name]) if c.name in values else c for c in controls]


# -- 01 initialization ---------------------------------------------------------------------------
INIT_LABELS = {"default": "default N(0,1)", "normal": "normal(std)", "uniform": "uniform(std)",
               "xavier_uniform": "Xavier uniform", "xavier_normal": "Xavier normal",
               "kaiming": "Kaiming/He", "zeros": "zeros", "constant": "constant (0.1)"}
# Adam moves each weight by about lr per step; SGD needs a large lr on embeddings because a mean
# loss scales each row's gradient by its frequency, and a small one on biases (notebook 03).
# Everything but the init is a sensible setup (L2 on the batch's rows, λ = 0.05), so the only
# thing that changes between runs is the init.
INIT_OPT = {"adam": dict(optimizer="adam", lr=0.02, reg="l2_batch", reg_strength=0.05),
            "sgd": dict(optimizer="sgd", lr=30.0, bias_lr=0.5, reg="l2_batch", reg_strength=0.05)}


class _InitView:
    def __init__(self, fig):
        (a, b), (c, d) = _grid(fig, 2, 2)
        self.curves = plots.RmseCurves(a, log=True, title="Training curves (log scale)")
        self.preds = plots.PredictionHistogram(b)
        self.norms = plots.NormHistogram(c, which="item")
        self.buckets = plots.NormsByBucket(d)
        self.all = (self.curves, self.preds, self.norms, self.buckets)

    def update(self, run, pinned=None):
        h = run.history
        self.curves.update(h, run.mean_rmse, run.truth_rmse, pinned.history if pinned else None)
        self.preds.update(run.extra["init_pred"])
        self.norms.update(h, pinned.history if pinned else None)
        self.buckets.update(h)

    def message(self, text):
        for p in self.all:
            p.message(text if p is self.curves else "")


def init_panel(split: Split | None = None, *, projector=False, **values) -> Panel:
    """Notebook 01's panel: init scheme, its std, embedding dim and optimizer → curves,
    initial predictions vs the rating scale, item norms at init vs after training."""
    split = split or notebook_data(cold_items=0.05)
    mean_rmse, truth_rmse = _refs(split)
    var_r = float(np.var(split.train.ratings))
    controls = _start([
        Choice("init", tuple((INIT_LABELS[k], k) for k in INIT_SCHEMES), "default", "init scheme",
               help="How the embedding tables are filled before training"),
        Slider("init_std", 1e-3, 3.0, 0.1, log=True, label="init std",
               help="Used by normal and uniform; the other schemes set their own scale"),
        Slider("dim", 4, 128, 32, step=4, integer=True, label="embedding dim"),
        Choice("optimizer", (("Adam (lr 0.02)", "adam"), ("SGD (lr 30, bias lr 0.5)", "sgd")),
               "adam", "optimizer"),
    ], values)
    defaults = {c.name: c.value for c in controls}

    def compute(v):
        cfg = TrainConfig(init=v["init"], init_std=v["init_std"], dim=int(v["dim"]),
                          **INIT_OPT[v["optimizer"]])
        h = train(split, cfg)
        tr = split.train
        pred0 = h.initial_predictions(tr.users, tr.items)
        theory = expected_initial_rmse(v["init"], int(v["dim"]), tr.n_users, tr.n_items, var_r,
                                       std=v["init_std"], value=cfg.init_value)
        return Run(h, split, mean_rmse, truth_rmse, {"init_pred": pred0, "theory": theory,
                                                     "values": dict(v)})

    def describe(run):
        h, v = run.history, run.extra["values"]
        uses_std = v["init"] in ("normal", "uniform")
        std = f" (std {v['init_std']:.3g})" if uses_std else ""
        s = (f"{INIT_LABELS[v['init']]}{std}, "
             f"dim {v['dim']}: first RMSE {h.train_rmse[0]:.2f} "
             f"(theory √(d·σ_u²σ_v² + Var r) = {run.extra['theory']:.2f}); ")
        if h.diverged:
            return s + str(h.diverged)
        return s + (f"after {len(h.epochs) - 1} epochs val {h.val_rmse[-1]:.3f} "
                    f"(train {h.train_rmse[-1]:.3f}; predicting the mean: {run.mean_rmse:.3f})")

    return Panel(controls, compute, _InitView, title="Initialization: retrain with another init",
                 describe=describe, code=lambda v: _code("init_panel", v, defaults),
                 projector=projector)


class _InitStdView:
    def __init__(self, fig):
        self.plot = plots.InitStdVsRows(fig.subplots())

    def update(self, result, pinned=None):
        self.plot.update(*result)

    def message(self, text):
        self.plot.message(text)


def init_std_panel(n_users=600, n_items=1500, *, projector=False, **values) -> Panel:
    """Init std vs number of table rows for each scheme (no training: instant)."""
    controls = _start([
        Slider("dim", 4, 256, 32, step=4, integer=True, label="embedding dim"),
        Choice("scheme", (("Xavier", "xavier_uniform"), ("Kaiming/He", "kaiming"),
                          ("normal(std)", "normal"), ("default N(0,1)", "default")),
               "xavier_uniform", "mark my tables for"),
        Slider("std", 1e-3, 1.0, 0.1, log=True, label="normal std"),
    ], values)
    defaults = {c.name: c.value for c in controls}

    def compute(v):
        return (int(v["dim"]), n_users, n_items, {"std": v["std"], "scheme": v["scheme"]})

    class View(_InitStdView):
        def update(self, result, pinned=None):
            dim, nu, ni, kw = result
            self.plot.update(dim, nu, ni, **kw)

    def describe(result):
        from .model import init_std

        dim, nu, ni, kw = result
        su, sv = (init_std(kw["scheme"], n, dim, std=kw["std"]) for n in (nu, ni))
        return (f"{kw['scheme']}, dim {dim}: user table ({nu:,} rows) std {su:.3g}, item table "
                f"({ni:,} rows) std {sv:.3g}" + (f" — {su / sv:.2f}× apart" if su != sv else ""))

    return Panel(controls, compute, View, title="How big is each init, for each table size?",
                 describe=describe, code=lambda v: _code("init_std_panel", v, defaults),
                 figsize=(9, 5), projector=projector)


# -- 02 regularization ---------------------------------------------------------------------------
REG_CHOICES = (("none", "none"), ("Adam(weight_decay=λ)", "adam_wd"), ("AdamW(weight_decay=λ)", "adamw"),
               ("L2 on the batch's rows", "l2_batch"), ("L2 on all rows", "l2_all"),
               ("L1 on the batch's rows", "l1_batch"))
# (min, max, start) of λ for each regularizer: each spans its own useful range and cliff.
REG_RANGES = {"none": (1e-4, 1.0, 0.05), "adam_wd": (1e-6, 1e-1, 1e-4),
              "adamw": (1e-3, 100.0, 1.0), "l2_batch": (1e-3, 1.0, 0.05),
              "l2_all": (1e-3, 1.0, 0.1), "l1_batch": (1e-3, 1.0, 0.03)}


def reg_config(reg, strength, epochs=15, **kw) -> TrainConfig:
    """The TrainConfig behind a regularizer choice of the panel."""
    if reg == "none":
        return TrainConfig(epochs=epochs, **kw)
    if reg == "adam_wd":
        return TrainConfig(epochs=epochs, reg="weight_decay", reg_strength=strength, **kw)
    if reg == "adamw":
        return TrainConfig(epochs=epochs, optimizer="adamw", reg="weight_decay",
                           reg_strength=strength, **kw)
    return TrainConfig(epochs=epochs, reg=reg, reg_strength=strength, **kw)


@lru_cache(maxsize=64)
def reg_sweep(reg, skewed, epochs, points=7):
    """Validation U-curve of one regularizer: final train/val RMSE over its λ range (cached)."""
    split = notebook_data(**({} if skewed else {"item_zipf": 0.0, "user_zipf": 0.0}))
    lo, hi, _ = REG_RANGES[reg]
    xs = np.logspace(np.log10(lo), np.log10(hi), points)
    val, tr = [], []
    for x in xs:
        h = train(split, reg_config(reg, float(x), epochs))
        val.append(h.val_rmse[-1] if h.ok else np.nan)
        tr.append(h.train_rmse[-1] if h.ok else np.nan)
    return xs, np.array(val), np.array(tr)


class _RegView:
    def __init__(self, fig):
        (a, b), (c, d) = _grid(fig, 2, 2)
        self.curves = plots.RmseCurves(a, title="Training curves")
        self.sweep = plots.SweepCurve(b, xlabel="λ (log scale)")
        self.spectrum = plots.Spectrum(c, true_rank=4)
        self.buckets = plots.NormsByBucket(d)
        self.all = (self.curves, self.sweep, self.spectrum, self.buckets)

    def update(self, run, pinned=None):
        h, e = run.history, run.extra
        self.curves.update(h, run.mean_rmse, run.truth_rmse, pinned.history if pinned else None)
        if e["sweep"] is None:
            self.sweep.message("No regularizer: no U-curve.\nChoose one above.")
        else:
            xs, val, tr = e["sweep"]
            self.sweep.update(xs, val, tr, current=(e["strength"], h.val_rmse[-1]),
                              mean_rmse=run.mean_rmse, xlabel=f"λ of {e['label']} (log scale)")
        self.spectrum.update(*h.factors(), pinned=pinned.history.factors() if pinned else None)
        self.buckets.update(h)

    def message(self, text):
        for p in self.all:
            p.message(text if p is self.curves else "")


def reg_panel(*, projector=False, **values) -> Panel:
    """Notebook 02's panel: regularizer, its strength (range follows the regularizer), uniform vs
    skewed data, epochs → curves, the U-curve with the live point, spectrum, norms by bucket."""
    controls = _start([
        Choice("reg", REG_CHOICES, "l2_batch", "regularizer"),
        Slider("strength", *REG_RANGES["l2_batch"][:2], REG_RANGES["l2_batch"][2], log=True,
               label="strength λ"),
        Toggle("skewed", True, "skewed data (popular items)"),
        Slider("epochs", 5, 40, 15, step=5, integer=True, label="epochs"),
    ], values)
    defaults = {c.name: c.value for c in controls}
    labels = dict((v, k) for k, v in REG_CHOICES)

    def links(v):
        lo, hi, start = REG_RANGES[v["reg"]]
        return {"strength": {"min": lo, "max": hi, "default": start}}

    def compute(v):
        split = notebook_data(**({} if v["skewed"] else {"item_zipf": 0.0, "user_zipf": 0.0}))
        mean_rmse, truth_rmse = _refs(split)
        h = train(split, reg_config(v["reg"], v["strength"], int(v["epochs"])))
        sweep = None if v["reg"] == "none" else reg_sweep(v["reg"], v["skewed"], int(v["epochs"]))
        return Run(h, split, mean_rmse, truth_rmse,
                   {"sweep": sweep, "strength": v["strength"], "label": labels[v["reg"]],
                    "values": dict(v)})

    def describe(run):
        h, v = run.history, run.extra["values"]
        what = labels[v["reg"]] + ("" if v["reg"] == "none" else f", λ = {v['strength']:.3g}")
        if h.diverged:
            return f"{what}: {h.diverged}"
        P, Q = h.factors()
        zero = (np.abs(P).max() < 1e-3) and (np.abs(Q).max() < 1e-3)
        s = (f"{what}: val {h.val_rmse[-1]:.3f} (best {h.val_rmse[h.best_epoch]:.3f} at epoch "
             f"{h.best_epoch}), train {h.train_rmse[-1]:.3f}")
        if zero:
            s += " — every embedding is ~0: only the biases are left (past the cliff)"
        elif h.val_rmse[-1] > run.mean_rmse:
            s += " — worse than predicting the mean: overfitting"
        return s

    return Panel(controls, compute, _RegView, title="Regularization: strength, kind and the U-curve",
                 describe=describe, links=links, code=lambda v: _code("reg_panel", v, defaults),
                 projector=projector)


# -- 03 skew, optimizers, normalization ----------------------------------------------------------
# A sensible lr per optimizer on the notebooks' data (tuned by a sweep; the multiplier moves
# around it). SGD gets a separate small lr for the bias terms, or it diverges.
OPT_LR = {"sgd": 100.0, "momentum": 10.0, "adam": 0.01, "rmsprop": 0.01, "adagrad": 0.1,
          "sparse_adam": 0.01}
OPT_CHOICES = (("SGD", "sgd"), ("SGD + momentum 0.9", "momentum"), ("Adam", "adam"),
               ("RMSprop", "rmsprop"), ("Adagrad", "adagrad"), ("SparseAdam (sparse)", "sparse_adam"))
NORM_CHOICES = (("none (raw 1–5)", "none"), ("centred (mean)", "center"),
                ("z-scored (StandardScaler)", "zscore"), ("centred + user/item biases", "biases"))


def skew_config(optimizer, lr_mult=1.0, normalization="biases", **kw) -> TrainConfig:
    lr = OPT_LR[optimizer] * lr_mult
    biases = normalization == "biases"
    return TrainConfig(optimizer=optimizer, lr=lr,
                       bias_lr=min(lr, 0.5) if optimizer in ("sgd", "momentum") else None,
                       normalize="center" if biases else normalization,
                       user_bias=biases, item_bias=biases, global_bias=biases,
                       reg="l2_batch", reg_strength=0.05, **kw)


class _SkewView:
    def __init__(self, fig):
        (a, b), (c, d) = _grid(fig, 2, 2)
        self.bars = plots.BucketBars(a)
        self.recovery = plots.RecoveryBars(b)
        self.scatter = plots.NormVsPopularity(c)
        self.curves = plots.RmseCurves(d)
        self.all = (self.bars, self.recovery, self.scatter, self.curves)

    def update(self, run, pinned=None):
        h, e = run.history, run.extra
        self.bars.update(e["buckets"], pinned.extra["buckets"] if pinned else None)
        self.recovery.update(e["recovery"])
        self.scatter.update(h)
        self.curves.update(h, run.mean_rmse, run.truth_rmse, pinned.history if pinned else None)

    def message(self, text):
        for p in self.all:
            p.message(text if p is self.bars else "")


def skew_panel(*, projector=False, **values) -> Panel:
    """Notebook 03's panel: popularity skew, noise, optimizer (lr × multiplier), normalization →
    RMSE per popularity bucket, recovery per bucket, norm vs popularity, curves."""
    controls = _start([
        Slider("item_zipf", 0.0, 1.5, 1.2, step=0.1, label="item popularity skew (Zipf)"),
        Slider("noise", 0.25, 1.0, 0.5, step=0.05, label="rating noise (std)"),
        Choice("optimizer", OPT_CHOICES, "adam", "optimizer"),
        Slider("lr_mult", 0.1, 10.0, 1.0, log=True, step=0.25, label="lr × (its default)"),
        Choice("normalization", NORM_CHOICES, "biases", "normalization"),
    ], values)
    defaults = {c.name: c.value for c in controls}

    def compute(v):
        split = notebook_data(item_zipf=round(float(v["item_zipf"]), 3), noise=round(float(v["noise"]), 3))
        mean_rmse, truth_rmse = _refs(split)
        h = train(split, skew_config(v["optimizer"], v["lr_mult"], v["normalization"]))
        if h.diverged and len(h.epochs) <= 1:
            raise PanelMessage(f"{h.diverged}. Nothing to show: try a smaller lr multiplier.")
        va = split.val
        pred = h.predict(va.users, va.items)
        counts = h.train_item_counts
        buckets = bucket_rmse(pred, va, counts)
        rec = recovery_r2(h.factors()[1], split.truth.item_factors, popularity_buckets(counts))
        return Run(h, split, mean_rmse, truth_rmse, {"buckets": buckets, "recovery": rec,
                                                     "values": dict(v)})

    def describe(run):
        h, v, b = run.history, run.extra["values"], run.extra["buckets"]
        s = (f"Zipf {v['item_zipf']:.1f}, {v['optimizer']} lr {OPT_LR[v['optimizer']] * v['lr_mult']:.3g}: "
             f"overall val RMSE {b['overall']:.3f}, average over items {b['per_item']:.3f}, "
             f"rare items {b['buckets']['rare']['rmse']:.3f}")
        return s + (f" — {h.diverged}" if h.diverged else "")

    return Panel(controls, compute, _SkewView, title="Skew, optimizers and normalization",
                 describe=describe, code=lambda v: _code("skew_panel", v, defaults),
                 projector=projector)


# -- 04 capstone ---------------------------------------------------------------------------------
class _CapstoneView:
    def __init__(self, fig):
        (a, b), (c, d) = _grid(fig, 2, 2)
        self.curves = plots.RmseCurves(a, log=True, title="Training curves (log scale)")
        self.bars = plots.BucketBars(b)
        self.spectrum = plots.Spectrum(c, true_rank=4)
        self.scatter = plots.NormVsPopularity(d)
        self.all = (self.curves, self.bars, self.spectrum, self.scatter)

    def update(self, run, pinned=None):
        h, n = run.history, run.split.train.n_items
        self.curves.update(h, run.mean_rmse, run.truth_rmse, pinned.history if pinned else None)
        self.bars.update(run.extra["buckets"], pinned.extra["buckets"] if pinned else None)
        P, Q = h.factors()
        self.spectrum.update(P, Q[:n])
        self.scatter.update(h)

    def message(self, text):
        for p in self.all:
            p.message(text if p is self.curves else "")


def capstone_panel(level="hard", *, projector=False, **values) -> Panel:
    """Notebook 04's fault switchboard: one toggle per planted fault (on = broken)."""
    from . import lesson04

    split = lesson04.capstone_data(level)
    mean_rmse, truth_rmse = _refs(split)
    faults = lesson04.LEVELS[level]
    controls = _start([Toggle(f, True, f"fault: {f}", help=lesson04.FAULTS[f][0]) for f in faults],
                      values)
    defaults = {c.name: c.value for c in controls}

    def compute(v):
        on = [f for f in faults if v[f] and f != "evaluation"]
        h = lesson04.run_job(split, lesson04.settings_with(on))
        if h.diverged and len(h.epochs) <= 1:
            raise PanelMessage(str(h.diverged))
        n = split.train.n_items
        b = bucket_rmse(h.predict(split.val.users, split.val.items), split.val,
                        h.train_item_counts[:n])
        return Run(h, split, mean_rmse, truth_rmse, {"buckets": b, "on": on,
                                                     "evaluation": v.get("evaluation", False)})

    def describe(run):
        b, on = run.extra["buckets"], run.extra["on"]
        s = (f"faults on: {', '.join(on) or 'none'} → overall val RMSE {b['overall']:.3f}")
        if not run.extra["evaluation"]:
            s += (f"; rare items {b['buckets']['rare']['rmse']:.3f}, popular "
                  f"{b['buckets']['popular']['rmse']:.3f}")
        else:
            s += " (the team only looks at this number)"
        return s + (f" — {run.history.diverged}" if run.history.diverged else "")

    return Panel(controls, compute, _CapstoneView, title=f"Capstone ({level}): switch faults off one by one",
                 describe=describe, code=lambda v: _code("capstone_panel", v, defaults),
                 projector=projector)
