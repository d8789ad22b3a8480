"""Going on from an earlier run (``train(..., resume=)``): the same numbers as from scratch."""
import numpy as np
import pytest
import torch

import mfteach as mf
from mfteach import runcache
from mfteach.history import History
from mfteach.lessons import common

BS = 512  # several steps per epoch on the small split


def assert_same_run(a, b):
    """Every number two Histories hold is the same (``seconds`` aside: wall time)."""
    for k in ("train_rmse", "val_rmse", "grad_norm"):
        assert np.array_equal(getattr(a, k), getattr(b, k), equal_nan=True), k
    for k in ("user_norms", "item_norms"):
        x, y = getattr(a, k), getattr(b, k)
        assert len(x) == len(y) and all(np.array_equal(p, q) for p, q in zip(x, y)), k
    assert a.tables.keys() == b.tables.keys()
    for e in a.tables:
        assert all(np.array_equal(p, q) for p, q in zip(a.tables[e], b.tables[e])), e
    assert (a.steps, a.diverged, a.last_sane_epoch, a.global_init, a.config) == \
        (b.steps, b.diverged, b.last_sane_epoch, b.global_init, b.config)
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert len(a.seconds) == len(b.seconds)


CONFIGS = {
    "adam + l2_batch": dict(reg="l2_batch", reg_strength=0.05),
    "sgd, snapshots": dict(optimizer="sgd", lr=0.05, snapshot_epochs=(1, 3, 6)),
    "momentum": dict(optimizer="momentum", lr=0.1),
    "sparse_adam, zscore": dict(optimizer="sparse_adam", normalize="zscore"),
    "adagrad + l1, all train": dict(optimizer="adagrad", reg="l1_batch", reg_strength=0.01,
                                    train_eval_sample=None),
    "adamw weight_decay": dict(optimizer="adamw", reg="weight_decay", reg_strength=0.3),
    "rmsprop + l2_all, no biases": dict(optimizer="rmsprop", lr=0.005, reg="l2_all",
                                        reg_strength=0.1, user_bias=False, item_bias=False),
}


@pytest.mark.parametrize("kw", CONFIGS.values(), ids=CONFIGS.keys())
def test_going_on_gives_the_numbers_of_a_fresh_run(small, kw, rng_guard):
    cfg = mf.TrainConfig(epochs=7, batch_size=BS, **kw)
    fresh = mf.train(small, cfg)
    short = mf.train(small, cfg.replace(epochs=3))
    assert_same_run(mf.train(small, cfg, resume=short), fresh)
    # twice from the same run, and in two steps: the earlier runs are not changed by going on
    assert_same_run(mf.train(small, cfg, resume=short), fresh)
    mid = mf.train(small, cfg.replace(epochs=5), resume=short)
    assert_same_run(mf.train(small, cfg, resume=mid), fresh)
    assert_same_run(short, mf.train(small, cfg.replace(epochs=3)))
    # as many epochs: nothing left to train, the same run
    assert_same_run(mf.train(small, cfg, resume=fresh), fresh)


def test_going_on_into_a_divergence_stops_where_a_fresh_run_stops(notebook_data):
    cfg = mf.TrainConfig(epochs=9, optimizer="sgd", lr=1.1, snapshot_epochs=(1, 3))
    fresh = mf.train(notebook_data, cfg)
    assert fresh.diverged is not None and fresh.diverged.epoch > 3  # the test's premise
    went = mf.train(notebook_data, cfg, resume=mf.train(notebook_data, cfg.replace(epochs=3)))
    assert_same_run(went, fresh)
    assert np.array_equal(went.predict([0, 1], [0, 1]), fresh.predict([0, 1], [0, 1]))


def test_what_cannot_be_gone_on_from_is_refused_by_name(small, notebook_data):
    cfg = mf.TrainConfig(epochs=4, batch_size=BS)
    short = mf.train(small, cfg.replace(epochs=2))
    with pytest.raises(ValueError, match="differs in lr"):
        mf.train(small, cfg.replace(lr=0.01), resume=short)
    with pytest.raises(ValueError, match="2 epochs, more than the 1 asked"):
        mf.train(small, cfg.replace(epochs=1), resume=short)
    with pytest.raises(ValueError, match="another Split"):
        mf.train(notebook_data, cfg, resume=short)
    with pytest.raises(ValueError, match="make_optimizer"):
        mf.train(small, cfg, resume=short, make_optimizer=lambda m: torch.optim.SGD(m.parameters(), lr=0.1))
    with pytest.raises(TypeError, match="History"):
        mf.train(small, cfg, resume="run")
    # read back from disk: the optimizer's state is not in the file
    back = History.from_state(short.to_state(), short.config)
    with pytest.raises(ValueError, match="read back from disk"):
        mf.train(small, cfg, resume=back)
    diverged = mf.train(small, cfg.replace(optimizer="sgd", lr=50.0, epochs=2))
    assert diverged.diverged is not None
    with pytest.raises(ValueError, match="it diverged"):
        mf.train(small, cfg.replace(optimizer="sgd", lr=50.0), resume=diverged)
    custom = mf.train(small, cfg.replace(epochs=2),
                      make_optimizer=lambda m: torch.optim.SGD(m.parameters(), lr=0.1))
    assert not mf.training.can_resume(custom, small, cfg)
    assert mf.training.can_resume(short, small, cfg) and not mf.training.can_resume(short, notebook_data, cfg)


def test_trained_goes_on_from_the_longest_shorter_run_it_keeps(small, monkeypatch):
    monkeypatch.setenv(runcache.ENV, "off")
    cfg = mf.TrainConfig(epochs=9, batch_size=BS, reg="l2_batch", reg_strength=0.02, seed=123)
    calls = []
    real = common.train

    def spy(data, config, **kw):
        calls.append((config.epochs, kw.get("resume") and kw["resume"].config.epochs))
        return real(data, config, **kw)

    monkeypatch.setattr(common, "train", spy)
    common.trained(small, cfg.replace(epochs=3))
    common.trained(small, cfg.replace(epochs=6))
    h = common.trained(small, cfg)
    common.trained(small, cfg.replace(epochs=2))   # fewer than any kept: from scratch
    common.trained(small, cfg.replace(lr=0.01))    # another config: from scratch
    assert calls == [(3, None), (6, 3), (9, 6), (2, None), (9, None)]
    assert_same_run(h, mf.train(small, cfg))


@pytest.mark.parametrize("edit", ["zero a table", "edit a curve", "drop a table", "clear seconds",
                                  "relabel epochs", "change a weight"])
def test_a_history_changed_after_training_is_not_gone_on_from(small, monkeypatch, edit):
    """(From an independent review: an edited earlier run was gone on from, and trained() spread
    its numbers.) Refused by name; trained() then trains from scratch: a fresh run's numbers."""
    monkeypatch.setenv(runcache.ENV, "off")
    cfg = mf.TrainConfig(epochs=6, batch_size=BS, seed=77)
    short = common.trained(small, cfg.replace(epochs=3))
    if edit == "zero a table":
        short.tables[3][0][:] = 0
    elif edit == "edit a curve":
        short.train_rmse[1] = 123.0
    elif edit == "drop a table":
        short.tables.pop(3)
    elif edit == "clear seconds":
        short.seconds.clear()
    elif edit == "relabel epochs":
        short.config = short.config.replace(epochs=2)
    else:
        with torch.no_grad():
            short.model.user_factors.weight[0, 0] += 1
    with pytest.raises(ValueError, match="changed after it was trained"):
        mf.train(small, cfg, resume=short)
    assert not mf.training.can_resume(short, small, cfg)
    assert_same_run(common.trained(small, cfg), mf.train(small, cfg))


def test_the_run_gone_on_shares_no_array_with_the_earlier_one(small):
    cfg = mf.TrainConfig(epochs=4, batch_size=BS, snapshot_epochs=(1,))
    short = mf.train(small, cfg.replace(epochs=2))
    went = mf.train(small, cfg, resume=short)
    arrays = lambda h: [a for t in h.tables.values() for a in t] + h.user_norms + h.item_norms
    assert not any(np.shares_memory(a, b) for a in arrays(went) for b in arrays(short))
    assert mf.training.can_resume(short, small, cfg)  # (so it is unchanged)


def test_odd_arguments_get_a_plain_answer(small):
    short = mf.train(small, mf.TrainConfig(epochs=1, batch_size=BS))
    assert not mf.training.can_resume(short, small, {"epochs": 3})
    assert not mf.training.can_resume(short, small, "epochs=3")
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        mf.resume.check(short, small, {"epochs": 3}, None)
    from_ratings = mf.train(small.train, mf.TrainConfig(epochs=1, batch_size=BS))
    with pytest.raises(ValueError, match="is gone .*train on a Split"):
        mf.train(small, mf.TrainConfig(epochs=2, batch_size=BS), resume=from_ratings)
