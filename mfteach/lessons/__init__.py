"""The course layer: one module per lesson (its setup tables, experiments, live panel and
exercises), plus what the lessons share (``common``: the notebooks' data and small run helpers;
``exercises``: the exercise API).

    from mfteach.lessons import regularization as lesson   # in notebook 02

Lesson modules load on first use, so ``import mfteach`` stays free of matplotlib and ipywidgets.
"""
import importlib

LESSONS = {"01": "initialization", "02": "regularization", "03": "skew", "04": "capstone",
           "05": "check_own"}
__all__ = ["LESSONS", "common", "exercises", "progress", "article", "claims", *LESSONS.values()]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'mfteach.lessons' has no attribute {name!r}")
