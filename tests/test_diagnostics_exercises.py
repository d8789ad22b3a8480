import numpy as np
import pytest
import torch

import mfteach as mf
from mfteach.diagnostics import diagnose
from mfteach.lessons.exercises import Exercise, check_init_function, close_to


def names(h, data, severity="warning"):
    return {f.name for f in diagnose(h, data) if f.severity == severity}


def test_healthy_model_gets_no_warning(notebook_data):
    h = mf.train(notebook_data, reg="l2_batch", reg_strength=0.05)
    assert names(h, notebook_data) == set()


@pytest.mark.parametrize("kw, expected", [
    (dict(init="default"), "initial scale too large"),
    (dict(optimizer="sgd", lr=1e4), "diverged"),
    (dict(epochs=30), "overfitting"),
    (dict(reg="weight_decay", reg_strength=1e-2), "embeddings collapsed to zero"),
    (dict(init="zeros"), "embeddings collapsed to zero"),
    (dict(init="constant"), "embeddings collapsed to rank 1"),
    (dict(reg="weight_decay", reg_strength=3e-4), "norms tied to popularity"),
    (dict(normalize="none", global_bias=False, user_bias=False, item_bias=False),
     "bias terms missing on uncentred ratings"),
])
def test_each_planted_failure_is_found(notebook_data, kw, expected):
    h = mf.train(notebook_data, **kw)
    found = diagnose(h, notebook_data)
    hit = [f for f in found if f.name == expected]
    assert hit, [f.name for f in found]
    assert hit[0].evidence and hit[0].explanation and hit[0].fix and str(hit[0])


def test_missing_biases_are_not_blamed_on_the_init(notebook_data):
    h = mf.train(notebook_data, normalize="none", global_bias=False, user_bias=False,
                 item_bias=False)
    assert "initial scale too large" not in names(h, notebook_data)


def test_rows_never_updated_is_found_and_graded_by_init_size():
    from mfteach.lessons.common import notebook_data

    cold = notebook_data(cold_items=0.05)
    big = mf.train(cold, init="default")
    small = mf.train(cold)
    big_f = [f for f in diagnose(big, cold) if f.name == "rows never updated"][0]
    assert big_f.severity == "warning"
    assert big_f.evidence["items"] == (cold.train.item_counts() == 0).sum()  # cold + unrated by chance
    assert big_f.evidence["items"] >= len(cold.train.cold_items)
    small_f = [f for f in diagnose(small, cold) if f.name == "rows never updated"]
    assert small_f and small_f[0].severity == "info"


def test_exercise_check_hint_solution():
    ex = Exercise("first RMSE", "Compute the first RMSE", close_to(4.12, rel=0.05),
                  hints=["√(d·σ⁴ + Var r)", "d = 16, σ = 1"], solution="math.sqrt(16 + 1)")
    assert not ex.check(...).ok
    wrong = ex.check(8.0)
    assert not wrong and "too big" in str(wrong)
    assert not ex.check("four").ok
    right = ex.check(4.1)
    assert right and "Correct" in str(right) and ex.solved
    assert "1/2" in str(ex.hint()) and "2/2" in str(ex.hint()) and "2/2" in str(ex.hint())
    assert "sqrt" in str(ex.solution()) and "<b>" in ex.solution()._repr_html_()


def test_init_function_checker():
    check = check_init_function(0.05, dim=16, rows=(500, 50_000))
    ex = Exercise("size-free init", "…", check)
    good = ex.check(lambda w: torch.nn.init.normal_(w, std=0.05))
    assert good.ok
    xavier = ex.check(torch.nn.init.xavier_normal_)
    assert not xavier.ok and "changes with the number of rows" in xavier.message
    broken = ex.check(lambda w: 1 / 0)
    assert not broken.ok and "ZeroDivisionError" in broken.message
    untouched = ex.check(lambda w: None)
    assert not untouched.ok and "NaN" in untouched.message
