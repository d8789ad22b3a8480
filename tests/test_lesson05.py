"""Lesson 05 (check your own model): the loop the notebook writes out is the lesson's, runs are
reproducible and leave global state alone, and every exercise rejects the usual wrong answers."""
import ast
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from mfteach.lessons import check_own as lesson
from mfteach.lessons import checks_own
from mfteach.training import _flushing_denormals

ROOT = Path(__file__).resolve().parents[1]


def _body(fn: ast.FunctionDef) -> str:
    body = fn.body[1:] if isinstance(fn.body[0], ast.Expr) and isinstance(
        getattr(fn.body[0], "value", None), ast.Constant) else fn.body  # drop a docstring
    return "\n".join(ast.dump(node) for node in body)


def _fit_def(source: str) -> ast.FunctionDef:
    return next(n for n in ast.walk(ast.parse(source))
                if isinstance(n, ast.FunctionDef) and n.name == "fit")


def test_notebook_loop_is_the_lessons_loop():
    """The claims run ``lesson.fit``; the student reads the notebook's ``fit``: the same code."""
    nb = (ROOT / "notebooks" / "src" / "05_check_your_model.py").read_text()
    mine = (ROOT / "mfteach" / "lessons" / "check_own.py").read_text()
    assert _body(_fit_def(nb)) == _body(_fit_def(mine))


def test_article_class_is_the_articles():
    from mfteach.lessons import article

    ns = article.run_example(1, {})
    assert lesson.article_mf().__init__.__code__.co_code == ns["MF"].__init__.__code__.co_code


@pytest.fixture(scope="module")
def small_split():
    import mfteach as mf

    return mf.random_split(mf.synthetic(80, 120, 3000, seed=3), seed=3)


def test_run_step_is_reproducible_and_restores_global_state(small_split):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    flushing = _flushing_denormals()
    runs = [lesson.run_step(step, small_split, seed=4, epochs=2, watch=False, dim=8)[1].val_rmse
            for step in ("+ biases", "+ biases")]
    assert runs[0] == runs[1]
    assert torch.equal(torch.rand(3), expected)      # the caller's RNG stream is untouched
    assert _flushing_denormals() == flushing          # and so is the denormal setting
    other = lesson.run_step("+ biases", small_split, seed=5, epochs=2, watch=False, dim=8)[1]
    assert other.val_rmse != runs[0]


def test_steps_trained_ahead_are_the_steps_trained_alone(small_split):
    """prefetch_steps trains in a background thread while the caller trains its own model: the
    results are those of run_step alone, and the caller's RNG stream is untouched."""
    steps = ("no coupled decay", "+ L2 on the batch's rows")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        alone = {s: lesson.run_step(s, small_split, seed=2, epochs=3, dim=8) for s in steps}
        torch.manual_seed(7)
        expected = torch.rand(3)
        torch.manual_seed(7)
        assert lesson.prefetch_steps(small_split, seed=2, steps=steps, epochs=3, dim=8) == 2
        assert lesson.prefetch_steps(small_split, seed=2, steps=steps, epochs=3, dim=8) == 0
        mine = lesson.run_step("+ biases", small_split, seed=3, epochs=3, watch=False, dim=8)
        assert torch.equal(torch.rand(3), expected)  # building ahead restored the global RNG
        ahead = {s: lesson.run_step(s, small_split, seed=2, epochs=3, dim=8) for s in steps}
        assert lesson._AHEAD == {}
        for s in steps:
            assert ahead[s][1].val_rmse == alone[s][1].val_rmse
            for a, b in zip(ahead[s][0].parameters(), alone[s][0].parameters()):
                assert torch.equal(a, b)
        assert mine[1].val_rmse == lesson.run_step("+ biases", small_split, seed=3, epochs=3,
                                                   watch=False, dim=8)[1].val_rmse
    finally:
        torch.set_num_threads(old)
    assert torch.get_num_threads() == old
    with pytest.raises(ValueError, match="steps must be among"):
        lesson.prefetch_steps(small_split, steps=("+ dropout",))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")
def test_steps_trained_ahead_in_a_second_process_are_the_steps_trained_alone(small_split,
                                                                              monkeypatch):
    """Where mfteach.forked can run (Linux, torch and BLAS on one thread, as the notebook's setup
    sets them) the steps ahead train in children, which send back weights and record: the model
    and the whole record are those of run_step alone."""
    from threadpoolctl import threadpool_limits

    from mfteach import diagnose, forked

    monkeypatch.delenv(forked.ENV, raising=False)
    monkeypatch.setattr(forked, "_FAILED", [0])
    monkeypatch.setattr(forked, "STATS", {"runs": 0, "calls": 0})
    steps = ("no coupled decay", "+ biases", "+ L2 on the batch's rows")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1, user_api="blas"):
            assert forked.usable()
            alone = {s: lesson.run_step(s, small_split, seed=6, epochs=3, dim=8) for s in steps}
            assert lesson.prefetch_steps(small_split, seed=6, steps=steps, epochs=3, dim=8) == 3
            ahead = {s: lesson.run_step(s, small_split, seed=6, epochs=3, dim=8) for s in steps}
            assert forked.STATS["calls"] == 3   # each came back from a child
    finally:
        torch.set_num_threads(old)
    for s in steps:
        assert type(ahead[s][0]).__name__ == type(alone[s][0]).__name__  # (a class per model)
        _same_record(ahead[s][1], alone[s][1])  # the whole record, field for field
        for a, b in zip(ahead[s][0].state_dict().values(), alone[s][0].state_dict().values()):
            assert torch.equal(a, b)
        assert str(diagnose(ahead[s][1])) == str(diagnose(alone[s][1]))  # what 05 reads


def test_a_new_seed_drops_the_old_seeds_queued_runs(small_split):
    """A student who changes SEED and reruns the data cell: the old seed's runs that have not
    started are dropped (its cells would train again), the new ones come next."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        steps = lesson.STEPS[1:]
        assert lesson.prefetch_steps(small_split, seed=10, steps=steps, epochs=3, dim=8) == 3
        assert lesson.prefetch_steps(small_split, seed=11, steps=steps, epochs=3, dim=8) == 3
        seeds = sorted({k[2] for k in lesson._AHEAD})
        running = lesson._workers()._max_workers  # 2, or one per fix in second processes
        assert 11 in seeds and sum(k[2] == 10 for k in lesson._AHEAD) <= running  # already running
        new = lesson.run_step("+ biases", small_split, seed=11, epochs=3, dim=8)
        fresh = lesson.run_step("+ biases", small_split, seed=11, epochs=3, dim=8)
        assert new[1].val_rmse == fresh[1].val_rmse
        for s in steps:  # collect what is left, as the notebook's cells would
            lesson.run_step(s, small_split, seed=10, epochs=3, dim=8)
            lesson.run_step(s, small_split, seed=11, epochs=3, dim=8)
        assert lesson._AHEAD == {}
    finally:
        torch.set_num_threads(old)


def test_each_step_changes_one_thing(small_split):
    built = {s: lesson.build(s, small_split, dim=8) for s in lesson.STEPS}
    decay = {s: b[1].param_groups[0]["weight_decay"] for s, b in built.items()}
    biases = {s: hasattr(b[0], "user_bias") for s, b in built.items()}
    l2 = {s: b[2] for s, b in built.items()}
    assert decay == {"as written": 0.01, "no coupled decay": 0.0, "+ biases": 0.0,
                     "+ L2 on the batch's rows": 0.0}
    assert biases == {"as written": False, "no coupled decay": False, "+ biases": True,
                      "+ L2 on the batch's rows": True}
    assert l2 == {"as written": 0.0, "no coupled decay": 0.0, "+ biases": 0.0,
                  "+ L2 on the batch's rows": 0.05}
    with pytest.raises(ValueError, match="step must be one of"):
        lesson.build("as rewritten", small_split)


def test_batches_cover_every_rating_once_per_epoch(small_split):
    b = lesson.Batches(small_split.train, batch_size=64, seed=0)
    seen = np.concatenate([u.numpy() * 1000 + i.numpy() for u, i, _ in b])
    want = small_split.train.users * 1000 + small_split.train.items
    assert len(b) == -(-len(want) // 64)
    assert sorted(seen) == sorted(want)
    with pytest.raises(ValueError, match="batch_size"):
        lesson.Batches(small_split.train, batch_size=0)


def test_plot_steps_draws_every_run():
    import matplotlib

    matplotlib.use("Agg")

    class Rec:
        val_rmse = [3.7, 3.6, 3.5]

    fig = lesson.plot_steps({"as written": Rec(), "+ biases": Rec()}, 1.06)
    labels = [l.get_label() for l in fig.axes[0].get_lines()]
    assert labels[:2] == ["as written", "+ biases"] and "predict the mean" in labels[2]


# ---- exercises: right answers pass, each usual slip gets its own message -----------------------
EX = checks_own.exercises()


@pytest.mark.parametrize("answer", ["weight_decay", "Weight decay", " wd ", "'decay'"])
def test_collapse_right(answer):
    assert EX["collapse"].check(answer)


@pytest.mark.parametrize("answer,words", [("init", "Xavier"), ("biases", "decay removed"),
                                          ("learning rate", "same lr"), ("epochs", "stuck"),
                                          ("batch_size", "noise"), ("dropout", "not one of"),
                                          (3, "string")])
def test_collapse_wrong(answer, words):
    res = EX["collapse"].check(answer)
    assert not res and words in res.message


def test_shrink_right():
    steps = lesson.EPOCHS * len(lesson.Batches(lesson.reader_data(0).train))
    assert EX["shrink"].check((1 - 0.001 * 0.01) ** steps)
    assert EX["shrink"].check(round((1 - 0.001 * 0.01) ** steps, 4))


@pytest.mark.parametrize("answer,words", [(1e-5, "ONE step"), (0.99999, "one step's factor"),
                                          (0.9999, "counts epochs"), (0.99 ** 790, "(1 − λ)"),
                                          (0.5, "is not it"), ("x", "a number")])
def test_shrink_wrong(answer, words):
    res = EX["shrink"].check(answer)
    assert not res and words in res.message


def test_cliff_right_and_wrong():
    t = lesson.reader_data(0).train
    right = checks_own.cliff_lambda(t)
    assert EX["cliff"].check(right) and EX["cliff"].check(round(right, 4))
    # svds(R, k=1)[1] without its [0]: one number in an array (or a tensor) is that number
    assert EX["cliff"].check(np.array([right])) and EX["cliff"].check(torch.tensor([right]))
    for answer, words in ((right / 2, "σ_max/N"), (right * len(t) / t.n_users, "not of users"),
                          (checks_own.cliff_lambda(t, t.ratings - t.ratings.mean()), "CENTRED"),
                          (right * 3, "too big"), (np.array([right, right]), "a number")):
        res = EX["cliff"].check(answer)
        assert not res and words in res.message, (answer, res.message)


def _solution_class():
    ns = {"torch": torch, "nn": nn}
    exec(checks_own._BIAS_SOLUTION, ns)  # noqa: S102
    return ns["MyMF"]


def test_biases_right():
    assert EX["biases"].check(_solution_class())

    class OtherNames(nn.Module):  # a different but correct answer
        def __init__(self, nu, ni, d, mean):
            super().__init__()
            self.P = nn.Parameter(nn.init.xavier_normal_(torch.empty(nu, d)))
            self.Q = nn.Parameter(nn.init.xavier_normal_(torch.empty(ni, d)))
            self.bu, self.bi = nn.Parameter(torch.zeros(nu)), nn.Parameter(torch.zeros(ni))
            self.mu = mean

        def forward(self, u, i):
            return (self.P[u] * self.Q[i]).sum(1) + self.bu[u] + self.bi[i] + self.mu

    assert EX["biases"].check(OtherNames)


@pytest.mark.parametrize("shape", [(), (1,)], ids=["0-d", "(1,)"])
def test_biases_right_with_a_learnable_global_bias(shape):
    """A global bias learned from the mean, as mf.diagnose's fix says (was an IndexError on a 0-d
    parameter, and a (1,) one was zeroed with the tables)."""
    base = _solution_class()

    class Learned(base):
        def __init__(self, nu, ni, d, mean):
            super().__init__(nu, ni, d, mean)
            self.global_mean = nn.Parameter(torch.full(shape, float(mean)))

    res = EX["biases"].check(Learned)
    assert res, res.message


def _reinit(change):
    """The solution with ``change(model)`` applied after its __init__."""
    base = _solution_class()

    class Wrong(base):
        def __init__(self, *a):
            super().__init__(*a)
            change(self)

    return Wrong


def _variant(forward=None, **drop):
    base = _solution_class()

    class Wrong(base):
        def __init__(self, *a):
            super().__init__(*a)
            for name in drop:
                delattr(self, name)

    if forward:
        Wrong.forward = forward
    return Wrong


@pytest.mark.parametrize("make,words", [
    (lambda: _variant(lambda s, u, i: torch.sum(s.user_embeddings(u) * s.item_embeddings(i), 1)
                      + s.user_bias(u).squeeze(1) + s.item_bias(i).squeeze(1)), "global mean"),
    (lambda: _variant(lambda s, u, i: torch.sum(s.user_embeddings(u) * s.item_embeddings(i), 1)
                      + s.user_bias(u) + s.item_bias(i).squeeze(1) + s.global_mean), "shape"),
    (lambda: _variant(lambda s, u, i: torch.sum(s.user_embeddings(u) * s.item_embeddings(i), 1)
                      + s.global_mean), "does not add them"),
    (lambda: _variant(lambda s, u, i: torch.sum(s.user_embeddings(u) * s.item_embeddings(i), 1)
                      + s.item_bias(i).squeeze(1) + s.global_mean, user_bias=1), "no user bias"),
    (lambda: lesson.article_mf(), "should take"),
    (lambda: 3, "class itself"),
    (lambda: _variant(lambda s, u, i: s.global_mean * (1 + torch.sum(s.user_embeddings(u)
                      * s.item_embeddings(i), 1)) + s.user_bias(u).squeeze(1)
                      + s.item_bias(i).squeeze(1)), "ADD the dot product"),
    (lambda: _reinit(lambda s: (nn.init.normal_(s.user_embeddings.weight),
                                nn.init.normal_(s.item_embeddings.weight))), "Xavier init"),
    (lambda: _reinit(lambda s: nn.init.normal_(s.item_bias.weight)), "start the bias tables at 0"),
    (lambda: _reinit(lambda s: setattr(s, "global_mean", nn.Parameter(torch.zeros(())))),
     "must start at global_mean"),
])
def test_biases_wrong(make, words):
    res = EX["biases"].check(make())
    assert not res and words in res.message, res.message


def _same_record(a, b):
    sa, sb = a.to_state(), b.to_state()
    assert sa.keys() == sb.keys()
    for k in sa:
        if k in ("user_norms", "item_norms"):
            assert all(torch.equal(x, y) for x, y in zip(sa[k], sb[k])) and len(sa[k]) == len(sb[k])
        elif k == "tables":
            assert sa[k].keys() == sb[k].keys()
            assert all(torch.equal(x, y) for e in sa[k] for x, y in zip(sa[k][e], sb[k][e]))
        elif k == "biases":
            assert sa[k].keys() == sb[k].keys()
            assert all(torch.equal(sa[k][e][n], sb[k][e][n]) for e in sa[k] for n in sa[k][e])
        else:
            assert str(sa[k]) == str(sb[k]), k  # str: NaN == NaN


def test_a_step_kept_on_disk_is_the_step_trained_again(small_split, tmp_path, monkeypatch):
    """Notebook 05's runs are kept on disk (mfteach.runcache) like mf.train's: a second kernel
    reads them back, and what it reads is what training again gives, field for field."""
    import mfteach as mf
    from mfteach import runcache

    monkeypatch.setenv(runcache.ENV, str(tmp_path / "runs"))
    args = dict(seed=4, epochs=3, dim=8)
    for step in ("as written", "+ biases"):
        model, rec = lesson.run_step(step, small_split, **args)
    assert len(list((tmp_path / "runs").glob("*.pt"))) == 2
    _, quick = lesson.run_step("+ biases", small_split, watch=False, **args)
    assert len(list((tmp_path / "runs").glob("*.pt"))) == 3      # watch=False is its own file

    def no_training(*a, **k):
        raise AssertionError("trained again instead of reading the kept run")

    monkeypatch.setattr(lesson, "_train_built", no_training)
    kept_model, kept = lesson.run_step("+ biases", small_split, **args)
    _same_record(kept, rec)
    for (n, a), (m, b) in zip(kept_model.state_dict().items(), model.state_dict().items()):
        assert n == m and torch.equal(a, b)
    assert kept_model.global_mean == model.global_mean and kept.steps == rec.steps
    assert str(mf.diagnose(kept)) == str(mf.diagnose(rec))
    assert lesson.run_step("+ biases", small_split, watch=False, **args)[1].val_rmse == quick.val_rmse
    # prefetch starts nothing for kept runs, and run_step hands them over
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert lesson.prefetch_steps(small_split, steps=("as written", "+ biases"), **args) == 0
        _same_record(lesson.run_step("as written", small_split, **args)[1], lesson._kept(
            "as written", small_split, args["seed"], args["epochs"], True, args["dim"])[1])
        lesson.run_step("+ biases", small_split, **args)
        assert lesson._AHEAD == {}
    finally:
        torch.set_num_threads(old)
    # another seed, or another optimizer function, is not that run
    with pytest.raises(AssertionError, match="trained again"):
        lesson.run_step("+ biases", small_split, seed=5, epochs=3, dim=8)
    with pytest.raises(AssertionError, match="trained again"):
        lesson.run_step("+ biases", small_split, optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
                        **args)


def test_a_damaged_kept_step_is_a_miss(small_split, tmp_path, monkeypatch):
    from mfteach import runcache

    monkeypatch.setenv(runcache.ENV, str(tmp_path / "runs"))
    args = dict(seed=4, epochs=2, dim=8)
    model, first = lesson.run_step("no coupled decay", small_split, **args)
    (path,) = (tmp_path / "runs").glob("*.pt")
    path.write_bytes(b"not a run")
    again = lesson.run_step("no coupled decay", small_split, **args)[1]    # trained again
    _same_record(again, first)
    # files of another shape, written as the cache writes (so only their content is wrong)
    for watch in (True, False):
        for state in ({"model": {}, "record": {}},
                      {"model": dict(model.state_dict()),
                       "record": {**first.to_state(), "val_rmse": ["x", "y"], "tables": {0: (1,)}}}):
            runcache.save_state(small_split, lesson._tag("no coupled decay", watch=watch, **args),
                                state)
            rec = lesson.run_step("no coupled decay", small_split, watch=watch, **args)[1]
            assert [float(v) for v in rec.val_rmse] == list(first.val_rmse)


def test_run_step_refuses_settings_it_would_round(small_split):
    for bad in (dict(epochs=3.7), dict(dim=8.0), dict(seed=True)):
        with pytest.raises(TypeError, match=next(iter(bad))):
            lesson.run_step("+ biases", small_split, **bad)
    with pytest.raises(ValueError, match="epochs"):
        lesson.run_step("+ biases", small_split, epochs=0)


@pytest.mark.slow
def test_the_job_as_written_still_collapsed_after_30_epochs():
    """Its tables regrow a little (the top singular value passes the old threshold), yet its dot
    products still add ~0.005 rating points: the report must keep saying so (it dropped it)."""
    import mfteach as mf

    split = lesson.reader_data(0)
    _, rec = lesson.run_step("as written", split, epochs=30)
    names = {f.name for f in mf.diagnose(rec).warnings}
    assert {"embeddings collapsed to zero", "coupled weight_decay near the cliff"} <= names, names
