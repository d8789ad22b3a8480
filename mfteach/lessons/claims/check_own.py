"""Claims of lesson 05 (check your own model): the reader's job as written on MovieLens
latest-small, each fix of the path, and what the report says. Each seed draws a new split AND a
new training seed (init and batch order)."""
from __future__ import annotations

from functools import lru_cache

import torch

from ...metrics import baseline_rmse
from ..check_own import Batches, EPOCHS, reader_data, run_step
from ..checks_own import cliff_lambda
from . import claim

_COND = ("MovieLens latest-small, random 80/10/10 split, the article's MF (dim 64, Xavier), "
         "batches of 1,024, 10 epochs, Adam lr 0.001; unclipped predictions")


def _val(step, seed, **kw):
    split = reader_data(seed)
    model, rec = run_step(step, split, seed=seed, watch=False, **kw)
    return model, list(rec.val_rmse), split


@claim("05.as-written-stuck",
       "As written — the article's MF (Xavier init, no bias terms) on raw 0.5–5 ratings, with its "
       "Example 2 optimizer Adam(lr=0.001, weight_decay=0.01) — the validation RMSE stays ≈ 3.69 "
       "from the first epoch to the last, more than three times predicting the mean: the model "
       "predicts ≈ 0 stars. Its init is not the problem: the first predictions are ≈ 0 too.",
       conditions=_COND,
       expect="last val > 3 × predict-the-mean; |last − first| < 0.01; |mean prediction| < 0.1; "
              "std of the initial dot products < 0.05")
def _stuck(seed):
    split = reader_data(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        from ..check_own import build
        model0, _, _ = build("as written", split)
        u, i = torch.as_tensor(split.train.users), torch.as_tensor(split.train.items)
        with torch.no_grad():
            init_std = float(model0(u, i).std())
    model, val, _ = _val("as written", seed)
    with torch.no_grad():
        pred = model(torch.as_tensor(split.val.users), torch.as_tensor(split.val.items))
    mean = baseline_rmse(split.train, split.val)
    out = {"val first": val[0], "val last": val[-1], "predict the mean": mean,
           "mean prediction": float(pred.mean()), "initial prediction std": init_std}
    return out, (val[-1] > 3 * mean and abs(val[-1] - val[0]) < 0.01
                 and abs(out["mean prediction"]) < 0.1 and init_std < 0.05)


@claim("05.near-cliff",
       "On the reader's raw ratings the cliff λ* = 2·σ_max/N is ≈ 0.0104, just above the "
       "article's weight_decay = 0.01; on centred ratings it is ≈ 0.0017, six times lower. The "
       "decay first shrinks the tables (the item table more than ten-fold in the first epoch), and "
       "after 10 epochs both are still more than ten times smaller than at the start; trained 30 epochs instead of 10 the job as written still predicts ≈ 0 (validation RMSE "
       "above 3).",
       conditions=_COND + "; λ* from the training ratings; sizes = mean row norm of each table",
       expect="raw λ* in [0.0100, 0.0110]; centred λ* in [0.0014, 0.0020]; raw/centred > 5; "
              "item table's mean norm after epoch 1 < init/10, user table's < init; both after "
              "epoch 10 < init/10; val "
              "after 30 epochs > 3", slow=True)
def _near(seed):
    t = reader_data(seed).train
    raw, centred = cliff_lambda(t), cliff_lambda(t, t.ratings - t.ratings.mean())
    _, rec, _, _ = _watched("as written", seed)
    shrink = {}
    for name, norms in (("user", rec.user_norms), ("item", rec.item_norms)):
        shrink[f"{name} norm epoch 1 / init"] = float(norms[1].mean() / norms[0].mean())
        shrink[f"{name} norm epoch 10 / init"] = float(norms[10].mean() / norms[0].mean())
    _, val, _ = _val("as written", seed, epochs=30)
    out = {"raw λ*": raw, "centred λ*": centred, **shrink, "val after 30 epochs": val[-1]}
    grows_back_slowly = (shrink["item norm epoch 1 / init"] < 0.1
                         and shrink["user norm epoch 1 / init"] < 1
                         and shrink["user norm epoch 10 / init"] < 0.1
                         and shrink["item norm epoch 10 / init"] < 0.1)
    return out, (0.0100 <= raw <= 0.0110 and 0.0014 <= centred <= 0.0020
                 and raw / centred > 5 and grows_back_slowly and val[-1] > 3)


@claim("05.decay-below-cliff",
       "Coupled decay harms well below the cliff: with weight_decay = 0.001, a tenth of λ*, the "
       "reader's model (no biases) ends 10 epochs more than 0.3 stars behind the same model "
       "with no decay.",
       conditions=_COND + "; Adam(lr=0.001, weight_decay=0.001) vs Adam(lr=0.001)",
       expect="val(wd 0.001) > val(no decay) + 0.3", slow=True)
def _below(seed):
    _, v0, _ = _val("no coupled decay", seed)
    _, v1, _ = _val("no coupled decay", seed,
                    optimizer=lambda p: torch.optim.Adam(p, lr=0.001, weight_decay=0.001))
    return {"val no decay": v0[-1], "val wd 0.001": v1[-1]}, v1[-1] > v0[-1] + 0.3


@claim("05.decay-blocks",
       "Dropping weight_decay alone — same model without biases, same lr — lets the model "
       "learn: validation below 1.3 after 10 epochs, though still worse than predicting the mean.",
       conditions=_COND, expect="val last < 1.3 and > predict-the-mean; val falls by > 2 stars")
def _blocks(seed):
    _, val, split = _val("no coupled decay", seed)
    mean = baseline_rmse(split.train, split.val)
    return ({"val first": val[0], "val last": val[-1], "predict the mean": mean},
            mean < val[-1] < 1.3 and val[0] - val[-1] > 2)


@claim("05.biases",
       "Adding a user bias, an item bias and the global mean (fix 2) takes the job from worse "
       "than predicting the mean to better than it, by more than 0.1 stars.",
       conditions=_COND + "; no weight_decay", expect="val last < predict-the-mean − 0.1")
def _biases(seed):
    _, val, split = _val("+ biases", seed)
    mean = baseline_rmse(split.train, split.val)
    return {"val last": val[-1], "predict the mean": mean}, val[-1] < mean - 0.1


@claim("05.l2-rows",
       "An L2 penalty of 0.05 on the batch's rows (fix 3) improves on fix 2 by more than 0.01 "
       "stars of validation RMSE.",
       conditions=_COND + "; biases; penalty 0.05·(mean ‖p_u‖² + mean ‖q_i‖²) per batch",
       expect="val(fix 3) < val(fix 2) − 0.01")
def _l2(seed):
    _, v2, _ = _val("+ biases", seed)
    _, v3, _ = _val("+ L2 on the batch's rows", seed)
    return {"val fix 2": v2[-1], "val fix 3": v3[-1]}, v3[-1] < v2[-1] - 0.01


@claim("05.adamw-nothing",
       "AdamW(weight_decay=0.01) in place of Adam in fix 2 changes nothing that shows: at lr "
       "0.001 its decay multiplies every weight by (1 − lr·λ) per step, 0.992 over the whole "
       "run, and the validation RMSE moves by less than 0.005.",
       conditions=_COND + "; biases; AdamW(lr=0.001, weight_decay=0.01) vs Adam(lr=0.001)",
       expect="|val(AdamW) − val(Adam)| < 0.005; total shrink in (0.99, 1)")
def _adamw(seed):
    split = reader_data(seed)
    _, v_adam, _ = _val("+ biases", seed)
    _, v_w, _ = _val("+ biases", seed,
                     optimizer=lambda p: torch.optim.AdamW(p, lr=0.001, weight_decay=0.01))
    shrink = (1 - 0.001 * 0.01) ** (EPOCHS * len(Batches(split.train)))
    out = {"val Adam": v_adam[-1], "val AdamW": v_w[-1], "total shrink": shrink}
    return out, abs(v_w[-1] - v_adam[-1]) < 0.005 and 0.99 < shrink < 1


# ---- what the report says (mf.watch + mf.diagnose on the reader's own loop) ---------------------
_ADAMW = "AdamW(weight_decay=0.01)"


@lru_cache(maxsize=12)
def _watched(step, seed, variant=None):
    """(model, recorder, warnings, notes) of one step run with mf.watch; cached: several claims
    read the same run."""
    from ...diagnostics import diagnose

    opt = ((lambda p: torch.optim.AdamW(p, lr=0.001, weight_decay=0.01))
           if variant == _ADAMW else None)
    model, rec = run_step(step, reader_data(seed), seed=seed, optimizer=opt)
    report = diagnose(rec)
    return (model, rec, sorted(f.name for f in report if f.severity == "warning"),
            sorted(f.name for f in report if f.severity != "warning"))


_AS_WRITTEN = sorted(["coupled weight_decay near the cliff", "embeddings collapsed to zero",
                      "bias terms missing on uncentred ratings",
                      "predictions far off the rating scale"])


@claim("05.report-as-written",
       "On the job as written the report has four warnings: Adam's weight_decay near the cliff, "
       "embeddings collapsed to zero, bias terms missing on uncentred ratings, and predictions "
       "far off the rating scale — and none about the initial scale.",
       conditions=_COND + "; mf.watch attached before training, val RMSE given each epoch",
       expect=f"warnings == {_AS_WRITTEN}", slow=True)
def _rep0(seed):
    _, _, warn, notes = _watched("as written", seed)
    return {"warnings": "; ".join(warn), "notes": "; ".join(notes)}, warn == _AS_WRITTEN


@claim("05.report-fix1",
       "After fix 1 (no weight_decay) two warnings are left: the missing bias terms, and an error "
       "still worse than predicting the mean.",
       conditions=_COND + "; mf.watch, val RMSE given each epoch",
       expect="warnings == ['bias terms missing on uncentred ratings', 'worse than predicting "
              "the mean']", slow=True)
def _rep1(seed):
    _, _, warn, _ = _watched("no coupled decay", seed)
    return ({"warnings": "; ".join(warn)},
            warn == ["bias terms missing on uncentred ratings", "worse than predicting the mean"])


@claim("05.report-green",
       "After fix 2 (bias terms and the global mean) the report has no warnings, and it stays so "
       "after fix 3; with AdamW(weight_decay=0.01) in place of Adam it adds only a note that "
       "the decay is too small to matter.",
       conditions=_COND + "; mf.watch, val RMSE given each epoch",
       expect="no warnings for fix 2, fix 3 and fix 2 with AdamW; AdamW's notes include 'AdamW "
              "decay too small to matter'", slow=True)
def _green(seed):
    runs = {"fix 2": _watched("+ biases", seed), "fix 3": _watched("+ L2 on the batch's rows", seed),
            "fix 2 AdamW": _watched("+ biases", seed, _ADAMW)}
    out = {f"{k} warnings": len(v[2]) for k, v in runs.items()}
    ok = (not any(v[2] for v in runs.values())
          and "AdamW decay too small to matter" in runs["fix 2 AdamW"][3])
    return out, ok


@claim("05.weights-only",
       "From the two tables alone, the job as written is flagged: embeddings collapsed to zero. "
       "`mfteach check-model` on its saved state_dict and training ratings also flags the "
       "missing bias terms, and exits with code 1.",
       conditions=_COND + "; diagnose(user_table, item_table, train=...); the CLI with "
                          "torch.save(model.state_dict()) and the training ratings as CSV",
       expect="'embeddings collapsed to zero' among the weights-only warnings; the CLI exits 1 "
              "and prints both warnings", slow=True)
def _weights(seed):
    import os
    import subprocess
    import sys
    import tempfile

    from ...diagnostics import diagnose

    model, _, _, _ = _watched("as written", seed)
    t = reader_data(seed).train
    warn = [f.name for f in diagnose(model.user_embeddings.weight, model.item_embeddings.weight,
                                     train=t).warnings]
    with tempfile.TemporaryDirectory() as folder:
        torch.save(model.state_dict(), os.path.join(folder, "model.pt"))
        t.to_frame().to_csv(os.path.join(folder, "ratings.csv"), index=False)
        done = subprocess.run([sys.executable, "-m", "mfteach", "check-model",
                               os.path.join(folder, "model.pt"), os.path.join(folder, "ratings.csv")],
                              capture_output=True, text=True, timeout=300)
    cli_ok = (done.returncode == 1 and "embeddings collapsed to zero" in done.stdout
              and "bias terms missing on uncentred ratings" in done.stdout)
    return ({"weights-only warnings": "; ".join(warn), "CLI exit code": done.returncode},
            "embeddings collapsed to zero" in warn and cli_ok)


@claim("05.watch-invisible",
       "Attaching mf.watch changes nothing in the training: the same seed gives the same weights, "
       "bit for bit, with and without it.",
       conditions=_COND + "; fix 2's job", expect="max |ΔW| == 0 over every parameter")
def _invisible(seed):
    split = reader_data(seed)
    a, _ = run_step("+ biases", split, seed=seed, watch=False, epochs=2)
    b, _ = run_step("+ biases", split, seed=seed, watch=True, epochs=2)
    diff = max(float((p - q).detach().abs().max()) for p, q in zip(a.parameters(), b.parameters()))
    return {"max |ΔW|": diff}, diff == 0.0


@claim("05.ahead-same",
       "The fixes trained ahead in the background (prefetch_steps, while the reader's own job "
       "trains in the notebook's thread) give the same numbers as running them in their cells: "
       "the same validation RMSE per epoch and the same weights, bit for bit; the reader's own job "
       "and torch's global random stream are untouched by them.",
       conditions=_COND.replace("10 epochs", "2 epochs") + "; torch and numpy's BLAS on one "
       "thread (the notebook's setup: on Linux the fixes then train in second processes, which "
       "send back weights and record); the reader's job as written trained meanwhile in the "
       "caller's thread",
       expect="val RMSE lists equal and max |ΔW| == 0 for each of the three fixes and for the "
              "reader's job; the global RNG state after it equal")
def _ahead(seed):
    from threadpoolctl import threadpool_limits

    from ... import forked
    from ..check_own import STEPS, prefetch_steps

    split = reader_data(seed)
    calls = forked.STATS["calls"]
    old = torch.get_num_threads()
    torch.set_num_threads(1)

    def reader():  # the reader's cell: its own seed, then a model drawn from the global stream
        torch.manual_seed(seed)
        model, _ = run_step("as written", split, seed=seed, epochs=2, watch=False)
        return model, torch.random.get_rng_state()
    try:
        with torch.random.fork_rng(devices=[]), threadpool_limits(1, user_api="blas"):
            alone = {s: run_step(s, split, seed=seed, epochs=2) for s in STEPS[1:]}
            mine_alone, rng_alone = reader()
            prefetch_steps(split, seed=seed, epochs=2)
            mine, rng = reader()
            ahead = {s: run_step(s, split, seed=seed, epochs=2) for s in STEPS[1:]}
    finally:
        torch.set_num_threads(old)
    pairs = [(alone[s][0], ahead[s][0]) for s in alone] + [(mine_alone, mine)]
    diff = max(float((p - q).detach().abs().max()) for a, b in pairs
               for p, q in zip(a.parameters(), b.parameters()))
    same_val = all(list(alone[s][1].val_rmse) == list(ahead[s][1].val_rmse) for s in alone)
    same_rng = bool(torch.equal(rng, rng_alone))
    return ({"max |ΔW|": diff, "val RMSE lists equal": same_val, "global RNG equal": same_rng,
             "fixes trained in a second process": forked.STATS["calls"] - calls},
            diff == 0.0 and same_val and same_rng)
