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
