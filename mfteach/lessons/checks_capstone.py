"""Notebook 04's checks, one per planted fault: each runs the student's settings for that fault
with every other setting at the reference (so one fault's fix is judged while others remain), and
says which slip it sees."""
from __future__ import annotations

import math

import numpy as np

from ..metrics import history_bucket_rmse, singular_values
from ..model import expected_initial_rmse
from .capstone import FAULTS, REFERENCE, reference_val, run_job

__all__ = ["fault_check", "evaluation_check"]

# A fixed job may end this much above the reference's validation RMSE: SGD done right (embeddings
# lr 30, biases 0.5) is 0.05-0.06 above Adam's (claim 04.sgd-two-lrs); the jobs that train but
# barely learn (SGD lr 10, Adam lr 1e-4 or 0.3) are 0.27-0.35 above it.
SGD_SLACK = 0.08
# An init whose first RMSE is fine may still train worse than the reference's small normal:
INIT_SLACK = 0.03
# The evaluation fault wants a fixed job: SGD done right (lr 30, bias_lr 0.5) is ≈ +0.06.
EVAL_SLACK = 0.1


def _optimizer_alone(s):
    """The student's optimizer with a working learning rate: the decay fault is judged on its
    regularizer, not on a learning rate that is another fault's (sgd_lr) or no fault at all."""
    if s["optimizer"] in ("sgd", "momentum"):
        return dict(optimizer=s["optimizer"], lr=30.0, bias_lr=0.5)
    return dict(optimizer=s["optimizer"], lr=REFERENCE["lr"], bias_lr=None)


def _init(split, s, var_r):
    if s["init"] in ("zeros", "constant"):
        return False, (f"init={s['init']!r}: every row starts the same, so the embeddings would "
                       f"never break symmetry")
    if s["init"] in ("normal", "uniform") and not s["init_std"] > 0:
        return False, f"init_std {s['init_std']!r}: a std must be > 0 (0 is a zero init) — use 0.01–0.1"
    n_users, n_items = split.train.n_users, split.train.n_items
    # the init's share (a model that starts at the mean); one that does not (raw ratings, no
    # global bias) is off by the mean too: the first RMSE this job prints
    first = expected_initial_rmse(s["init"], 32, n_users, n_items, var_r, std=s["init_std"])
    mean = float(split.train.ratings.mean())
    also = "" if s["normalize"] != "none" or s["global_bias"] else (
        f" (≈ {math.hypot(first, mean):.2f} here, where the model does not start at the mean "
        f"{mean:.2f} either)")
    if first > 1.5 * math.sqrt(var_r):
        what = (" — that is N(0, 1), nn.Embedding's default: the fault is still there"
                if s["init"] == "default" else f" (init_std {s['init_std']:g} is too big)")
        return False, (f"with init={s['init']!r} the first RMSE is about {first:.2f} even from the "
                       f"mean{also}, far above the ratings' spread {math.sqrt(var_r):.2f}{what}")
    # with the student's optimizer at a working lr: a tiny init is fine under Adam, slow under SGD
    alone = _optimizer_alone(s)
    h = run_job(split, {**REFERENCE, "init": s["init"], "init_std": s["init_std"], **alone})
    val, ref = float(h.val_rmse[-1]) if h.ok else math.inf, reference_val(split, **alone)
    how = f"{alone['optimizer']} at lr {alone['lr']:g}"
    if val > ref + INIT_SLACK:
        return False, (f"predictions start inside the rating scale (first RMSE ≈ {first:.2f} from "
                       f"the mean), but with {how} this init ends at val RMSE {val:.3f} against "
                       f"{ref:.3f} with a small normal (std 0.05): choose a std near 0.05")
    return True, (f"from the mean the first RMSE would be ≈ {first:.2f}: predictions would start "
                  f"inside the rating scale{also}; with {how}, val RMSE {val:.3f} (std 0.05: "
                  f"{ref:.3f})")


def _biases(split, s):
    if s["normalize"] == "none" and not s["global_bias"]:
        extra = (": user/item biases start at 0 and would have to climb to it one small step at "
                 "a time — centre the ratings or add the global bias"
                 if s["user_bias"] or s["item_bias"] else "")
        return False, (f"ratings average {split.train.ratings.mean():.2f} and nothing in the "
                       f"model produces that mean{extra}")
    if not (s["user_bias"] and s["item_bias"]):
        return True, ("the mean is handled; user and item biases would add ≈ 0.02 more "
                      "(claim 04.user-item-biases)")
    return True, "ratings centred / global bias, plus user and item biases"


def _weight_decay(split, s):
    alone = _optimizer_alone(s)
    isolated = {**REFERENCE, "reg": s["reg"], "reg_strength": s["reg_strength"], **alone}
    h = run_job(split, isolated)
    if not h.ok:
        return False, f"training diverged: {h.diverged}"
    lr_note = ("" if (s["lr"], s["bias_lr"]) == (alone["lr"], alone["bias_lr"]) else
               f" (judged at lr {alone['lr']:g}" + (f", bias_lr {alone['bias_lr']:g}"
                                                     if alone["bias_lr"] else "")
               + ": the learning rate is not this fault)")
    s_vals = singular_values(*h.factors())
    n_users, n_items = split.train.n_users, split.train.n_items
    if s_vals[0] < 1e-2 * math.sqrt(n_users * n_items):
        return False, (f"every embedding still ends (nearly) zero: {s['reg']} at "
                       f"{s['reg_strength']:g} is past the cliff (claim 04.cliff){lr_note}")
    ref = reference_val(split, **alone)
    val = float(h.val_rmse[-1])
    if val > ref + 0.03:
        none = s["reg"] == "none" or not s["reg_strength"] > 0
        decay = s["reg"] == "weight_decay" and not none
        coupled = decay and s["optimizer"] in ("adam", "sparse_adam")  # (claim 04's is Adam's)
        weak = none or s["optimizer"] == "adamw" or (s["reg_strength"] < 0.01 and not decay)
        why = ("Adam's weight_decay over-shrinks the embeddings well before its cliff "
               "(claim 04.decay-before-cliff): use a penalty on the batch's rows" if coupled
               else "these settings barely regularize (claim 04.no-reg-overfits)" if weak
               else "choose a λ near the bottom of notebook 02's U-curve")
        return False, (f"no collapse (largest singular value {s_vals[0]:.0f}), but val RMSE "
                       f"{val:.3f} vs {ref:.3f} with reg='l2_batch', 0.05: {why}{lr_note}")
    return True, (f"the embeddings survive (largest singular value {s_vals[0]:.0f}) and val RMSE "
                  f"{val:.3f} (reference {ref:.3f}){lr_note}")


def _sgd_lr(split, s):
    if s["optimizer"] in ("sgd", "momentum"):
        if s["bias_lr"] is None:
            return False, ("SGD with one learning rate for embeddings and biases: the global bias "
                           "sees every example and needs a small bias_lr (< 1), the embeddings a "
                           "large lr (~30) (claim 04.sgd-two-lrs)")
        if s["bias_lr"] >= 1:
            return False, (f"bias_lr {s['bias_lr']:g}: the global bias sees every example, keep "
                           f"its lr < 1 (claim 04.sgd-two-lrs)")
        if s["lr"] < 10:
            return False, (f"embeddings lr {s['lr']:g}: SGD on a mean loss divides each rating's "
                           f"gradient by the batch size, so embeddings need a large lr (~30) "
                           f"(claim 04.sgd-two-lrs)")
    h = run_job(split, {**REFERENCE, **{k: s[k] for k in FAULTS["sgd_lr"].keys}})
    if not h.ok:
        return False, f"training diverged: {h.diverged}"
    val, ref = float(h.val_rmse[-1]), reference_val(split)
    if val > ref + SGD_SLACK:
        return False, (f"it trains, but poorly: val RMSE {val:.3f} with {s['optimizer']} at lr "
                       f"{s['lr']:g}, against {ref:.3f} for Adam at lr 0.01 — with SGD, "
                       f"embeddings lr ≈ 30 and bias_lr ≈ 0.5 (claim 04.sgd-two-lrs)")
    return True, f"val RMSE {val:.3f} with {s['optimizer']} at lr {s['lr']:g} (Adam's reference {ref:.3f})"


def fault_check(fault, split):
    """The check of one fault (a key of FAULTS other than 'evaluation'): settings → (ok, why)."""
    var_r = float(np.var(split.train.ratings))

    def check(settings):
        if not isinstance(settings, dict):
            return False, "pass your fixed settings dict"
        unknown = sorted(set(settings) - set(REFERENCE))
        if unknown:
            return False, f"unknown setting(s) {unknown}; the job's settings are {sorted(REFERENCE)}"
        s = {**REFERENCE, **settings}
        if fault == "init":
            return _init(split, s, var_r)
        if fault == "biases":
            return _biases(split, s)
        if fault == "weight_decay":
            return _weight_decay(split, s)
        if fault == "sgd_lr":
            return _sgd_lr(split, s)
        raise ValueError(f"unknown fault {fault!r}")

    return check


# What each fault's check judges, as a student would name it: the groups ``_blame`` puts back.
GROUPS = {"init": ("init", "init_std"), "regularizer": ("reg", "reg_strength"),
          "mean and bias terms": ("normalize", "user_bias", "item_bias", "global_bias"),
          "optimizer and learning rates": ("optimizer", "lr", "bias_lr"),
          "item table rows": ("item_rows",)}


OWN_CHECK = {"init": lambda split, s: _init(split, s, float(np.var(split.train.ratings))),
             "regularizer": _weight_decay, "mean and bias terms": _biases,
             "optimizer and learning rates": _sgd_lr}


def _blame(split, settings, ref) -> str:
    """Which of the student's changes the failed job hinges on: each group of settings that
    differs from the reference is put back to it, one at a time (a job each, only on failure).
    A group that fails its own fault's check is named first. Changes that each pass their own
    check can still fail together (e.g. Adam at lr 0.003 with init std 0.2: 0.23 behind, while
    either one alone is within 0.05)."""
    s = {**REFERENCE, **settings}
    changed = {g: keys for g, keys in GROUPS.items() if any(s[k] != REFERENCE[k] for k in keys)}
    own = {g: OWN_CHECK[g](split, s) for g in changed if g in OWN_CHECK}
    failing = [(g, why) for g, (ok, why) in own.items() if not ok]
    if len(failing) == 1:  # its own check is stricter than this one's slack: not fixed yet
        return f"your {failing[0][0]} fails its own check ({failing[0][1]}): fix that first"
    if failing:
        return (f"these groups of your settings fail their own checks: "
                f"{'; '.join(g for g, _ in failing)} (run each fault's check): fix those first")
    saves = {}
    for g, keys in changed.items():  # (without a padded table: harmless, claim 04.padding-harmless)
        h = run_job(split, {**s, **{k: REFERENCE[k] for k in keys}, "item_rows": None})
        if h.ok and float(h.val_rmse[-1]) <= ref + EVAL_SLACK:
            saves[g] = float(h.val_rmse[-1])
    said = lambda g: ", ".join(f"{k}={s[k]!r}" for k in GROUPS[g])  # noqa: E731
    back = "; ".join(f"with the reference {g}, val RMSE {v:.3f}" for g, v in saves.items())
    if len(saves) == 1:
        (g, _), = saves.items()
        return f"your {g} ({said(g)}) is what holds it back ({back}): fix that first"
    if saves:
        return (f"your {' and your '.join(saves)} fail together: putting back either one "
                f"recovers ({back}); change one of them")
    return "no single group of your settings is to blame alone: fix the other faults first"


def evaluation_check(split):
    """The 'evaluation' fault: (fixed settings, their rare-item validation RMSE) → (ok, why)."""
    def check(answer):
        try:
            settings, rare = answer
            rare = float(rare)
        except (TypeError, ValueError):
            return False, "answer (fixed_settings, rare_item_rmse): the RMSE of your fixed model on rare items"
        if not isinstance(settings, dict):
            return False, "the first part of your answer should be your fixed settings dict"
        if not math.isfinite(rare):
            return False, "your rare-item RMSE is not a finite number"
        h = run_job(split, settings)
        if not h.ok:
            return False, f"training diverged: {h.diverged}"
        ref = reference_val(split)
        if float(h.val_rmse[-1]) > ref + EVAL_SLACK:
            return False, (f"these settings reach val RMSE {h.val_rmse[-1]:.3f} (reference "
                           f"{ref:.3f}): {_blame(split, settings, ref)}, then report the fixed model")
        b = history_bucket_rmse(h, split.val)
        want = b["buckets"]["rare"]["rmse"]
        if abs(rare - want) > 0.01:
            near = lambda x: abs(rare - x) <= 0.005  # noqa: E731
            slip = ("that is the overall RMSE, the number that hides the gap" if near(b["overall"])
                    else "that is the average over items (per_item), not the rare bucket"
                    if near(b["per_item"]) else "that is a mean squared error: take the root"
                    if near(want ** 2) else "that is on the test set: report validation"
                    if near(history_bucket_rmse(h, split.test)["buckets"]["rare"]["rmse"])
                    else next((f"that is the '{k}' bucket" for k, v in b["buckets"].items()
                               if near(v["rmse"])), "compute it with mf.history_bucket_rmse "
                                                    "on the validation set"))
            return False, (f"your fixed model's rare-item RMSE is {want:.3f}, not {rare:.3f}: "
                           f"{slip}")
        return True, (f"rare items {want:.3f} vs overall {b['overall']:.3f}: the overall number "
                      f"hides a {want - b['overall']:+.2f} gap — report both")

    return check
