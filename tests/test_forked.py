"""Runs trained in a second process (mfteach.forked): the same numbers as here, and nothing lost
when the child dies, hangs or cannot send its answer back."""
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
from mfteach import forked, history
from mfteach.lessons import common
from mfteach.training import can_resume
from test_resume import assert_same_run

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")


@pytest.fixture
def one_thread(monkeypatch):
    """torch on one thread (as the notebooks set it); the count of lost children restored."""
    from threadpoolctl import threadpool_limits

    monkeypatch.delenv(forked.ENV, raising=False)
    old, failed, off = torch.get_num_threads(), forked._FAILED[0], forked.STATS.pop("off", None)
    torch.set_num_threads(1)
    forked._FAILED[0] = 0
    with threadpool_limits(1, user_api="blas"):  # as the notebooks' setup cells
        yield
    forked._FAILED[0] = failed
    forked.STATS.pop("off", None)
    if off is not None:
        forked.STATS["off"] = off
    torch.set_num_threads(old)


def _pid():
    return os.getpid()


def _sleep_there(parent, seconds, value):
    """Sleeps (without a word) only in a process other than ``parent``; its pid there."""
    if os.getpid() != parent:
        time.sleep(seconds)
        return os.getpid()
    return value


def _children():
    """This process's children that are running (the browser tests' servers may be some)."""
    return {p.pid for p in psutil.Process().children() if p.status() != psutil.STATUS_ZOMBIE}


def _after(seconds, signal_, others):
    """Send ``signal_`` to the children started since ``others`` was taken, in ``seconds``."""
    def send():
        for pid in _children() - others:
            os.kill(pid, signal_)
    threading.Timer(seconds, send).start()


def _print_and_warn():
    print("from the child")
    import warnings
    warnings.warn("from the child")
    return 1


class _Odd(Exception):
    def __init__(self, lock):
        super().__init__("odd")
        self.lock = lock


def _raise(kind):
    if kind == "plain":
        raise KeyError("asked")
    raise _Odd(threading.Lock())  # does not pickle: raised here instead, by doing it here


CONFIGS = {"adam + l2_batch, snapshots": dict(reg="l2_batch", reg_strength=0.05, snapshot_epochs=(1, 3)),
           "sgd diverging": dict(optimizer="sgd", lr=40.0),
           "sparse_adam, zscore": dict(optimizer="sparse_adam", normalize="zscore")}


@pytest.mark.parametrize("kw", CONFIGS.values(), ids=CONFIGS.keys())
def test_a_run_in_the_child_is_the_run_trained_here(small, one_thread, kw):
    cfg = mf.TrainConfig(epochs=5, batch_size=512, **kw)
    before = forked.STATS["runs"]
    there = forked.train(small, cfg)
    assert forked.STATS["runs"] == before + 1
    assert_same_run(there, mf.train(small, cfg))
    assert not any(t.is_shared() for t in there.model.state_dict().values())  # plain memory
    if there.diverged is None:  # and it goes on here as a run trained here would
        assert can_resume(there, small, cfg.replace(epochs=8))
        assert_same_run(mf.train(small, cfg.replace(epochs=8), resume=there),
                        mf.train(small, cfg.replace(epochs=8)))
    else:
        assert not can_resume(there, small, cfg.replace(epochs=8))


def test_the_child_sees_this_process_as_it_is_now(small, one_thread, monkeypatch):
    """A setting changed after an earlier child (a student tightening the blow-up rule, another
    default dtype) is the child's too: it is forked for each job."""
    cfg = mf.TrainConfig(epochs=3, batch_size=512)
    forked.train(small, cfg.replace(seed=9))
    monkeypatch.setattr(history, "BLOWUP_FACTOR", 0.1)
    there, here = forked.train(small, cfg), mf.train(small, cfg)
    assert here.diverged is not None
    assert_same_run(there, here)
    monkeypatch.undo()
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        there, here = forked.train(small, cfg), mf.train(small, cfg)
    finally:
        torch.set_default_dtype(old)
    assert there.model.state_dict()["user_factors.weight"].dtype == torch.float64
    assert_same_run(there, here)


def test_the_child_is_another_process_and_leaves_this_ones_state(one_thread):
    flush, others = mf.training._flushing_denormals(), _children()
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    first = forked.call(_pid)
    assert first != os.getpid() and forked.call(_pid) not in (first, os.getpid())  # one per job
    assert forked.call(lambda: os.getpid()) != os.getpid()  # nothing pickled on the way there
    assert forked.call(os.getpriority, os.PRIO_PROCESS, 0, nice=10) == max(10, nice)
    assert forked.call(os.getpriority, os.PRIO_PROCESS, 0) == nice
    assert torch.get_num_threads() == 1 and mf.training._flushing_denormals() == flush
    assert os.getpriority(os.PRIO_PROCESS, 0) == nice
    assert mf.training.quiet_for() > 0  # nothing counted as still running
    assert _children() <= others  # each child ended with its job


def test_errors_are_raised_here(small, one_thread):
    empty = mf.Split(small.train.subset(np.zeros(0, dtype=int)), small.val, small.test)
    with pytest.raises(ValueError, match="training set is empty"):
        forked.train(empty, mf.TrainConfig(epochs=1))
    with pytest.raises(KeyError, match="asked"):
        forked.call(_raise, "plain")
    with pytest.raises(_Odd):  # could not come back: done here, where it raises the same
        forked.call(_raise, "odd")
    assert forked._FAILED[0] == 0  # none of these is a lost child


def test_a_result_that_cannot_come_back_is_made_here(one_thread):
    assert isinstance(forked.call(threading.Lock), type(threading.Lock()))
    assert forked._FAILED[0] == 0


def test_a_child_that_dies_mid_job_costs_only_time(one_thread):
    _after(0.5, signal.SIGKILL, _children())
    t = time.perf_counter()
    assert forked.call(_sleep_there, os.getpid(), 30, "done") == "done"  # done here instead
    assert time.perf_counter() - t < 10 and forked._FAILED[0] == 1
    assert forked.call(_pid) != os.getpid()  # the next job gets a new child


def test_a_child_that_stops_answering_is_ended(one_thread, monkeypatch):
    monkeypatch.setattr(forked, "SILENCE", 0.5)
    others = _children()
    assert forked.call(_sleep_there, os.getpid(), 30, "here") == "here"
    assert forked._FAILED[0] == 1 and _children() <= others


def test_after_three_lost_children_jobs_stay_here(one_thread, monkeypatch):
    monkeypatch.setattr(forked, "SILENCE", 0.3)
    for _ in range(3):
        assert forked.usable()
        forked.call(_sleep_there, os.getpid(), 30, None)
    assert not forked.usable() and forked.call(_pid) == os.getpid()
    with pytest.raises(forked.Unavailable):
        forked.call(_pid, here=False)


def test_off_switch_and_thread_counts(one_thread, monkeypatch):
    monkeypatch.setenv(forked.ENV, "off")
    assert not forked.usable() and forked.call(_pid) == os.getpid()
    monkeypatch.delenv(forked.ENV)
    torch.set_num_threads(2)
    assert not forked.usable()
    torch.set_num_threads(1)
    assert forked.usable()
    from threadpoolctl import threadpool_info, threadpool_limits
    if any(p["user_api"] == "blas" for p in threadpool_info()):
        monkeypatch.setattr(forked, "_FORKED", [False])
        with threadpool_limits(2, user_api="blas"):  # a fork beside a threaded BLAS call can hang
            assert not forked.usable() and forked.call(_pid) == os.getpid()
        assert forked.usable()  # not forked yet: a notebook's setup cell may come later
        assert forked.call(_pid) != os.getpid() and forked._FORKED[0]
        with threadpool_limits(2, user_api="blas"):  # raised once runs went to children
            assert not forked.usable() and forked.call(_pid) == os.getpid()
        assert not forked.usable() and "more than one thread" in forked.STATS["off"]
        assert forked.call(_pid) == os.getpid()  # off for the rest of the session


def test_the_child_ignores_an_interrupt_and_writes_nothing_here(one_thread, capfd):
    _after(0.3, signal.SIGINT, _children())  # what a kernel's interrupt sends its process group
    assert forked.call(_sleep_there, os.getpid(), 1.0, "here") != "here"  # the child finished
    assert forked.call(_print_and_warn) == 1
    out, err = capfd.readouterr()
    assert "from the child" not in out + err


def test_a_running_child_ends_soon_after_its_parent():
    code = ("import os, threading, time, torch, mfteach as mf, mfteach.forked as f\n"
            "torch.set_num_threads(1)\n"
            "from threadpoolctl import threadpool_limits; threadpool_limits(1, user_api='blas')\n"
            "s = mf.random_split(mf.synthetic(200, 300, 8000, seed=1), seed=1)\n"
            "threading.Thread(target=f.train, args=(s, mf.TrainConfig(epochs=10_000)), daemon=True).start()\n"
            "time.sleep(3)\n"
            "print(*[c.pid for c in __import__('psutil').Process().children()], flush=True)\n"
            "os._exit(0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, forked.ENV: ""}, check=True)
    children = [int(x) for x in out.stdout.split()]
    assert children  # it was training in a child
    for _ in range(50):
        if not any(psutil.pid_exists(c) and psutil.Process(c).status() != "zombie" for c in children):
            return
        time.sleep(0.1)
    pytest.fail(f"the child {children} outlived its parent")


def test_train_many_in_two_processes_gives_the_numbers_of_one_thread(small, one_thread):
    cfgs = [mf.TrainConfig(epochs=4, batch_size=512, lr=lr, seed=31) for lr in (0.01, 0.02, 0.03, 0.05)]
    before = forked.STATS["runs"]
    runs = common.train_many(small, cfgs)
    assert forked.STATS["runs"] > before  # a child trained some of them
    for cfg, h in zip(cfgs, runs):
        assert_same_run(h, mf.train(small, cfg))
        assert common.trained(small, cfg) is h


def _begun(key):
    while not (common._CALLS[key].running() or common._CALLS[key].done()):
        time.sleep(0.01)


def test_a_call_started_ahead_runs_in_a_child_or_not_at_all(one_thread, monkeypatch):
    key = ("test", object())
    assert common.call_ahead(key, _pid)
    assert not common.call_ahead(key, _pid)  # once
    _begun(key)
    assert common.called(key) not in (None, os.getpid())
    assert common.called(key) is None  # taken: a second ask does it itself
    # queued behind a long job and not begun: the cell takes it back (and does it itself)
    assert common.call_ahead(("slow",), _sleep_there, os.getpid(), 1.0, "slow")
    assert common.call_ahead(key, _pid)
    _begun(("slow",))
    assert common.called(key) is None
    assert common.called(("slow",)) not in (None, "slow")
    # a child lost while it times: not timed again in a thread here, the cell does it
    monkeypatch.setattr(forked, "SILENCE", 0.3)
    assert common.call_ahead(key, _sleep_there, os.getpid(), 30, "here")
    _begun(key)
    assert common.called(key) is None
    monkeypatch.setenv(forked.ENV, "off")  # never in a thread of this process: it may be a timing
    assert not common.call_ahead(key, _pid) and common.called(key) is None


class _OneWay(Exception):
    def __init__(self, a, b):  # pickles, but cannot be made again from its args
        super().__init__(a)


def _raise_one_way():
    raise _OneWay(1, 2)


def test_an_exception_that_does_not_come_back_is_raised_by_doing_it_here(one_thread):
    with pytest.raises(_OneWay):
        forked.call(_raise_one_way)
    assert forked._FAILED[0] == 0


def test_only_runs_a_child_trained_are_counted(small, one_thread, monkeypatch):
    cfg = mf.TrainConfig(epochs=1, batch_size=512)
    before = forked.STATS["runs"]
    forked.train(small, cfg)
    assert forked.STATS["runs"] == before + 1
    monkeypatch.setenv(forked.ENV, "off")
    forked.train(small, cfg)
    assert forked.STATS["runs"] == before + 1
