"""Runs trained in a second process (mfteach.forked): the same numbers as here, and nothing lost
when the child dies, hangs or cannot take a job."""
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import psutil
import pytest
import torch

import mfteach as mf
from mfteach import forked
from mfteach.training import can_resume
from mfteach.lessons import common
from test_resume import assert_same_run

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")


@pytest.fixture
def one_thread(monkeypatch):
    """torch on one thread (as the notebooks set it), a fresh child, the failure count restored."""
    monkeypatch.delenv(forked.ENV, raising=False)
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    failed = forked._FAILED[0]
    forked.shutdown()
    yield
    forked.shutdown()
    forked._FAILED[0] = failed
    torch.set_num_threads(old)


def _pid():
    return os.getpid()


def _sleep_there(parent, seconds, value):
    """Sleeps (without a word) only in a process other than ``parent``."""
    if os.getpid() != parent:
        time.sleep(seconds)
    return value


def _print_and_warn():
    print("from the child")
    import warnings
    warnings.warn("from the child")
    return 1


def _raise():
    raise KeyError("asked")


CONFIGS = {"adam + l2_batch, snapshots": dict(reg="l2_batch", reg_strength=0.05, snapshot_epochs=(1, 3)),
           "sgd diverging": dict(optimizer="sgd", lr=40.0),
           "sparse_adam, zscore": dict(optimizer="sparse_adam", normalize="zscore")}


@pytest.mark.parametrize("kw", CONFIGS.values(), ids=CONFIGS.keys())
def test_a_run_in_the_child_is_the_run_trained_here(small, one_thread, kw):
    cfg = mf.TrainConfig(epochs=5, batch_size=512, **kw)
    there = forked.train(small, cfg)
    assert forked._CHILD and forked._CHILD[0][0].pid != os.getpid()
    assert_same_run(there, mf.train(small, cfg))
    if there.diverged is None:  # and it goes on here as a run trained here would
        assert can_resume(there, small, cfg.replace(epochs=8))
        assert_same_run(mf.train(small, cfg.replace(epochs=8), resume=there),
                        mf.train(small, cfg.replace(epochs=8)))
    else:
        assert not can_resume(there, small, cfg.replace(epochs=8))


def test_the_child_is_another_process_and_leaves_this_ones_state(one_thread):
    flush = mf.training._flushing_denormals()
    assert forked.call(_pid) != os.getpid()
    assert forked.call(_pid) == forked._CHILD[0][0].pid  # one child, kept
    assert torch.get_num_threads() == 1 and mf.training._flushing_denormals() == flush
    assert mf.training.quiet_for() > 0  # nothing counted as still running


def test_errors_are_raised_here(small, one_thread):
    pid, failed = forked.call(_pid), forked._FAILED[0]
    empty = mf.Split(small.train.subset(np.zeros(0, dtype=int)), small.val, small.test)
    with pytest.raises(ValueError, match="training set is empty"):
        forked.train(empty, mf.TrainConfig(epochs=1))
    with pytest.raises(KeyError, match="asked"):
        forked.call(_raise)
    assert forked.call(_pid) == pid and forked._FAILED[0] == failed  # an error is not a failure


def test_what_cannot_go_to_the_child_is_done_here(one_thread):
    failed = forked._FAILED[0]
    assert forked.call(lambda: os.getpid()) == os.getpid()
    lock = threading.Lock()
    assert forked.call(lambda x: x, lock) is lock
    assert forked._FAILED[0] == failed  # not the child's fault: it stays
    assert forked.call(_pid) != os.getpid()


def test_a_child_that_dies_mid_job_costs_only_time(one_thread):
    forked.call(_pid)  # the child is up
    child = forked._CHILD[0][0]
    threading.Timer(0.5, child.kill).start()
    t = time.perf_counter()
    assert forked.call(_sleep_there, os.getpid(), 30, "done") == "done"  # done here instead
    assert time.perf_counter() - t < 10
    assert not child.is_alive()
    assert forked.call(_pid) not in (os.getpid(), child.pid)  # a new child


def test_a_child_that_stops_answering_is_replaced(one_thread, monkeypatch):
    monkeypatch.setattr(forked, "SILENCE", 0.5)
    forked.call(_pid)
    child = forked._CHILD[0][0]
    assert forked.call(_sleep_there, os.getpid(), 30, "here") == "here"
    child.join(2)
    assert not child.is_alive()


def test_after_three_lost_children_runs_stay_here(one_thread, monkeypatch):
    monkeypatch.setattr(forked, "SILENCE", 0.3)
    forked._FAILED[0] = 0
    for _ in range(3):
        assert forked.usable()
        forked.call(_sleep_there, os.getpid(), 30, None)
    assert not forked.usable() and forked.call(_pid) == os.getpid()


def test_off_switch_and_thread_count(one_thread, monkeypatch):
    monkeypatch.setenv(forked.ENV, "off")
    assert not forked.usable() and forked.call(_pid) == os.getpid()
    monkeypatch.delenv(forked.ENV)
    torch.set_num_threads(2)
    assert not forked.usable()
    torch.set_num_threads(1)
    assert forked.usable()


def test_the_child_ignores_an_interrupt_and_writes_nothing_here(one_thread, capfd):
    pid = forked.call(_pid)
    os.kill(pid, signal.SIGINT)  # what a kernel's interrupt sends its process group
    time.sleep(0.2)
    assert forked.call(_pid) == pid
    assert forked.call(_print_and_warn) == 1
    out, err = capfd.readouterr()
    assert "from the child" not in out + err


def test_the_child_ends_with_its_parent(tmp_path):
    code = ("import torch, mfteach.forked as f; torch.set_num_threads(1); "
            "print(f.call(__import__('os').getpid), flush=True)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, forked.ENV: ""}, check=True)
    child = int(out.stdout.split()[-1])
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"the child {child} outlived its parent")


def test_train_many_in_two_processes_gives_the_numbers_of_one_thread(small, one_thread, monkeypatch):
    cfgs = [mf.TrainConfig(epochs=4, batch_size=512, lr=lr, seed=31) for lr in (0.01, 0.02, 0.03, 0.05)]
    before = forked.STATS["runs"]
    runs = common.train_many(small, cfgs)
    assert forked.STATS["runs"] > before  # the child trained some of them
    for cfg, h in zip(cfgs, runs):
        assert_same_run(h, mf.train(small, cfg))
        assert common.trained(small, cfg) is h


def begun(key):
    while not (common._CALLS[key].running() or common._CALLS[key].done()):
        time.sleep(0.01)


def test_a_call_started_ahead_runs_in_the_child_or_not_at_all(one_thread, monkeypatch):
    key = ("test", object())
    assert common.call_ahead(key, _pid)
    assert not common.call_ahead(key, _pid)  # once
    begun(key)
    assert common.called(key) not in (None, os.getpid())
    assert common.called(key) is None  # taken: a second ask does it itself
    # queued behind a long job and not begun: the cell takes it back (and does it itself)
    assert common.call_ahead(("slow",), _sleep_there, os.getpid(), 1.0, "slow")
    assert common.call_ahead(key, _pid)
    begun(("slow",))
    assert common.called(key) is None
    assert common.called(("slow",)) == "slow"
    monkeypatch.setenv(forked.ENV, "off")  # never in a thread of this process: it may be a timing
    assert not common.call_ahead(key, _pid) and common.called(key) is None


def _unpicklable_result():
    return threading.Lock()


def test_a_result_that_cannot_come_back_is_made_here(one_thread):
    failed = forked._FAILED[0]
    assert isinstance(forked.call(_unpicklable_result), type(threading.Lock()))
    assert forked._FAILED[0] == failed and forked.call(_pid) != os.getpid()


def test_an_idle_child_ends_and_a_new_one_comes_when_needed(one_thread, monkeypatch):
    monkeypatch.setattr(forked, "IDLE", 0.3)
    failed = forked._FAILED[0]
    first = forked.call(_pid)
    child = forked._CHILD[0][0]
    for _ in range(100):
        if not forked._CHILD:
            break
        time.sleep(0.05)
    assert not forked._CHILD  # forgotten
    for _ in range(100):  # and ended (reaped by the thread that ended it: no join here)
        if not psutil.pid_exists(child.pid) or psutil.Process(child.pid).status() == "zombie":
            break
        time.sleep(0.05)
    else:
        pytest.fail("the idle child still runs")
    assert forked.call(_pid) not in (first, os.getpid()) and forked._FAILED[0] == failed
