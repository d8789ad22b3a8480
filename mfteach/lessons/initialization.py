"""Lesson 01 (initialization): its setup, experiments, live panels and exercises."""
from __future__ import annotations

import math

import numpy as np

from ..metrics import singular_values
from ..model import INIT_SCHEMES, expected_initial_rmse
from ..model import init_std as scheme_std  # (a panel parameter is called init_std)
from ..training import TrainConfig, train
from ..ui import Choice, Panel, Slider, panel_factory, plots
from .article import BatchLoader  # the article loop's data_loader (re-exported)
from .common import (Run, finished, grid, kept_run, notebook_data, prefetch, show_diverged,
                     thread_map, train_many, trained)
from .exercises import Exercise, check_init_function, close_to

__all__ = ["INIT_LABELS", "OPTIMIZER_SETUPS", "init_panel", "init_std_panel", "init_comparison",
           "cold_report", "warm_cold_rmse", "train_with_stds", "scale_under_optimizers", "SETUP",
           "BatchLoader", "first_rmse_exercise", "size_free_init_exercise", "REAL_INITS",
           "catalogue_init_exercise", "COMPARED", "comparison_configs", "prefetch_sections"]

INIT_LABELS = {"default": "default N(0,1)", "normal": "normal(std)", "uniform": "uniform(std)",
               "xavier_uniform": "Xavier uniform", "xavier_normal": "Xavier normal",
               "kaiming": "Kaiming/He", "zeros": "zeros", "constant": "constant (0.1)"}
# optimizer choice → (label, TrainConfig fields). SGD needs a large lr on embeddings (a mean loss
# divides each rating's gradient by the batch size) and a small one on biases (lesson 03).
OPTIMIZER_SETUPS = {
    "adam": ("Adam (lr 0.02)", dict(optimizer="adam", lr=0.02, reg="l2_batch", reg_strength=0.05)),
    "sgd": ("SGD (lr 30, bias lr 0.5)", dict(optimizer="sgd", lr=30.0, bias_lr=0.5, reg="l2_batch",
                                             reg_strength=0.05)),
}


# -- the panels ----------------------------------------------------------------------------------
class _InitView:
    def __init__(self, fig):
        (a, b), (c, d) = grid(fig)
        self.curves = plots.RmseCurves(a, log=True, title="Training curves (log scale)")
        self.preds = plots.PredictionHistogram(b)
        self.norms = plots.NormHistogram(c, which="item")
        self.buckets = plots.NormsByBucket(d)
        self.all = (self.curves, self.preds, self.norms, self.buckets)

    def update(self, run, pinned=None):
        h, end = run.history, finished(pinned)  # (end: A, unless it diverged)
        self.curves.update(h, run.mean_rmse, run.truth_rmse, pinned.history if pinned else None)
        self.preds.update(run.extra["init_pred"], pinned=pinned.extra["init_pred"] if pinned else None)
        if show_diverged(h, (self.norms, self.buckets)):  # (not its init as "after training")
            return
        self.norms.update(h, end.history if end else None)
        self.buckets.update(h, end.history if end else None)

    def message(self, text):
        for p in self.all:
            p.message(text if p is self.curves else "")


def _describe_init(run):
    h, v = run.history, run.extra["values"]
    std = f" (std {v['init_std']:.3g})" if v["init"] in ("normal", "uniform") else ""
    s = (f"{INIT_LABELS[v['init']]}{std}, dim {v['dim']}: first RMSE {h.train_rmse[0]:.2f} "
         f"(theory √(d·σ_u²σ_v² + Var r) = {run.extra['theory']:.2f}); ")
    if h.diverged:
        return s + str(h.diverged)
    sv = singular_values(*h.factors())
    rank = int((sv > 1e-3 * sv[0]).sum()) if sv[0] > 1e-6 else 0
    # zeros and constant inits collapse the learned matrix (rank 0 or 1): the status says so,
    # since this panel draws no spectrum
    shape = {0: "; the embeddings stayed exactly 0 (rank 0)",
             1: "; the learned rating matrix has rank 1 (the data's is 4)"}.get(rank, "")
    return s + (f"after {len(h.epochs) - 1} epochs val {h.val_rmse[-1]:.3f} "
                f"(train {h.train_rmse[-1]:.3f}; predicting the mean: {run.mean_rmse:.3f})"
                + shape)


@panel_factory
def init_panel(split=None, *, init="default", init_std=0.1, dim=32, optimizer="adam",
               projector=False) -> Panel:
    """Notebook 01's panel: init scheme, its std, embedding dim and optimizer → curves,
    initial predictions vs the rating scale, item norms at init vs after training."""
    split = split or notebook_data(cold_items=0.05)
    var_r = float(np.var(split.train.ratings))
    controls = [
        Choice("init", tuple((INIT_LABELS[k], k) for k in INIT_SCHEMES), init, "init scheme",
               help="How the embedding tables are filled before training"),
        Slider("init_std", 1e-3, 3.0, init_std, log=True, label="init std",
               help="Used by normal and uniform; the other schemes set their own scale"),
        Slider("dim", 4, 128, dim, step=4, integer=True, label="embedding dim"),
        Choice("optimizer", tuple((lab, k) for k, (lab, _) in OPTIMIZER_SETUPS.items()),
               optimizer, "optimizer"),
    ]

    def compute(v):
        cfg = TrainConfig(init=v["init"], init_std=v["init_std"], dim=int(v["dim"]),
                          **OPTIMIZER_SETUPS[v["optimizer"]][1])
        h = trained(split, cfg)  # shared with the notebook's cells that ask for the same run
        tr = split.train
        theory = expected_initial_rmse(v["init"], int(v["dim"]), tr.n_users, tr.n_items, var_r,
                                       std=v["init_std"], value=cfg.init_value)
        return Run.of(h, split, init_pred=h.initial_predictions(tr.users, tr.items),
                      theory=theory, values=dict(v))

    def links(v, before=None):  # the std slider matters only for the schemes that take a std
        return {"init_std": {"disabled": v["init"] not in ("normal", "uniform")}}

    return Panel(controls, compute, _InitView, title="Initialization: retrain with another init",
                 describe=_describe_init, links=links, projector=projector)


class _InitStdView:
    def __init__(self, fig):
        self.plot = plots.InitStdVsRows(fig.subplots())

    def update(self, result, pinned=None):
        dim, nu, ni, kw = result
        self.plot.update(dim, nu, ni, **kw)

    def message(self, text):
        self.plot.message(text)


@panel_factory
def init_std_panel(n_users=600, n_items=1500, *, dim=32, init="xavier_uniform", init_std=0.1,
                   projector=False) -> Panel:
    """Init std vs number of table rows for each scheme (no training: instant)."""
    for pname, n in (("n_users", n_users), ("n_items", n_items)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{pname} must be a positive integer, got {n!r}")
    controls = [
        Slider("dim", 4, 256, dim, step=4, integer=True, label="embedding dim"),
        Choice("init", (("Xavier", "xavier_uniform"), ("Kaiming/He", "kaiming"),
                        ("normal(std)", "normal"), ("default N(0,1)", "default")),
               init, "mark my tables for"),
        Slider("init_std", 1e-3, 1.0, init_std, log=True, label="normal std"),
    ]

    def compute(v):
        return (int(v["dim"]), int(n_users), int(n_items),
                {"std": v["init_std"], "scheme": v["init"]})

    def describe(result):
        dim, nu, ni, kw = result
        su, sv = (scheme_std(kw["scheme"], n, dim, std=kw["std"]) for n in (nu, ni))
        return (f"{kw['scheme']}, dim {dim}: user table ({nu:,} rows) std {su:.3g}, item table "
                f"({ni:,} rows) std {sv:.3g}" + (f" — {su / sv:.2f}× apart" if su != sv else ""))

    return Panel(controls, compute, _InitStdView, title="How big is each init, for each table size?",
                 describe=describe, figsize=(9, 5), projector=projector)


# -- experiments ---------------------------------------------------------------------------------
SETUP = dict(reg="l2_batch", reg_strength=0.05)   # sections 4–7's setup (the notebook's `base`)
COMPARED = (("default", {}), ("xavier_uniform", {}), ("kaiming", {}), ("normal", {"init_std": 0.1}),
            ("normal", {"init_std": 0.01}), ("zeros", {}), ("constant", {}))
LONG_EPOCHS = 150                                 # section 4: ten times the steps


def comparison_configs(schemes=COMPARED, **train_kw) -> list:
    """The TrainConfig of each (scheme, its settings) of ``init_comparison``."""
    return [TrainConfig(init=scheme, **kw, **train_kw) for scheme, kw in schemes]


REAL_INITS = {"N(0,1)": dict(init="default"), "Xavier": dict(init="xavier_uniform"),
              "N(0,0.1)": dict(init="normal", init_std=0.1)}   # section 9, MovieLens


def prefetch_sections(split, real=None) -> int:
    """Start sections 4 and 5's runs on ``split`` now, in the background (``prefetch``): the
    long N(0,1) run first (the notebook's longest, ~1.5 s), then ``init_comparison``'s; then
    section 9's on ``real`` (MovieLens), if given. Run All reaches them with most done; the same
    numbers as training them in their cells."""
    n = prefetch(split, [TrainConfig(init="default", epochs=LONG_EPOCHS, **SETUP),
                         *comparison_configs(**SETUP)])
    if real is not None:
        n += prefetch(real, [TrainConfig(**SETUP, **kw) for kw in REAL_INITS.values()])
    return n


def init_comparison(split, schemes=COMPARED, **train_kw):
    """Train once per scheme (two at a time; a run the notebook already has is reused); rows of
    (scheme, its std on the item table, first/train/val RMSE)."""
    rows = []
    runs = train_many(split, comparison_configs(schemes, **train_kw))
    for (scheme, kw), h in zip(schemes, runs):
        std = scheme_std(scheme, split.train.n_items, h.config.dim, std=kw.get("init_std", 0.1))
        name = scheme + (f"({kw['init_std']:g})" if kw else "")
        rows.append({"init": name, "item std": round(std, 4), "first RMSE": round(h.train_rmse[0], 2),
                     "train RMSE": round(h.train_rmse[-1], 3), "val RMSE": round(h.val_rmse[-1], 3)})
    return rows


def cold_report(split) -> dict:
    """How many items are cold, what share of the validation ratings they carry, and how popular
    the most popular of them is (its ratings in val + test, and its popularity rank overall)."""
    cold = np.asarray(split.train.cold_items)
    items = np.concatenate([split.train.items, split.val.items, split.test.items])
    counts = np.bincount(items, minlength=split.train.n_items)
    top = cold[np.argmax(counts[cold])] if len(cold) else None
    return {"cold items": len(cold), "items": split.train.n_items,
            "val share": float(np.isin(split.val.items, cold).mean()),
            "top cold ratings": int(counts[top]) if top is not None else 0,
            "top cold rank": int((counts > counts[top]).sum()) + 1 if top is not None else 0}


def warm_cold_rmse(history, split) -> tuple:
    """(warm, cold) validation RMSE: items with / without training ratings."""
    va = split.val
    err2 = (history.predict(va.users, va.items) - va.ratings) ** 2
    cold = np.isin(va.items, split.train.cold_items)
    return tuple(float(np.sqrt(err2[m].mean())) if m.any() else float("nan")
                 for m in (~cold, cold))


def train_with_stds(split, user_std, item_std, optimizer="adam", *, seed=0, lr=None, **kw):
    """Train with N(0, user_std²) users, N(0, item_std²) items (two scales, as Xavier gives two
    tables of different sizes) under this lesson's Adam or SGD setup; ``lr``: the tables' lr."""
    import torch

    user_std, item_std = _std("user_std", user_std), _std("item_std", item_std)
    new_lr = {} if lr is None else {"lr": float(lr)}  # (kept in the config: it keys the kept run)
    cfg = {**OPTIMIZER_SETUPS[optimizer][1], **new_lr}

    def make(model):
        g = torch.Generator().manual_seed(seed + 7)
        with torch.no_grad():
            model.user_factors.weight.normal_(0.0, user_std, generator=g)
            model.item_factors.weight.normal_(0.0, item_std, generator=g)
        groups = [{"params": model.factor_parameters()},
                  {"params": model.bias_parameters(), "lr": cfg.get("bias_lr") or cfg["lr"]}]
        cls = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
        try:
            return cls(groups, lr=cfg["lr"], fused=True)  # faster on CPU where it exists
        except (RuntimeError, TypeError, ValueError):
            return cls(groups, lr=cfg["lr"])

    config = TrainConfig(reg=cfg["reg"], reg_strength=cfg["reg_strength"], seed=seed, **new_lr, **kw)
    return kept_run(split, f"initialization.train_with_stds user_std={user_std!r} "
                           f"item_std={item_std!r} optimizer={optimizer!r}", config,
                    lambda: train(split, config, make_optimizer=make))


def _std(pname, v) -> float:
    """A std as a plain float: its key on disk (runcache) is then its exact value (the repr of a
    0-d tensor rounds it: 0.05 and 0.05004 would share a kept run)."""
    try:
        if isinstance(v, (str, bytes)):
            raise TypeError
        f = float(v)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{pname} must be a number, got {v!r}") from None
    if not f >= 0 or f == float("inf"):
        raise ValueError(f"{pname} must be a finite number >= 0, got {v!r}")
    return f


# Xavier on a 5,000-user table and a 1,000,000-item table (dim 32): √(2 / (rows + dim)).
XAVIER_1M = (math.sqrt(2 / (5_000 + 32)), math.sqrt(2 / (1_000_000 + 32)))
SCALES = {"N(0, 0.05) both": (0.05, 0.05), "Xavier's 5k/1M scales": XAVIER_1M,
          "N(0, 1e-5) both": (1e-5, 1e-5)}


def scale_under_optimizers(split, seed=0) -> list:
    """Validation RMSE of three init scales (one shared, Xavier's mismatched pair for a 1M-item
    catalogue, a tiny one) under Adam and under SGD: rows for a table (runs two at a time)."""
    jobs = [(name, o) for name in SCALES for o in ("adam", "sgd")]
    vals = dict(zip(jobs, thread_map(lambda j: train_with_stds(split, *SCALES[j[0]], j[1], seed=seed)
                                     .val_rmse[-1], jobs)))
    return [{"init": name, "user std": f"{su:.2g}", "item std": f"{sv:.2g}",
             **{OPTIMIZER_SETUPS[o][0]: round(vals[name, o], 3) for o in ("adam", "sgd")}}
            for name, (su, sv) in SCALES.items()]


# -- exercises -----------------------------------------------------------------------------------


def first_rmse_exercise(std=0.5, dim=64, rating_var=0.88) -> Exercise:
    """Compute by hand the first RMSE of N(0, std²) embeddings of size dim."""
    target = math.sqrt(dim * std ** 4 + rating_var)
    return Exercise(
        "first RMSE by hand",
        f"Both tables start N(0, {std}²), dim = {dim}, the ratings' variance around their mean is "
        f"{rating_var}. What RMSE do you expect before the first step?",
        close_to(target, rel=0.03, what="your first RMSE", slips=(
            (target ** 2, "that is the mean squared error — take the square root"),
            (math.sqrt(dim * std ** 2 + rating_var), "you used σ² per product; a product of two "
             "independent N(0, σ²) numbers has variance σ²·σ² = σ⁴"),
            (math.sqrt(dim) * std ** 2, "you left out the ratings' own variance Var(r)"),
            (math.sqrt(std ** 4 + rating_var), "<p, q> sums dim products: multiply σ⁴ by dim"),
            (math.sqrt(dim) * std ** 2 + math.sqrt(rating_var), "standard deviations do not add: "
             "add the variances, then take one square root"))),
        hints=["Each prediction is the mean plus <p, q>, a sum of dim products p_k·q_k.",
               "One product of two independent N(0, σ²) numbers has variance σ⁴, so <p, q> has "
               "variance dim·σ⁴; the rating's own deviation adds Var(r).",
               "RMSE = √(dim·σ⁴ + Var(r))."],
        solution=f"import math\nmath.sqrt({dim} * {std}**4 + {rating_var})  # = {target:.3f}")


def _mean_problem(fn, dim, rows=20_000):
    """A message if ``fn`` fills a (rows, dim) table with a clearly non-zero mean, else None."""
    import torch

    from .exercises import _constant_problem

    w = torch.full((rows, dim), float("nan"))
    with torch.no_grad():
        fn(w)
    if not torch.isfinite(w).all():
        return None  # the std checks below say what is wrong
    same = _constant_problem(w)
    if same:
        return same
    mean, std = w.mean().item(), w.std().item()
    if abs(mean) > 0.1 * max(std, 1e-12):
        return (f"your weights have mean {mean:.3g} (std {std:.3g}): centre them on 0 — a shared "
                f"offset gives every row the same direction, like the constant init of section 6")
    return None


def size_free_init_exercise(dim=32) -> Exercise:
    """Write an init with Xavier's scale for a dim × dim table, whatever the number of rows."""
    target = round(1 / math.sqrt(dim), 4)
    std_check = check_init_function(target, dim=dim)

    def check(fn):
        if callable(fn):
            bad = _mean_problem(fn, dim)
            if bad:
                return False, bad
        return std_check(fn)

    return Exercise(
        "Xavier-like scale, independent of the table size",
        f"Write `def my_init(w): ...` that fills a (rows, {dim}) weight in place with mean 0 and "
        f"std 1/√dim = {target} (what Xavier gives a square dim × dim table) for ANY number of "
        f"rows. One line of PyTorch.",
        check,
        hints=["Xavier's std is √(2/(fan_in + fan_out)) and PyTorch takes fan_out = rows.",
               "Take the rows out of the formula: use fan_in = fan_out = dim.",
               "torch.nn.init.normal_(w, mean=0.0, std=...) fills w in place."],
        solution="import math, torch\n\ndef my_init(w):\n    torch.nn.init.normal_(w, std=1 / math.sqrt(w.shape[1]))")


def catalogue_init_exercise(dim=32) -> Exercise:
    """Pick an init for a 1M-item catalogue (and a 5k-user table) that is safe under Adam AND
    under SGD, and justify it. The reasons name the optimizer they hold for."""

    def check(fn):
        import torch

        if not callable(fn):
            return False, "pass a function that takes a weight tensor and initialises it in place"
        bad = _mean_problem(fn, dim)
        if bad:
            return False, bad
        stds = []
        for n in (5_000, 1_000_000):
            w = torch.full((n, dim), float("nan"))
            with torch.no_grad():
                fn(w)
            if not torch.isfinite(w).all():
                return False, (f"on a ({n:,}, {dim}) table some weights were not set: initialise "
                               f"the tensor in place, e.g. torch.nn.init.normal_(w, std=...)")
            stds.append(w.std().item())
        lo, hi = min(stds), max(stds)
        if hi > 0.3:
            return False, (f"std {hi:.3f} is large: the first predictions are off by about "
                           f"√dim·σ² = {math.sqrt(dim) * hi * hi:.2f} rating points "
                           f"(claim 01.first-rmse), and rows nothing touches keep that noise "
                           f"(claim 01.cold-unchanged)")
        if hi > 1.5 * lo:
            return False, (f"std {stds[0]:.4f} on the 5k-row table but {stds[1]:.4f} on the "
                           f"1M-row table: different scales, as Xavier gives. Harmless under Adam "
                           f"(claim 01.xavier-adam); under SGD at lr 30 the small table ends behind "
                           f"(claim 01.xavier-sgd), a cost a larger lr or more epochs hide (claims "
                           f"01.sgd-lr100, 01.sgd-catches-up): pick one scale for both tables")
        if lo < 0.0195:  # 0.02, less the sampling error of a std measured on 160k weights
            return False, (f"std {lo:.1e}: under Adam a small init is fine (claim 01.xavier-adam), "
                           f"but under SGD the gradient of <p, q> is the other table's row, so "
                           f"small rows learn slowly (claim 01.xavier-sgd)")
        if hi > 0.18:  # (0.15 costs under 0.015; from ≈ 0.2 the error climbs: 01.std-sweep)
            return False, (f"std {hi:.3f} is larger than it needs to be: from about 0.2 the "
                           f"final error starts to climb (claim 01.std-sweep), and with a small "
                           f"lr the larger std costs more (claim 01.small-lr-smaller-std); aim for "
                           f"0.05–0.1")
        return True, (f"std ≈ {lo:.3g} on both tables: small, the same for 5k and 1M rows — no "
                      f"mismatch between the tables under Adam or SGD")

    return Exercise(
        "an init for a 1M-item catalogue",
        "Your shop has 5,000 users and 1,000,000 items, dim 32, and you may train with Adam or "
        "with plain SGD. Write `def big_init(w): ...` (mean 0) that is safe under both, and use "
        "the panels and the Adam-vs-SGD table to justify it: what std does Xavier give each "
        "table, and when does that matter?",
        check,
        hints=["Look at the init-std panel: where is Xavier at 1M rows?",
               "Under Adam the scale hardly matters (claim 01.xavier-adam); under SGD both a tiny "
               "and a mismatched scale cost (claim 01.xavier-sgd).",
               "One std, about 0.05–0.1, for both tables: it must not depend on the rows."],
        solution="import torch\n\ndef big_init(w):\n    torch.nn.init.normal_(w, std=0.05)")
