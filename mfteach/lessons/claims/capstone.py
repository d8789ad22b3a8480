"""Claims of lesson 04 (capstone): what each planted fault does, which fault masks which, the
scoreboard and the real-data run. Each seed draws new data AND a new training seed."""
from __future__ import annotations

import math

import numpy as np

from ...metrics import baseline_rmse, history_bucket_rmse, singular_values
from ..capstone import REFERENCE, broken_settings, capstone_data, run_job, settings_with
from . import claim


def _s1(h):
    return float(singular_values(*h.factors())[0]) if h.ok else float("nan")


def _sigma_max(r, split):
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import svds

    t = split.train
    M = coo_matrix((r.astype(np.float64), (t.users, t.items)), shape=(t.n_users, t.n_items))
    return float(svds(M.tocsr(), k=1)[1][0])


@claim("04.broken-loss-falls",
       "The job as received trains without error and its training RMSE falls, yet it ends about "
       "four times worse on validation than predicting the training mean (its predictions are "
       "not clipped to 1–5).",
       conditions="level 'medium' (N(0, 1) init, Adam weight_decay=0.01, no biases on raw 1–5 "
                  "ratings), capstone data, 15 epochs; unclipped predictions (clipped to 1–5 it "
                  "is ≈ 3× the mean, an independent re-check found)",
       expect="last train RMSE < first; final val RMSE between 3.5 and 5 × the predict-the-mean RMSE")
def _broken(seed):
    split = capstone_data("medium", seed=seed)
    h = run_job(split, broken_settings("medium"), seed=seed)
    mean = baseline_rmse(split.train, split.val)
    out = {"train first": h.train_rmse[0], "train last": h.train_rmse[-1],
           "val": h.val_rmse[-1], "predict the mean": mean}
    return out, h.ok and h.train_rmse[-1] < h.train_rmse[0] and 3.5 * mean < h.val_rmse[-1] < 5 * mean


@claim("04.collapse-masked",
       "Adam's weight_decay=0.01 collapses every embedding only once both the init and the biases "
       "are fixed; with the init fixed but the biases still missing the largest singular value "
       "stays in the hundreds (≈ 560) — the direction that carries the mean, the only one left "
       "(the second is under 1e-3 of it) — and with the biases fixed but the N(0, 1) init it "
       "stays ≈ 130.",
       conditions="level 'medium' faults, Adam lr 0.01, 15 epochs; 'collapsed' = largest singular "
                  "value of P Qᵀ below 1e-3·√(users·items) (≈ 0.95)",
       expect="weight_decay alone: s₁ < 1e-3·√(nm); + missing biases: s₁ > 300 and s₂/s₁ < 1e-3; "
              "+ N(0,1) init: s₁ > 50")
def _masked(seed):
    split = capstone_data("medium", seed=seed)
    scale = math.sqrt(split.train.n_users * split.train.n_items)
    sv = {name: singular_values(*run_job(split, settings_with(f), seed=seed).factors())
          for name, f in (("wd alone", ["weight_decay"]), ("wd + no biases", ["weight_decay", "biases"]),
                          ("wd + N(0,1) init", ["weight_decay", "init"]))}
    s = {k: float(v[0]) for k, v in sv.items()}
    rank1 = float(sv["wd + no biases"][1] / sv["wd + no biases"][0])
    ok = s["wd alone"] < 1e-3 * scale and s["wd + no biases"] > 300 and s["wd + N(0,1) init"] > 50
    return {**{f"s1 {k}": v for k, v in s.items()}, "s2/s1 wd + no biases": rank1}, ok and rank1 < 1e-3


@claim("04.cliff",
       "The cliff λ* = 2σ_max/N of Adam's weight_decay is ≈ 2–3e-3 on this job's centred ratings, "
       "below the job's 0.01, but ≈ 2.4e-2 on raw 1–5 ratings, above it: without centring or "
       "biases the decay is not past the cliff, which is why the missing biases hide the collapse.",
       conditions="capstone data ('medium'), N training ratings; σ_max of the sparse training "
                  "matrix, centred at the global mean or raw",
       expect="centred λ* in [1.5e-3, 4e-3]; raw λ* in [1.8e-2, 3e-2]")
def _cliff(seed):
    split = capstone_data("medium", seed=seed)
    r, n = split.train.ratings, len(split.train)
    c = 2 * _sigma_max(r - r.mean(), split) / n
    raw = 2 * _sigma_max(r, split) / n
    return {"λ* centred": c, "λ* raw": raw}, 1.5e-3 <= c <= 4e-3 and 1.8e-2 <= raw <= 3e-2


@claim("04.no-reg-overfits",
       "Dropping the regularizer, or switching to AdamW(weight_decay=0.01) — which does about the "
       "same here — avoids the collapse but ends ≈ 0.08 worse on validation than an L2 penalty on "
       "the batch's rows (λ = 0.05).",
       conditions="capstone data ('medium'), every other fault fixed (small init, centred, biases), "
                  "Adam/AdamW lr 0.01, 15 epochs",
       expect="no-reg and AdamW within 0.01 of each other; both 0.04–0.12 worse than l2_batch; "
              "neither collapsed (s₁ > 100)")
def _noreg(seed):
    split = capstone_data("medium", seed=seed)
    runs = {"l2_batch": REFERENCE, "none": {**REFERENCE, "reg": "none"},
            "AdamW 0.01": {**REFERENCE, "optimizer": "adamw", "reg": "weight_decay",
                           "reg_strength": 0.01}}
    hs = {k: run_job(split, v, seed=seed) for k, v in runs.items()}
    v = {k: float(h.val_rmse[-1]) for k, h in hs.items()}
    ok = (abs(v["none"] - v["AdamW 0.01"]) < 0.01
          and all(0.04 <= v[k] - v["l2_batch"] <= 0.12 for k in ("none", "AdamW 0.01"))
          and min(_s1(hs["none"]), _s1(hs["AdamW 0.01"])) > 100)
    return {f"val {k}": x for k, x in v.items()}, ok


@claim("04.padding-harmless",
       "Padding the item table to 100,000 rows with Xavier init (its item std ≈ 0.0045 against the "
       "user table's ≈ 0.056) changes validation by less than 0.02 under Adam: it is not a fault.",
       conditions="capstone data ('hard'), everything else as the reference job (Adam lr 0.01, "
                  "centred, biases, L2 on the batch's rows), 15 epochs",
       expect="|val padded − val reference| < 0.02", slow=True)
def _padding(seed):
    split = capstone_data("hard", seed=seed)
    pad = run_job(split, {**REFERENCE, "init": "xavier_uniform", "item_rows": 100_000}, seed=seed)
    ref = run_job(split, REFERENCE, seed=seed)
    a, b = float(pad.val_rmse[-1]), float(ref.val_rmse[-1])
    return {"val padded+Xavier": a, "val reference": b}, abs(a - b) < 0.02


@claim("04.scoreboard",
       "The reference job beats the broken one by more than 3 rating points overall; its errors "
       "on rare items (1–5 training ratings) are ≥ 0.2 above its overall RMSE and above the mid "
       "and popular buckets: a gap the overall number hides. (The cold bucket holds only a "
       "handful of validation ratings, so its number is noise.)",
       conditions="capstone data ('medium', Zipf 1.5), broken = level 'medium', 15 epochs",
       expect="broken − reference overall > 3; reference rare > mid, popular; rare > "
              "overall + 0.2; the cold bucket has < 40 validation ratings")
def _scoreboard(seed):
    split = capstone_data("medium", seed=seed)
    b = {k: history_bucket_rmse(run_job(split, s, seed=seed), split.val)
         for k, s in (("broken", broken_settings("medium")), ("reference", REFERENCE))}
    ref = b["reference"]
    r = {k: v["rmse"] for k, v in ref["buckets"].items()}
    out = {"broken overall": b["broken"]["overall"], "reference overall": ref["overall"],
           **{f"reference {k}": v for k, v in r.items()}}
    n_cold = ref["buckets"]["cold"]["ratings"]
    out["cold validation ratings"] = n_cold
    return out, (b["broken"]["overall"] - ref["overall"] > 3
                 and r["rare"] > max(r["mid"], r["popular"]) and r["rare"] > ref["overall"] + 0.2
                 and n_cold < 40)


@claim("04.real-data",
       "On MovieLens the broken job is more than three times worse than predicting the mean "
       "(unclipped predictions), and "
       "the reference job beats the mean by a smaller share (≈ 14%) than on the synthetic data "
       "(≈ 38%).",
       conditions="MovieLens latest-small (offline copy), random 80/10/10 split per seed; the "
                  "same 'medium' broken and reference settings, 15 epochs",
       expect="broken > 3 × mean; reference < mean; relative gain on MovieLens < 0.25 < "
              "relative gain on synthetic data", slow=True)
def _real(seed):
    from ...splits import random_split
    from ...datasets import load_movielens_small

    out, gains = {}, {}
    for name, split in (("MovieLens", random_split(load_movielens_small(), seed=seed)),
                        ("synthetic", capstone_data("medium", seed=seed))):
        mean = baseline_rmse(split.train, split.val)
        ref = float(run_job(split, REFERENCE, seed=seed).val_rmse[-1])
        gains[name] = 1 - ref / mean
        out[f"{name} mean / reference"] = f"{mean:.3f} / {ref:.3f}"
        if name == "MovieLens":
            broken = float(run_job(split, broken_settings("medium"), seed=seed).val_rmse[-1])
            out["MovieLens broken"] = broken
            ok = broken > 3 * mean and ref < mean
    out.update({f"gain {k}": v for k, v in gains.items()})
    return out, ok and gains["MovieLens"] < 0.25 < gains["synthetic"]


@claim("04.sgd-two-lrs",
       "With SGD, one learning rate for embeddings and biases fails either way: at lr 1 the job "
       "ends far behind (val ≥ 0.8), at lr 30 training diverges in the first epoch; lr 30 "
       "for the embeddings and 0.5 for the biases reaches ≈ 0.63 (Adam's reference: ≈ 0.57).",
       conditions="capstone data ('hard'), every other fault fixed, batch 4096, mean loss, "
                  "15 epochs",
       expect="lr 1: val > 0.8; lr 30 one lr: diverged; two lrs: val in [0.58, 0.70] and "
              "within 0.1 of Adam's")
def _sgd(seed):
    split = capstone_data("hard", seed=seed)
    h = {k: run_job(split, {**REFERENCE, **s}, seed=seed) for k, s in (
        ("lr 1", dict(optimizer="sgd", lr=1.0)), ("lr 30", dict(optimizer="sgd", lr=30.0)),
        ("lr 30 + bias 0.5", dict(optimizer="sgd", lr=30.0, bias_lr=0.5)), ("adam", {}))}
    v = {k: float(x.val_rmse[-1]) if x.ok else float("nan") for k, x in h.items()}
    ok = (h["lr 1"].ok and v["lr 1"] > 0.8 and not h["lr 30"].ok
          and h["lr 30"].diverged.epoch <= 1
          and 0.58 <= v["lr 30 + bias 0.5"] <= 0.70 and v["lr 30 + bias 0.5"] - v["adam"] < 0.1)
    return {f"val {k}": x for k, x in v.items()}, ok


@claim("04.user-item-biases",
       "Once the ratings are centred, user and item bias terms improve validation only a little "
       "here (≈ 0.02): the fault is the uncentred mean with nothing to produce it.",
       conditions="capstone data ('medium'), reference job (centred, global bias, Adam, L2 on "
                  "the batch's rows) with and without user/item biases, 15 epochs",
       expect="0.005 < val without − val with < 0.05")
def _biases(seed):
    split = capstone_data("medium", seed=seed)
    a = float(run_job(split, REFERENCE, seed=seed).val_rmse[-1])
    b = float(run_job(split, {**REFERENCE, "user_bias": False, "item_bias": False},
                      seed=seed).val_rmse[-1])
    return {"val with": a, "val without user/item biases": b}, 0.005 < b - a < 0.05


@claim("04.healthy-diagnose",
       "On the reference job `diagnose` raises no warning; its one note is the cold items (no "
       "training ratings), which keep their small init: their dot products spread by less than "
       "0.15 rating points, small next to the ratings' spread (≈ 0.9), so they predict about "
       "their biases.",
       conditions="capstone data ('medium'), reference settings (N(0, 0.05²) init, Adam, L2 on "
                  "the batch's rows), 15 epochs",
       expect="no warning; an info 'rows never updated' with ≥ 5 items and dot-product std < 0.15 "
              "and < 0.2 × the rating std")
def _healthy(seed):
    from ...diagnostics import diagnose

    split = capstone_data("medium", seed=seed)
    found = diagnose(run_job(split, REFERENCE, seed=seed), split)
    cold = [f for f in found if f.name == "rows never updated"]
    ev = cold[0].evidence if cold else {}
    spread = float(np.std(split.train.ratings))
    noise = ev.get("std of their dot products", float("nan"))
    out = {"warnings": sum(f.severity == "warning" for f in found), "cold items": ev.get("items", 0),
           "dot-product std": noise, "rating std": spread}
    return out, (out["warnings"] == 0 and bool(cold) and cold[0].severity == "info"
                 and ev["items"] >= 5 and noise < 0.15 and noise < 0.2 * spread)


@claim("04.decay-before-cliff",
       "Adam's weight_decay does harm well before its cliff: at 0.001 (about 0.4·λ* here) the "
       "embeddings are not zero, yet validation is already worse than with no regularizer at all.",
       conditions="the reference job (centred ratings, biases, small init, Adam lr 0.01) with "
                  "reg='weight_decay' instead of the batch-row penalty; capstone data, 15 epochs",
       expect="largest singular value > 1 at 0.001; val(0.001) > val(no regularizer)")
def _decay_before_cliff(seed):
    split = capstone_data("medium", seed=seed)
    wd = run_job(split, {**REFERENCE, "reg": "weight_decay", "reg_strength": 1e-3}, seed=seed)
    none = run_job(split, {**REFERENCE, "reg": "none", "reg_strength": 0.0}, seed=seed)
    out = {"val weight_decay 0.001": wd.val_rmse[-1], "val none": none.val_rmse[-1],
           "s1 weight_decay 0.001": _s1(wd)}
    return out, wd.ok and none.ok and _s1(wd) > 1 and wd.val_rmse[-1] > none.val_rmse[-1]


@claim("04.decay-undoes-init",
       "In the job as received, switching off only the weight-decay fault makes validation worse, "
       "not better: the decay is what drags the oversized N(0, 1) init down.",
       conditions="level 'medium' with the init and biases faults left on; capstone data",
       expect="val(init + biases faults) > val(all three faults)")
def _decay_undoes_init(seed):
    split = capstone_data("medium", seed=seed)
    broken = run_job(split, broken_settings("medium"), seed=seed)
    no_wd = run_job(split, settings_with(["init", "biases"]), seed=seed)
    return ({"val as received": broken.val_rmse[-1], "val without the decay": no_wd.val_rmse[-1]},
            broken.ok and no_wd.ok and no_wd.val_rmse[-1] > broken.val_rmse[-1])
