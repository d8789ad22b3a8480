"""Claims of lesson 03 (skew, optimizers, normalization). Each experiment uses its seed for the
data AND the training, so seed 0 is the notebook's data and seed 1 a fresh draw."""
from __future__ import annotations

import numpy as np

from ...metrics import history_bucket_rmse, norm_popularity_spearman
from ...training import train
from ..common import notebook_data, reference_rmse
from ..skew import ghost_updates, scaled, skew_config, skew_sweep
from . import claim


def _val(split, *args, seed, **kw):
    h = train(split, skew_config(*args, seed=seed, **kw))
    return h.val_rmse[-1] if h.ok else float("nan")


@claim("03.rho-no-penalty",
       "Learned item norms track popularity most without any penalty (Spearman ρ ≈ 0.7 at "
       "Zipf 1.2); batch-row L2 at λ = 0.05 weakens the link (ρ ≈ 0.3), it does not create it.",
       conditions="Notebook data (Zipf 1.2), Adam lr 0.01, biases, items seen in training",
       expect="ρ without penalty ≥ 0.55 and at least 0.2 above ρ with batch L2 0.05",
       slow=True)
def _rho(seed):
    s, out = notebook_data(seed=seed), {}
    for name, kw in (("no penalty", dict(reg="none", reg_strength=0.0)), ("batch L2 0.05", {})):
        h = train(s, skew_config("adam", seed=seed, **kw))
        c = h.train_item_counts
        n = np.linalg.norm(h.factors()[1], axis=1)
        out[f"ρ, {name}"] = norm_popularity_spearman(n[c > 0], c[c > 0])
    a, b = out["ρ, no penalty"], out["ρ, batch L2 0.05"]
    return out, a >= 0.55 and a - b >= 0.2


@claim("03.biases-every-bucket",
       "Going from raw 1–5 ratings without biases to centred + user/item biases improves every "
       "bucket by a similar amount in rating points (0.2–0.3); relative to its error, popular "
       "items improve most, not rare ones.",
       conditions="Notebook data (Zipf 1.2), Adam lr 0.01, batch L2 0.05; buckets rare/mid/popular",
       expect="each bucket's RMSE drops by 0.15–0.35; popular's relative drop > rare's")
def _biases_buckets(seed):
    s = notebook_data(seed=seed)
    b = [history_bucket_rmse(train(s, skew_config("adam", normalization=n, seed=seed)), s.val)
         ["buckets"] for n in ("raw_no_biases", "center_biases")]
    out, ok = {}, True
    for k in ("rare", "mid", "popular"):
        d = b[0][k]["rmse"] - b[1][k]["rmse"]
        out[f"{k}: drop / relative"] = f"{d:.3f} / {d / b[0][k]['rmse']:.0%}"
        ok &= 0.15 <= d <= 0.35
    rel = {k: 1 - b[1][k]["rmse"] / b[0][k]["rmse"] for k in ("rare", "popular")}
    return out, ok and rel["popular"] > rel["rare"]


@claim("03.skew-hides",
       "As item skew grows from Zipf 0 to 1.5, the overall validation RMSE falls while the average "
       "over items stays flat, the R² of the true item factors falls (from ≈ 0.86 to ≈ 0.56), and "
       "the learned norms' Spearman ρ with popularity rises (from ≈ 0.05 to ≈ 0.4) while the true "
       "norms' stays ≈ 0. Rare items (1–5 ratings) stay far worse than the overall number and do "
       "not improve from Zipf 1.0 to 1.5.",
       conditions="Notebook data at Zipf 0, 1.0 and 1.5 (no rare items below 1.0), Adam lr 0.01, "
                  "biases, batch L2 0.05",
       expect="overall(1.5) < overall(0) − 0.03; |per-item(1.5) − per-item(0)| ≤ 0.03; "
              "R²(0) ≥ 0.8 and R²(1.5) ≤ 0.65; learned ρ rises by ≥ 0.2; |true ρ| ≤ 0.1 at both; rare ≥ overall + "
              "0.15 at 1.0 and 1.5, rare(1.5) ≥ rare(1.0) − 0.01",
       slow=True)
def _skew_hides(seed):
    a, m, b = skew_sweep((0.0, 1.0, 1.5), seed=seed)
    out = {k: f"{a[k]:.3f} → {b[k]:.3f}" for k in ("overall", "per_item", "R2", "rho learned",
                                                    "rho true")}
    ok = b["overall"] < a["overall"] - 0.03 and abs(b["per_item"] - a["per_item"]) <= 0.03
    ok &= b["rho learned"] >= a["rho learned"] + 0.2
    ok &= max(abs(a["rho true"]), abs(b["rho true"])) <= 0.1
    out["rare, Zipf 1.0 → 1.5"] = f"{m['rare']:.3f} → {b['rare']:.3f}"
    ok &= b["rare"] >= m["rare"] - 0.01 and min(m["rare"] - m["overall"], b["rare"] - b["overall"]) >= 0.15
    return out, ok and a["R2"] >= 0.8 and b["R2"] <= 0.65


@claim("03.centring",
       "Centring is most of the gain over raw ratings, z-scoring adds nothing to centring on a 1–5 "
       "scale, and user/item biases take the rest.",
       conditions="Notebook data (Zipf 1.2), Adam lr 0.01, batch L2 0.05",
       expect="raw − centred > centred − (centred+biases) > 0; |z-scored − centred| ≤ 0.01")
def _centring(seed):
    s = notebook_data(seed=seed)
    v = {n: _val(s, "adam", normalization=n, seed=seed) for n in
         ("raw_no_biases", "center_no_biases", "zscore_no_biases", "center_biases")}
    ok = v["raw_no_biases"] - v["center_no_biases"] > v["center_no_biases"] - v["center_biases"] > 0
    return {k: round(x, 3) for k, x in v.items()}, ok and abs(
        v["zscore_no_biases"] - v["center_no_biases"]) <= 0.01


@claim("03.scale-free",
       "On ratings ×10 (10–50), SGD at the lr tuned for 1–5 diverges on centred ratings but trains "
       "on z-scored ones, as well as on the 1–5 scale: z-scoring makes lr and λ scale-free.",
       conditions="Notebook data ×10, SGD lr 100 (biases off), batch L2 0.05",
       expect="centred: diverges; z-scored: val/10 within 0.03 of the 1–5 z-scored run")
def _scale_free(seed):
    s = notebook_data(seed=seed)
    x10 = scaled(s, 10)
    c = _val(x10, "sgd", normalization="center_no_biases", seed=seed)
    z = _val(x10, "sgd", normalization="zscore_no_biases", seed=seed) / 10
    ref = _val(s, "sgd", normalization="zscore_no_biases", seed=seed)
    return ({"centred ×10 (nan = diverged)": c, "z-scored ×10, /10": z, "z-scored 1–5": ref},
            not np.isfinite(c) and abs(z - ref) <= 0.03)


@claim("03.two-lrs",
       "With bias terms, SGD at one lr of 30 for everything diverges (the global bias is in every "
       "example); embeddings at lr 30 and biases at lr 0.5 train.",
       conditions="Notebook data, SGD, batch L2 0.05, biases on",
       expect="one lr: diverged; two groups: finite and below predicting the mean")
def _two_lrs(seed):
    s = notebook_data(seed=seed)
    one = train(s, optimizer="sgd", lr=30, reg="l2_batch", reg_strength=0.05, seed=seed)
    two = train(s, optimizer="sgd", lr=30, bias_lr=0.5, reg="l2_batch", reg_strength=0.05,
                seed=seed)
    mean = reference_rmse(s)[0]
    v = two.val_rmse[-1] if two.ok else float("nan")
    return {"one lr diverged": bool(one.diverged), "two groups val": v, "mean": mean}, (
        bool(one.diverged) and np.isfinite(v) and v < mean)


@claim("03.ghost",
       "Dense Adam keeps moving a row seen in one batch on later steps where it has no gradient; "
       "SGD and SparseAdam move it once.",
       conditions="A tiny MF model (no biases), item 0 in the first of 60 batches only",
       expect="Adam: distance after 60 steps ≥ 3× after step 1; SGD, SparseAdam: unchanged (1e-6)")
def _ghost(seed):
    d = {o: ghost_updates(o, seed=seed) for o in ("sgd", "adam", "sparse_adam")}
    ok = d["adam"][-1] >= 3 * d["adam"][0]
    ok &= all(abs(d[o][-1] - d[o][0]) < 1e-6 for o in ("sgd", "sparse_adam"))
    return {f"{o}: step 1 → 60": f"{v[0]:.3f} → {v[-1]:.3f}" for o, v in d.items()}, ok


@claim("03.zero-fill",
       "Pivoting to a user × item table and filling its holes with 0 (then z-scoring) makes ≈ 96% "
       "of the training cells 0-star ratings; validation RMSE ≈ 2.8 (unclipped predictions), about "
       "three times worse than predicting the mean.",
       conditions="Notebook data (600 × 1,500, 4.4% dense); article.fill_missing_demo (2 epochs on "
                  "the filled table) — a pitfall, NOT the article's code",
       expect="missing share in [0.94, 0.98]; val RMSE ≥ 2.5× predicting the mean, and ≥ 2.4")
def _zero_fill(seed):
    from ..article import fill_missing_demo

    s = notebook_data(seed=seed)
    d = fill_missing_demo(s)
    mean = reference_rmse(s)[0]
    return ({"missing share": d["missing share"], "val RMSE": d["val RMSE"], "mean": mean},
            0.94 <= d["missing share"] <= 0.98 and d["val RMSE"] >= max(2.5 * mean, 2.4))


@claim("03.dense-cost",
       "Dense Adam's cost grows with the item table (it updates every row every step); "
       "SparseAdam's much less.",
       conditions="Notebook data plus 0 or 300,000 never-rated item rows, 3 epochs; wall-clock "
                  "timings, so loose tolerances",
       expect="dense Adam +300k rows ≥ 3× its time at +0; and ≥ 1.3× SparseAdam's at +300k",
       slow=True)
def _dense_cost(seed):
    from ..skew import optimizer_timing

    t = optimizer_timing(notebook_data(seed=seed), extras=(0, 300_000))
    a0, a3, s3 = t[0]["adam"], t[300_000]["adam"], t[300_000]["sparse_adam"]
    return ({"Adam +0 s": a0, "Adam +300k s": a3, "SparseAdam +300k s": s3},
            a3 >= 3 * a0 and a3 >= 1.3 * s3)


def _movielens(seed):
    from ...splits import random_split
    from ...datasets import load_movielens_small
    from ...metrics import bucket_rmse

    real = random_split(load_movielens_small(), seed=seed)
    res = {}
    for norm in ("center_no_biases", "center_biases"):
        h = train(real, skew_config("adam", normalization=norm, seed=seed))
        res[norm] = bucket_rmse(h.predict(real.val.users, real.val.items), real.val,
                                h.train_item_counts)
    return real, res


@claim("03.movielens",
       "On MovieLens latest-small most movies (≈ 70%) have at most five training ratings; the "
       "error climbs from popular to mid to rare to cold movies, and bias terms help every "
       "bucket — popular movies barely — the cold one most.",
       conditions="MovieLens latest-small (shipped offline), random 80/10/10 split, Adam lr 0.01, "
                  "batch L2 0.05, centred; with vs without user/item biases",
       expect="share with ≤ 5 training ratings in [0.6, 0.8]; bucket RMSE increasing popular → cold "
              "in both runs; every bucket lower with biases, cold's drop the largest")
def _ml(seed):
    real, res = _movielens(seed)
    c = real.train.item_counts()
    share = float((c <= 5).mean())
    order = ("popular", "mid", "rare", "cold")
    ok = 0.6 <= share <= 0.8
    for r in res.values():
        v = [r["buckets"][b]["rmse"] for b in order]
        ok &= all(x < y for x, y in zip(v, v[1:]))
    a, b = res["center_no_biases"]["buckets"], res["center_biases"]["buckets"]
    drops = {k: a[k]["rmse"] - b[k]["rmse"] for k in order}
    ok &= all(d > 0 for d in drops.values()) and max(drops, key=drops.get) == "cold"
    return {"share ≤ 5 ratings": share, **{f"drop {k}": d for k, d in drops.items()}}, ok


@claim("03.movielens-popular-share",
       "On MovieLens latest-small, popular movies (> 100 training ratings) are only about 15 % "
       "of the validation ratings.",
       conditions="As 03.movielens",
       expect="share of validation ratings on items with > 100 training ratings in [0.12, 0.18] "
              "(seeds 0-4 gave 0.144-0.164)")
def _ml_share(seed):
    from ...splits import random_split
    from ...datasets import load_movielens_small

    real = random_split(load_movielens_small(), seed=seed)
    share = float((real.train.item_counts()[real.val.items] > 100).mean())
    return {"popular share of val ratings": share}, 0.12 <= share <= 0.18


from . import optimizers  # noqa: E402,F401  (lesson 03's optimizer claims)
