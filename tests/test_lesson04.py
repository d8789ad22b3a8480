"""Lesson 04: the checks judge by measurement — no fix demanded for a harmless setting, no
'fix' accepted that only trades the collapse for overfitting, no report accepted from a broken job."""
import mfteach as mf
from mfteach.lessons import capstone as lesson


def test_no_level_plants_the_padding_fault():
    assert all("padding" not in faults for faults in lesson.LEVELS.values())
    assert "padding" not in lesson.FAULTS


def test_weight_decay_check_rejects_no_regularization():
    split = lesson.capstone_data("medium")
    ex = lesson.fault_exercises("medium", split)["weight_decay"]
    r = ex.check({**lesson.REFERENCE, "reg": "none"})
    assert not r.ok and "barely regularize" in r.message
    assert ex.check(dict(lesson.REFERENCE)).ok


def test_evaluation_check_rejects_the_broken_job_even_with_its_true_rare_rmse():
    split = lesson.capstone_data("medium")
    broken = lesson.broken_settings("medium")
    h = lesson.run_job(split, broken)
    rare = mf.history_bucket_rmse(h, split.val)["buckets"]["rare"]["rmse"]
    r = lesson.fault_exercises("medium", split)["evaluation"].check((broken, rare))
    assert not r.ok and "fix the other faults first" in r.message


def test_init_check_quotes_the_first_rmse_the_broken_job_prints():
    """The init check's number must be the first RMSE the student sees in the job's output (a
    model that does not start at the mean is off by the mean too), on every level and seed."""
    import re

    for seed in (0, 1):
        for level in ("easy", "medium", "hard"):
            split = lesson.capstone_data(level, seed=seed)
            broken = lesson.broken_settings(level)
            checks = lesson.fault_exercises(level, split)
            if "init" not in checks:
                continue
            h = lesson.run_job(split, broken, seed=seed)
            msg = str(checks["init"].check(dict(broken)))
            said = [float(x) for x in re.findall(r"(?:about|≈) (\d+\.\d+)", msg)]
            first = h.train_rmse[0]
            assert said and abs(said[-1] - first) / first < 0.05, (level, seed, first, msg)
