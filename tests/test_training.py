import math

import numpy as np
import pytest
import torch

import mfteach as mf

FAST = dict(epochs=8, batch_size=512)


def item_norm(h):
    return float(np.linalg.norm(h.factors()[1], axis=1).mean())


def test_same_seed_same_history_bit_for_bit(small, rng_guard):
    a, b = mf.train(small, **FAST), mf.train(small, **FAST)
    assert a.train_rmse == b.train_rmse and a.val_rmse == b.val_rmse
    assert np.array_equal(a.factors()[1], b.factors()[1])
    c = mf.train(small, seed=1, **FAST)
    assert c.val_rmse != a.val_rmse


def test_history_records_every_epoch_from_zero(small):
    h = mf.train(small, snapshot_epochs=(3,), **FAST)
    n = FAST["epochs"] + 1
    for series in (h.train_rmse, h.val_rmse, h.seconds, h.grad_norm, h.user_norms, h.item_norms):
        assert len(series) == n
    assert sorted(h.tables) == [0, 3, 8]
    assert h.item_norms[0].shape == (small.train.n_items,)
    assert h.steps == 8 * math.ceil(len(small.train) / 512)
    assert all(np.diff(h.seconds) >= 0) and math.isnan(h.grad_norm[0]) and h.grad_norm[-1] > 0
    assert "8 epochs" in repr(h)


def test_training_beats_the_mean_and_approaches_the_truth(notebook_data):
    h = mf.train(notebook_data, reg="l2_batch", reg_strength=0.05)
    mean = mf.baseline_rmse(notebook_data.train, notebook_data.val)
    truth = mf.baseline_rmse(notebook_data.train, notebook_data.val, "truth")
    assert h.val_rmse[0] > mean - 0.05          # small init: starts near the mean predictor
    assert h.val_rmse[-1] < mean - 0.2
    assert h.val_rmse[-1] < truth + 0.2
    pred = h.predict(notebook_data.val.users, notebook_data.val.items)
    assert abs(mf.rmse(pred, notebook_data.val.ratings) - h.val_rmse[-1]) < 1e-4


@pytest.mark.parametrize("dim", [16, 64])
def test_default_init_first_rmse_is_about_sqrt_dim_plus_one(small, dim):
    h = mf.train(small, init="default", dim=dim, epochs=0)
    assert abs(h.train_rmse[0] / math.sqrt(dim + 1) - 1) < 0.15


def test_divergence_is_reported_not_raised(small):
    h = mf.train(small, optimizer="sgd", lr=1e4, **FAST)
    assert h.diverged is not None and not h.ok
    msg = str(h.diverged)
    assert msg.startswith(f"diverged at epoch {h.diverged.epoch}") and "lower the learning rate" in msg
    assert all(math.isfinite(v) for v in h.val_rmse)   # only finite epochs are recorded
    P, Q = h.factors()
    assert np.isfinite(P).all() and np.isfinite(Q).all()  # the last finite tables are kept


def test_sgd_with_biases_needs_its_own_bias_lr(notebook_data):
    one_lr = mf.train(notebook_data, optimizer="sgd", lr=30, epochs=5)
    groups = mf.train(notebook_data, optimizer="sgd", lr=30, bias_lr=0.5)
    assert one_lr.diverged is not None and "bias_lr" in str(one_lr.diverged)
    assert groups.ok and groups.val_rmse[-1] < 0.75


@pytest.mark.parametrize("reg, strength, optimizer", [
    ("weight_decay", 3e-4, "adam"), ("weight_decay", 1.0, "adamw"), ("l2_batch", 0.05, "adam"),
    ("l2_all", 0.1, "adam"), ("l1_batch", 0.03, "adam"),
])
def test_each_regularizer_shrinks_embedding_norms(small, reg, strength, optimizer):
    none = mf.train(small, optimizer=optimizer, **FAST)
    regd = mf.train(small, optimizer=optimizer, reg=reg, reg_strength=strength, **FAST)
    assert item_norm(regd) < 0.9 * item_norm(none)


def test_adam_weight_decay_cliff_zeroes_every_embedding(notebook_data):
    h = mf.train(notebook_data, reg="weight_decay", reg_strength=1e-2)
    P, Q = h.factors()
    assert np.abs(P).max() < 1e-2 and np.abs(Q).max() < 1e-2
    assert h.val_rmse[-1] > 0.85  # what is left is the biases-only model


def test_zero_init_stays_zero_and_constant_init_stays_rank_one(small):
    z = mf.train(small, init="zeros", **FAST)
    assert np.abs(z.factors()[1]).max() == 0
    c = mf.train(small, init="constant", init_value=0.1, **FAST)
    s = mf.singular_values(*c.factors())
    assert s[1] / s[0] < 1e-6


def test_cold_items_keep_their_init_exactly():
    d = mf.synthetic(200, 300, 8000, cold_items=0.1, seed=0)
    s = mf.random_split(d, seed=0)
    h = mf.train(s, **FAST)
    cold = d.cold_items
    assert np.array_equal(h.tables[0][1][cold], h.factors()[1][cold])
    warm = np.setdiff1d(np.arange(d.n_items), cold)
    assert not np.allclose(h.tables[0][1][warm], h.factors()[1][warm])


def test_sparse_adam_path_trains_with_a_second_optimizer_for_the_global_bias(small):
    h = mf.train(small, optimizer="sparse_adam", **FAST)
    dense = mf.train(small, optimizer="adam", **FAST)
    assert h.model.sparse and h.ok
    assert h.model.global_bias.item() != pytest.approx(float(np.mean(
        mf.Normalizer("center").fit(small.train).transform(small.train.users, small.train.ratings))), abs=1e-6)
    assert h.val_rmse[-1] < h.val_rmse[0] and abs(h.val_rmse[-1] - dense.val_rmse[-1]) < 0.1


@pytest.mark.parametrize("kw, name", [
    (dict(lr=-1), "lr"), (dict(lr=float("nan")), "lr"), (dict(optimizer="adamax"), "optimizer"),
    (dict(batch_size=0), "batch_size"), (dict(reg="l3"), "reg"), (dict(reg_strength=-1), "reg_strength"),
    (dict(init="glorot"), "init"), (dict(normalize="minmax"), "normalize"), (dict(dim=2.5), "dim"),
    (dict(optimizer="adam", sparse=True), "sparse"), (dict(momentum=1.0), "momentum"),
    (dict(optimizer="sparse_adam", reg="weight_decay", reg_strength=0.1), "weight_decay"),
])
def test_invalid_config_names_the_parameter(kw, name):
    with pytest.raises(ValueError, match=name):
        mf.TrainConfig(**kw)


def test_config_code_reproduces_the_run(small):
    cfg = mf.TrainConfig(lr=0.05, reg="l2_batch", reg_strength=0.1, epochs=3)
    assert cfg.code() == "TrainConfig(epochs=3, lr=0.05, reg='l2_batch', reg_strength=0.1)"
    again = eval(cfg.code(), {"TrainConfig": mf.TrainConfig})
    assert again == cfg


def test_threads_are_restored_and_cuda_request_is_checked(small):
    before = torch.get_num_threads()
    mf.train(small, threads=1, epochs=1)
    assert torch.get_num_threads() == before
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            mf.train(small, device="cuda", epochs=1)


def test_normalizations_train_on_the_rating_scale(small):
    for kind in ("none", "center", "user", "zscore"):
        h = mf.train(small, normalize=kind, **FAST)
        pred = h.predict(small.val.users, small.val.items)
        assert abs(mf.rmse(pred, small.val.ratings) - h.val_rmse[-1]) < 1e-4, kind


def test_matches_a_plain_tutorial_loop(small):
    """The trainer's speed-ups (index_select, fused Adam, one thread) do not change the maths."""
    cfg = mf.TrainConfig(epochs=3, batch_size=512, lr=0.01)
    h = mf.train(small, cfg)

    # The plain loop a tutorial would write: nn.Embedding lookups, stock Adam, MSE on the batch.
    tr = small.train
    mean = float(tr.ratings.astype(np.float64).mean())
    ref = mf.MF(tr.n_users, tr.n_items, 32, seed=cfg.seed, global_init=0.0)
    P, Q = ref.user_factors, ref.item_factors
    bu, bi = ref.user_bias, ref.item_bias
    g = ref.global_bias
    with torch.no_grad():
        g.fill_(float(torch.as_tensor(tr.ratings - mean, dtype=torch.float32).mean()))
    opt = torch.optim.Adam(ref.parameters(), lr=cfg.lr, foreach=False)
    u = torch.as_tensor(tr.users)
    i = torch.as_tensor(tr.items)
    r = torch.as_tensor(tr.ratings - mean, dtype=torch.float32)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    for _ in range(cfg.epochs):
        perm = torch.randperm(len(r), generator=gen)
        for s in range(0, len(r), cfg.batch_size):
            idx = perm[s:s + cfg.batch_size]
            pred = (P(u[idx]) * Q(i[idx])).sum(1) + bu(u[idx]).squeeze(1) + bi(i[idx]).squeeze(1) + g
            loss = ((pred - r[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert np.allclose(h.factors()[1], Q.weight.detach().numpy(), atol=1e-4)
    with torch.no_grad():
        vu, vi = torch.as_tensor(small.val.users), torch.as_tensor(small.val.items)
        val = mf.rmse(ref(vu, vi).numpy() + mean, small.val.ratings)
    assert abs(val - h.val_rmse[-1]) < 1e-4


@pytest.mark.parametrize("reg", ["l2_batch", "l1_batch"])
def test_batch_row_penalty_table_form_equals_the_direct_form(reg):
    """The trainer's cheap form of the batch-row penalty has the same value and gradient."""
    from mfteach.training import _penalty

    cfg = mf.TrainConfig(reg=reg, reg_strength=0.3)
    model = mf.MF(20, 30, 4, seed=0)
    ub = torch.randint(0, 20, (200,), generator=torch.Generator().manual_seed(0))
    ib = torch.randint(0, 30, (200,), generator=torch.Generator().manual_seed(1))
    _, p, q = model.forward_parts(ub, ib)
    cheap = _penalty(cfg, model, ub, ib, p, q)  # tables (20, 30 rows) smaller than the batch
    f = (lambda x: (x * x).sum(1)) if reg == "l2_batch" else (lambda x: x.abs().sum(1))
    direct = 0.3 * (f(p) + f(q)).mean()
    assert torch.allclose(cheap, direct)
    g1 = torch.autograd.grad(cheap, model.item_factors.weight, retain_graph=True)[0]
    g2 = torch.autograd.grad(direct, model.item_factors.weight)[0]
    assert torch.allclose(g1, g2, atol=1e-7)


# -- what training reports -----------------------------------------------------------------------
def test_empty_validation_split_is_not_a_divergence():
    s = mf.random_split(mf.synthetic(200, 300, 8000, seed=1), val=0.0, seed=1)
    assert len(s.val) == 0
    h = mf.train(s, **FAST)
    assert h.ok and h.diverged is None and not h.has_val
    assert len(h.val_rmse) == FAST["epochs"] + 1 and all(math.isnan(v) for v in h.val_rmse)
    assert "no validation ratings" in repr(h) and "nan" not in repr(h)


def test_history_with_validation_says_so(small):
    h = mf.train(small, epochs=1)
    assert h.has_val and "val RMSE" in repr(h)


@pytest.mark.parametrize("optimizer", list(mf.OPTIMIZERS))
def test_a_blow_up_that_stays_finite_is_reported(small, optimizer):
    h = mf.train(small, optimizer=optimizer, lr=1e6, epochs=5)
    assert not h.ok
    d = h.diverged
    msg = str(d)
    assert msg.startswith(f"diverged at epoch {d.epoch} (step {d.step})") and d.epoch >= 1
    assert "lower the learning rate (now 1e+06)" in msg
    if optimizer not in ("sgd", "momentum"):  # these reach inf; the adaptive ones stay finite
        assert f"train RMSE exploded from {h.train_rmse[0]:.3g} at epoch 0 to " in msg
    # Only sane epochs are recorded, and the tables shown are the last sane ones.
    assert len(h.train_rmse) == d.epoch and max(h.train_rmse) < 10 * 4
    assert all(np.isfinite(t).all() for t in h.factors())


def test_a_blow_up_with_your_own_optimizer_names_it(small):
    h = mf.train(small, epochs=3, make_optimizer=lambda m: torch.optim.Adam(m.parameters(), lr=1e6))
    assert not h.ok and "exploded" in str(h.diverged) and "make_optimizer" in str(h.diverged)


@pytest.mark.parametrize("kw", [
    dict(init_std=1.0, dim=128),                           # N(0,1) init: first RMSE ~11
    dict(init="default", dim=128, optimizer="sgd", lr=0.5, bias_lr=0.5),
    dict(init_std=3.0, dim=128, lr=0.1),                   # first RMSE ~100
    dict(init="constant", init_value=0.5),
    dict(normalize="none", global_bias=False),             # starts ~3.6 off
    dict(optimizer="sgd", lr=30.0, bias_lr=0.5),           # the lessons' fast SGD
    dict(optimizer="adagrad", lr=0.5),
    dict(lr=0.3, epochs=30),                               # noisy Adam: val rises, stays sane
], ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_the_blow_up_rule_is_silent_on_healthy_runs(small, kw):
    h = mf.train(small, **kw)
    assert h.ok, h.diverged
    assert len(h.train_rmse) == kw.get("epochs", 15) + 1
    if kw.get("dim") == 128:
        assert h.train_rmse[0] > 10 and h.train_rmse[-1] < h.train_rmse[0]


def test_the_blow_up_rule_is_silent_on_a_slowly_overfitting_run(small):
    h = mf.train(small, dim=64, lr=0.02, epochs=40, batch_size=128, user_bias=False,
                 item_bias=False, global_bias=False)
    assert h.ok
    assert h.val_rmse[-1] > min(h.val_rmse) + 0.01 and h.train_rmse[-1] < 0.5  # it overfits


# -- config checks -------------------------------------------------------------------------------
def test_numpy_numbers_are_accepted_and_stored_as_python_numbers(small):
    kw = dict(dim=np.int64(8), epochs=np.int64(2), batch_size=np.int32(512), seed=np.int64(3),
              threads=np.int64(1), train_eval_sample=np.int64(500), lr=np.float32(0.5),
              reg_strength=np.float64(0.0), snapshot_epochs=np.arange(1, 2),
              user_bias=np.bool_(True))
    h = mf.train(small, **kw)
    cfg = h.config
    assert h.ok and sorted(h.tables) == [0, 1, 2]
    assert h.user_norms[0].shape == (small.train.n_users,)
    for k in ("dim", "epochs", "batch_size", "seed", "threads", "train_eval_sample"):
        assert type(getattr(cfg, k)) is int, k
    assert type(cfg.lr) is float and type(cfg.user_bias) is bool and cfg.snapshot_epochs == (1,)
    assert cfg == mf.TrainConfig(dim=8, epochs=2, batch_size=512, seed=3, lr=float(np.float32(0.5)),
                                 snapshot_epochs=(1,), train_eval_sample=500)
    assert mf.TrainConfig(dim=np.int64(8)).code() == "TrainConfig(dim=8)"
    sweep = [mf.TrainConfig(dim=d) for d in np.arange(4, 12, 4)]  # sweeps over np.arange
    assert [c.dim for c in sweep] == [4, 8]


@pytest.mark.parametrize("kw", [
    dict(seed=1.5), dict(seed=None), dict(seed=-1), dict(seed="0"), dict(device=3),
    dict(device="tpu"), dict(device="meta"), dict(device=None), dict(optimizer=["adam"]),
    dict(optimizer=None), dict(reg={"l2": 1}), dict(init=3), dict(normalize=None),
    dict(user_bias="no"), dict(item_bias=1), dict(global_bias=None), dict(fused="yes"),
    dict(sparse="no"), dict(threads=0), dict(threads=1.5), dict(train_eval_sample=np.float64(5)),
    dict(train_eval_sample=0), dict(dim=True), dict(epochs=-1), dict(epochs=2.0),
    dict(lr="0.1"), dict(lr=True), dict(lr=10 ** 400), dict(init_value=float("inf")),
    dict(bias_lr=0), dict(momentum=np.float64(-0.1)), dict(snapshot_epochs=("a",)),
    dict(snapshot_epochs=3), dict(snapshot_epochs="1"), dict(snapshot_epochs=(-1,)),
], ids=lambda kw: repr(kw)[:40])
def test_bad_values_name_the_parameter_and_the_value(kw):
    (pname, value), = kw.items()
    with pytest.raises(ValueError) as e:
        mf.TrainConfig(**kw)
    assert str(e.value).startswith(f"{pname} must be ") and str(e.value).endswith(repr(value))


def test_names_are_case_insensitive_and_devices_may_be_torch_devices():
    cfg = mf.TrainConfig(optimizer="Adam", reg="L2_batch", init="Normal", normalize="Center",
                         device=torch.device("cpu"))
    assert (cfg.optimizer, cfg.reg, cfg.init, cfg.normalize, cfg.device) == \
        ("adam", "l2_batch", "normal", "center", "cpu")


def test_unavailable_devices_are_refused_by_train(small):
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"device='cuda:1' asked but CUDA is not available"):
            mf.train(small, device="cuda:1", epochs=1)
    else:
        n = torch.cuda.device_count()
        with pytest.raises(ValueError, match=f"device='cuda:{n}'"):
            mf.train(small, device=f"cuda:{n}", epochs=1)


def flushing_denormals():
    """True when this thread flushes denormals (half the smallest normal float32 becomes 0)."""
    return (torch.tensor(torch.finfo(torch.float32).tiny) / 2).item() == 0.0


@pytest.mark.parametrize("caller_flushes", [True, False])
def test_the_callers_flush_denormal_setting_is_kept(small, caller_flushes):
    if not torch.set_flush_denormal(caller_flushes) and caller_flushes:
        pytest.skip("this CPU cannot flush denormals")
    try:
        assert flushing_denormals() is caller_flushes
        before = torch.get_num_threads()
        mf.train(small, epochs=1, threads=1)
        assert flushing_denormals() is caller_flushes
        assert torch.get_num_threads() == before
    finally:
        torch.set_flush_denormal(False)


def test_history_to_frame_has_one_row_per_epoch(small):
    h = mf.train(small, epochs=4, batch_size=512)
    df = h.to_frame()
    assert list(df.index) == [0, 1, 2, 3, 4] and df.index.name == "epoch"
    assert df["val_rmse"].tolist() == h.val_rmse and df["train_rmse"].iloc[-1] == h.train_rmse[-1]
    assert (df["mean_item_norm"] > 0).all()


def test_a_misspelt_name_gets_a_did_you_mean():
    with pytest.raises(ValueError, match=r"optimizer must be one of .* \(did you mean 'adam'\?\)"):
        mf.TrainConfig(optimizer="adamm")
    with pytest.raises(ValueError, match=r"did you mean 'xavier_(uniform|normal)'"):
        mf.TrainConfig(init="xavier")
    with pytest.raises(ValueError, match=r"reg must be one of \[[^]]*\], got 'ridge'$"):
        mf.TrainConfig(reg="ridge")                     # nothing close: no guess


def test_reg_none_ignores_a_strength(small):
    """reg='none' with a leftover strength trains with no penalty (it used to crash)."""
    a = mf.train(small, epochs=2, batch_size=512, reg="none", reg_strength=0.3)
    b = mf.train(small, epochs=2, batch_size=512, reg="none")
    assert a.ok and a.val_rmse == b.val_rmse


def test_thread_count_restored_when_two_threads_train_at_once(small):
    """A panel may train on a kernel subshell thread while a cell trains: whatever the overlap,
    the caller's torch thread count comes back."""
    import threading

    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        go = threading.Barrier(2)

        def run():
            go.wait()
            mf.train(small, epochs=3, threads=1)

        workers = [threading.Thread(target=run) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(old)


def test_each_thread_gets_its_own_torch_thread_count_back(split_for_threads=None):
    """With OpenMP (the pip builds) torch's thread count is per thread: a worker's run that ends
    after a cell's must not leave the cell's thread at 1."""
    import threading

    import mfteach as mf

    split = mf.random_split(mf.synthetic(60, 50, 1000, seed=0), seed=0)
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        inside, go = threading.Event(), threading.Event()

        class Slow(torch.optim.SGD):
            def step(self, closure=None):
                inside.set()
                go.wait(30)
                return super().step(closure)

        t = threading.Thread(target=lambda: mf.train(split, mf.TrainConfig(epochs=1, dim=4),
                                                     make_optimizer=lambda m: Slow(m.parameters(), lr=0.01)))
        t.start()
        assert inside.wait(30)
        mf.train(split, mf.TrainConfig(epochs=1, dim=4))  # this thread's run ends first
        go.set()
        t.join(30)
        assert torch.get_num_threads() == 2
    finally:
        go.set()
        torch.set_num_threads(old)


def test_train_inside_no_grad_or_inference_mode_trains_the_same():
    """A call from an evaluation block raised 'element 0 of tensors does not require grad'."""
    split = mf.random_split(mf.synthetic(80, 120, 2000, seed=0), seed=0)
    ref = mf.train(split, epochs=2).val_rmse
    with torch.no_grad():
        assert mf.train(split, epochs=2).val_rmse == ref
    with torch.inference_mode():
        assert mf.train(split, epochs=2).val_rmse == ref
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()
