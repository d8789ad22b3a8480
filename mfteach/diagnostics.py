"""``diagnose``: read a trained model's metrics and say, in plain words, what went wrong.

Each finding has a name, a severity ("warning" = something to fix, "info" = worth knowing),
evidence (numbers) and an explanation with a fix. A healthy model gets no warnings.
"""
from __future__ import annotations

import numpy as np

from .data import Ratings, Split
from .metrics import baseline_rmse, norm_popularity_spearman, singular_values
from .report import Finding, Report

__all__ = ["Finding", "Report", "diagnose"]


def diagnose(*args, data=None, train=None, user_bias=None, item_bias=None, global_bias=None,
             has_biases=None) -> Report:
    """What went wrong with a model, as a ``Report`` (a list of ``Finding``), warnings first.

    - ``diagnose(history, data)``: a run of ``mf.train`` (its History) and its data (a Split, or
      the training Ratings).
    - ``diagnose(rec)``: a run of your own loop, recorded by ``mf.watch``.
    - ``diagnose(user_table, item_table, train=ratings)``: weights alone (tensors, arrays or
      nn.Embedding), the model already trained; ``user_bias``, ``item_bias``, ``global_bias``
      (or ``has_biases=False``) say what else the model has. Checks that need the run are
      skipped, and the report says so.
    """
    from .history import History
    from .watch import Recorder

    if len(args) == 1 and isinstance(args[0], Recorder):
        from .evidence import from_recorder
        from .findings import check_all

        ev = from_recorder(args[0])
        if ev.steps == 0 and ev.epochs > 0:  # nothing to judge of training
            return Report(_no_step(ev), ev.notes)
        return Report(check_all(ev), ev.notes)
    if args and isinstance(args[0], History):
        data = args[1] if len(args) > 1 else (data if data is not None else train)
        if data is None or len(args) > 2:
            raise TypeError("diagnose(history, data): pass the run's data (a Split or Ratings)")
        return Report(_diagnose_history(args[0], data))
    if len(args) == 2:
        if train is None:
            raise TypeError("diagnose(user_table, item_table, train=...): the training ratings "
                            "are needed (row indices into the tables)")
        from .evidence import from_tables
        from .findings import check_all

        ev = from_tables(*args, train, user_bias=user_bias, item_bias=item_bias,
                         global_bias=global_bias, has_biases=has_biases)
        return Report(check_all(ev), ev.notes)
    got = ", ".join(type(a).__name__ for a in args) or "nothing"
    raise TypeError(f"diagnose takes a History and its data, a recorder from mf.watch, or "
                    f"(user_table, item_table, train=...); got {got}")


def _no_step(ev) -> list[Finding]:
    """A record of epochs in which the watched optimizer never stepped."""
    from .findings import check_init

    moved = not (np.array_equal(ev.P, ev.P0) and np.array_equal(ev.Q, ev.Q0))
    if moved:  # another optimizer trains them (one made inside the loop, say)
        text = (f"The tables changed over {ev.epochs} epoch(s), but the optimizer given to "
                "mf.watch never stepped: another one trains them. Its settings and steps are "
                "unknown here, so nothing about training is judged.")
        fix = "Create the optimizer once, before the loop, and pass that one to mf.watch."
    else:
        text = (f"epoch_end was called {ev.epochs} time(s), but the optimizer never stepped: the "
                "tables are as they were at attach time, so nothing about training is judged.")
        fix = ("Call optimizer.step() after loss.backward(), and watch the optimizer that "
               "updates the tables.")
    return [Finding("no optimizer step", "warning", {"epochs": ev.epochs, "optimizer steps": 0},
                    text, fix)] + check_init(ev)


def _diagnose_history(history, data: Split | Ratings) -> list[Finding]:
    """Findings for a run (its ``History``) trained on ``data`` (a Split, or the training Ratings).

    Checks: initial scale too large; divergence; overfitting; embeddings collapsed to zero or to
    rank 1; rows never updated since init; norms tied to popularity; bias terms missing on
    uncentred ratings. Reads the history's snapshots, never retrains.
    """
    split = data if isinstance(data, Split) else None
    train = split.train if split else data
    cfg = history.config
    out: list[Finding] = []
    spread = float(np.std(train.ratings)) if len(train) else 1.0

    # 1. initial scale: the spread of the initial dot products <p, q> vs the ratings' spread
    first = history.train_rmse[0] if history.train_rmse else np.nan
    P0, Q0 = history.tables.get(0, (None, None))
    if P0 is not None and len(train):
        k = slice(0, 20_000)  # a sample is plenty for a std
        dots = np.einsum("nd,nd->n", P0[train.users[k]].astype(np.float64),
                         Q0[train.items[k]].astype(np.float64))
        init_spread = float(np.std(dots)) * history.normalizer.divisor
    else:
        init_spread = 0.0
    if init_spread > 2 * spread:
        out.append(Finding(
            "initial scale too large", "warning",
            {"first RMSE": float(first), "std of initial predictions": init_spread,
             "rating std": spread, "init": cfg.init, "dim": cfg.dim},
            "Before any step the predictions are already far outside the ratings: the "
            "embeddings start too big (N(0,1) gives a first RMSE of about √(dim + Var r) on "
            "centred ratings), and the optimizer spends the run shrinking them"
            + (" (Adam moves each weight at most about lr per step)" if cfg.optimizer in
               ("adam", "adamw", "sparse_adam") else "") + " instead of learning.",
            "Initialise with a small std, e.g. nn.init.normal_(emb.weight, std=0.01…0.1)."))

    # 2. divergence
    if history.diverged is not None:
        out.append(Finding("diverged", "warning",
                           {"epoch": history.diverged.epoch, "step": history.diverged.step,
                            "lr": cfg.lr},
                           str(history.diverged), "Lower the learning rate; with SGD give the "
                           "bias terms their own smaller learning rate."))

    # 3. overfitting
    val = np.asarray(history.val_rmse, float)
    trn = np.asarray(history.train_rmse, float)
    if len(val) > 2 and np.isfinite(val).all():
        best = int(np.argmin(val))
        mean_rmse = baseline_rmse(train, split.val) if split is not None and len(split.val) else None
        rising = val[-1] > val[best] + 0.02 and trn[-1] < trn[best]
        worse_than_mean = mean_rmse is not None and val[-1] > mean_rmse
        ev = {"final val": float(val[-1]), "best val": float(val[best]),
              "best epoch": best, "final train": float(trn[-1])}
        if mean_rmse is not None:
            ev["predict-the-mean val"] = mean_rmse
        fitted = mean_rmse is not None and trn[-1] < 0.8 * mean_rmse  # train error well below the mean's
        if rising or (worse_than_mean and fitted):
            out.append(Finding(
                "overfitting", "warning", ev,
                ("Validation error rose while training error kept falling"
                 if rising else "Training error is low but validation error")
                + (", and it ends worse than predicting the mean" if worse_than_mean else "")
                + ": the embeddings are memorising the training ratings.",
                "Regularise the rows in the batch (λ ≈ 0.05), stop at the best epoch, or "
                "lower dim."))
        elif worse_than_mean:
            out.append(Finding(
                "worse than predicting the mean", "warning", ev,
                "The model ends worse than predicting the training mean for everyone, and its "
                "training error is high too: it has not fitted the data at all. That is an "
                "optimisation problem (init scale, missing biases, learning rate), not overfitting.",
                "Check the first RMSE (init), the bias terms and the learning rate first."))

    # 4. collapse (spectrum of the learned rating matrix): the dot products' RMS over all pairs
    from .findings import DOTS_NOTHING, dots_rms  # (the same rule as for models of your own)

    P, Q = history.factors()
    if np.isfinite(P).all() and np.isfinite(Q).all():
        # rows with training ratings: a never-rated row keeps its init whatever happens to the rest
        cu, ci = history.train_user_counts, history.train_item_counts
        Pr, Qr = (P, Q) if cu is None or ci is None else (P[cu > 0], Q[ci > 0])
        s = singular_values(Pr, Qr) if len(Pr) and len(Qr) else np.ones(1)
        rms = dots_rms(s, len(Pr), len(Qr)) * history.normalizer.divisor if len(Pr) and len(Qr) \
            else np.inf  # (in rating points)
        if rms < DOTS_NOTHING * spread:
            out.append(Finding(
                "embeddings collapsed to zero", "warning",
                {"RMS of the dot products": rms, "rating std": spread,
                 "largest singular value": float(s[0]), "init": cfg.init, "reg": cfg.reg,
                 "reg_strength": cfg.reg_strength},
                f"The dot products add next to nothing: they move a prediction by {rms:.2g} "
                "rating points (RMS over the pairs of rated users and items), under 1% of the "
                "ratings' spread, so the model is only its biases. Typical causes: zero init (the "
                "gradient of <p, q> at 0 is 0), weight decay past the cliff (Adam's weight_decay "
                "above λ* = 2σ_max/N of the centred training matrix on a mean loss: a few 1e-3 on "
                "the course's data), a penalty too strong — or data with no user–item signal "
                "beyond the biases, where dot products near 0 are right.",
                "Use a small random init; use a penalty on the batch's rows or AdamW instead of "
                "Adam(weight_decay=…); compare with a biases-only model."))
        elif len(s) > 1 and s[1] < 1e-4 * s[0]:
            out.append(Finding(
                "embeddings collapsed to rank 1", "warning",
                {"s1": float(s[0]), "s2": float(s[1]), "ratio s2/s1": float(s[1] / s[0])},
                "Only one direction of the embedding space is used: every row is a multiple of "
                "the same vector. Typical causes: a constant init (all rows identical; gradient "
                "descent cannot break that symmetry), or weight decay strong enough to pull every "
                "direction of the ratings but the strongest back to 0.",
                "Initialise with random values (small normal), never a constant; check "
                "weight_decay against λ* = 2σ_max/N."))

    # 5. rows never updated since init
    if 0 in history.tables and max(history.tables) > 0:  # at least one epoch was trained
        same_items = np.flatnonzero(np.all(Q0 == Q, axis=1) & np.any(Q0 != 0, axis=1))
        same_users = np.flatnonzero(np.all(P0 == P, axis=1) & np.any(P0 != 0, axis=1))
        if len(same_items) or len(same_users):
            norms = np.linalg.norm(Q0[same_items], axis=1) if len(same_items) else np.zeros(0)
            big = float(norms.mean()) if len(norms) else 0.0
            # What these rows add to a prediction: <p_u, q_i> with q_i still at its init (measured).
            noise = (float(np.std(P @ Q[same_items].T.astype(np.float64)))
                     * history.normalizer.divisor if len(same_items) else 0.0)
            out.append(Finding(
                "rows never updated", "warning" if big > 1.0 else "info",
                {"items": len(same_items), "users": len(same_users),
                 "mean norm of those items": big, "std of their dot products": noise},
                "These rows had no training ratings, so they keep their random init: for those "
                "items the model predicts its biases plus a random dot product whose spread "
                "(measured) is the 'std of their dot products'"
                + (" — larger than the ratings' own spread, since the init is big"
                   if noise > spread else ", comparable to the ratings' spread"
                   if noise > 0.5 * spread else ", small next to the ratings' spread") + ".",
                "Use a small init (cold rows then predict ≈ biases), and handle cold items "
                "explicitly (popularity or content-based fallback)."))

    # 6. norm tied to popularity
    counts = history.train_item_counts
    if counts is not None and np.isfinite(Q).all():
        seen = counts > 0
        rho = norm_popularity_spearman(np.linalg.norm(Q[seen], axis=1), counts[seen])
        if rho > 0.6:
            out.append(Finding(
                "norms tied to popularity", "warning", {"Spearman ρ(norm, count)": rho},
                "Popular items have much larger embeddings than rare ones, so dot products "
                "favour popular items. Part of this comes from the data alone (a rare row gets "
                "little signal, so it stays small even with no regularizer); shrinkage that acts "
                "on every row at every step (Adam's weight_decay, penalties on all rows) adds to "
                "it.",
                "Check the error per popularity bucket; penalise only the rows in the batch "
                "(each row is shrunk in proportion to how often it is seen)."))

    # 7. no bias terms on uncentred ratings
    mean = float(np.mean(train.ratings)) if len(train) else 0.0
    if cfg.normalize == "none" and not cfg.global_bias and abs(mean) > spread:
        out.append(Finding(
            "bias terms missing on uncentred ratings", "warning",
            {"training mean": mean, "rating std": spread},
            "Ratings average far from 0 but the model has no bias terms: the dot products must "
            "spend capacity on producing the mean.",
            "Add a global bias started at the training mean (plus user and item biases), or "
            "centre the ratings."))
    return out
