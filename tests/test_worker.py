"""The background worker that computes ahead: it pauses between optimizer steps while a move is on,
its runs give the numbers of runs trained alone, and what a panel plans to compute ahead."""
import threading
import time

import pytest
import torch

import mfteach as mf
from mfteach.training import between_steps
from mfteach.ui import Choice, Slider, Toggle
from mfteach.ui.ahead import neighbours
from mfteach.ui.worker import THREAD_NAME, Task, Worker


@pytest.fixture(scope="module")
def split():
    return mf.random_split(mf.synthetic(60, 50, 1000, seed=0), seed=0)


def _cfg(**kw):
    return mf.TrainConfig(**{"dim": 4, "epochs": 6, "batch_size": 32, "seed": 1, **kw})


def test_between_steps_calls_its_function_after_every_step_in_this_thread_only(split):
    calls = []
    with between_steps(lambda: calls.append(threading.get_ident())):
        h = mf.train(split, _cfg())
        other = []
        t = threading.Thread(target=lambda: other.append(mf.train(split, _cfg())))
        t.start()
        t.join()
    assert len(calls) == h.steps > 0 and set(calls) == {threading.get_ident()}
    assert other[0].val_rmse == h.val_rmse  # pausing changes no number
    mf.train(split, _cfg())                  # outside: no more calls
    assert len(calls) == h.steps
    with pytest.raises(TypeError, match="between_steps needs a function"):
        with between_steps(3):
            pass


def test_the_worker_pauses_while_a_move_is_on_and_its_run_is_the_run_trained_alone(split):
    alone = mf.train(split, _cfg(epochs=20))
    w, owner = Worker(max_pause=30), object()

    class Panel:  # a weakref-able owner that reports a move
        pass

    mover = Panel()
    w.busy(mover, True)
    done = []
    task = w.submit(Task(owner, ("k",), lambda: mf.train(split, _cfg(epochs=20)),
                         lambda t: done.append(threading.current_thread().name)))
    time.sleep(0.4)
    assert not task.done.is_set() and w.pending(owner) == [task]  # waiting for the move
    w.busy(mover, False)
    assert task.done.wait(30) and task.error is None
    assert task.result.val_rmse == alone.val_rmse
    time.sleep(0.05)
    assert done == [THREAD_NAME] and w.pending(owner) == []


def test_an_urgent_task_runs_on_through_a_move_and_a_cancel_keeps_it(split):
    w, owner = Worker(max_pause=30), object()

    class Panel:
        pass

    mover, steps = Panel(), []

    class Counting(torch.optim.SGD):
        def step(self, closure=None):
            steps.append(1)
            return super().step(closure)

    long = lambda: mf.train(split, _cfg(epochs=200),  # noqa: E731
                            make_optimizer=lambda m: Counting(m.parameters(), lr=0.01))
    first = w.submit(Task(owner, ("a",), long, lambda t: None))
    queued = w.submit(Task(owner, ("b",), lambda: 1, lambda t: None))
    t0 = time.perf_counter()
    while len(steps) < 5:
        assert time.perf_counter() - t0 < 10
        time.sleep(0.001)
    w.busy(mover, True)                      # a move: the run stops at its next step
    time.sleep(0.05)
    n = len(steps)
    time.sleep(0.3)
    assert len(steps) == n and not first.done.is_set()
    w.cancel(owner)                          # drops "b", keeps "a" under way
    assert w.pending(owner) == [first] and not w.has(owner, ("b",))
    w.hurry(first)                           # a move wants it: no pausing although a move is on
    assert first.done.wait(30) and first.error is None and not queued.done.is_set()
    assert len(steps) == first.result.steps > n
    w.busy(mover, False)


def test_a_task_pauses_at_most_max_pause_in_all(split):
    """A panel that never reports its move done (deleted mid-move) cannot stop the thread."""
    w, owner = Worker(max_pause=0.3), object()

    class Panel:
        pass

    stuck = Panel()
    w.busy(stuck, True)
    task = w.submit(Task(owner, ("k",), lambda: mf.train(split, _cfg()), lambda t: None))
    assert task.done.wait(10) and task.error is None and 0.25 < task.paused < 1.0
    w.busy(stuck, False)


def test_a_failing_task_hands_its_error_over_and_the_thread_goes_on():
    w, owner = Worker(), object()
    bad = w.submit(Task(owner, ("bad",), lambda: 1 / 0, lambda t: None))
    good = w.submit(Task(owner, ("good",), lambda: 42, lambda t: 1 / 0))  # deliver fails too
    assert good.done.wait(10) and good.result == 42
    assert isinstance(bad.error, ZeroDivisionError)


def test_the_lessons_gate_counts_the_worker_as_a_background_thread():
    from mfteach.lessons import common

    assert THREAD_NAME.startswith(common._PREFETCH)


def test_neighbours_a_dropdown_nearest_first_and_a_slider_one_step():
    import ipywidgets as w

    spec = Choice("opt", ("a", "b", "c", "d", "e"), "b")
    wid = w.Dropdown(options=spec.pairs(), value="b")
    assert neighbours(spec, wid) == ["c", "a", "d", "e"]
    assert neighbours(spec, wid, every=False) == ["c", "a"]
    wid.disabled = True
    assert neighbours(spec, wid) == []
    t = Toggle("on", True)
    assert neighbours(t, w.Checkbox(value=True)) == [False]
    s = Slider("n", 1, 5, 5, step=1, integer=True)
    assert neighbours(s, w.IntSlider(value=5, min=1, max=5)) == [4]


def test_a_panel_plans_the_moved_control_then_a_step_of_each_other_as_its_links_leave_them():
    """Computed ahead = what the move would train: a new regularizer starts at its own strength
    (the link), so that is the setting planned, not the old strength under the new name."""
    from mfteach.ui import Panel
    from mfteach.ui import ahead

    class View:
        def __init__(self, fig):
            fig.subplots()

        def update(self, r, pinned=None):
            pass

    starts = {"a": 0.1, "b": 10.0}

    def links(v, before=None):
        change = {"min": starts[v["reg"]] / 10, "max": starts[v["reg"]] * 10}
        if before is not None and before["reg"] != v["reg"]:
            change["value"] = starts[v["reg"]]
        return {"lam": change}

    p = Panel([Choice("reg", ("a", "b"), "a"), Slider("lam", 0.01, 1, 0.1, log=True),
               Toggle("on", False)], lambda v: dict(v), View, links=links, ahead=True,
              background=False)
    p._moved = "reg"
    p.scheduler.loop = object()              # plan only looks at "background"
    plan = ahead.plan(p, p._job)
    assert plan[0] == {"reg": "b", "lam": 10.0, "on": False}        # the link's start value
    # then one step of each other control (up first), then their other step
    assert plan[1]["reg"] == "a" and plan[1]["lam"] > 0.1 and not plan[1]["on"]
    assert plan[2] == {"reg": "a", "lam": 0.1, "on": True}
    assert plan[3]["reg"] == "a" and plan[3]["lam"] < 0.1 and not plan[3]["on"] and len(plan) == 4
    p.scheduler.loop = None


def test_closing_stops_the_run_under_way_at_its_next_step(split):
    """At interpreter exit (atexit): a daemon thread left inside torch would abort the process."""
    w, owner = Worker(), object()
    task = w.submit(Task(owner, ("long",), lambda: mf.train(split, _cfg(epochs=2000)),
                         lambda t: None))
    later = w.submit(Task(owner, ("later",), lambda: 1, lambda t: None))
    while w.running(owner, ("long",)) is None:
        time.sleep(0.005)
    t0 = time.perf_counter()
    w.close()
    assert time.perf_counter() - t0 < 2 and not w._thread.is_alive()
    assert task.done.is_set() and type(task.error).__name__ == "_Closed"
    assert not later.done.is_set() and w.submit(Task(owner, ("x",), lambda: 1, lambda t: None))


def test_quiet_for_counts_from_the_last_run_outside_the_worker(split):
    from mfteach.training import quiet_for

    seen = []
    with between_steps(lambda: seen.append(quiet_for())):  # a worker's run: not a cell's
        mf.train(split, _cfg(epochs=1))
    assert seen and min(seen) > 0.0
    mf.train(split, _cfg(epochs=1))
    assert quiet_for() < 0.5
    inside = []
    mf.train(split, _cfg(epochs=1), make_optimizer=lambda m: _Probe(m.parameters(), inside))
    assert inside and max(inside) == 0.0          # while a cell's run trains


class _Probe(torch.optim.SGD):
    def __init__(self, params, out):
        super().__init__(params, lr=0.01)
        self.out = out

    def step(self, closure=None):
        from mfteach.training import quiet_for

        self.out.append(quiet_for())
        return super().step(closure)


def test_a_new_move_stops_a_stale_guess_under_way_but_not_the_one_it_wants(split):
    w, owner = Worker(), object()
    long = lambda: mf.train(split, _cfg(epochs=2000))  # noqa: E731
    for keep, droppable, stopped in ((None, True, True), (("g",), True, False),
                                     (None, False, False)):
        task = w.submit(Task(owner, ("g",), long, lambda t: None, droppable=droppable))
        while w.running(owner, ("g",)) is None:
            time.sleep(0.005)
        w.cancel(owner, keep=keep)
        if not stopped:
            assert not task.done.wait(0.3)   # still training
            task.dropped = True              # end it for the next round
        assert task.done.wait(5) and type(task.error).__name__ == "_Closed"
    w.close()
