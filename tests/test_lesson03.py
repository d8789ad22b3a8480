"""Lesson 03 specifics: fair learning-rate grids, no NaN printed as a number, the exercise's
solution and the article's Example 3 as written."""
import numpy as np

from mfteach.lessons import article
from mfteach.lessons import skew as lesson03


def test_lr_grid_has_equal_density_for_every_optimizer():
    for opt, lrs in lesson03.LR_GRID.items():
        ratios = np.array(lrs[1:]) / np.array(lrs[:-1])
        assert len(lrs) == 5 and np.allclose(ratios, 2.0), opt


def test_describe_says_no_items_instead_of_nan():
    class _H:
        diverged = None

    class _Run:
        history = _H()
        extra = {"values": {"item_zipf": 0.0, "optimizer": "adam", "lr": 0.01},
                 "buckets": {"overall": 0.6, "per_item": 0.6,
                             "buckets": {"rare": {"rmse": float("nan")}}}}

    text = lesson03._describe_skew(_Run())
    assert "nan" not in text.lower() and "no items" in text


def test_exercise3_accepts_tuned_sgd_as_the_solution_says():
    assert lesson03.skewed_catalogue_exercise().check(("sgd", 100)).ok


def test_example3_as_written_fills_nothing():
    r = article.example3_as_written(0)
    assert r["missing before"] == 0 == r["missing after"]
    assert abs(r["rating std after"] - 1) < 1e-9
