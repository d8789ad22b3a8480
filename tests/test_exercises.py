"""A corpus of answers for every exercise: the classic wrong answers, each rejected with a message
that names the slip, and at least two different right answers, each accepted. Every message is
free of "nan" and of long unrounded floats."""
import math
import re

import numpy as np
import pytest
import torch

from mfteach.lessons import capstone as lesson04
from mfteach.lessons import initialization as lesson01
from mfteach.lessons import regularization as lesson02
from mfteach.lessons import skew as lesson03

init = torch.nn.init
D = 32
S = 1 / math.sqrt(D)


# -- answers for 02 ex1 (the penalty step) -------------------------------------------------------
def _penalty_step(norm="pow", lam_scale=1.0, reduce="mean", zero=True, bias=False, mse="mean",
                  rows="batch"):
    def step(model, opt, u, i, r, lam):
        pred = model(u, i)
        if rows == "batch":
            p, q = model.user_factors(u), model.item_factors(i)
        else:
            p, q = model.user_factors.weight, model.item_factors.weight
        if rows == "all":
            per = None
        elif norm == "pow":
            per = p.pow(2).sum(1) + q.pow(2).sum(1)
        elif norm == "torch.norm":
            per = torch.norm(p, dim=1) ** 2 + torch.norm(q, dim=1) ** 2
        elif norm == "mean1":
            per = (p ** 2).mean(1) + (q ** 2).mean(1)
        elif norm == "unsquared":
            per = p.norm(dim=1) + q.norm(dim=1)
        else:  # "l1"
            per = p.abs().sum(1) + q.abs().sum(1)
        if bias:
            per = per + model.user_bias(u).squeeze(1) ** 2 + model.item_bias(i).squeeze(1) ** 2
        if rows == "all":  # P and Q have different row counts: average each table
            pen = p.pow(2).sum(1).mean() + q.pow(2).sum(1).mean()
        else:
            pen = per.mean() if reduce == "mean" else per.sum()
        err = (pred - r) ** 2
        loss = (err.mean() if mse == "mean" else err.sum()) + lam_scale * lam * pen
        if zero:
            opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()
    return step


def _forward_parts_step(model, opt, u, i, r, lam):
    pred, p, q = model.forward_parts(u, i)
    loss = torch.nn.functional.mse_loss(pred, r) + lam * (
        torch.einsum("bd,bd->b", p, p) + torch.einsum("bd,bd->b", q, q)).mean()
    loss.backward()
    opt.step()
    opt.zero_grad()  # at the end is as good as at the start


# -- answers for 03 ex1 (per-bucket RMSE) --------------------------------------------------------
NAMES = ["cold", "rare", "mid", "popular"]


def _buckets(edges=(0.5, 5.5, 100.5), stat="rmse", by="train"):
    def fn(pred, items, ratings, counts):
        c = counts if by == "train" else np.bincount(items, minlength=len(counts))
        b = np.digitize(c[items], edges)
        out = {}
        for k, n in enumerate(NAMES):
            e = pred[b == k] - ratings[b == k]
            out[n] = {"rmse": np.sqrt(np.mean(e ** 2)), "mse": np.mean(e ** 2),
                      "root_sum": np.sqrt(np.sum(e ** 2)), "mae": np.mean(np.abs(e))}[stat]
        return out
    return fn


def _buckets_pandas(pred, items, ratings, counts):
    import pandas as pd

    c = counts[items]
    name = np.select([c == 0, c <= 5, c <= 100], ["cold", "rare", "mid"], "popular")
    df = pd.DataFrame({"b": name, "e2": (pred - ratings) ** 2})
    return df.groupby("b")["e2"].mean().pow(0.5).to_dict()


# -- answers for 03 ex2 (SGD parameter groups) ---------------------------------------------------
def _sgd(emb_lr, bias_lr, *, extra=False):
    def make(m):
        if extra:  # three groups: embeddings, user/item biases, the global bias
            b = m.bias_parameters()
            return torch.optim.SGD([{"params": m.factor_parameters(), "lr": emb_lr},
                                    {"params": b[:2], "lr": bias_lr},
                                    {"params": b[2:], "lr": bias_lr / 2}])
        return torch.optim.SGD([{"params": m.factor_parameters(), "lr": emb_lr},
                                {"params": m.bias_parameters(), "lr": bias_lr}])
    return make


def _sgd_default_lr(m):
    return torch.optim.SGD([{"params": [m.user_factors.weight, m.item_factors.weight]},
                            {"params": m.bias_parameters(), "lr": 0.3}], lr=30.0)


def _sgd_missing_biases(m):
    return torch.optim.SGD([{"params": [m.user_factors.weight], "lr": 30.0},
                            {"params": [m.item_factors.weight], "lr": 30.0}])


def _sgd_mixed(m):
    return torch.optim.SGD([{"params": m.factor_parameters()[:1] + m.bias_parameters(), "lr": 0.5},
                            {"params": m.factor_parameters()[1:], "lr": 30.0}])


# (exercise key, answer id, answer, expected ok, a substring the message must contain)
CORPUS = [
    # 01 ex1: first RMSE of N(0, 0.5²), dim 64, Var r 0.88 → √(64·0.5⁴ + 0.88) ≈ 2.209
    ("01.1", "exact", math.sqrt(64 * 0.5 ** 4 + 0.88), True, "expected ≈ 2.209"),
    ("01.1", "rounded string", "2.21", True, "expected"),
    ("01.1", "no root", 64 * 0.5 ** 4 + 0.88, False, "take the square root"),
    ("01.1", "sigma squared", math.sqrt(64 * 0.5 ** 2 + 0.88), False, "σ⁴"),
    ("01.1", "no Var r", math.sqrt(64) * 0.5 ** 2, False, "Var(r)"),
    ("01.1", "no dim", math.sqrt(0.5 ** 4 + 0.88), False, "multiply σ⁴ by dim"),
    ("01.1", "stds added", 8 * 0.25 + math.sqrt(0.88), False, "add the variances"),
    ("01.1", "nan", float("nan"), False, "not a finite number"),
    ("01.1", "text", "about two", False, "should be a number"),
    # 01 ex2: std 1/√dim whatever the rows
    ("01.2", "normal_", lambda w: init.normal_(w, std=1 / math.sqrt(w.shape[1])), True, "0.1768"),
    ("01.2", "uniform_", lambda w: init.uniform_(w, -math.sqrt(3 / w.shape[1]),
                                                 math.sqrt(3 / w.shape[1])), True, "every table"),
    ("01.2", "tensor method", lambda w: w.normal_(0.0, w.shape[1] ** -0.5), True, "every table"),
    ("01.2", "xavier_uniform_", init.xavier_uniform_, False, "number of rows"),
    ("01.2", "xavier_normal_", init.xavier_normal_, False, "number of rows"),
    ("01.2", "rows in formula", lambda w: init.normal_(w, std=1 / math.sqrt(w.shape[0])), False,
     "number of rows"),
    ("01.2", "std 1", init.normal_, False, "nn.Embedding's default"),
    ("01.2", "1/dim", lambda w: init.normal_(w, std=1 / w.shape[1]), False, "1/dim, not 1/√dim"),
    ("01.2", "uniform bound = std", lambda w: init.uniform_(w, -S, S), False, "a/√3"),
    ("01.2", "kaiming_normal_", init.kaiming_normal_, False, "√2"),
    ("01.2", "mean 5", lambda w: init.normal_(w, mean=5.0, std=S), False, "mean 5"),
    ("01.2", "mean 1 std 0.05", lambda w: init.normal_(w, mean=1.0, std=0.05), False, "centre"),
    ("01.2", "constant", lambda w: init.constant_(w, 0.1), False, "zeros/constant"),
    ("01.2", "zeros", init.zeros_, False, "never break symmetry"),
    ("01.2", "returns a copy", lambda w: torch.randn_like(w) * S, False, "in place"),
    ("01.2", "not callable", 0.1768, False, "pass a function"),
    # 01 ex3: one small scale for a 5k-row and a 1M-row table
    ("01.3", "normal 0.05", lambda w: init.normal_(w, std=0.05), True, "no mismatch between the tables"),
    ("01.3", "uniform ±0.1", lambda w: init.uniform_(w, -0.1, 0.1), True, "both tables"),
    ("01.3", "trunc_normal 0.08", lambda w: init.trunc_normal_(w, std=0.08), True, "both tables"),
    ("01.3", "xavier_uniform_", init.xavier_uniform_, False, "different scales"),
    ("01.3", "std 1", init.normal_, False, "large"),
    ("01.3", "tiny", lambda w: init.normal_(w, std=1e-5), False, "small rows learn slowly"),
    ("01.3", "mean 5", lambda w: init.normal_(w, mean=5.0, std=S), False, "centre them on 0"),
    ("01.3", "mean 1 std 0.05", lambda w: init.normal_(w, mean=1.0, std=0.05), False, "mean 1"),
    ("01.3", "constant", lambda w: init.constant_(w, 0.1), False, "never break symmetry"),
    ("01.3", "uniform 0..0.1", lambda w: init.uniform_(w, 0.0, 0.1), False, "centre them on 0"),  # (its mean prints 0.05 or 0.0499: global RNG)
    ("01.3", "zeros", init.zeros_, False, "zeros/constant"),
    ("01.3", "std 0.2", lambda w: init.normal_(w, std=0.2), False, "larger than it needs to be"),
    ("01.3", "std 0.15", lambda w: init.normal_(w, std=0.15), True, "both tables"),
    ("01.3", "std 0.02", lambda w: init.normal_(w, std=0.02), True, "both tables"),
    ("01.3", "kaiming_normal_ (0.25)", init.kaiming_normal_, False, "larger than it needs to be"),
    # 02 ex1: MSE + λ·mean_b(‖p_u‖² + ‖q_i‖²), one SGD step at a time
    ("02.1", "pow(2).sum(1)", _penalty_step("pow"), True, "step after step"),
    ("02.1", "torch.norm**2", _penalty_step("torch.norm"), True, "step after step"),
    ("02.1", "forward_parts, zero_grad last", _forward_parts_step, True, "step after step"),
    ("02.1", "no zero_grad", _penalty_step(zero=False), False, "forgot opt.zero_grad()"),
    ("02.1", "bias in penalty", _penalty_step(bias=True), False, "bias terms"),
    ("02.1", "λ/2 form", _penalty_step(lam_scale=0.5), False, "factor 2: this exercise uses λ, not λ/2"),
    ("02.1", ".sum() over the batch", _penalty_step(reduce="sum"), False, "summed over the batch"),
    ("02.1", "no .sum(1)", _penalty_step("mean1"), False, "(p ** 2).sum(1)"),
    ("02.1", "norm not squared", _penalty_step("unsquared"), False, "square the norm"),
    ("02.1", "L1", _penalty_step("l1"), False, "L1"),
    ("02.1", "no penalty", _penalty_step(lam_scale=0.0), False, "penalty is missing"),
    ("02.1", "all rows", _penalty_step(rows="all"), False, "NOT in the batch"),
    ("02.1", "summed MSE", _penalty_step(mse="sum"), False, "squared error is summed"),
    ("02.1", "no step", lambda m, o, u, i, r, lam: None, False, "did not change"),
    ("02.1", "raises", lambda m, o, u, i, r, lam: m.nope, False, "raised AttributeError"),
    # 02 ex2: a λ on the flat bottom of the L2-on-the-batch U-curve
    ("02.2", "0.1", 0.1, True, "sweep's best"),
    ("02.2", "0.05 as numpy", np.float32(0.05), True, "sweep's best"),
    ("02.2", "too weak", 0.002, False, "too weak (overfitting)"),
    ("02.2", "too strong", 1.0, False, "too strong"),
    ("02.2", "Adam's weight_decay λ", 3e-4, False, "another regularizer's λ"),
    ("02.2", "zero", 0, False, "no regularizer at all"),
    ("02.2", "negative", -0.1, False, "must be > 0"),
    ("02.2", "nan", float("nan"), False, "finite"),
    ("02.2", "string", "0.1", False, "as a number"),
    # 02 ex3: which bucket Adam's weight_decay zeroes first
    ("02.3", "cold", "cold", True, "'cold' rows shrink first"),
    ("02.3", "Cold items", " Cold items ", True, "shrink first"),
    ("02.3", "popular", "popular", False, "running size"),
    ("02.3", "rare", "rare", False, "only λ·w"),
    ("02.3", "mid", "mid", False, "data gradients"),
    ("02.3", "not a bucket", "warm", False, "answer one of"),
    ("02.3", "a number", 0, False, "as a string"),
    # 03 ex1: RMSE per bucket of training counts 0 | 1–5 | 6–100 | > 100
    ("03.1", "digitize", _buckets(), True, "exactly 0, 1, 5, 6, 100 and 101"),
    ("03.1", "pandas groupby", _buckets_pandas, True, "matches"),
    ("03.1", "mid 6-99, popular ≥ 100", _buckets((0.5, 5.5, 99.5)), False,
     "exactly 100 training ratings is 'mid', yours puts it in 'popular'"),
    ("03.1", "popular ≥ 102", _buckets((0.5, 5.5, 101.5)), False, "exactly 101"),
    ("03.1", "rare 1-4", _buckets((0.5, 4.5, 100.5)), False, "exactly 5"),
    ("03.1", "rare from 6", _buckets((0.5, 6.5, 100.5)), False, "exactly 6"),
    ("03.1", "cold ≤ 1", _buckets((1.5, 5.5, 100.5)), False, "exactly 1"),
    ("03.1", "no root", _buckets(stat="mse"), False, "take the square root"),
    ("03.1", "root of the sum", _buckets(stat="root_sum"), False, "take the mean first"),
    ("03.1", "MAE", _buckets(stat="mae"), False, "mean absolute error"),
    ("03.1", "validation counts", _buckets(by="val"), False, "*training* counts"),
    ("03.1", "zeros", lambda *a: {n: 0 for n in NAMES}, False, "expected"),
    ("03.1", "a list", lambda *a: [0, 0, 0, 0], False, "return a dict"),
    ("03.1", "nan bucket", lambda *a: {n: float("nan") for n in NAMES}, False, "not a finite number"),
    # 03 ex2: SGD with two parameter groups
    ("03.2", "30 / 0.5", _sgd(30.0, 0.5), True, "SGD with two groups"),
    ("03.2", "default lr 30 / 0.3", _sgd_default_lr, True, "SGD with two groups"),
    ("03.2", "three groups", _sgd(30.0, 0.5, extra=True), True, "3 groups"),
    ("03.2", "one group", lambda m: torch.optim.SGD(m.parameters(), lr=30), False, "one parameter group"),
    ("03.2", "Adam", lambda m: torch.optim.Adam(m.parameters(), lr=0.01), False, "got Adam"),
    ("03.2", "swapped lrs", _sgd(0.5, 30.0), False, "swap"),
    ("03.2", "embeddings lr too small", _sgd(0.5, 0.1), False, "too small for SGD"),
    ("03.2", "biases left out", _sgd_missing_biases, False, "bias terms are in no group"),
    ("03.2", "mixed group", _sgd_mixed, False, "mixes embeddings and biases"),
    ("03.2", "returns params", lambda m: list(m.parameters()), False, "return the optimizer"),
    # 03 ex3: (optimizer, lr) within 0.02 of tuned Adam at Zipf 1.5
    ("03.3", "adam 0.01", ("adam", 0.01), True, "tuned Adam"),
    ("03.3", "sgd 100", ("sgd", 100), True, "tuned Adam"),
    ("03.3", "Adam 0.02", ("Adam", 0.02), True, "defend your choice"),
    ("03.3", "sgd past its cliff", ("sgd", 1000.0), False, "past its cliff"),
    ("03.3", "sgd at Adam's lr", ("sgd", 0.01), False, "far below sgd's sweet spot"),
    ("03.3", "not a pair", "adam", False, "a pair"),
    ("03.3", "unknown optimizer", ("lbfgs", 0.1), False, "must be one of"),
    ("03.3", "nan lr", ("adam", float("nan")), False, "finite number > 0"),
]
EXERCISES = {"01.1": lambda: lesson01.first_rmse_exercise(std=0.5, dim=64, rating_var=0.88),
             "01.2": lambda: lesson01.size_free_init_exercise(dim=D),
             "01.3": lesson01.catalogue_init_exercise,
             "02.1": lesson02.penalty_step_exercise,
             "02.2": lesson02.best_strength_exercise,
             "02.3": lesson02.first_zeroed_exercise,
             "03.1": lesson03.bucket_rmse_exercise,
             "03.2": lesson03.param_groups_exercise,
             "03.3": lesson03.skewed_catalogue_exercise}
_made: dict = {}


def _exercise(key):
    if key not in _made:
        _made[key] = EXERCISES[key]()
    return _made[key]


def _clean(message):
    assert not re.search(r"\b(nan|inf)\b", message), message  # a printed NaN/inf float
    assert not re.search(r"\d\.\d{7,}", message), message


@pytest.mark.parametrize("key, name, answer, ok, needle", CORPUS,
                         ids=[f"{c[0]}-{c[1]}" for c in CORPUS])
def test_corpus(key, name, answer, ok, needle):
    r = _exercise(key).check(answer)
    assert r.ok == ok, f"{key} {name}: {r}"
    assert needle in r.message, f"{key} {name}: {r}"
    _clean(r.message)


def test_corpus_covers_every_exercise():
    for key in EXERCISES:
        rows = [c for c in CORPUS if c[0] == key]
        assert sum(not c[3] for c in rows) >= 3 and sum(c[3] for c in rows) >= 2, key


# -- the capstone: every fault of "medium" and "hard" --------------------------------------------
R = lesson04.REFERENCE
CAPSTONE = {  # fault → [(answer id, settings, ok, needle)]
    "init": [("reference", dict(R), True, "inside the rating scale"),
             ("xavier", {**R, "init": "xavier_uniform"}, True, "inside the rating scale"),
             ("normal 0.1", {**R, "init_std": 0.1}, True, "first RMSE"),
             ("left as is", {**R, "init": "default"}, False, "nn.Embedding's default"),
             ("zeros", {**R, "init": "zeros"}, False, "never break symmetry"),
             ("constant", {**R, "init": "constant"}, False, "never break symmetry"),
             ("std 1", {**R, "init": "normal", "init_std": 1.0}, False, "init_std 1 is too big")],
    "weight_decay": [("reference", dict(R), True, "survive"),
                     ("l2_batch 0.1", {**R, "reg_strength": 0.1}, True, "survive"),
                     ("left as is", {**R, "reg": "weight_decay", "reg_strength": 0.01}, False,
                      "past the cliff"),
                     ("none", {**R, "reg": "none"}, False, "barely regularize"),
                     ("AdamW 0.01", {**R, "optimizer": "adamw", "reg": "weight_decay",
                                     "reg_strength": 0.01}, False, "barely regularize"),
                     ("Adam weight_decay below the cliff", {**R, "reg": "weight_decay",
                                                            "reg_strength": 0.001}, False,
                      "over-shrinks the embeddings well before its cliff"),
                     ("not a dict", "l2_batch", False, "settings dict"),
                     ("typo", {**R, "regularizer": "l2_batch"}, False, "unknown setting")],
    "biases": [("reference", dict(R), True, "plus user and item biases"),
               ("global bias only", {**R, "normalize": "none", "user_bias": False,
                                     "item_bias": False}, True, "the mean is handled"),
               ("left as is", {**R, "normalize": "none", "user_bias": False, "item_bias": False,
                               "global_bias": False}, False, "nothing in the model produces"),
               ("user/item biases, raw", {**R, "normalize": "none", "global_bias": False}, False,
                "centre the ratings or add the global bias"),
               ("item bias only, raw", {**R, "normalize": "none", "global_bias": False,
                                        "user_bias": False}, False, "one small step at a time")],
    "sgd_lr": [("adam", dict(R), True, "with adam"),
               ("sgd 30 / 0.5", {**R, "optimizer": "sgd", "lr": 30.0, "bias_lr": 0.5}, True,
                "with sgd"),
               ("left as is", {**R, "optimizer": "sgd", "lr": 1.0, "bias_lr": None}, False,
                "one learning rate"),
               ("sgd 30, one lr", {**R, "optimizer": "sgd", "lr": 30.0, "bias_lr": None}, False,
                "one learning rate"),
               ("bias lr 5", {**R, "optimizer": "sgd", "lr": 30.0, "bias_lr": 5.0}, False,
                "keep its lr < 1"),
               ("embeddings lr 1", {**R, "optimizer": "sgd", "lr": 1.0, "bias_lr": 0.5}, False,
                "large lr (~30)")],
}


@pytest.fixture(scope="module")
def capstone():
    split = lesson04.capstone_data("hard")  # the same data as "medium"
    ref = lesson04.run_job(split, R)
    alt = {**R, "reg_strength": 0.1}
    return {"split": split, "ex": {lv: lesson04.fault_exercises(lv, split)
                                   for lv in ("medium", "hard")},
            "ref_b": lesson04.history_bucket_rmse(ref, split.val),
            "ref_test_rare": lesson04.history_bucket_rmse(ref, split.test)["buckets"]["rare"]["rmse"],
            "alt": alt,
            "alt_rare": lesson04.history_bucket_rmse(lesson04.run_job(split, alt), split.val)
            ["buckets"]["rare"]["rmse"]}


CAP = [(lv, f, *a) for lv in ("medium", "hard") for f, rows in CAPSTONE.items()
       if f in lesson04.LEVELS[lv] for a in rows]


@pytest.mark.parametrize("level, fault, name, settings, ok, needle", CAP,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CAP])
def test_capstone_corpus(capstone, level, fault, name, settings, ok, needle):
    r = capstone["ex"][level][fault].check(settings)
    assert r.ok == ok, f"{level} {fault} {name}: {r}"
    assert needle in r.message, f"{level} {fault} {name}: {r}"
    _clean(r.message)


def _evaluation_answers(c):
    b, broken = c["ref_b"], lesson04.broken_settings("medium")
    rare = b["buckets"]["rare"]["rmse"]
    return [("reference", (dict(R), rare), True, "hides a"),
            ("l2_batch 0.1", (c["alt"], c["alt_rare"]), True, "report both"),
            ("broken, its own rare RMSE", (broken, rare), False, "fail their own checks"),
            ("overall RMSE", (dict(R), b["overall"]), False, "overall RMSE"),
            ("per-item average", (dict(R), b["per_item"]), False, "per_item"),
            ("MSE", (dict(R), rare ** 2), False, "mean squared error"),
            ("test set", (dict(R), c["ref_test_rare"]), False, "test set"),
            ("popular bucket", (dict(R), b["buckets"]["popular"]["rmse"]), False, "'popular' bucket"),
            ("settings only", dict(R), False, "answer (fixed_settings, rare_item_rmse)"),
            ("nan", (dict(R), float("nan")), False, "not a finite number")]


@pytest.mark.parametrize("level", ["medium", "hard"])
def test_capstone_evaluation_corpus(capstone, level):
    ex = capstone["ex"][level]["evaluation"]
    answers = _evaluation_answers(capstone)
    assert sum(not a[2] for a in answers) >= 3 and sum(a[2] for a in answers) >= 2
    for name, answer, ok, needle in answers:
        r = ex.check(answer)
        assert r.ok == ok and needle in r.message, f"{level} evaluation {name}: {r}"
        _clean(r.message)


def test_capstone_corpus_covers_every_fault():
    for lv in ("medium", "hard"):
        for f in lesson04.LEVELS[lv]:
            if f == "evaluation":
                continue
            rows = CAPSTONE[f]
            assert sum(not a[2] for a in rows) >= 3 and sum(a[2] for a in rows) >= 2, f
