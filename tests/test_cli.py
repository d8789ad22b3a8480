"""The mfteach command: each subcommand does what it says, and says plainly when it cannot."""
import json
import subprocess
import sys
import time

import pytest

from mfteach import cli


def test_notebooks_are_copied_out_and_never_overwritten(tmp_path, capsys):
    assert cli.main(["notebooks", str(tmp_path)]) == 0
    copied = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert copied[:4] == ["01_initialization.ipynb", "02_regularization.ipynb",
                          "03_skew_optimizers.ipynb", "04_capstone.ipynb"]
    assert json.loads((tmp_path / copied[0]).read_text())["cells"]
    (tmp_path / copied[0]).write_text("my work")
    assert cli.main(["notebooks", str(tmp_path)]) == 1          # a student's edits are safe
    assert (tmp_path / copied[0]).read_text() == "my work"
    assert "--force" in capsys.readouterr().err
    assert cli.main(["notebooks", str(tmp_path), "--force"]) == 0
    assert (tmp_path / copied[0]).read_text() != "my work"


def test_doctor_reports_versions_front_ends_and_a_timing(capsys):
    rc = cli.main(["doctor"])
    out = capsys.readouterr().out
    assert "torch" in out and "ipywidgets" in out and "JupyterLab" in out
    assert "default retrain" in out and " s (val RMSE " in out
    assert rc in (0, 1) and (("nothing to fix" in out) == (rc == 0))


def test_voila_refuses_an_unknown_notebook(capsys):
    assert cli.main(["voila", "99"]) == 1
    assert "01_initialization" in capsys.readouterr().err


def test_fetch_data_offline_says_where_to_put_the_zip(tmp_path, capsys, monkeypatch):
    from mfteach import datasets

    def offline(*a, **k):
        raise datasets.DatasetUnavailable("MovieLens 100k is not in the cache and the network is "
                                          "off: put ml-100k.zip in the cache folder")
    monkeypatch.setattr(datasets, "fetch_movielens_100k", offline)
    assert cli.main(["fetch-data", "--cache", str(tmp_path)]) == 1
    assert "put ml-100k.zip" in capsys.readouterr().err


def test_python_dash_m_mfteach_runs_the_command():
    out = subprocess.run([sys.executable, "-m", "mfteach", "--help"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "doctor" in out.stdout and "notebooks" in out.stdout


def test_an_unknown_subcommand_is_a_usage_error():
    with pytest.raises(SystemExit) as e:
        cli.main(["teach-me"])
    assert e.value.code == 2


def test_check_model_is_a_subcommand(tmp_path, capsys):
    """Its behaviour is tested in test_check_model.py; here: it is wired and refuses plainly."""
    assert cli.main(["check-model", str(tmp_path / "none.pt"), str(tmp_path / "none.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mfteach check-model: no such file") and "Traceback" not in err
    with pytest.raises(SystemExit):
        cli.main(["check-model"])                                # both paths are required


def test_warm_keeps_a_notebooks_runs_and_leaves_progress_alone(tmp_path, monkeypatch, capsys):
    from mfteach import runcache

    monkeypatch.setenv(runcache.ENV, str(tmp_path / "runs"))
    monkeypatch.setenv("MFTEACH_PROGRESS", str(tmp_path / "mine.json"))
    assert cli.main(["warm", "04"]) == 0
    assert list((tmp_path / "runs").glob("*.pt")), "the capstone's runs were not kept"
    assert not (tmp_path / "mine.json").exists()  # its exercise checks are not the teacher's tries
    assert "ran in" in capsys.readouterr().out
    assert [p.name.startswith(".warmed-04_capstone-") for p in (tmp_path / "runs").glob(".warmed-*")] == [True]


def test_warm_says_plainly_when_it_cannot(monkeypatch, capsys):
    from mfteach import runcache

    monkeypatch.setenv(runcache.ENV, "off")
    assert cli.main(["warm", "04"]) == 1
    assert "run cache is off" in capsys.readouterr().err
    monkeypatch.setenv(runcache.ENV, "/tmp/never-used-mfteach-runs")
    assert cli.main(["warm", "99"]) == 1
    assert "01_initialization" in capsys.readouterr().err


def test_voila_warms_first_unless_told_not_to(monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "_warm", lambda nbs: calls.append([p.name for p in nbs]) or 0)
    monkeypatch.setattr(cli.subprocess, "call", lambda cmd, **kw: calls.append(cmd[-1]) or 0)
    assert cli.main(["voila", "02"]) == 0
    assert calls[0] == ["02_regularization.ipynb"] and calls[1].endswith("02_regularization.ipynb")
    calls.clear()
    assert cli.main(["voila", "02", "--no-warm"]) == 0
    assert len(calls) == 1 and calls[0].endswith("02_regularization.ipynb")


class _FakeProc:
    def __init__(self, cmd, **kw):
        self.cmd, self.kw, self.ended = cmd, kw, []
        _FakeProc.made.append(self)

    def poll(self):
        return None if not self.ended else -15

    def terminate(self):
        self.ended.append("terminate")

    def wait(self, timeout=None):
        return -15


def test_lab_warms_the_notebooks_behind_once_and_stops_when_it_ends(tmp_path, monkeypatch, capsys):
    """`mfteach lab` the first time on a machine: JupyterLab opens at once, and `mfteach warm`
    runs the notebooks not warmed yet in a background process, stopped when lab ends."""
    from mfteach import cli_warm, runcache

    runs = tmp_path / "runs"
    monkeypatch.setenv(runcache.ENV, str(runs))
    _FakeProc.made = []
    monkeypatch.setattr(cli_warm.subprocess, "Popen", _FakeProc)
    labs = []
    monkeypatch.setattr(cli.subprocess, "call", lambda cmd, **kw: labs.append(cmd) or 0)
    assert cli.main(["lab"]) == 0
    (proc,) = _FakeProc.made
    assert proc.cmd[2:] == ["mfteach", "warm", "--background", "02", "03", "04", "05", "01"]
    assert proc.ended == ["terminate"] and labs[0][2:4] == ["jupyter", "lab"]
    assert "in the background" in capsys.readouterr().out
    # what a finished warm leaves: one stamp per notebook, for this code and machine
    for nb in ("01_initialization", "02_regularization", "04_capstone", "05_check_your_model"):
        (runs / f".warmed-{nb}-{runcache.stamp()[:16]}").touch()
    assert cli.main(["lab"]) == 0
    assert _FakeProc.made[-1].cmd[5:] == ["03"]                 # only the one not warmed yet
    (runs / f".warmed-03_skew_optimizers-{runcache.stamp()[:16]}").touch()
    _FakeProc.made.clear()
    assert cli.main(["lab"]) == 0 and cli.main(["lab", "--no-warm"]) == 0
    assert _FakeProc.made == []                                  # all warm: nothing started
    monkeypatch.setattr(runcache, "_CODE", ["another version of the code"])
    assert cli.main(["lab"]) == 0 and len(_FakeProc.made) == 1   # new code: warmed again
    _FakeProc.made.clear()
    monkeypatch.setenv(runcache.ENV, "off")
    assert cli.main(["lab"]) == 0 and _FakeProc.made == []       # cache off: lab alone
    assert len(labs) == 6


def test_one_background_warm_at_a_time_and_a_hangup_stops_it(tmp_path, monkeypatch, capsys):
    """A second `mfteach lab` on the same cache starts no second warm while the first runs; a
    closed terminal (SIGHUP) ends lab and its warm like Ctrl-C."""
    import os
    import signal

    from mfteach import cli_warm, runcache

    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv(runcache.ENV, str(runs))
    _FakeProc.made = []
    monkeypatch.setattr(cli_warm.subprocess, "Popen", _FakeProc)
    monkeypatch.setattr(cli.subprocess, "call", lambda cmd, **kw: 0)
    (runs / cli_warm.PID_FILE).write_text(str(os.getpid()))          # alive: a warm under way
    assert cli.main(["lab"]) == 0 and _FakeProc.made == []
    assert "already running" in capsys.readouterr().out
    (runs / cli_warm.PID_FILE).write_text("999999999")              # gone
    assert cli.main(["lab"]) == 0 and len(_FakeProc.made) == 1
    if not hasattr(signal, "SIGHUP"):
        return
    before = signal.getsignal(signal.SIGHUP)

    def hung_up(cmd, **kw):
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(5)
        return 0
    monkeypatch.setattr(cli.subprocess, "call", hung_up)
    with pytest.raises(SystemExit):
        cli.main(["lab"])
    assert _FakeProc.made[-1].ended == ["terminate"]
    assert signal.getsignal(signal.SIGHUP) == before


def test_clearing_the_run_cache_clears_the_warm_markers(tmp_path, monkeypatch):
    from mfteach import runcache

    monkeypatch.setenv(runcache.ENV, str(tmp_path))
    (tmp_path / ".warmed-02_regularization-0123456789abcdef").touch()
    runcache.clear()
    assert not list(tmp_path.glob(".warmed-*"))
