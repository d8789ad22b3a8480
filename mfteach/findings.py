"""The checks ``diagnose`` runs on a model it did not train (a ``watch`` record or bare tables).

Each check reads ``Evidence`` and returns Findings: evidence numbers, a plain explanation and a
fix. Every threshold says why it is that number. A healthy model gets no warnings.
"""
from __future__ import annotations

import math

import numpy as np

from .history import BLOWUP_FACTOR
from .metrics import norm_popularity_spearman, singular_values
from .evidence import Evidence, cliff_lambda, sample_index
from .report import Finding
from .watch import _decoupled

__all__ = ["check_all", "COUPLED_NEAR", "COUPLED_BELOW", "ADAMW_KEEPS", "SPIKE"]

# Coupled decay warns from this fraction of the cliff λ*: claim 04.decay-before-cliff measures
# harm at 0.4·λ*, and claim 05.near-cliff a model that barely learns at 0.96·λ*.
COUPLED_NEAR = 0.25
# ... and gets a note from this one: claim 05.decay-below-cliff measures a model far behind the
# same run without decay at 0.1·λ* (harm that depends on the run's length, hence not a warning).
COUPLED_BELOW = 0.1
# AdamW's decay "does nothing" when the dot products keep ≥ 95% of their size over the whole run
# (each table keeps ≥ 97.5%): a change smaller than a seed changes them (claim 02.adamw-default).
ADAMW_KEEPS = 0.975
# An epoch-to-epoch rise of the error by this factor is a spike: at a stable learning rate the
# per-epoch training error falls, and minibatch noise moves it by ~1%, not 10%.
SPIKE = 1.10
# Optimizers that keep per-row state and update every row at every step (ghost updates).
STATEFUL = {"Adam", "AdamW", "NAdam", "RAdam", "Adamax", "RMSprop", "Adagrad", "Adadelta"}


def check_all(ev: Evidence) -> list:
    unstable = check_divergence(ev)
    diverged = [f for f in unstable if f.name == "diverged"]
    out = unstable + check_init(ev) + check_decay(ev) + check_collapse(ev) + check_cold(ev)
    out += check_popularity(ev) + check_dense(ev)
    if not diverged:  # a diverged run's errors say nothing more about its level or its fit
        out += check_level(ev) + check_overfit(ev)
    names = set()  # two checks may see one fault (overflowing tables: collapse and level)
    return [f for f in out if not (f.name in names or names.add(f.name))]


def _finite(xs):
    return [x for x in xs if x is not None and math.isfinite(x)]


# 1. initial scale ----------------------------------------------------------------------------------
def check_init(ev):
    if ev.P0 is None:
        return []
    if not ev.spread > 0:  # all ratings equal (implicit feedback): no scale to compare with
        return []
    init = float(np.std(ev.dots(ev.P0, ev.Q0)))
    # Twice the ratings' spread: the first RMSE is then ≥ √5 ≈ 2.2× predicting the mean, and
    # Adam, moving each weight about lr per step, needs |w|/lr steps to undo it (notebook 01).
    if not init > 2 * ev.spread:
        return []
    return [Finding(
        "initial scale too large", "warning",
        {"std of initial dot products": init, "rating std": ev.spread,
         "predicted first RMSE": math.hypot(init, ev.spread), "dim": ev.P.shape[1],
         "init std (user, item)": (round(float(np.std(ev.P0)), 4), round(float(np.std(ev.Q0)), 4))},
        "Before any step the predictions spread far wider than the ratings: the tables start too "
        "big (N(0,1) gives a first RMSE of about √(dim + Var r) on centred ratings), and the "
        "optimizer spends the run shrinking them instead of learning.",
        "Initialise small: nn.init.normal_(emb.weight, std=0.01…0.1).")]


# 2–3. weight decay: coupled (the cliff) and decoupled (AdamW's total shrink) ------------------------
def check_decay(ev):
    lam = float(ev.settings.get("weight_decay", 0.0) or 0.0)
    if ev.optimizer is None or lam <= 0:
        return []
    if _decoupled(ev.optimizer, ev.settings):
        return _check_adamw(ev, lam)
    # the ratings as the dot products see them: minus the mean when something else predicts it
    centred = bool(ev.has_biases) or ev.hidden_offset()
    star = cliff_lambda(ev.train, len(ev.P), len(ev.Q), ev.mean if centred else 0.0)
    if not star > 0 or lam < COUPLED_BELOW * star:  # (λ* = 0: no pull apart to weigh it against)
        return []
    if lam < COUPLED_NEAR * star:
        return [Finding(
            "coupled weight_decay below the cliff", "info",
            {"optimizer": ev.optimizer, "weight_decay λ": lam, "cliff λ*": star, "λ/λ*": lam / star,
             "ratings seen as": "centred" if centred else "raw"},
            f"{ev.optimizer}'s weight_decay adds λ·w to every weight's gradient at every step. This "
            f"λ is {lam / star:.2f} of the cliff λ* = 2σ_max/N: below it, so the tables can grow. "
            "At this strength it may be a sound regulariser, or hold a short run back: in "
            "notebook 05, λ*/10 left the article's 10-epoch job far behind the same job without "
            "decay.",
            "Compare the validation error with and without it.")]
    past = lam >= star
    return [Finding(
        f"coupled weight_decay {'past' if past else 'near'} the cliff", "warning",
        {"optimizer": ev.optimizer, "weight_decay λ": lam, "cliff λ*": star, "λ/λ*": lam / star,
         "ratings seen as": "centred" if centred else "raw"},
        f"{ev.optimizer}'s weight_decay adds λ·w to every weight's gradient at every step. Near "
        "zero the ratings pull the tables apart at rate 2σ_max/N, the decay pulls them back at "
        "λ: past λ* = 2σ_max/N (σ_max: largest singular value of the rating matrix, N ratings, "
        "mean loss) all-zero tables are the minimum they are pulled to"
        + (" — and this λ is past it." if past else
           "; this λ is close enough to λ* that the tables barely grow."),
        "Drop weight_decay; regularise with a penalty on the batch's rows "
        "(loss += λ·(‖p_u‖² + ‖q_i‖²).mean(), λ ≈ 0.05) or use AdamW.")]


def _check_adamw(ev, lam):
    if ev.shrink is None or ev.shrink < ADAMW_KEEPS or not ev.steps:
        return []
    return [Finding(
        "AdamW decay too small to matter", "info",
        {"lr": float(ev.settings.get("lr", float("nan"))), "weight_decay λ": lam,
         "steps": int(ev.steps), "total shrink (1 − lr·λ)^steps": ev.shrink,
         "dot products keep": ev.shrink ** 2},
        "Decoupled decay multiplies every weight by (1 − lr·λ) per step; over this whole run "
        "that shrinks each table by less than 2.5%, so it regularises next to nothing: the model "
        "is the same as without it.",
        "If you want regularisation, raise λ until the total shrink matters (or penalise the "
        "batch's rows); if not, drop it.")]


# 2, 6. collapse: the spectrum of P Qᵀ -----------------------------------------------------------------
# The dot products "add nothing" below this share of the ratings' spread (their RMS over every
# user–item pair): a healthy model's are 10-20% of it, a fresh Xavier init on the reader's tables
# 0.6%, the article's job held by its decay 0.03%. (The largest singular value alone could not
# tell a collapsed model from a random init, whose spectrum is flat.)
DOTS_NOTHING = 0.01


def dots_rms(s, n_rows, n_cols) -> float:
    """RMS over every (row, column) pair of P·Qᵀ, from its singular values ``s``."""
    return math.sqrt(float(np.sum(np.square(s, dtype=np.float64))) / (n_rows * n_cols))


def _coupled_decay(ev):
    """Whether the optimizer adds coupled weight decay (None: not known, weights alone)."""
    if ev.optimizer is None:
        return None
    lam = float(ev.settings.get("weight_decay", 0.0) or 0.0)
    return lam > 0 and not _decoupled(ev.optimizer, ev.settings)


def _collapse_cause(ev, users, items) -> tuple[str, str]:
    """(why the dot products are ≈ 0, as far as the record tells; the fix to try). ``users``,
    ``items``: masks of the rows with training ratings."""
    compare = ("compare the validation error with a biases-only model: if it does as well, the "
               "data has little user–item signal and small dot products are right")
    decay = _coupled_decay(ev)
    if ev.P0 is None:
        return ("Typical causes: coupled weight decay at or near the cliff λ* = 2σ_max/N, a "
                "penalty too strong, a zero init (the gradient of <p, q> at 0 is 0), tables that "
                "started tiny and never grew (an untrained model) — or data with no user–item "
                "signal beyond the biases, where dot products near 0 are right.",
                "Check Adam's weight_decay against λ* and any penalty's strength; " + compare + ".")
    if not (np.any(ev.P0[users]) and np.any(ev.Q0[items])):
        return ("A table started at exactly 0, where the gradient of <p, q> is 0: nothing moves "
                "it.", "Use a small random init (nn.init.normal_(w, std=0.01…0.1)).")
    if np.linalg.norm(ev.Q[items]) < 0.5 * np.linalg.norm(ev.Q0[items]):
        if decay:
            return ("They shrank from their start toward 0: Adam's coupled weight_decay pulls every "
                    "row back at each step, and near or past the cliff λ* = 2σ_max/N it wins.",
                    "Drop Adam's weight_decay for a penalty on the batch's rows (or AdamW).")
        return ("They shrank from their start toward 0: a penalty too strong — or data with no "
                "user–item signal beyond the biases, where dot products near 0 are right.",
                "Lower the penalty and " + compare + ".")
    return ("They started tiny and did not grow: too few steps, too small an lr, or a decay "
            "holding them.", "Train longer or with a larger lr; check any weight decay or penalty.")


def check_collapse(ev):
    if not (np.isfinite(ev.P).all() and np.isfinite(ev.Q).all()):
        return []
    # rows with training ratings only: a never-rated row keeps its init whatever happens to the
    # rest (its random dot products would hide a collapse of every rated row)
    users, items = ev.counts("user") > 0, ev.counts("item") > 0
    P, Q = ev.P[users], ev.Q[items]
    if not (len(P) and len(Q)):
        return []
    with np.errstate(over="ignore", invalid="ignore"):
        s = singular_values(P, Q)
        rms = dots_rms(s, len(P), len(Q))
    # 10× the ratings' spread: no bias terms can bring such products back to the rating scale
    if not rms <= 10 * ev.spread:
        return [Finding(
            "predictions far off the rating scale", "warning",
            {"RMS of the dot products": rms if math.isfinite(rms) else "overflows",
             "rating std": ev.spread, "largest |weight|": float(max(np.abs(P).max(), np.abs(Q).max()))},
            "The dot products alone spread far wider than the ratings (more than 10× their "
            "spread; float32 predictions may even overflow to infinity): whatever the biases, "
            "the predictions sit far from any rating.",
            "Initialise small and lower the learning rate; check for a run that blew up.")]
    if rms < DOTS_NOTHING * ev.spread:
        why, fix = _collapse_cause(ev, users, items)
        return [Finding(
            "embeddings collapsed to zero", "warning",
            {"RMS of the dot products": rms, "rating std": ev.spread,
             "largest singular value": float(s[0]),
             "mean item norm": float(np.linalg.norm(Q, axis=1).mean())}
            | ({} if ev.P0 is None else
               {"mean item norm at attach": float(np.linalg.norm(ev.Q0, axis=1).mean())}),
            "The dot products add next to nothing: over the pairs of rated users and items they "
            f"move a prediction by {rms:.2g} rating points (RMS), under 1% of the ratings' "
            "spread, so the model is its biases alone (≈ 0 without them). " + why, fix)]
    # 1e-4: float32 round-off leaves s₂ ~1e-7·s₁ on a rank-1 matrix, learning gives ≥ 1e-2
    if len(s) > 1 and s[1] < 1e-4 * s[0]:
        return [Finding(
            "embeddings collapsed to rank 1", "warning",
            {"s1": float(s[0]), "s2": float(s[1]), "ratio s2/s1": float(s[1] / s[0])},
            "Only one direction of the embedding space is used: every row is a multiple of the "
            "same vector. Typical causes: a constant init (all rows alike; gradient descent "
            "cannot break that symmetry), or coupled weight decay strong enough to pull every "
            "direction of the ratings but the strongest back to 0.",
            "Initialise with small random values, never a constant; check weight_decay against "
            "λ* = 2σ_max/N.")]
    return []


# 4. rows never updated -------------------------------------------------------------------------------
def check_cold(ev):
    if ev.P0 is None or ev.epochs == 0:
        return []
    cu, ci = ev.counts("user"), ev.counts("item")
    same_u = np.all(ev.P == ev.P0, axis=1) & np.any(ev.P0 != 0, axis=1)
    same_i = np.all(ev.Q == ev.Q0, axis=1) & np.any(ev.Q0 != 0, axis=1)
    shrunk = (ci == 0) & ~same_i & (np.linalg.norm(ev.Q, axis=1) < np.linalg.norm(ev.Q0, axis=1))
    if not (same_u.any() or same_i.any() or shrunk.any()):
        return []
    items = np.flatnonzero(same_i)[:2000]  # enough rows for a std
    noise = float(np.std(ev.P.astype(np.float64) @ ev.Q[items].T.astype(np.float64))) if len(items) else 0.0
    # half the ratings' spread: their predictions are then as noisy as a model that learnt nothing
    warn = noise > 0.5 * ev.spread
    ev_ = {"items never updated": int(same_i.sum()), "users never updated": int(same_u.sum())}
    rated = int((same_i & (ci > 0)).sum() + (same_u & (cu > 0)).sum())
    if rated:  # rows with ratings that never moved: frozen, or an optimizer that skips them
        ev_["of those with training ratings"] = rated
    if shrunk.any():
        ev_["items without ratings shrunk by decay"] = int(shrunk.sum())
    if len(items) and math.isfinite(noise):
        ev_.update({"std of their dot products": noise, "rating std": ev.spread})
    size = (f" (spread {noise:.2g}, " + ("comparable to the ratings' own: the init is too big)"
                                          if warn else "small next to the ratings' spread)")
            if math.isfinite(noise) else "")  # (a run that blew up: no spread worth a number)
    text = ("These rows were never changed since attach time: rows with no training ratings get "
            "no gradient, so they keep their random init, and the model predicts its biases plus "
            f"a random dot product for them{size}." if same_i.any() or same_u.any() else
            "Items without training ratings are losing their init to the weight decay alone.")
    if shrunk.any() and (same_i.any() or same_u.any()):
        text += " Items without ratings that did change only shrank (decay), toward 0."
    return [Finding("rows never updated", "warning" if warn else "info", ev_, text,
                    "Use a small init (cold rows then predict ≈ their biases) and handle cold "
                    "items explicitly (popularity or content-based fallback).")]


# 5. norms vs popularity ------------------------------------------------------------------------------
def check_popularity(ev):
    c = ev.counts("item")
    seen = c > 0
    if seen.sum() < 3 or not np.isfinite(ev.Q).all():
        return []
    rho = norm_popularity_spearman(np.linalg.norm(ev.Q[seen].astype(np.float64), axis=1), c[seen])
    if not math.isfinite(rho):  # (every norm equal, e.g. a constant table: no ranking to read)
        return []
    # 0.6: a strong rank correlation; it is info only, since norms track popularity with no
    # regularizer at all (≈ 0.7 in notebook 04's checklist)
    if rho <= 0.6:
        return []
    return [Finding(
        "norms tied to popularity", "info", {"Spearman ρ(item norm, count)": rho},
        "Popular items have larger embeddings than rare ones. That is normal (a rare row gets "
        "little signal, so it stays small even with no regularizer); shrinkage of every row at "
        "every step (coupled weight decay) makes it stronger.",
        "Nothing to fix on its own; check the error per popularity bucket if rare items matter.")]


# 7. the ratings' level: bias terms, predictions off the scale ------------------------------------------
def check_level(ev):
    out = []
    if ev.has_biases is False and abs(ev.mean) > ev.spread and not ev.hidden_offset():
        # |mean| > std: the mean alone is a bigger part of a rating than its variation
        out.append(Finding(
            "bias terms missing on uncentred ratings", "warning",
            {"training mean": ev.mean, "rating std": ev.spread},
            "The ratings average far from 0 but the model has no bias terms: its dot products "
            "must produce the mean themselves, which small embeddings cannot do quickly.",
            "Add a global bias started at the training mean, plus user and item biases (or "
            "centre the ratings)."))
    which, rmse = ev.reported()
    ev_ = {}
    if rmse is None and ev.predictions_known and ev.has_biases is not None:
        z = ev.predictions()
        k = sample_index(len(ev.train))
        which, rmse = "train (from the tables)", float(np.sqrt(np.mean((z - ev.train.ratings[k]) ** 2)))
        ev_["mean prediction"] = float(z.mean())
    if rmse is None or not math.isfinite(rmse):
        return out
    ev_ = {f"final {which} RMSE": rmse, "predict-the-mean RMSE ≈ rating std": ev.spread,
           "training mean": ev.mean, **ev_}
    # 2× the spread: predictions miss by more than twice what predicting the mean does
    if rmse > 2 * ev.spread:
        out.append(Finding(
            "predictions far off the rating scale", "warning", ev_,
            "The model's error is more than twice that of predicting the training mean for "
            "everyone: its predictions sit far from where the ratings are.",
            "Check the level first: bias terms and the mean (or centred ratings), then the init "
            "scale and the weight decay."))
    # 1.05×: the mean's RMSE on other ratings is the std within sampling error (a few %)
    elif rmse > 1.05 * ev.spread:
        out.append(Finding(
            "worse than predicting the mean", "warning", ev_,
            "The model ends worse than predicting the training mean for everyone.",
            "Check the bias terms, the init scale, the weight decay and the learning rate."))
    return out


# 8. divergence and the learning rate ---------------------------------------------------------------
def check_divergence(ev):
    lr = ev.settings.get("lr")
    fix = ("Lower the learning rate" + (f" (now {lr:g})" if isinstance(lr, float) else "")
           + "; with SGD give bias terms their own smaller learning rate.")
    if ev.nonfinite_epoch is not None:
        return [Finding("diverged", "warning", {"epoch": ev.nonfinite_epoch, "lr": lr},
                        f"The tables hold NaN or infinite weights (epoch {ev.nonfinite_epoch}).", fix)]
    for which, xs in (("train", ev.train_rmse), ("val", ev.val_rmse)):
        given = [(e + 1, x) for e, x in enumerate(xs) if x is not None]
        for e, x in given:
            # BLOWUP_FACTOR (history.py): missing by ten rating scales, which no healthy run does
            if not math.isfinite(x) or x > BLOWUP_FACTOR * max(given[0][1], ev.width):
                to = f"{x:.3g}" if math.isfinite(x) else "NaN or infinity"  # never "nan"
                return [Finding("diverged", "warning", {"epoch": e, f"{which} RMSE": x, "lr": lr},
                                f"The {which} RMSE exploded to {to} at epoch {e}.", fix)]
    series = [(w, xs) for w, xs in (("train", ev.train_rmse), ("val", ev.val_rmse))
              if len(_finite(xs)) >= 2]
    for which, xs in series:
        x = [v if v is not None else float("nan") for v in xs]
        for e in range(1, len(x)):
            # and by 5% of the ratings' spread: a rise from 0.003 to 0.006 is no spike
            jump = x[e] > SPIKE * x[e - 1] and x[e] - x[e - 1] > 0.05 * ev.spread
            # training error should not rise at all; validation error may (overfitting), so a
            # rise there counts only when it falls back below where it was: a spike
            if jump and (which == "train" or any(v < x[e - 1] for v in x[e + 1:])):
                return [Finding(
                    "learning rate at its edge", "warning",
                    {"epoch": e + 1, f"{which} RMSE before": x[e - 1], "after": x[e],
                     "optimizer": ev.optimizer,
                     "lr": ev.lrs[e + 1] if len(ev.lrs) > e + 1 else lr},
                    f"The {which} RMSE jumped by {x[e] / x[e - 1] - 1:.0%} in one epoch"
                    + (" and came back down" if which == "val" else "")
                    + ": the steps overshoot. One step further and the run diverges.", fix)]
    return []


def check_overfit(ev):
    val = ev.val_rmse
    if len(_finite(val)) < 3 or len(_finite(val)) != len(val):
        return []
    v = np.asarray(val, float)
    best = int(np.argmin(v))
    trn = ev.train_rmse
    falling = None if any(x is None for x in trn) else trn[-1] < trn[best]
    # 0.02 rating points: more than epoch-to-epoch noise of a validation RMSE on ~10k ratings
    if not (v[-1] > v[best] + 0.02 and falling is not False):
        return []
    ev_ = {"final val": float(v[-1]), "best val": float(v[best]), "best epoch": best + 1}
    if falling:
        ev_["final train"] = float(trn[-1])
    return [Finding(
        "overfitting", "warning", ev_,
        "Validation error rose from its best epoch" + (" while training error kept falling"
                                                       if falling else "")
        + ": the embeddings are memorising the training ratings.",
        "Penalise the batch's rows (λ ≈ 0.05), stop at the best epoch, or lower dim.")]


# 9. dense Adam on a large table ----------------------------------------------------------------------
def check_dense(ev):
    if ev.optimizer not in STATEFUL or ev.sparse or not ev.steps or not ev.epochs:
        return []
    per_step = len(ev.train) * ev.epochs / ev.steps  # ratings per step, if each epoch is one pass
    rows = max(len(ev.P), len(ev.Q))
    # 10×: ≥ 90% of the optimizer's work per step is on rows whose gradient is zero
    if rows < 10 * per_step:
        return []
    return [Finding(
        "dense Adam on a large table", "info",
        {"optimizer": ev.optimizer, "largest table rows": rows, "ratings per step": per_step},
        f"Dense {ev.optimizer} updates every row at every step, so each step costs the whole "
        "table, not the batch (and rows absent from the batch keep moving on their momentum: "
        "ghost updates).",
        "For big tables: nn.Embedding(sparse=True) with torch.optim.SparseAdam (a separate "
        "optimizer for dense parameters), or a smaller table.")]
