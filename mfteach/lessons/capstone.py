"""Notebook 04 (capstone): a recommender that arrives broken, its faults, checks and scoreboard.

The "script as received" is a settings dict and one ``train`` call — the way a colleague's
training job usually looks. ``broken_settings(level)`` plants the faults; the student finds them
(``diagnose``, the panels of notebooks 01–03), edits the settings, and each fault's check runs the
fixed settings and measures whether that fault is gone.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..data import Split, synthetic
from ..splits import random_split
from ..metrics import history_bucket_rmse, recovery_r2
from ..preprocessing import popularity_buckets
from ..training import TrainConfig
from ..ui import Panel, PanelMessage, Toggle, panel_factory, plots
from .common import Run, finished, grid, show_diverged, trained
from .exercises import CheckResult, Exercise

__all__ = ["Fault", "FAULTS", "LEVELS", "REFERENCE", "SCRIPT", "broken_settings", "settings_with",
           "capstone_data", "run_job", "reference_val", "scoreboard", "fault_exercises", "check_all",
           "capstone_panel"]

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



@dataclass(frozen=True)
class Fault:
    """One planted fault: what it breaks, where it is taught, the settings that plant it, the
    settings it lives in (its check judges only those), and how to find and fix it."""

    name: str
    breaks: str
    where: str
    planted: dict
    keys: tuple
    hints: tuple
    solution: str


# Padding the item table to 100,000 rows with Xavier init was a fault here once; measured, it
# changes nothing (claim 04.padding-harmless), so it is no fault: no check demands a fix for it.
FAULTS = {f.name: f for f in (
    Fault("init", "embeddings start far too big: N(0, 1), nn.Embedding's default", "notebook 01",
          dict(init="default"), ("init", "init_std"),
          ("Look at the first value of history.train_rmse: how far off is the model before any step?",
           "Notebook 01: first RMSE ≈ √(dim·σ_u²σ_v² + Var r) (claim 01.first-rmse). Use a small "
           "normal init."),
          "fixed['init'] = 'normal'; fixed['init_std'] = 0.05"),
    Fault("weight_decay", "Adam's coupled weight_decay=0.01, past the cliff 2σ_max/N: on centred "
          "ratings every embedding decays to 0", "notebook 02",
          dict(reg="weight_decay", reg_strength=1e-2),
          ("reg", "reg_strength", "optimizer", "lr", "bias_lr"),
          ("Look at the singular values of the learned P Qᵀ (mf.singular_values).",
           "Notebook 02: Adam's weight_decay collapses the embeddings past λ* = 2σ_max/N; on this "
           "job's centred ratings λ* ≈ 2.3–2.7e-3, below the job's 0.01 (claim 04.cliff). No "
           "regularizer, or AdamW(weight_decay=0.01), avoids the collapse but overfits "
           "(claim 04.no-reg-overfits). Use reg='l2_batch'."),
          "fixed['reg'] = 'l2_batch'; fixed['reg_strength'] = 0.05"),
    Fault("biases", "raw 1–5 ratings with no bias terms and no centring", "notebook 03",
          dict(normalize="none", user_bias=False, item_bias=False, global_bias=False),
          ("normalize", "user_bias", "item_bias", "global_bias"),
          ("The ratings average ≈ 3.85. Which part of this model can produce that number?",
           "Centre the ratings (normalize='center') or add a global bias; user/item biases add "
           "a little more (claim 04.user-item-biases)."),
          "fixed.update(normalize='center', user_bias=True, item_bias=True, global_bias=True)"),
    Fault("evaluation", "heavy popularity skew judged by the overall RMSE only", "notebook 03",
          {}, (),
          ("Compute mf.history_bucket_rmse(history, split.val).",
           "Fix the other faults first, then answer (fixed_settings, rare_rmse) with the rare "
           "bucket of your fixed model."),
          "h = lesson.run_job(split, fixed)\n"
          "ex.check((fixed, mf.history_bucket_rmse(h, split.val)['buckets']['rare']['rmse']))"),
    Fault("sgd_lr", "SGD with one learning rate for embeddings and biases", "notebook 03",
          dict(optimizer="sgd", lr=1.0, bias_lr=None), ("optimizer", "lr", "bias_lr"),
          ("Which parameter sees every example? What lr does it tolerate?",
           "Notebook 03: embeddings lr ≈ 30, bias_lr ≈ 0.5 (two parameter groups) — or Adam "
           "(claim 04.sgd-two-lrs)."),
          "fixed.update(optimizer='sgd', lr=30.0, bias_lr=0.5)  # or optimizer='adam', lr=0.01"),
)}
LEVELS = {"easy": ("init", "weight_decay"),
          "medium": ("init", "weight_decay", "biases", "evaluation"),
          "hard": ("init", "weight_decay", "biases", "evaluation", "sgd_lr")}


def _level(level):
    if level not in LEVELS:
        raise ValueError(f"level must be one of {list(LEVELS)}, got {level!r}")
    return LEVELS[level]


def broken_settings(level="medium") -> dict:
    """The settings of the broken job at a difficulty level ('easy', 'medium', 'hard')."""
    return settings_with(_level(level))


def settings_with(faults) -> dict:
    """The reference settings with the named faults planted (see FAULTS)."""
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown fault(s) {sorted(unknown)}; faults: {list(FAULTS)}")
    s = dict(REFERENCE)
    for name, fault in FAULTS.items():
        if name in faults:
            s.update(fault.planted)
    return s


@lru_cache(maxsize=8)
def capstone_data(level="medium", seed=0) -> Split:
    """The job's data: heavy popularity skew from 'medium' up (where evaluation is a fault);
    cached, since it is deterministic (the notebook's cells and its panel share one object)."""
    _level(level)
    zipf = 1.5 if level in ("medium", "hard") else 1.2
    return random_split(synthetic(600, 1500, 50_000, item_zipf=zipf, user_zipf=0.8,
                                  popularity_rating_effect=0.2, seed=seed), seed=seed)


def _padded(split: Split, rows) -> Split:
    if not rows or rows <= split.train.n_items:
        return split
    return split.map(lambda r: r.replace(n_items=int(rows), truth=None))


def run_job(split: Split, settings: dict, epochs=15, seed=0):
    """Run the job with ``settings`` (the keys of REFERENCE). Returns the History (read-only:
    the same job on the same data is trained once and shared, see ``common.trained``)."""
    unknown = set(settings) - set(REFERENCE)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; the job has {sorted(REFERENCE)}")
    s = {**REFERENCE, **settings}
    strength = 0.0 if s["reg"] == "none" else s["reg_strength"]  # "none" means no penalty at all
    cfg = TrainConfig(dim=32, epochs=epochs, batch_size=4096, init=s["init"],
                      init_std=s["init_std"], optimizer=s["optimizer"], lr=s["lr"],
                      bias_lr=s["bias_lr"], reg=s["reg"], reg_strength=strength,
                      normalize=s["normalize"], user_bias=s["user_bias"],
                      item_bias=s["item_bias"], global_bias=s["global_bias"], seed=seed)
    return trained(_padded(split, s["item_rows"]), cfg)


_REF_VAL: dict = {}


def reference_val(split: Split, **changes) -> float:
    """The reference job's (with ``changes``) final validation RMSE on ``split``, computed once."""
    key = (id(split), tuple(sorted(changes.items())))
    if key not in _REF_VAL:
        _REF_VAL[key] = (split, float(run_job(split, {**REFERENCE, **changes}).val_rmse[-1]))
    return _REF_VAL[key][1]


def _measure(split: Split, h) -> dict:
    """Overall / per-bucket RMSE and recovery of the true item factors (first n_items rows)."""
    n = split.train.n_items
    counts = h.train_item_counts[:n]
    b = history_bucket_rmse(h, split.val) if h.ok else None
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

    # orient="index": each column keeps its dtype, so .round(3) works (a transposed frame is
    # all object dtype: it printed 3.820876)
    return pd.DataFrame.from_dict({k: _measure(split, h) for k, h in runs.items()}, orient="index")


def fault_exercises(level, split) -> dict:
    """One Exercise per planted fault of ``level``; each check runs/measures the fixed settings."""
    from .checks_capstone import evaluation_check, fault_check  # (they run jobs of this module)

    out = {}
    for name in _level(level):
        f = FAULTS[name]
        checker = evaluation_check(split) if name == "evaluation" else fault_check(name, split)
        prompt = (f"Fault '{name}' ({f.where}). Fix it in your settings and pass them to check()"
                  + (" as (settings, rare_item_rmse)." if name == "evaluation" else "."))
        out[name] = Exercise(f"fault: {name}", prompt, checker, hints=f.hints,
                             solution=f.solution + f"\n# the fault: {f.breaks}")
    return out


def check_all(level, split, settings, rare_rmse=None) -> list[CheckResult]:
    """Run every fault's check on ``settings`` (and the rare-item RMSE for 'evaluation')."""
    results = []
    for fault, ex in fault_exercises(level, split).items():
        answer = (settings, rare_rmse) if fault == "evaluation" else settings
        r = ex.check(answer)
        results.append(CheckResult(r.ok, f"[{fault}] {r.message}"))
    return results


# -- the switchboard panel -----------------------------------------------------------------------
class _CapstoneView:
    def __init__(self, fig):
        (a, b), (c, d) = grid(fig)
        self.curves = plots.RmseCurves(a, log=True, title="Training curves (log scale)")
        self.bars = plots.BucketBars(b)
        self.spectrum = plots.Spectrum(c, true_rank=4)
        self.scatter = plots.NormVsPopularity(d)
        self.all = (self.curves, self.bars, self.spectrum, self.scatter)

    def update(self, run, pinned=None):
        h, n = run.history, run.split.train.n_items
        self.curves.update(h, run.mean_rmse, run.truth_rmse, pinned.history if pinned else None)
        if show_diverged(h, (self.bars, self.spectrum, self.scatter)):
            return
        end = finished(pinned)  # (A, unless it diverged)
        self.bars.update(run.extra["buckets"], end.extra["buckets"] if end else None)
        P, Q = h.factors()
        pin = end.history if end else None
        self.spectrum.update(P, Q[:n], pinned=(pin.factors()[0], pin.factors()[1][:n]) if pin else None)
        self.scatter.update(h, pin)

    def message(self, text):
        for p in self.all:
            p.message(text if p is self.curves else "")


def _describe_capstone(run):
    b, on = run.extra["buckets"], run.extra["on"]
    if run.history.diverged:  # its last finite epoch's numbers are no result
        return f"faults on: {', '.join(on) or 'none'} → {run.history.diverged}"
    s = f"faults on: {', '.join(on) or 'none'} → overall val RMSE {b['overall']:.3f}"
    if not run.extra["evaluation"]:
        s += (f"; rare items {b['buckets']['rare']['rmse']:.3f}, popular "
              f"{b['buckets']['popular']['rmse']:.3f}")
    else:
        s += " (the team only looks at this number)"
    return s


@panel_factory
def capstone_panel(level="hard", *, init=True, weight_decay=True, biases=True, evaluation=True,
                   sgd_lr=True, projector=False) -> Panel:
    """Notebook 04's fault switchboard: one toggle per planted fault of ``level`` (on = broken)."""
    faults = _level(level)
    given = dict(init=init, weight_decay=weight_decay, biases=biases, evaluation=evaluation,
                 sgd_lr=sgd_lr)
    stray = [f for f, on in given.items() if f not in faults and on is not True]
    if stray:
        raise ValueError(f"level {level!r} has no fault(s) {stray}; its faults: {list(faults)}")
    split = capstone_data(level)
    controls = [Toggle(f, given[f], f"fault: {f}", help=FAULTS[f].breaks) for f in faults]

    def compute(v):
        on = [f for f in faults if v[f] and f != "evaluation"]
        h = run_job(split, settings_with(on))
        if h.diverged and len(h.epochs) <= 1:
            raise PanelMessage(str(h.diverged))
        return Run.of(h, split, buckets=history_bucket_rmse(h, split.val), on=on,
                      evaluation=v.get("evaluation", False))

    return Panel(controls, compute, _CapstoneView,
                 title=f"Capstone ({level}): switch faults off one by one",
                 describe=_describe_capstone, projector=projector)
