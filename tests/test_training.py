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
