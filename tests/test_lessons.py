"""Each lesson's exercises accept a right answer and reject wrong ones with a specific message;
the experiments they rely on show the effect they claim."""
import math

import numpy as np
import pytest
import torch

import mfteach as mf
from mfteach.diagnostics import diagnose
from mfteach.lessons import article
from mfteach.lessons import capstone as lesson04
from mfteach.lessons import initialization as lesson01
from mfteach.lessons import regularization as lesson02
from mfteach.lessons import skew as lesson03
from mfteach.lessons.common import notebook_data


def test_lesson01_exercises():
    ex1 = lesson01.first_rmse_exercise(std=0.5, dim=64, rating_var=0.88)
    assert ex1.check(math.sqrt(64 * 0.5 ** 4 + 0.88)).ok
    assert not ex1.check(math.sqrt(64 + 0.88)).ok
    ex2 = lesson01.size_free_init_exercise(dim=32)
    assert ex2.check(lambda w: torch.nn.init.normal_(w, std=1 / math.sqrt(w.shape[1]))).ok
    assert "number of rows" in ex2.check(torch.nn.init.xavier_normal_).message
    ex3 = lesson01.catalogue_init_exercise()
    assert ex3.check(lambda w: torch.nn.init.normal_(w, std=0.05)).ok
    assert "different scales" in ex3.check(torch.nn.init.xavier_uniform_).message
    assert "large" in ex3.check(torch.nn.init.normal_).message


def test_lesson01_comparison_shows_scale_not_scheme_matters():
    rows = {r["init"]: r for r in lesson01.init_comparison(notebook_data(), reg="l2_batch",
                                                          reg_strength=0.05)}
    assert rows["default"]["val RMSE"] > 1.5
    assert abs(rows["xavier_uniform"]["val RMSE"] - rows["normal(0.1)"]["val RMSE"]) < 0.03
    assert rows["zeros"]["val RMSE"] > 0.85


def test_lesson02_exercises_and_cliff_theory():
    ex1 = lesson02.penalty_step_exercise()

    def good(model, opt, u, i, r, lam):
        p, q = model.user_factors(u), model.item_factors(i)
        loss = ((model(u, i) - r) ** 2).mean() + lam * ((p ** 2).sum(1) + (q ** 2).sum(1)).mean()
        opt.zero_grad(); loss.backward(); opt.step()

    def all_rows(model, opt, u, i, r, lam):
        P, Q = model.user_factors.weight, model.item_factors.weight
        loss = ((model(u, i) - r) ** 2).mean() + lam * ((P ** 2).sum(1).mean() + (Q ** 2).sum(1).mean())
        opt.zero_grad(); loss.backward(); opt.step()

    assert ex1.check(good).ok
    assert "NOT in the batch" in ex1.check(all_rows).message
    assert not lesson02.best_strength_exercise().check(0.002).ok
    assert lesson02.first_zeroed_exercise().check("cold").ok
    assert not lesson02.first_zeroed_exercise().check("popular").ok

    skewed = notebook_data()
    collapsed = mf.train(skewed, lesson02.reg_config("adam_weight_decay", 1e-2))
    lam_star = lesson02.critical_weight_decay(skewed, collapsed)["lambda_star"]
    below = mf.train(skewed, lesson02.reg_config("adam_weight_decay", lam_star / 2, epochs=40))
    above = mf.train(skewed, lesson02.reg_config("adam_weight_decay", lam_star * 1.5, epochs=40))
    assert np.abs(below.factors()[1]).max() > 0.1     # alive below λ*
    assert np.abs(above.factors()[1]).max() < 1e-4    # exactly collapsing above λ*


def test_lesson03_experiments_and_exercises():
    d = {o: lesson03.ghost_updates(o) for o in ("sgd", "adam", "sparse_adam")}
    assert d["adam"][-1] > 3 * d["adam"][0]                      # keeps moving
    assert d["sgd"][-1] == d["sgd"][0] and d["sparse_adam"][-1] == d["sparse_adam"][0]

    def per_bucket(pred, items, ratings, counts):
        b = np.digitize(counts[items], [0.5, 5.5, 100.5])
        return {n: np.sqrt(np.mean((pred[b == k] - ratings[b == k]) ** 2))
                for k, n in enumerate(["cold", "rare", "mid", "popular"])}

    ex1 = lesson03.bucket_rmse_exercise()
    assert ex1.check(per_bucket).ok
    assert not ex1.check(lambda *a: {"cold": 0, "rare": 0, "mid": 0, "popular": 0}).ok
    ex2 = lesson03.param_groups_exercise()
    good = lambda m: torch.optim.SGD([{"params": m.factor_parameters(), "lr": 30.0},
                                      {"params": m.bias_parameters(), "lr": 0.5}])
    assert ex2.check(good).ok
    assert "one parameter group" in ex2.check(lambda m: torch.optim.SGD(m.parameters(), lr=30)).message
    ex3 = lesson03.skewed_catalogue_exercise()
    assert ex3.check(("adam", 0.01)).ok
    assert not ex3.check(("sgd", 1000.0)).ok


def test_lesson03_fill_missing_is_worse_than_the_mean():
    demo = article.fill_missing_demo(notebook_data())
    assert demo["missing share"] > 0.9 and demo["val RMSE"] > 2


@pytest.mark.parametrize("level", ["easy", "medium", "hard"])
def test_capstone_faults_are_found_and_their_fixes_confirmed(level):
    split = lesson04.capstone_data(level)
    broken = lesson04.broken_settings(level)
    h = lesson04.run_job(split, broken)
    assert h.val_rmse[-1] > mf.baseline_rmse(split.train, split.val)   # worse than the mean
    assert any(f.severity == "warning" for f in diagnose(h, split))
    results = lesson04.check_all(level, split, broken, rare_rmse=0.0)
    assert not any(results), [str(r) for r in results]                   # every fault flagged
    ref = lesson04.run_job(split, lesson04.REFERENCE)
    rare = lesson04.scoreboard(split, {"ref": ref}).loc["ref", "rare items"]
    fixed = lesson04.check_all(level, split, dict(lesson04.REFERENCE), rare_rmse=rare)
    assert all(fixed), [str(r) for r in fixed]
    board = lesson04.scoreboard(split, {"broken": h, "reference": ref})
    assert board.loc["reference", "overall"] < board.loc["broken", "overall"] - 0.3


@pytest.mark.parametrize("batch_size", [1024, 1000])
def test_article_loader_yields_the_dataloaders_batches(batch_size):
    """article_glue's data_loader gives, epoch after epoch, exactly the batches of a torch
    DataLoader over a TensorDataset with a seeded RandomSampler cut by a BatchSampler."""
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

    tr = article.article_data(seed=1).train
    ds = TensorDataset(torch.as_tensor(tr.users), torch.as_tensor(tr.items),
                       torch.as_tensor(tr.ratings, dtype=torch.float32))
    ref = DataLoader(ds, batch_size=None, sampler=BatchSampler(
        RandomSampler(ds, generator=torch.Generator().manual_seed(3)), batch_size, drop_last=False))
    ours = article.article_glue(article.article_data(seed=1), batch_size=batch_size,
                                seed=3)["data_loader"]
    for _ in range(3):
        a, b = list(ref), list(ours)
        assert len(a) == len(b) == len(ours)
        for x, y in zip(a, b):
            assert all(torch.equal(p, q) for p, q in zip(x, y))
    # 01's loop: one permutation per epoch — the same first epoch, a different second one
    plain = article.BatchLoader(tr, batch_size, seed=3)
    fresh = DataLoader(ds, batch_size=None, sampler=BatchSampler(
        RandomSampler(ds, generator=torch.Generator().manual_seed(3)), batch_size, drop_last=False))
    (p1, p2), (r1, r2) = (list(plain), list(plain)), (list(fresh), list(fresh))
    assert torch.equal(p1[0][0], r1[0][0]) and not torch.equal(p2[0][0], r2[0][0])


def test_trained_is_train_remembered_and_train_many_gives_the_same_numbers():
    from mfteach.lessons.common import train_many, trained

    split = notebook_data(seed=1)
    cfgs = [mf.TrainConfig(epochs=3, reg="l2_batch", reg_strength=lam) for lam in (0.01, 0.1, 0.01)]
    before = torch.get_num_threads()
    hs = train_many(split, cfgs)
    assert torch.get_num_threads() == before
    assert hs[0] is hs[2] is trained(split, cfgs[0])  # asked twice, trained once
    for h, c in zip(hs, cfgs):
        assert h.val_rmse == mf.train(split, c).val_rmse  # threads change nothing in the numbers
    assert trained(split, cfgs[1], epochs=2) is not hs[1]
    with pytest.raises(ValueError, match="workers"):
        train_many(split, cfgs, workers=0)
    with pytest.raises(TypeError, match="config"):
        trained(split, "adam")


def test_trained_keeps_small_runs_and_skips_huge_ones():
    from mfteach.lessons import common

    split = notebook_data(seed=1)
    h = common.trained(split, epochs=1)
    assert common.trained(split, epochs=1) is h
    big = split.map(lambda r: r.replace(n_items=2_000_000, truth=None))  # 2M rows: ~1 GB kept
    assert common._size(big, mf.TrainConfig(epochs=1)) > common._RUNS_BYTES // 4
    assert all(v[2] <= common._RUNS_BYTES // 4 for v in common._RUNS.values())
    assert sum(v[2] for v in common._RUNS.values()) <= common._RUNS_BYTES


def test_prefetch_runs_ahead_and_trained_waits_for_it():
    from mfteach.lessons import common

    split = notebook_data(seed=2)
    cfgs = [mf.TrainConfig(epochs=2, lr=lr) for lr in (0.011, 0.013)]
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert common.prefetch(split, cfgs) == 0  # runs must not see the thread count change
        torch.set_num_threads(1)
        assert common.prefetch(split, cfgs + cfgs) == 2  # each run once
        hs = [common.trained(split, c) for c in cfgs]  # waits for a run still under way
        assert common.prefetch(split, cfgs) == 0  # done: nothing to start
    finally:
        torch.set_num_threads(old)
    for h, c in zip(hs, cfgs):
        assert h.val_rmse == mf.train(split, c).val_rmse


def test_trained_takes_over_a_queued_prefetch_run(monkeypatch):
    """A run prefetch queued but not started is trained by whoever asks for it (not left waiting
    behind the runs queued before it); a third asker waits for that one; errors reach both."""
    import threading
    from mfteach.lessons import common

    split = notebook_data(seed=2)
    gate, started, where = threading.Event(), threading.Event(), {}
    real = common._load_or_train

    def load_or_train(data, cfg, shorter=None):
        where.setdefault(cfg.lr, []).append(threading.current_thread().name)
        if cfg.lr == 0.021:  # the background worker's first run: held until the test lets go
            started.set()
            assert gate.wait(30)
        if cfg.lr == 0.025:
            raise RuntimeError("boom")
        return real(data, cfg, shorter)

    monkeypatch.setattr(common, "_load_or_train", load_or_train)
    cfgs = [mf.TrainConfig(epochs=1, dim=4, lr=lr) for lr in (0.021, 0.023, 0.025)]
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert common.prefetch(split, cfgs) == 3
        assert started.wait(30)
        h = common.trained(split, cfgs[1])  # queued behind the held run: trained here
        assert where[0.023] == [threading.current_thread().name]
        assert common.trained(split, cfgs[1]) is h
        with pytest.raises(RuntimeError, match="boom"):
            common.trained(split, cfgs[2])
        assert where[0.025] == [threading.current_thread().name]
        assert not gate.is_set()
    finally:
        gate.set()
        torch.set_num_threads(old)
    assert common.trained(split, cfgs[0]).val_rmse == mf.train(split, cfgs[0]).val_rmse
    assert where[0.021][0].startswith("mfteach-prefetch") and len(where[0.021]) == 1
    assert h.val_rmse == mf.train(split, cfgs[1]).val_rmse
    assert not any(k[-1] in cfgs for k in common._PENDING)


def test_trained_waits_for_a_run_another_thread_took_over(monkeypatch):
    """Two askers of one queued run: the first trains it, the second waits and gets the same."""
    import threading
    from mfteach.lessons import common

    split = notebook_data(seed=2)
    gates = {0.031: threading.Event(), 0.033: threading.Event()}
    inside = {lr: threading.Event() for lr in gates}
    calls = []
    real = common._load_or_train

    def load_or_train(data, cfg, shorter=None):
        calls.append(cfg.lr)
        inside[cfg.lr].set()
        assert gates[cfg.lr].wait(30)
        return real(data, cfg, shorter)

    monkeypatch.setattr(common, "_load_or_train", load_or_train)
    block, cfg = mf.TrainConfig(epochs=1, dim=4, lr=0.031), mf.TrainConfig(epochs=1, dim=4, lr=0.033)
    got = {}
    ask = [threading.Thread(target=lambda n=n: got.setdefault(n, common.trained(split, cfg)))
           for n in range(2)]
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert common.prefetch(split, [block]) == 1 and inside[0.031].wait(30)
        assert common.prefetch(split, [cfg]) == 1       # queued behind the held run
        ask[0].start()
        assert inside[0.033].wait(30)                   # the first asker trains it ...
        ask[1].start()
        ask[1].join(0.5)
        assert ask[1].is_alive()                        # ... the second waits for it
        gates[0.033].set()
        for t in ask:
            t.join(30)
    finally:
        for g in gates.values():
            g.set()
        torch.set_num_threads(old)
    assert got[0] is got[1] is common.trained(split, cfg)
    assert calls.count(0.033) == 1


def test_notebook_data_is_one_object_however_its_settings_are_written():
    """A notebook's cells (seed=SEED) and its panels (defaults) must share one Split: runs are
    remembered per data object."""
    assert notebook_data() is notebook_data(seed=0) is notebook_data(1.2, 0.8, seed=0)
    assert notebook_data(item_zipf=0.0, user_zipf=0.0) is notebook_data(0.0, 0.0, 0.5, 0.0, 1500, 0)
    assert notebook_data(seed=1) is not notebook_data(seed=0)
    assert notebook_data(cold_items=0.05) is not notebook_data()



def test_training_gate_caps_concurrent_runs_and_lets_cells_go_first():
    import threading
    import time
    from mfteach.lessons.common import _Gate

    gate, inside, peak, order = _Gate(2), [0], [0], []
    lock, go = threading.Lock(), threading.Event()

    def run(name, background=False, wait=None):
        with gate.slot(background=background):
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
                order.append(name)
            if wait is not None:
                assert wait.wait(10)
            else:
                time.sleep(0.05)
            with lock:
                inside[0] -= 1

    first = [threading.Thread(target=run, args=(f"cell{i}", False, go)) for i in range(2)]
    for t in first:
        t.start()
    deadline = time.monotonic() + 10
    while gate.busy < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    bg = threading.Thread(target=run, args=("background", True))
    bg.start()
    time.sleep(0.05)
    late = threading.Thread(target=run, args=("cell2",))  # asks after the background did
    late.start()
    while gate.waiting < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    go.set()
    for t in (*first, bg, late):
        t.join(10)
    assert peak[0] == 2
    assert order.index("cell2") < order.index("background")  # a cell's run goes first


def test_a_background_thread_waits_for_a_queued_run_and_asks_again_if_a_cell_takes_it_over(
        monkeypatch):
    """A panel's worker (a "mfteach-prefetch…" thread) never takes over a queued prefetch run: its
    guesses can be dropped half done, and a cell waiting for that run would get the error. When a
    cell takes the run over while the worker waits for it, the worker gets the cell's run (not a
    CancelledError)."""
    import threading
    from mfteach.lessons import common

    split = notebook_data(seed=2)
    hold, held, calls = threading.Event(), threading.Event(), []
    real = common._load_or_train

    def load_or_train(data, cfg, shorter=None):
        calls.append((cfg.lr, threading.current_thread().name))
        if cfg.lr == 0.041:
            held.set()
            assert hold.wait(30)
        return real(data, cfg, shorter)

    monkeypatch.setattr(common, "_load_or_train", load_or_train)
    block, cfg = (mf.TrainConfig(epochs=1, dim=4, lr=lr) for lr in (0.041, 0.043))
    got = {}
    worker = threading.Thread(target=lambda: got.setdefault("w", common.trained(split, cfg)),
                              name="mfteach-prefetch-panels-test")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert common.prefetch(split, [block]) == 1 and held.wait(30)
        assert common.prefetch(split, [cfg]) == 1       # queued behind the held run
        worker.start()
        worker.join(0.3)
        assert worker.is_alive() and not [c for c in calls if c[0] == 0.043]  # waits, no take-over
        got["cell"] = common.trained(split, cfg)        # a cell takes it over
        worker.join(30)
    finally:
        hold.set()
        torch.set_num_threads(old)
    assert got["w"] is got["cell"]
    assert [c[1] for c in calls if c[0] == 0.043] == [threading.current_thread().name]


def test_a_paused_background_run_gives_its_training_slot_back():
    """The worker pauses for a move between two steps; the move's own run must not wait for a
    slot the paused run holds (2 slots: one held by prefetch, one by the paused worker)."""
    import threading
    import time
    from mfteach.lessons import common
    from mfteach.lessons.common import _Gate
    from mfteach.training import between_steps

    gate, pausing, release = _Gate(1), threading.Event(), threading.Event()
    split, order = notebook_data(seed=2), []

    def hook():
        if not release.is_set():
            pausing.set()
            assert release.wait(30)

    def worker():
        with between_steps(hook):
            common._load_or_train(split, mf.TrainConfig(epochs=1, dim=4, lr=0.047, seed=5))
        order.append("worker")

    old_gate, common._GATE = common._GATE, gate
    old_cache = common.runcache.load
    common.runcache.load = lambda data, cfg: None
    try:
        t = threading.Thread(target=worker, name="mfteach-prefetch-panels-test")
        t.start()
        assert pausing.wait(30)
        t0 = time.perf_counter()
        with gate.slot():                                 # the move's run gets the only slot
            order.append("move")
        assert time.perf_counter() - t0 < 5
        release.set()
        t.join(30)
    finally:
        release.set()
        common._GATE, common.runcache.load = old_gate, old_cache
    assert order == ["move", "worker"] and gate.busy == 0


def test_runs_in_memory_are_kept_per_default_dtype():
    """``train`` follows torch's default dtype; a float32 run in memory was returned (or gone on
    from) for the same config asked under float64 (helper-43)."""
    from mfteach.lessons import common

    split = mf.random_split(mf.synthetic(80, 120, 2000, seed=0), seed=0)
    cfg = mf.TrainConfig(epochs=2)
    f32 = common.trained(split, cfg)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        f64 = common.trained(split, cfg)
        longer = common.trained(split, cfg.replace(epochs=3))
        fresh = mf.train(split, cfg.replace(epochs=3))
    finally:
        torch.set_default_dtype(old)
    assert f64 is not f32 and f64.val_rmse != f32.val_rmse
    assert longer.val_rmse == fresh.val_rmse
