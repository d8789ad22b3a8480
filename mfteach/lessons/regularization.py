"""Lesson 02 (regularization): its regularizer table, experiments, live panel and exercises."""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ..metrics import norm_popularity_spearman
from ..preprocessing import BUCKETS, popularity_buckets
from ..training import TrainConfig
from ..ui import Choice, Panel, Slider, Sweep, Toggle, panel_factory, plots
from ..ui.progress import progress_bar
from .common import Run, epochs_at_hand, finished, grid, notebook_data, prefetch, train_many, trained
from .exercises import Exercise

__all__ = ["REGULARIZERS", "reg_config", "reg_sweep", "u_point", "sweep_strengths", "reg_panel", "critical_weight_decay",
           "zero_cliff", "article_config",
           "norm_popularity_by_regularizer", "bucket_norm_ratios", "penalty_step_exercise",
           "best_strength_exercise", "first_zeroed_exercise", "prefetch_sections"]


class Regularizer(NamedTuple):
    label: str
    fields: dict          # the TrainConfig fields this choice sets (λ goes to reg_strength)
    lo: float             # the panel's λ range …
    hi: float
    start: float          # … and where it starts
    best: float           # near the best λ on the notebooks' skewed data (15 epochs, Adam 0.02)


# regularizer choice → what it sets; every caller (panel, sweeps, exercises) reads this table.
REGULARIZERS = {
    "none": Regularizer("none", dict(reg="none"), 1e-4, 1.0, 0.05, 0.0),
    "adam_weight_decay": Regularizer("Adam(weight_decay=λ)", dict(optimizer="adam", reg="weight_decay"),
                                     1e-6, 1e-1, 1e-4, 3e-4),
    # AdamW shrinks each weight by lr·λ per step: up to λ = 20 (lr·λ = 0.4 at lr 0.02); past
    # lr·λ = 1 every step would flip the sign of every weight, which is not regularization.
    "adamw": Regularizer("AdamW(weight_decay=λ)", dict(optimizer="adamw", reg="weight_decay"),
                         1e-3, 20.0, 1.0, 1.0),
    "l2_batch": Regularizer("L2 on the batch's rows", dict(reg="l2_batch"), 1e-3, 1.0, 0.05, 0.1),
    "l2_all": Regularizer("L2 on all rows", dict(reg="l2_all"), 1e-3, 1.0, 0.1, 0.1),
    "l1_batch": Regularizer("L1 on the batch's rows", dict(reg="l1_batch"), 1e-3, 1.0, 0.03, 0.03),
}


def reg_config(reg, reg_strength, epochs=15, **kw) -> TrainConfig:
    """The TrainConfig of a regularizer choice (a key of REGULARIZERS) at strength λ."""
    if reg not in REGULARIZERS:
        raise ValueError(f"reg must be one of {list(REGULARIZERS)}, got {reg!r}")
    fields = REGULARIZERS[reg].fields
    lam = 0.0 if fields["reg"] == "none" else float(reg_strength)
    return TrainConfig(epochs=epochs, reg_strength=lam, **{**fields, **kw})


def sweep_strengths(reg, points=7) -> np.ndarray:
    """The λ values of a regularizer's U-curve: ``points`` log-spaced over its panel range."""
    r = REGULARIZERS[reg]
    return np.logspace(np.log10(r.lo), np.log10(r.hi), points)


@lru_cache(maxsize=1024)
def u_point(reg, skewed, epochs, lam) -> tuple:
    """One point of a U-curve: (final val RMSE, final train RMSE) of one regularizer at strength
    λ (NaN, NaN when training diverged; cached). Seeded from its settings alone, so the same
    point gives the same numbers whichever sweep asked for it and in whatever order."""
    h = trained(_data(skewed), reg_config(reg, float(lam), int(epochs)))
    return (h.val_rmse[-1], h.train_rmse[-1]) if h.ok else (np.nan, np.nan)


def reg_sweep(reg, skewed=True, epochs=15, points=7, *, progress="auto"):
    """Validation U-curve of one regularizer: (λs, final val RMSEs, final train RMSEs) over its λ
    range. Points already computed (by a panel, or an earlier call) are not trained again.
    ``progress``: a progress bar ("auto": when interactive; see ``progress_bar``)."""
    if reg not in REGULARIZERS:
        raise ValueError(f"reg must be one of {list(REGULARIZERS)}, got {reg!r}")
    xs = sweep_strengths(reg, points)
    out = []
    with progress_bar(len(xs), f"U-curve {reg}", progress) as bar:
        for x in xs:
            out.append(u_point(reg, bool(skewed), int(epochs), float(x)))
            bar.update(1)
    return xs, np.array([v for v, _ in out]), np.array([t for _, t in out])


def _data(skewed):
    return notebook_data() if skewed else notebook_data(item_zipf=0.0, user_zipf=0.0)


# -- the panel -----------------------------------------------------------------------------------
class _RegView:
    def __init__(self, fig):
        (a, b), (c, d) = grid(fig)
        self.curves = plots.RmseCurves(a, title="Training curves")
        self.sweep = plots.SweepCurve(b, xlabel="λ (log scale)")
        self.spectrum = plots.Spectrum(c, true_rank=4)
        self.buckets = plots.NormsByBucket(d)
        self.all = (self.curves, self.sweep, self.spectrum, self.buckets)
        self.sweep_axes = [b]  # what a sweep point changes (redrawn alone as points fill in)
        self.titles = {p: (p._own_title(), look) for p, look in (  # and at a first look:
            (self.curves, "Training curves: epoch {k} of {n}, still training"), (self.sweep, None),
            (self.spectrum, "Singular values at epoch {k}"), (self.buckets, "Item norms to epoch {k}"))}

    def update(self, run, pinned=None, sweep=None, epochs=None):
        h, k, end = run.history, len(run.history.epochs) - 1, finished(pinned)
        for p, (first, look) in self.titles.items():  # a first look says which epoch it shows
            p.ax.set_title(look.format(k=k, n=epochs) if look and epochs is not None else first)
        self.curves.update(h, run.mean_rmse, run.truth_rmse, pinned.history if pinned else None,
                           epochs=epochs)
        if sweep is None:
            self.sweep.message("No regularizer: no U-curve.\nChoose one above.")
        else:
            self.update_sweep(run, pinned, sweep, live=epochs is None)
        self.spectrum.update(*h.factors(), pinned=end.history.factors() if end else None)
        self.buckets.update(h, end.history if end else None, epochs=epochs)

    def update_preview(self, run, pinned, values, sweep):
        """A first look while a longer run trains (ui/preview.py): no live point on its U-curve."""
        self.update(run, pinned, sweep, epochs=int(values["epochs"]))

    def update_sweep(self, run, pinned, sweep, live=True):
        """The U-curve so far (unfinished points wait as gaps); ``live``: this run marked on it."""
        e, got = run.extra, [sweep.done.get(p, (np.nan, np.nan)) for p in sweep.points]
        same = pinned is not None and pinned.extra["label"] == e["label"]  # A on this λ axis
        self.sweep.update([p[-1] for p in sweep.points], [v for v, _ in got], [t for _, t in got],
                          current=(e["reg_strength"], run.history.val_rmse[-1]) if live else None,
                          mean_rmse=run.mean_rmse, xlabel=f"λ of {e['label']} (log scale)",
                          pinned=(pinned.extra["reg_strength"], pinned.history.val_rmse[-1])
                          if same and live else None, pending=sum(p not in sweep.done for p in sweep.points))
        return self.sweep_axes

    def message(self, text):  # (also after a first look: its titles go)
        for p in self.all:
            p.ax.set_title(self.titles[p][0])
            p.message(text if p is self.curves else "")


def _describe_reg(run):
    h, v = run.history, run.extra["values"]
    what = REGULARIZERS[v["reg"]].label + ("" if v["reg"] == "none" else f", λ = {v['reg_strength']:.3g}")
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


@panel_factory
def reg_panel(*, reg="l2_batch", reg_strength=0.05, skewed=True, epochs=15,
              projector=False) -> Panel:
    """Notebook 02's panel: regularizer, its strength (range follows the regularizer), uniform vs
    skewed data, epochs → curves, the U-curve with the live point, spectrum, norms by bucket."""
    if reg not in REGULARIZERS:
        raise ValueError(f"reg must be one of {list(REGULARIZERS)}, got {reg!r}")
    r = REGULARIZERS[reg]
    if not r.lo <= reg_strength <= r.hi:
        raise ValueError(f"reg_strength for {reg!r} must be in {r.lo:g}..{r.hi:g}, got {reg_strength!r}")
    controls = [
        Choice("reg", tuple((x.label, k) for k, x in REGULARIZERS.items()), reg, "regularizer"),
        Slider("reg_strength", r.lo, r.hi, reg_strength, log=True, label="strength λ"),
        Toggle("skewed", skewed, "skewed data (popular items)"),
        Slider("epochs", 5, 40, epochs, step=5, integer=True, label="epochs"),
    ]

    def links(v, before=None):  # before: the values of the last move (None: none yet)
        x = REGULARIZERS[v["reg"]]
        change = {"min": x.lo, "max": x.hi, "default": x.start, "disabled": v["reg"] == "none"}
        if before is not None and v["reg"] != before["reg"]:  # a new regularizer starts at its
            change["value"] = x.start  # own λ: one λ does not fit all (0.05 is far past Adam
        return {"reg_strength": change}  # weight_decay's cliff)

    def compute(v):
        split = _data(v["skewed"])
        h = trained(split, reg_config(v["reg"], v["reg_strength"], int(v["epochs"])))
        return Run.of(h, split, reg_strength=v["reg_strength"],
                      label=REGULARIZERS[v["reg"]].label, values=dict(v))

    def sweep(v):  # the U-curve: drawn after the current run, filled in point by point
        if v["reg"] == "none":
            return None
        points = tuple((v["reg"], bool(v["skewed"]), int(v["epochs"]), float(x))
                       for x in sweep_strengths(v["reg"]))
        return Sweep(points, lambda point: u_point(*point))

    def preview(v, worth=20):  # ≥ 20 epochs to train (≈ 0.3 s): a first look at the shorter run
        e = int(v["epochs"])     # it goes on from, else its first 5 (short runs: no ~1 ms hash)
        have = e if e < worth else epochs_at_hand(
            _data(v["skewed"]), reg_config(v["reg"], v["reg_strength"], e))
        return {**v, "epochs": have or 5} if e - have >= worth else None

    return Panel(controls, compute, _RegView, title="Regularization: strength, kind and the U-curve",
                 describe=_describe_reg, links=links, projector=projector, sweep=sweep,
                 preview=preview)


# -- experiments ---------------------------------------------------------------------------------
def critical_weight_decay(split, history) -> dict:
    """λ past which all-zero embeddings are a stable optimum of mean loss + (λ/2)‖w‖².

    At p = q = 0 the data term's second-order change is -(2/N)·pᵀ E q, where E is the
    (n_users × n_items) matrix of residuals of the biases-only model and N the number of
    training ratings; the penalty adds (λ/2)(‖p‖² + ‖q‖²). Zero is a minimum exactly when
    λ ≥ 2·σ_max(E)/N: the threshold is of order 1/N. ``history``: a run whose embeddings
    collapsed (its biases are the biases-only model).
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import svds

    tr = split.train
    e = tr.ratings - history.predict(tr.users, tr.items)  # residuals of the biases-only model
    E = sp.coo_matrix((e, (tr.users, tr.items)), shape=(tr.n_users, tr.n_items)).tocsr()
    sigma = float(svds(E, k=1, return_singular_vectors=False, random_state=0)[0])
    return {"sigma_max": sigma, "N": len(tr), "lambda_star": 2 * sigma / len(tr)}


def zero_cliff(ratings, offset) -> float:
    """λ* = 2·σ_max(E)/N for the residuals E = ratings − offset (a number, e.g. 0 for the article's
    model on raw ratings, or the mean once they are centred): the weight decay past which all-zero
    embeddings are the optimum of a model whose only other part predicts ``offset``."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import svds

    E = sp.coo_matrix((ratings.ratings - offset, (ratings.users, ratings.items)),
                      shape=(ratings.n_users, ratings.n_items)).tocsr()
    return 2 * float(svds(E, k=1, return_singular_vectors=False, random_state=0)[0]) / len(ratings)


def article_config(centre=False, biases=False, weight_decay=0.01, epochs=20, seed=0) -> TrainConfig:
    """The article's Example 1+2 as a TrainConfig (dim 64, Xavier, Adam(lr=0.001,
    weight_decay=0.01) on every parameter, batches of 1024, raw ratings, no biases), with the
    changes the notebook makes one at a time: ``centre`` the ratings, add ``biases``."""
    return TrainConfig(dim=64, init="xavier_uniform", optimizer="adam", lr=1e-3, batch_size=1024,
                       reg="weight_decay" if weight_decay else "none", reg_strength=weight_decay,
                       normalize="center" if centre else "none", user_bias=biases,
                       item_bias=biases, global_bias=biases, epochs=epochs, seed=seed)


# What notebook 02's cells train after its data cell, in their order (tests/test_lessons.py holds
# these to the notebook's own lists): started there by ``prefetch_sections``.
OVERFIT = (("none", 0), ("l2_batch", 0.1), ("l2_batch", 0.5))   # section 2, uniform data
CLIFF_LAMS, CLIFF_EPOCHS = (5e-4, 1e-3, 2e-3, 3e-3, 1e-2), 40    # section 4's table, both data sets
ADAMW = (("none", 0), ("adamw", 0.01), ("adamw", 1.0))           # section 5
L1_PAIRS = (("l1_batch", 0.01), ("l1_batch", 0.03), ("l1_batch", 0.1), ("l2_batch", 0.05))
SPECTRUM_LAMS = (0.0, 0.01, 0.03, 0.1, 0.2, 0.5)                 # section 8
REAL_LAMS = (0.01, 0.03, 0.1, 0.3, 1.0)                          # section 10, MovieLens (+ "none")


def prefetch_sections(skewed, uniform, real=None) -> int:
    """Start the runs of notebook 02's sections 2-10 now, in the background, in the order its
    cells ask for them (``prefetch``; a second process on Linux): Run All and a student reading
    reach most of them done. The same numbers as training them in their cells. ``real``: the
    MovieLens split of section 10."""
    def cfgs(pairs, **kw):
        return [reg_config(reg, lam, **kw) for reg, lam in pairs]

    jobs = [(uniform, cfgs(OVERFIT)),
            # the panel and its U-curve: on seed 0's skewed data, whatever the notebook's SEED
            (notebook_data(), cfgs([("l2_batch", lam) for lam in (0.05, *sweep_strengths("l2_batch"))])),
            *[(d, cfgs([("adam_weight_decay", 1e-2)])) for d in (uniform, skewed)],
            *[(d, cfgs([("adam_weight_decay", lam) for lam in CLIFF_LAMS], epochs=CLIFF_EPOCHS))
              for d in (uniform, skewed)],
            (skewed, cfgs(ADAMW) + cfgs(L1_PAIRS)
             + cfgs([(k, r.best) for k, r in REGULARIZERS.items()] + [("l2_batch", 0.05)])
             + cfgs([("l2_batch" if lam else "none", lam) for lam in SPECTRUM_LAMS]))]
    if real is not None:
        jobs.append((real, cfgs([("l2_batch", lam) for lam in REAL_LAMS] + [("none", 0)])))
    return sum(prefetch(data, configs) for data, configs in jobs)


def norm_popularity_by_regularizer(split, strengths=None, epochs=15) -> dict:
    """Spearman ρ(item norm, training count) after training with each regularizer."""
    strengths = strengths or {k: r.best for k, r in REGULARIZERS.items()}
    out = {}
    runs = train_many(split, [reg_config(reg, lam, epochs) for reg, lam in strengths.items()])
    for reg, h in zip(strengths, runs):
        c = h.train_item_counts
        norms = np.linalg.norm(h.factors()[1], axis=1)
        out[reg] = norm_popularity_spearman(norms[c > 0], c[c > 0])
    return out


def bucket_norm_ratios(history) -> dict:
    """Mean item norm after training / at init, per popularity bucket (which rows shrank)."""
    b = popularity_buckets(history.train_item_counts)
    first, last = history.item_norms[0], history.item_norms[-1]
    return {name: float(last[b == k].mean() / first[b == k].mean())
            for k, name in enumerate(BUCKETS) if (b == k).any()}


# -- exercises -----------------------------------------------------------------------------------
def penalty_step_exercise() -> Exercise:
    """Write a training step with the classic MF penalty on the rows in the batch."""
    from .checks_regularization import check_penalty_step as check

    return Exercise(
        "the classic MF penalty, by hand",
        "Write train_step(model, opt, u, i, r, lam): predictions model(u, i), loss = mean squared "
        "error + lam · mean over the batch of (‖p_u‖² + ‖q_i‖²) with p_u = "
        "model.user_factors(u), q_i = model.item_factors(i); then backward and step.",
        check,
        hints=["p = model.user_factors(u) gives the (B, dim) rows of the users in the batch.",
               "(p ** 2).sum(1) is each row's squared norm, shape (B,); .mean() averages over "
               "the batch.",
               "loss = ((model(u, i) - r) ** 2).mean() + lam * ((p**2).sum(1) + (q**2).sum(1)).mean()"],
        solution=("def train_step(model, opt, u, i, r, lam):\n"
                  "    p, q = model.user_factors(u), model.item_factors(i)   # (B, dim) each\n"
                  "    mse = ((model(u, i) - r) ** 2).mean()\n"
                  "    penalty = lam * ((p ** 2).sum(1) + (q ** 2).sum(1)).mean()\n"
                  "    loss = mse + penalty\n"
                  "    opt.zero_grad(); loss.backward(); opt.step()\n"
                  "    return loss.item()"))


def best_strength_exercise(reg="l2_batch", tol=0.01) -> Exercise:
    """Find a strength within ``tol`` of the best validation RMSE of a sweep."""
    r = REGULARIZERS[reg]

    def check(lam):
        if isinstance(lam, str):
            return False, f"give λ as a number (e.g. 0.05), not the string {lam!r}"
        try:
            lam = float(lam)
        except (TypeError, ValueError):
            return False, f"give λ as one number, got {type(lam).__name__}"
        if not np.isfinite(lam):
            return False, "λ must be a finite number"
        if lam == 0:
            return False, "λ = 0 is no regularizer at all: the U-curve's left end, overfitting"
        if lam < 0:
            return False, f"λ = {lam:.3g} < 0 rewards large weights: λ must be > 0"
        xs, val, _ = reg_sweep(reg, True, 15, progress=False)
        best = float(np.nanmin(val))
        h = trained(notebook_data(), reg_config(reg, lam, 15))
        got = h.val_rmse[-1] if h.ok else float("inf")
        if got <= best + tol:
            return True, f"λ = {lam:.3g} gives val RMSE {got:.3f} (sweep's best {best:.3f})"
        where = (f" (outside this regularizer's range {r.lo:g}–{r.hi:g}: is it another "
                 f"regularizer's λ?)" if not r.lo <= lam <= r.hi else "")
        if not h.ok:
            return False, f"λ = {lam:.3g}: training diverged{where}"
        side = ("too weak (overfitting)" if lam < xs[int(np.nanargmin(val))]
                else "too strong (shrinks everything)")
        return False, (f"λ = {lam:.3g} gives {got:.3f}, more than {tol:g} above the best "
                       f"{best:.3f}: {side}{where}")

    return Exercise(
        f"the best strength for {reg}",
        f"On the skewed data with 15 epochs, find a λ for '{reg}' whose validation RMSE is "
        f"within {tol} of the best. Use the panel's U-curve.",
        check,
        hints=["Set the panel's regularizer, then read the green star on the U-curve.",
               "Anything on the flat bottom of the U counts."],
        solution="lam = 0.1  # the bottom of the U-curve for L2 on the batch's rows (claim 02.ex2-solution)")


def first_zeroed_exercise() -> Exercise:
    """Predict which rows Adam(weight_decay) shrinks first, then check it with an experiment."""
    measured = {}

    def check(answer):
        if not isinstance(answer, str):
            return False, f"answer with a bucket name as a string, one of {BUCKETS}"
        answer = answer.strip().strip("'\"").lower().removesuffix(" items").removesuffix(" rows")
        if answer not in BUCKETS:
            return False, f"answer one of {BUCKETS} (the popularity buckets of notebook 02)"
        if not measured:
            h = trained(notebook_data(cold_items=0.05), reg_config("adam_weight_decay", 1e-4, 5))
            measured.update(bucket_norm_ratios(h))
        ratios = measured
        first = min(ratios, key=ratios.get)
        shown = ", ".join(f"{k}: {v:.2f}×" for k, v in ratios.items())
        if answer == first:
            return True, (f"after 5 epochs of Adam(weight_decay=1e-4) the mean norm went to "
                          f"{shown} of its start: '{first}' rows shrink first")
        why = {"popular": "the decay is not biggest on the biggest rows: Adam divides every "
                          "gradient by its running size, and popular rows' data gradients keep "
                          "that size large",
               "rare": "close, but rows with a few ratings still get data gradients; rows "
                       "with none get only λ·w",
               "mid": "mid rows get regular data gradients that hold them up"}.get(answer, "")
        return False, (f"measured: {shown} — '{first}' rows shrank most"
                       + (f"; {why}" if why else "") + ". Why? (see the hint)")

    return Exercise(
        "which rows does Adam's weight_decay zero first?",
        "Adam(weight_decay=λ) adds λ·w to every row's gradient, every step, then divides by "
        "Adam's running gradient size. Which bucket shrinks first: 'cold', 'rare', 'mid' or "
        "'popular'?",
        check,
        hints=["For a row never in any batch, the only gradient it ever gets is λ·w.",
               "Adam divides that gradient by its own running size (λ·|w|): the row's step stays "
               "a sizeable fraction of lr whatever λ is, until λ·|w| is far below eps (claim 02.cold-first)."],
        solution="'cold': never-seen rows get only λ·w, which Adam normalises into a sizeable "
                 "fraction of lr toward 0; rare rows come next, popular rows keep their norm.")
