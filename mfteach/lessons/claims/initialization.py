"""Claims of lesson 01 (initialization). Each experiment uses data seed = training seed = ``seed``."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ...metrics import baseline_rmse, singular_values
from ...training import train
from ..common import notebook_data
from ..initialization import XAVIER_1M, cold_report, train_with_stds, warm_cold_rmse
from . import claim

BASE = dict(reg="l2_batch", reg_strength=0.05)  # the notebook's setup (Adam lr 0.02, 15 epochs)


def _data(seed):
    return notebook_data(cold_items=0.05, seed=seed)


@lru_cache(maxsize=32)
def _run(seed, init="default", epochs=15, init_std=0.1, reg="l2_batch", reg_strength=0.05,
         optimizer="adam"):
    return train(_data(seed), init=init, epochs=epochs, init_std=init_std, reg=reg,
                 reg_strength=reg_strength, optimizer=optimizer, seed=seed)


@claim("01.first-rmse",
       "Before any step, the RMSE is about √(dim·σ_u²σ_v² + Var r): √(dim + 1) rating points "
       "for N(0, 1) tables on unit-variance ratings (≈ 11 at dim 128).",
       conditions="Both tables N(0, σ²) (nn.Embedding's default: σ = 1), independent of the ratings; "
                  "the global bias starts at the mean",
       expect="measured first RMSE within 10% of the formula, for dim 16, 32 and 128")
def _first_rmse(seed):
    split = notebook_data(seed=seed)
    var_r = float(np.var(split.train.ratings))
    out, ok = {}, True
    for dim in (16, 32, 128):
        h = train(split, init="default", dim=dim, epochs=0, seed=seed)
        theory = math.sqrt(dim + var_r)
        out[f"dim {dim}: first / theory"] = f"{h.train_rmse[0]:.2f} / {theory:.2f}"
        ok &= abs(h.train_rmse[0] / theory - 1) < 0.10
    return out, ok


@claim("01.cold-share",
       "This data marks 5% of the items cold at random, whatever their popularity, so they carry "
       "about a fifth of the validation ratings and include popular items (the most-rated cold "
       "item is among the 5% most-rated items).",
       conditions="notebook_data(cold_items=0.05): mf.synthetic picks the cold items uniformly "
                  "among all items (it has no parameter for 'new items with few ratings')",
       expect="cold share of validation ratings between 13% and 30%, and the most popular cold "
              "item among the 75 most popular of the 1,500 items")
def _cold_share(seed):
    c = cold_report(_data(seed))
    return ({"cold items": c["cold items"], "val share": round(c["val share"], 3),
             "top cold item: ratings / rank": f"{c['top cold ratings']} / {c['top cold rank']}"},
            0.13 <= c["val share"] <= 0.30 and c["top cold rank"] <= 75)


@claim("01.not-arrived",
       "After 15 epochs the N(0,1) model has not fit even the training data: its train RMSE is "
       "barely below predicting the mean, more than twice a small init's.",
       conditions="Adam lr 0.02, batch 4096, L2 on the batch's rows λ = 0.05, dim 32",
       expect="N(0,1) train RMSE > 85% of the mean predictor's validation RMSE and > 2× the train "
              "RMSE of N(0, 0.1)")
def _not_arrived(seed):
    big, small = _run(seed), _run(seed, init="normal")
    mean = baseline_rmse(_data(seed).train, _data(seed).val)
    tb, ts = big.train_rmse[-1], small.train_rmse[-1]
    return ({"N(0,1) train": round(tb, 3), "N(0,0.1) train": round(ts, 3), "mean": round(mean, 3)},
            tb > 0.85 * mean and tb > 2 * ts)


@claim("01.long-run",
       "Trained 10× longer (150 epochs), N(0,1) fits the training data and the warm items about "
       "as well as a small init, but its cold items stay far worse: the remaining gap is cold "
       "items, not overfitting.",
       conditions="Adam lr 0.02, L2 on the batch's rows λ = 0.05 (cold rows untouched); small "
                  "init N(0, 0.1) at 15 epochs; cold items as in 01.cold-share",
       expect="train and warm-item val RMSE within 0.05 of N(0, 0.1)'s; cold-item RMSE > 1.4× "
              "N(0, 0.1)'s", slow=True)
def _long_run(seed):
    big, small = _run(seed, epochs=150), _run(seed, init="normal")
    (wb, cb), (ws, cs) = warm_cold_rmse(big, _data(seed)), warm_cold_rmse(small, _data(seed))
    tb, ts = big.train_rmse[-1], small.train_rmse[-1]
    return ({"train N(0,1)/small": f"{tb:.3f}/{ts:.3f}", "warm": f"{wb:.3f}/{ws:.3f}",
             "cold": f"{cb:.3f}/{cs:.3f}", "val N(0,1)": round(big.val_rmse[-1], 3)},
            abs(tb - ts) < 0.05 and abs(wb - ws) < 0.05 and cb > 1.4 * cs)


@claim("01.cold-noise",
       "Under N(0,1) a cold item's error is about the typical norm of the user rows it meets "
       "(≈ 3.5 after 15 epochs), not √dim ≈ 5.7: the user rows shrink while they train.",
       conditions="cold rows still N(0, 1) (untouched); prediction error ≈ √(‖p_u‖² + error of "
                  "the biases alone); dim 32, 15 epochs",
       expect="cold RMSE within 15% of √(mean ‖p_u‖² over its ratings + N(0,0.01)'s cold RMSE²), "
              "and below 0.75·√dim")
def _cold_noise(seed):
    split = _data(seed)
    h = _run(seed)
    _, cold = warm_cold_rmse(h, split)
    _, base = warm_cold_rmse(_run(seed, init="normal", init_std=0.01), split)
    m = np.isin(split.val.items, split.train.cold_items)
    pu2 = float(np.mean(np.sum(h.factors()[0][split.val.users[m]] ** 2, 1)))
    pred = math.sqrt(pu2 + base ** 2)
    return ({"cold RMSE": round(cold, 2), "RMS ‖p_u‖": round(math.sqrt(pu2), 2),
             "predicted": round(pred, 2), "√dim": round(math.sqrt(32), 2)},
            abs(cold / pred - 1) < 0.15 and cold < 0.75 * math.sqrt(32))


def _cold_norms(h, split):
    cold = split.train.cold_items
    q0, q1 = h.tables[0][1][cold], h.factors()[1][cold]
    return float(np.linalg.norm(q0, axis=1).mean()), float(np.linalg.norm(q1, axis=1).mean()), \
        bool(np.array_equal(q0, q1))


@claim("01.cold-unchanged",
       "When nothing touches the rows absent from a batch (no penalty, or L2 on the batch's rows "
       "only), a cold item's row is exactly its init after training.",
       conditions="Adam without weight_decay; reg none or l2_batch; cold items have no training rating",
       expect="the cold rows are bit-for-bit equal to their init, for both regularizers")
def _cold_unchanged(seed):
    out, ok = {}, True
    for reg, lam in (("none", 0.0), ("l2_batch", 0.05)):
        _, _, same = _cold_norms(_run(seed, reg=reg, reg_strength=lam), _data(seed))
        out[f"{reg}: unchanged"] = same
        ok &= same
    return out, ok


@claim("01.cold-decay",
       "Under Adam(weight_decay=0.01) — the article's setting — or an L2 penalty over all rows, "
       "the cold rows decay towards 0 (mean norm ≈ 5.6 → 0.4 in 15 epochs); AdamW's decoupled "
       "weight_decay=0.01 shrinks them only a few percent.",
       conditions="Adam lr 0.02, 15 epochs, N(0,1) init; coupled weight_decay adds λ·w to every "
                  "row's gradient, so Adam normalises it to a full step; AdamW shrinks by lr·λ per step",
       expect="norm after / before < 0.15 for Adam weight_decay 0.01 and for l2_all λ 0.05; "
              "between 0.9 and 0.995 for AdamW weight_decay 0.01")
def _cold_decay(seed):
    out, ok = {}, True
    for label, kw, lo, hi in (("Adam wd", dict(reg="weight_decay", reg_strength=0.01), 0, 0.15),
                              ("l2_all", dict(reg="l2_all", reg_strength=0.05), 0, 0.15),
                              ("AdamW wd", dict(optimizer="adamw", reg="weight_decay",
                                                reg_strength=0.01), 0.9, 0.995)):
        n0, n1, _ = _cold_norms(_run(seed, **kw), _data(seed))
        out[label] = f"{n0:.2f} → {n1:.3f}"
        ok &= lo < n1 / n0 < hi
    return out, ok


@lru_cache(maxsize=16)
def _scaled(seed, su, sv, opt):
    return train_with_stds(_data(seed), su, sv, opt, seed=seed).val_rmse[-1]


@claim("01.xavier-adam",
       "Under Adam, Xavier's mismatched scales for a 5k-user / 1M-item catalogue (0.02 and "
       "0.0014), and even std 1e-5, train as well as N(0, 0.05).",
       conditions="Adam lr 0.02, 15 epochs, L2 on the batch's rows λ = 0.05, the notebook's data: "
                  "Adam's step is about lr whatever the gradient's size",
       expect="both within 0.01 validation RMSE of N(0, 0.05)")
def _xavier_adam(seed):
    ref = _scaled(seed, 0.05, 0.05, "adam")
    xa, tiny = _scaled(seed, *XAVIER_1M, "adam"), _scaled(seed, 1e-5, 1e-5, "adam")
    return ({"N(0,0.05)": round(ref, 3), "Xavier 5k/1M": round(xa, 3), "1e-5": round(tiny, 3)},
            abs(xa - ref) < 0.01 and abs(tiny - ref) < 0.01)


@claim("01.xavier-sgd",
       "Under plain SGD, within 15 epochs the scale matters: Xavier's mismatched 5k/1M scales end "
       "behind, std 0.01 a little, std 1e-5 a lot, compared with N(0, 0.05) on both tables.",
       conditions="SGD lr 30 (bias lr 0.5), 15 epochs, L2 on the batch's rows λ = 0.05: SGD's "
                  "step is proportional to the gradient, which is the other table's row",
       expect="val RMSE minus N(0, 0.05)'s: Xavier ≥ 0.01, std 0.01 ≥ 0.015, std 1e-5 ≥ 0.1")
def _xavier_sgd(seed):
    ref = _scaled(seed, 0.05, 0.05, "sgd")
    xa, s2 = _scaled(seed, *XAVIER_1M, "sgd"), _scaled(seed, 0.01, 0.01, "sgd")
    tiny = _scaled(seed, 1e-5, 1e-5, "sgd")
    return ({"N(0,0.05)": round(ref, 3), "Xavier 5k/1M": round(xa, 3), "0.01": round(s2, 3),
             "1e-5": round(tiny, 3)},
            xa - ref >= 0.01 and s2 - ref >= 0.015 and tiny - ref >= 0.1)


@lru_cache(maxsize=4)
def _article(seed, epochs=20):
    """The article's Example 1 run as written on article_data(seed), then trained with its
    Example 2 loop (weight_decay removed: lesson 02's topic), lr 0.001, batches of 1024."""
    import torch

    from .. import article
    from ..initialization import BatchLoader

    art = article.article_data(seed=seed)
    torch.manual_seed(seed)
    ns = article.run_example(1, {"num_epochs": epochs,
                                 "data_loader": BatchLoader(art.train, 1024, seed=seed)})
    model, va = ns["model"], art.val
    vu, vi = torch.as_tensor(va.users), torch.as_tensor(va.items)
    vr = torch.as_tensor(va.ratings, dtype=torch.float32)

    def val():
        with torch.no_grad():
            p = model(vu, vi)
            return float(torch.sqrt(((p - vr) ** 2).mean())), float(p.std())

    first, pred_std = val()
    curve = [first]
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    criterion = torch.nn.MSELoss()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: extra threads only fight each other
    try:
        for epoch in range(ns["num_epochs"]):
            for user_ids, item_ids, ratings in ns["data_loader"]:
                optimizer.zero_grad()
                loss = criterion(model(user_ids, item_ids), ratings)
                loss.backward()
                optimizer.step()
            curve.append(val()[0])
    finally:
        torch.set_num_threads(threads)
    fixed = train(art, init="xavier_uniform", dim=64, lr=0.001, epochs=epochs, batch_size=1024,
                  seed=seed).val_rmse[-1]
    return {"first": first, "pred std": pred_std, "curve": curve, "fixed": fixed,
            "rms r": float(np.sqrt(np.mean(va.ratings ** 2))),
            "mean": baseline_rmse(art.train, va)}


@claim("01.article-first",
       "The article's Example 1 has no bias terms and Xavier's small scales, so before training "
       "it predicts ≈ 0 for every pair: on raw 1–5 ratings its first error is the ratings' own "
       "root-mean-square, about 3.6 — nearly 4× predicting the mean.",
       conditions="the article's MF class and sizes as written (1000 users, 500 items, dim 64) on "
                  "article_data(seed): raw ratings, no centring",
       expect="prediction std < 0.05; first RMSE within 2% of √mean(r²); > 3× the mean predictor",
       slow=True)
def _article_first(seed):
    a = _article(seed)
    return ({"first RMSE": round(a["first"], 3), "√mean(r²)": round(a["rms r"], 3),
             "pred std": round(a["pred std"], 4), "mean predictor": round(a["mean"], 3)},
            a["pred std"] < 0.05 and abs(a["first"] / a["rms r"] - 1) < 0.02
            and a["first"] > 3 * a["mean"])


@claim("01.article-trained",
       "Trained with the article's own loop (Adam lr 0.001, no weight decay, 20 epochs), it spends "
       "its first epochs climbing from 0 to the ratings' level (still above 3 after 5 epochs) and "
       "ends only a little better than predicting the mean.",
       conditions="as 01.article-first; batches of 1024 raw ratings; Example 2's loop with "
                  "weight_decay=0.01 removed",
       expect="val RMSE after 5 epochs > 3; after 20 between 0.85× and 1.0× the mean predictor's")
def _article_trained(seed):
    a = _article(seed)
    c, m = a["curve"], a["mean"]
    return ({"epoch 5": round(c[5], 3), "epoch 10": round(c[10], 3), "epoch 20": round(c[-1], 3),
             "mean predictor": round(m, 3)}, c[5] > 3 and 0.85 * m < c[-1] < m)


@claim("01.article-biases",
       "Changing only that — centring the ratings and adding user, item and global biases, same "
       "Xavier init, dim 64, lr 0.001, 20 epochs — brings validation far below the mean predictor "
       "within the same 20 epochs.",
       conditions="mf.train(art, init='xavier_uniform', dim=64, lr=0.001, epochs=20, "
                  "batch_size=1024) vs the article's loop of 01.article-trained",
       expect="val RMSE < 0.75× the mean predictor's and < 0.8× the article model's")
def _article_biases(seed):
    a = _article(seed)
    return ({"with biases": round(a["fixed"], 3), "article as written": round(a["curve"][-1], 3),
             "mean predictor": round(a["mean"], 3)},
            a["fixed"] < 0.75 * a["mean"] and a["fixed"] < 0.8 * a["curve"][-1])


@claim("01.default-fails",
       "With nn.Embedding's default N(0,1) the first error is almost 6 rating points and after 15 "
       "epochs validation is still far worse than predicting the mean; Xavier and N(0, 0.1) end "
       "close together, below the mean.",
       conditions="section 1's model: centred ratings, biases, dim 32, Adam lr 0.02, batch 4096, "
                  "no penalty, 15 epochs (mf.train with the same settings)",
       expect="N(0,1): first RMSE in [5, 6.5], final val > 2× the mean predictor's; Xavier and "
              "N(0, 0.1) within 0.04 of each other and both below the mean predictor")
def _default_fails(seed):
    split = _data(seed)
    mean = baseline_rmse(split.train, split.val)
    d = _run(seed, reg="none", reg_strength=0.0)
    x = _run(seed, init="xavier_uniform", reg="none", reg_strength=0.0)
    n = _run(seed, init="normal", reg="none", reg_strength=0.0)
    v = {k: h.val_rmse[-1] for k, h in (("default", d), ("xavier", x), ("normal", n))}
    return ({"N(0,1) first / final": f"{d.train_rmse[0]:.2f} / {v['default']:.3f}",
             "Xavier": round(v["xavier"], 3), "N(0,0.1)": round(v["normal"], 3),
             "mean": round(mean, 3)},
            5 <= d.train_rmse[0] <= 6.5 and v["default"] > 2 * mean
            and abs(v["xavier"] - v["normal"]) < 0.04 and max(v["xavier"], v["normal"]) < mean)


@claim("01.xavier-like-small",
       "With this lesson's setup (Adam lr 0.02, L2 λ = 0.05, 15 epochs) Xavier lands where a "
       "plain N(0, 0.1) or N(0, 0.01) does; He/Kaiming, whose std is larger (0.25), is a bit worse.",
       conditions="Adam lr 0.02, L2 on the batch's rows λ = 0.05, dim 32, 15 epochs, the notebook's data",
       expect="Xavier within 0.015 of both normals; Kaiming at least 0.005 worse than Xavier")
def _xavier_like_small(seed):
    x, k = _run(seed, init="xavier_uniform"), _run(seed, init="kaiming")
    n1, n2 = _run(seed, init="normal"), _run(seed, init="normal", init_std=0.01)
    v = [h.val_rmse[-1] for h in (x, n1, n2, k)]
    return ({"Xavier": round(v[0], 3), "N(0,0.1)": round(v[1], 3), "N(0,0.01)": round(v[2], 3),
             "Kaiming": round(v[3], 3)},
            abs(v[0] - v[1]) < 0.015 and abs(v[0] - v[2]) < 0.015 and v[3] > v[0] + 0.005)


@claim("01.zeros",
       "Zero tables stay exactly 0 forever (the gradient of ⟨p, q⟩ with respect to p is q = 0); "
       "only the biases learn.",
       conditions="init zeros, any optimizer without noise; biases on",
       expect="both tables exactly 0 after training; val between a small init's + 0.1 and the "
              "mean predictor's")
def _zeros(seed):
    h, small = _run(seed, init="zeros"), _run(seed, init="normal")
    P, Q = h.factors()
    mean = baseline_rmse(_data(seed).train, _data(seed).val)
    zero = not P.any() and not Q.any()
    return ({"tables all zero": zero, "val": round(h.val_rmse[-1], 3),
             "small init val": round(small.val_rmse[-1], 3), "mean": round(mean, 3)},
            zero and small.val_rmse[-1] + 0.1 < h.val_rmse[-1] < mean)


@claim("01.constant-rank1",
       "A constant init keeps the learned rating matrix at rank 1: one non-zero singular value "
       "(the true model has rank 4).",
       conditions="init constant (0.1) on both tables, Adam, L2 on the batch's rows",
       expect="second singular value < 1e-3 × the first; a N(0, 0.1) init has ≥ 4 above 10% of the first")
def _constant_rank1(seed):
    s = singular_values(*_run(seed, init="constant").factors())
    s2 = singular_values(*_run(seed, init="normal").factors())
    return ({"constant s2/s1": f"{s[1] / s[0]:.1e}", "normal: s above 10% of s1":
             int((s2 > 0.1 * s2[0]).sum())},
            s[1] < 1e-3 * s[0] and (s2 > 0.1 * s2[0]).sum() >= 4)


@claim("01.std-sweep",
       "Sliding a normal init's std up from 0.001, the first RMSE stays at the ratings' std until "
       "about 0.2–0.3 and the final error starts to climb there; below 0.1 the std hardly matters.",
       conditions="the panel's setup: Adam lr 0.02, L2 on the batch's rows λ = 0.05, dim 32, 15 epochs",
       expect="first RMSE within 5% of the ratings' std for std ≤ 0.2 and > 10% above at 0.3; "
              "final val for 0.001, 0.01, 0.1 within 0.015; std 0.5 ≥ 0.1 worse than std 0.01")
def _std_sweep(seed):
    sd = float(np.std(_data(seed).train.ratings))
    h = {s: _run(seed, init="normal", init_std=s) for s in (0.001, 0.01, 0.1, 0.2, 0.3, 0.5)}
    first = {s: x.train_rmse[0] for s, x in h.items()}
    val = {s: x.val_rmse[-1] for s, x in h.items()}
    small = [val[s] for s in (0.001, 0.01, 0.1)]
    return ({"ratings' std": round(sd, 3), **{f"std {s}: first/val": f"{first[s]:.3f}/{val[s]:.3f}"
                                              for s in h}},
            all(abs(first[s] / sd - 1) < 0.05 for s in (0.001, 0.01, 0.1, 0.2))
            and first[0.3] > 1.1 * sd and max(small) - min(small) < 0.015
            and val[0.5] > val[0.01] + 0.1)


@claim("01.movielens",
       "On MovieLens (latest-small, offline) the N(0,1) model again starts about 6 stars off and "
       "stays worse than predicting the mean; Xavier and N(0, 0.1) end close together, below it.",
       conditions="mf.load_movielens_small(), random 80/10/10 split with the seed, Adam lr 0.02, "
                  "L2 on the batch's rows λ = 0.05, dim 32, 15 epochs",
       expect="N(0,1): first RMSE in [5, 7], final val > the mean predictor's; Xavier and N(0, 0.1) "
              "within 0.02 of each other and both below the mean predictor", slow=True)
def _movielens(seed):
    from ...splits import random_split
    from ...datasets import load_movielens_small

    real = random_split(load_movielens_small(), seed=seed)
    mean = baseline_rmse(real.train, real.val)
    h = {k: train(real, **BASE, **kw, seed=seed) for k, kw in
         (("N(0,1)", dict(init="default")), ("Xavier", dict(init="xavier_uniform")),
          ("N(0,0.1)", dict(init="normal", init_std=0.1)))}
    v = {k: x.val_rmse[-1] for k, x in h.items()}
    first = h["N(0,1)"].train_rmse[0]
    return ({"N(0,1) first": round(first, 2), **{k: round(x, 3) for k, x in v.items()},
             "mean": round(mean, 3)},
            5 <= first <= 7 and v["N(0,1)"] > mean and abs(v["Xavier"] - v["N(0,0.1)"]) < 0.02
            and max(v["Xavier"], v["N(0,0.1)"]) < mean)


from . import initialization_more  # noqa: E402,F401  (more 01 claims)
