import math

import numpy as np
import pytest
import torch

import mfteach as mf


@pytest.mark.parametrize("scheme, expected", [
    ("default", lambda rows, dim: 1.0),
    ("normal", lambda rows, dim: 0.05),
    ("uniform", lambda rows, dim: 0.05),
    ("xavier_uniform", lambda rows, dim: math.sqrt(2 / (rows + dim))),
    ("xavier_normal", lambda rows, dim: math.sqrt(2 / (rows + dim))),
    ("kaiming", lambda rows, dim: math.sqrt(2 / dim)),
])
@pytest.mark.parametrize("rows", [600, 20_000])
def test_each_init_scheme_gives_its_std(scheme, expected, rows):
    dim = 32
    w = mf.init_embedding_(torch.empty(rows, dim), scheme, std=0.05,
                           generator=torch.Generator().manual_seed(0))
    want = expected(rows, dim)
    assert abs(w.std().item() / want - 1) < 0.05
    assert abs(mf.init_std(scheme, rows, dim, std=0.05) / want - 1) < 1e-9


def test_xavier_scale_depends_on_rows_but_kaiming_does_not():
    g = torch.Generator().manual_seed(0)
    x_small = mf.init_embedding_(torch.empty(600, 16), "xavier_uniform", generator=g).std()
    x_big = mf.init_embedding_(torch.empty(100_000, 16), "xavier_uniform", generator=g).std()
    k_small = mf.init_embedding_(torch.empty(600, 16), "kaiming", generator=g).std()
    k_big = mf.init_embedding_(torch.empty(100_000, 16), "kaiming", generator=g).std()
    assert x_small / x_big > 10  # √((100000+16)/(600+16)) ≈ 12.7
    assert abs(k_small / k_big - 1) < 0.05


def test_zeros_and_constant_and_unknown_scheme():
    assert mf.init_embedding_(torch.ones(5, 3), "zeros").abs().sum() == 0
    assert torch.all(mf.init_embedding_(torch.ones(5, 3), "constant", value=0.3) == 0.3)
    with pytest.raises(ValueError, match="init must be one of"):
        mf.init_embedding_(torch.ones(5, 3), "glorot")


def test_model_is_seeded_privately_and_predicts_with_biases(rng_guard):
    a = mf.MF(50, 70, 8, seed=1, global_init=3.5)
    b = mf.MF(50, 70, 8, seed=1, global_init=3.5)
    c = mf.MF(50, 70, 8, seed=2, global_init=3.5)
    assert torch.equal(a.item_factors.weight, b.item_factors.weight)
    assert not torch.equal(a.item_factors.weight, c.item_factors.weight)
    u, i = torch.tensor([0, 3]), torch.tensor([5, 6])
    expect = (a.user_factors.weight[u] * a.item_factors.weight[i]).sum(1) + 3.5
    assert torch.allclose(a(u, i), expect)  # biases start at 0, global at 3.5
    assert "50 users" in repr(a) and "biases: user, item, global" in repr(a)


def test_sparse_model_gives_sparse_gradients_with_the_same_predictions():
    dense, sparse = mf.MF(20, 30, 4, seed=0), mf.MF(20, 30, 4, seed=0, sparse=True)
    u, i = torch.tensor([1, 2, 2]), torch.tensor([0, 5, 7])
    assert torch.allclose(dense(u, i), sparse(u, i))
    sparse(u, i).sum().backward()
    dense(u, i).sum().backward()
    assert sparse.item_factors.weight.grad.is_sparse
    assert torch.allclose(sparse.item_factors.weight.grad.to_dense(), dense.item_factors.weight.grad)


@pytest.mark.parametrize("kw", [dict(dim=0), dict(n_users=-1), dict(init="nope")])
def test_model_rejects_bad_arguments(kw):
    args = dict(n_users=5, n_items=5, dim=4)
    args.update(kw)
    with pytest.raises(ValueError):
        mf.MF(**args)


@pytest.mark.parametrize("dim", [1, 7, 32, 128])
@pytest.mark.parametrize("sparse", [False, True])
def test_predict_rows_gives_the_same_numbers_as_one_forward_pass(dim, sparse):
    """Predicting in pieces (no (N, dim) temporaries) changes no number, at any piece boundary."""
    from mfteach.model import PREDICT_ROWS, predict_rows

    m = mf.MF(50, 70, dim, sparse=sparse, seed=3)
    with torch.no_grad():
        m.user_bias.weight.normal_(generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(dim)
    for n in (0, 1, PREDICT_ROWS - 1, PREDICT_ROWS, PREDICT_ROWS + 1, 3 * PREDICT_ROWS + 17):
        u, i = torch.randint(0, 50, (n,), generator=g), torch.randint(0, 70, (n,), generator=g)
        got = predict_rows(m, u, i)
        with torch.no_grad():
            want = m(u, i)
        assert got.shape == (n,) and not got.requires_grad
        assert torch.equal(got, want), (dim, sparse, n)
