"""Notebook 04 (capstone): a recommender that arrives broken, its faults, checks and scoreboard.

The "script as received" is a settings dict and one ``train`` call — the way a colleague's
training job usually looks. ``broken_settings(level)`` plants the faults; the student finds them
(``diagnose``, the panels of notebooks 01–03), edits the settings, and each fault's check runs the
fixed settings and measures whether that fault is gone.
"""
from __future__ import annotations

import math

import numpy as np

from .data import Ratings, Split
from .exercises import CheckResult, Exercise

__all__ = ["LEVELS", "FAULTS", "broken_settings", "settings_with", "check_all", "REFERENCE", "capstone_data", "run_job",
           "fault_exercises", "scoreboard", "SCRIPT"]

# The job as handed over. Every key is a knob of the training run.
SCRIPT = '''\
# recommender_job.py — "it trains, the loss goes down; the recommendations are bad"
SETTINGS = {settings}

split = capstone_data()                      # ratings, 80/10/10
history = run_job(split, SETTINGS)           # builds the item table with SETTINGS["item_rows"]
print("val RMSE", history.val_rmse[-1])      # the one number the team reports
'''

REFERENCE = dict(init="normal", init_std=0.05, optimizer="adam", lr=0.01, bias_lr=None,
                 reg="l2_batch", reg_strength=0.05, normalize="center", user_bias=True,
                 item_bias=True, global_bias=True, item_rows=None)

# fault name → (what it is, where to look)
FAULTS = {
    "init": ("embeddings start far too big (or at mismatched scales)", "notebook 01"),
    "weight_decay": ("Adam/SGD weight_decay past the cliff: every embedding decays to 0", "notebook 02"),
    "biases": ("raw 1–5 ratings with no bias terms and no centring", "notebook 03"),
    "evaluation": ("heavy popularity skew judged by the overall RMSE only", "notebook 03"),
    "sgd_lr": ("SGD with one learning rate for embeddings and biases", "notebook 03"),
    "padding": ("item table padded to 100,000 rows, with Xavier init", "notebook 01"),
}
LEVELS = {"easy": ("init", "weight_decay"),
          "medium": ("init", "weight_decay", "biases", "evaluation"),
          "hard": ("weight_decay", "biases", "evaluation", "sgd_lr", "padding")}
# The settings each fault lives in: a check runs the reference job with only these taken from
# the student's settings, so each fault is judged on its own (their symptoms mask each other:
# a huge init hides the weight-decay collapse, for instance).
FAULT_KEYS = {"init": ("init", "init_std", "item_rows"),
              "weight_decay": ("reg", "reg_strength", "optimizer", "lr", "bias_lr"),
              "biases": ("normalize", "user_bias", "item_bias", "global_bias"),
              "sgd_lr": ("optimizer", "lr", "bias_lr"),
              "padding": ("init", "init_std", "item_rows")}


def broken_settings(level="medium") -> dict:
    """The settings of the broken job at a difficulty level ('easy', 'medium', 'hard')."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {list(LEVELS)}, got {level!r}")
    return settings_with(LEVELS[level])


def settings_with(faults) -> dict:
    """The reference settings with the named faults planted (see FAULTS)."""
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown fault(s) {sorted(unknown)}; faults: {list(FAULTS)}")
    s = dict(REFERENCE)
    if "init" in faults:
        s.update(init="default")                                  # nn.Embedding's N(0, 1)
    if "weight_decay" in faults:
        s.update(reg="weight_decay", reg_strength=1e-2)           # "regularise a bit"
    if "biases" in faults:
        s.update(normalize="none", user_bias=False, item_bias=False, global_bias=False)
    if "sgd_lr" in faults:
        s.update(optimizer="sgd", lr=1.0, bias_lr=None)           # one lr for everything
    if "padding" in faults:
        s.update(init="xavier_uniform", item_rows=100_000)        # room to grow, "good" init
        if "init" in faults:
            s.update(init="default")
    return s


def capstone_data(level="medium", seed=0) -> Split:
    """The job's data: heavy popularity skew from 'medium' up (where evaluation is a fault)."""
    from .data import random_split, synthetic

    zipf = 1.5 if level in ("medium", "hard") else 1.2
    return random_split(synthetic(600, 1500, 50_000, item_zipf=zipf, user_zipf=0.8,
                                  popularity_rating_effect=0.2, seed=seed), seed=seed)


def _padded(split: Split, rows) -> Split:
    if not rows or rows <= split.train.n_items:
        return split

    def pad(r: Ratings):
        return Ratings(r.users, r.items, r.ratings, n_users=r.n_users, n_items=int(rows),
                       scale=r.scale, truth=None, name=r.name)
    return Split(pad(split.train), pad(split.val), pad(split.test), split.kind)


def run_job(split: Split, settings: dict, epochs=15):
    """Run the job with ``settings`` (the keys of REFERENCE). Returns the History."""
    from .training import TrainConfig, train

    unknown = set(settings) - set(REFERENCE)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; the job has {sorted(REFERENCE)}")
    s = {**REFERENCE, **settings}
    cfg = TrainConfig(dim=32, epochs=epochs, batch_size=4096, init=s["init"],
                      init_std=s["init_std"], optimizer=s["optimizer"], lr=s["lr"],
                      bias_lr=s["bias_lr"], reg=s["reg"], reg_strength=s["reg_strength"],
                      normalize=s["normalize"], user_bias=s["user_bias"],
                      item_bias=s["item_bias"], global_bias=s["global_bias"], seed=0)
    return train(_padded(split, s["item_rows"]), cfg)


def _measure(split: Split, h) -> dict:
    """Overall / per-bucket RMSE and recovery of the true item factors (first n_items rows)."""
    from .metrics import bucket_rmse, recovery_r2
    from .preprocessing import popularity_buckets

    n = split.train.n_items
    counts = h.train_item_counts[:n]
    va = split.val
    pred = h.predict(va.users, va.items) if h.ok else np.full(len(va), np.nan)
    b = bucket_rmse(pred, va, counts) if h.ok else None
    Q = h.factors()[1][:n]
    r2 = recovery_r2(Q, split.truth.item_factors, popularity_buckets(counts)) \
        if np.isfinite(Q).all() and np.abs(Q).max() > 0 else {"overall": 0.0, "groups": {}}
    return {"overall": b["overall"] if b else np.nan,
            "per item": b["per_item"] if b else np.nan,
            **{f"{k} items": (v["rmse"] if b else np.nan) for k, v in (b or {"buckets": {}})["buckets"].items()},
            "R² true factors": r2["overall"], "diverged": not h.ok}


def scoreboard(split: Split, runs: dict):
    """A DataFrame: one row per run (e.g. broken / fixed / reference), one column per metric."""
    import pandas as pd

    return pd.DataFrame({name: _measure(split, h) for name, h in runs.items()}).T


# -- checks, one per fault ----------------------------------------------------------------------
def _check(fault, split, level):
    from .metrics import singular_values
    from .model import expected_initial_rmse, init_std

    n_users, n_items = split.train.n_users, split.train.n_items
    var_r = float(np.var(split.train.ratings))

    def check(settings):
        if not isinstance(settings, dict):
            return False, "pass your fixed settings dict"
        s = {**REFERENCE, **settings}
        rows = s["item_rows"] or n_items
        if fault == "init":
            if s["init"] in ("zeros", "constant"):
                return False, f"init={s['init']!r}: embeddings would never break symmetry"
            first = expected_initial_rmse(s["init"], 32, n_users, rows, var_r, std=s["init_std"])
            if first > 1.5 * math.sqrt(var_r):
                return False, (f"with init={s['init']!r} the first RMSE is about {first:.2f}, far "
                               f"above the ratings' spread {math.sqrt(var_r):.2f}")
            return True, f"first RMSE ≈ {first:.2f}: predictions start inside the rating scale"
        if fault == "padding":
            su = init_std(s["init"], n_users, 32, std=s["init_std"])
            sv = init_std(s["init"], rows, 32, std=s["init_std"])
            if su > 0 and not 0.5 < sv / su < 2:
                return False, (f"the user table starts at std {su:.4f} and the {rows:,}-row item "
                               f"table at {sv:.4f}: Xavier's scale depends on the rows")
            return True, f"both tables start at std ≈ {sv:.3g} whatever the table size"
        isolated = {**REFERENCE, **{k: s[k] for k in FAULT_KEYS[fault]}}
        if fault == "weight_decay" and isolated["optimizer"] in ("sgd", "momentum") \
                and isolated["bias_lr"] is None:
            isolated["bias_lr"] = 0.5  # judge the decay, not SGD's bias lr (its own fault)
        h = run_job(split, isolated)
        if fault == "weight_decay":
            if not h.ok:
                return False, f"training diverged: {h.diverged}"
            s_vals = singular_values(*h.factors())
            if s_vals[0] < 1e-2 * math.sqrt(n_users * n_items):
                return False, "every embedding still ends (nearly) zero: the decay is past the cliff"
            return True, (f"the embeddings survive (largest singular value {s_vals[0]:.0f}) — "
                          f"regularize with a penalty on the batch's rows instead")
        if fault == "biases":
            if s["normalize"] == "none" and not s["global_bias"]:
                return False, (f"ratings average {split.train.ratings.mean():.2f} and nothing in "
                               f"the model produces that mean")
            if not (s["user_bias"] and s["item_bias"]):
                return False, "add user and item bias terms: they carry most of the signal"
            return True, "ratings centred / global bias, plus user and item biases"
        if fault == "sgd_lr":
            if not h.ok:
                return False, f"training diverged: {h.diverged}"
            if s["optimizer"] in ("sgd", "momentum") and (s["bias_lr"] is None or s["lr"] < 10):
                return False, ("SGD on a mean loss needs a large lr for embeddings (~30) and a "
                               "small one for biases (< 1): set lr and bias_lr separately")
            return True, f"val RMSE {h.val_rmse[-1]:.3f} with {s['optimizer']} at lr {s['lr']:g}"
        raise ValueError(f"unknown fault {fault!r}")

    return check


def _evaluation_check(split):
    from .metrics import bucket_rmse

    def check(answer):
        try:
            settings, rare = answer
            rare = float(rare)
        except (TypeError, ValueError):
            return False, "answer (fixed_settings, rare_item_rmse): the RMSE of your fixed model on rare items"
        h = run_job(split, settings)
        if not h.ok:
            return False, f"training diverged: {h.diverged}"
        n = split.train.n_items
        b = bucket_rmse(h.predict(split.val.users, split.val.items), split.val,
                        h.train_item_counts[:n])
        want = b["buckets"]["rare"]["rmse"]
        if abs(rare - want) > 0.01:
            return False, (f"your fixed model's rare-item RMSE is {want:.3f}, not {rare:.3f}; "
                           f"compute it with mf.bucket_rmse on the validation set")
        return True, (f"rare items {want:.3f} vs overall {b['overall']:.3f}: the overall number "
                      f"hides a {want - b['overall']:+.2f} gap — report both")

    return check


_HINTS = {
    "init": ["Look at the first value of history.train_rmse: how far off is the model before any step?",
             "Notebook 01: first RMSE ≈ √(dim·σ_u²σ_v² + Var r). Use a small normal init."],
    "weight_decay": ["Look at the singular values of the learned P Qᵀ (mf.singular_values).",
                     "Notebook 02: Adam's weight_decay has a cliff at 2σ_max/N ≈ 1e-3. Use reg='l2_batch'."],
    "biases": ["What does the model predict for an average user and item? Where does 3.5 come from?",
               "Notebook 03: centre the ratings (normalize='center') and add user/item/global biases."],
    "evaluation": ["Compute mf.bucket_rmse(history.predict(...), split.val, history.train_item_counts).",
                   "Answer (fixed_settings, rare_rmse) with the rare bucket of your fixed model."],
    "sgd_lr": ["Which parameter sees every example? What lr does it tolerate?",
               "Notebook 03: embeddings lr ≈ 30, bias_lr ≈ 0.5 (two parameter groups) — or Adam."],
    "padding": ["Compare mf.init_std('xavier_uniform', rows, 32) for 600 and 100,000 rows.",
                "Notebook 01: use a normal init whose std does not depend on the rows, or don't pad."],
}
_SOLUTIONS = {
    "init": "fixed['init'] = 'normal'; fixed['init_std'] = 0.05",
    "weight_decay": "fixed['reg'] = 'l2_batch'; fixed['reg_strength'] = 0.05",
    "biases": "fixed.update(normalize='center', user_bias=True, item_bias=True, global_bias=True)",
    "evaluation": "h = mf.lesson04.run_job(split, fixed)\n"
                  "b = mf.bucket_rmse(h.predict(split.val.users, split.val.items), split.val, h.train_item_counts[:1500])\n"
                  "ex.check((fixed, b['buckets']['rare']['rmse']))",
    "sgd_lr": "fixed.update(optimizer='sgd', lr=30.0, bias_lr=0.5)  # or optimizer='adam', lr=0.01",
    "padding": "fixed.update(init='normal', init_std=0.05)  # item_rows may stay: the std no longer depends on it",
}


def fault_exercises(level, split) -> dict:
    """One Exercise per planted fault of ``level``; each check runs/measures the fixed settings."""
    out = {}
    for fault in LEVELS[level]:
        what, where = FAULTS[fault]
        checker = _evaluation_check(split) if fault == "evaluation" else _check(fault, split, level)
        prompt = (f"Fault '{fault}' ({where}). Fix it in your settings and pass them to check()"
                  + (" as (settings, rare_item_rmse)." if fault == "evaluation" else "."))
        out[fault] = Exercise(f"fault: {fault}", prompt, checker, hints=_HINTS[fault],
                              solution=_SOLUTIONS[fault] + f"\n# the fault: {what}")
    return out


def check_all(level, split, settings, rare_rmse=None) -> list[CheckResult]:
    """Run every fault's check on ``settings`` (and the rare-item RMSE for 'evaluation')."""
    results = []
    for fault, ex in fault_exercises(level, split).items():
        answer = (settings, rare_rmse) if fault == "evaluation" else settings
        r = ex.check(answer)
        results.append(CheckResult(r.ok, f"[{fault}] {r.message}"))
    return results
