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
    assert "lesson.prefetch_sections(split, real, seed=SEED)" in src


def test_scale_table_started_ahead_in_a_second_process_is_the_table_computed_here(small, monkeypatch):
    """prefetch_sections starts scale_under_optimizers's six runs in a child (call_ahead, where
    mfteach.forked can): the table the cell then prints is the one computed in the kernel."""
    import sys

    import pytest
    from threadpoolctl import threadpool_limits

    import time

    from mfteach import forked
    from mfteach.lessons import common

    if not sys.platform.startswith("linux"):
        pytest.skip("fork: Linux only")
    monkeypatch.delenv(forked.ENV, raising=False)
    monkeypatch.setattr(forked, "_FAILED", [0])
    monkeypatch.setattr(lesson01, "prefetch", lambda data, configs: 0)  # only the call ahead
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1, user_api="blas"):
            here = lesson01.scale_under_optimizers(small, seed=3)
            calls = forked.STATS["calls"]
            assert lesson01.prefetch_sections(small, seed=3) == 6
            job = common._CALLS[("scale_under_optimizers", id(small), 3)]
            t = time.perf_counter()
            while not (job.running() or job.done()) and time.perf_counter() - t < 10:
                time.sleep(0.01)  # begun (a cell asking before that computes it itself)
            ahead = lesson01.scale_under_optimizers(small, seed=3)
            assert forked.STATS["calls"] == calls + 1  # the six came back from one child
    finally:
        torch.set_num_threads(old)
    assert ahead == here
