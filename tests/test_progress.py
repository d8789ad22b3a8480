"""The learner's progress survives a kernel restart, and shows written answers."""
import json
import os
import subprocess
import sys

from mfteach.lessons import progress
from mfteach.lessons.exercises import Exercise, close_to


def kernel(code, env):
    """A fresh Python process: what a kernel restart gives."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    return out.stdout


def test_progress_survives_a_restart(tmp_path):
    env = {**os.environ, "MFTEACH_PROGRESS": str(tmp_path / "p.json")}
    kernel("from mfteach.lessons.exercises import Exercise, close_to\n"
           "ex = Exercise('first RMSE', 'compute it', close_to(4.0), id='01.first-rmse')\n"
           "ex.check(9.0); ex.check(4.01)\n"
           "other = Exercise('two groups', 'SGD', close_to(1.0), id='03.groups')\n"
           "other.check(2.0); other.answer('Adam: it degrades gracefully past its best lr')\n", env)
    text = kernel("from mfteach.lessons import progress; print(progress.summary())", env)
    assert "1 of 2 exercises passed" in text
    assert "✅ first RMSE (2 tries)" in text and "⬜ two groups (1 try)" in text
    assert "Adam: it degrades gracefully" in text
    only_03 = kernel("from mfteach.lessons import progress; print(progress.summary('03'))", env)
    assert "0 of 1" in only_03


def test_a_pass_stays_a_pass_and_bad_files_are_survived(tmp_path, monkeypatch):
    monkeypatch.setenv("MFTEACH_PROGRESS", str(tmp_path / "p.json"))
    ex = Exercise("x", "…", close_to(1.0), id="09.x")
    assert ex.check(1.0) and not ex.check(5.0)
    assert progress.load()["09.x"]["passed"] and progress.load()["09.x"]["tries"] == 2
    (tmp_path / "p.json").write_text("{not json")          # a damaged file: start afresh
    assert progress.load() == {} and not ex.check(3.0)
    assert json.loads((tmp_path / "p.json").read_text())["09.x"]["tries"] == 1
    monkeypatch.setenv("MFTEACH_PROGRESS", str(tmp_path / "missing-dir" / "p.json"))
    ex.check(1.0)                                          # cannot save: said in the summary
    assert "could not save progress" in str(progress.summary())
