"""Lesson 01's exercises give reasons that hold: they name the optimizer a reason is true for,
reject a non-zero mean, and show their target rounded."""
import math

import torch

from mfteach.lessons import initialization as lesson01


def test_exercise2_rejects_a_nonzero_mean_and_rounds_its_target():
    ex2 = lesson01.size_free_init_exercise(dim=32)
    shifted = ex2.check(lambda w: torch.nn.init.normal_(w, mean=0.5, std=1 / math.sqrt(32)))
    assert not shifted.ok and "mean" in shifted.message
    assert "0.1768" in ex2.prompt and "0.17677" not in ex2.prompt
    wrong = ex2.check(lambda w: torch.nn.init.normal_(w, std=0.05))
    assert "0.1768" in wrong.message and "0.17677" not in wrong.message


def test_exercise3_reasons_name_the_optimizer():
    ex3 = lesson01.catalogue_init_exercise()
    assert not ex3.check(lambda w: torch.nn.init.uniform_(w, 0.0, 0.1)).ok  # mean 0.05
    for fn in (torch.nn.init.xavier_uniform_, lambda w: torch.nn.init.normal_(w, std=1e-5)):
        msg = ex3.check(fn).message
        assert "SGD" in msg and "Adam" in msg and "claim 01.xavier-adam" in msg
        assert "learning starts slowly" not in msg
    assert ex3.check(lambda w: torch.nn.init.normal_(w, std=0.1)).ok


def test_cold_report_and_warm_cold_split():
    from mfteach.lessons.common import notebook_data

    split = notebook_data(cold_items=0.05, seed=0)
    c = lesson01.cold_report(split)
    assert c["cold items"] == 75 and 0.15 < c["val share"] < 0.3
    assert lesson01.cold_report(notebook_data(seed=0))["val share"] == 0.0


def test_the_runs_prefetched_are_the_ones_sections_4_and_5_train(monkeypatch):
    """``prefetch_sections`` queues exactly the configs the notebook's section 4 cell (its
    ``base`` and ``setups``) and ``init_comparison`` ask for: nothing trained for nobody."""
    import re
    from pathlib import Path

    import mfteach as mf
    src = (Path(__file__).parents[1] / "notebooks" / "src" / "01_initialization.py").read_text()
    line = re.search(r"^base = (dict\(.*\))$", src, re.M).group(1)
    base = eval(line, {"__builtins__": {}, "dict": dict})  # the notebook's literal dict(...)
    assert base == lesson01.SETUP
    asked = [mf.TrainConfig(**base, init="default", epochs=150)] + \
        lesson01.comparison_configs(**base)
    queued = []
    monkeypatch.setattr(lesson01, "prefetch", lambda data, cfgs: queued.extend(cfgs) or len(cfgs))
    assert lesson01.prefetch_sections(object()) == len(asked)
    assert queued == asked
    assert "lesson.prefetch_sections(split, real)" in src
