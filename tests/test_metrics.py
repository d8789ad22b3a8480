import numpy as np
import pytest

import mfteach as mf


def test_rmse_and_shape_check():
    assert mf.rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(np.sqrt(4 / 3))
    with pytest.raises(ValueError, match="shapes differ"):
        mf.rmse([1, 2], [1, 2, 3])


def test_bucket_rmse_separates_rare_from_popular():
    # item 0: popular (200 train ratings), item 1: rare (2), item 2: cold (0)
    counts = np.array([200, 2, 0])
    val = mf.Ratings([0, 1, 2, 3], [0, 0, 1, 2], [3, 3, 3, 3], n_users=4, n_items=3)
    pred = np.array([3.0, 3.0, 4.0, 5.0])  # perfect on popular, off by 1 on rare, 2 on cold
    out = mf.bucket_rmse(pred, val, counts)
    assert out["buckets"]["popular"]["rmse"] == 0 and out["buckets"]["popular"]["ratings"] == 2
    assert out["buckets"]["rare"]["rmse"] == 1 and out["buckets"]["cold"]["rmse"] == 2
    assert np.isnan(out["buckets"]["mid"]["rmse"])
    assert out["overall"] == pytest.approx(np.sqrt(5 / 4))
    assert out["per_item"] == pytest.approx((0 + 1 + 2) / 3)  # every item counts once


def test_popularity_buckets_edges():
    assert list(mf.popularity_buckets([0, 1, 5, 6, 100, 101])) == [0, 1, 1, 2, 2, 3]
    with pytest.raises(ValueError, match="edges"):
        mf.popularity_buckets([1], edges=(5, 1, 2))


def test_recovery_r2_sees_through_rotation_and_not_through_noise():
    rng = np.random.default_rng(0)
    true = rng.standard_normal((400, 4))
    rotated = true @ rng.standard_normal((4, 16)) + 0.5  # any linear map of the truth
    assert mf.recovery_r2(rotated, true)["overall"] > 0.999
    noise = rng.standard_normal((400, 16))
    assert mf.recovery_r2(noise, true)["overall"] < 0.1  # cross-fitting: no credit for memorising
    groups = np.repeat([0, 1], 200)
    mixed = np.where(groups[:, None] == 0, rotated, noise)
    g = mf.recovery_r2(mixed, true, groups)["groups"]
    assert g[0] > g[1] + 0.3


def test_norm_popularity_spearman_and_singular_values():
    assert mf.norm_popularity_spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1)
    assert mf.norm_popularity_spearman([1, 1, 1], [1, 2, 3]) == 0.0
    rng = np.random.default_rng(0)
    P, Q = rng.standard_normal((50, 6)), rng.standard_normal((80, 6))
    expect = np.linalg.svd(P @ Q.T, compute_uv=False)[:6]
    assert np.allclose(mf.singular_values(P, Q), expect)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spearman_is_scipys_with_ties_and_infinities(seed):
    """The numpy Spearman (no scipy.stats import) gives scipy's number: ties (integer counts),
    infinite norms, and both signs."""
    from scipy.stats import rankdata, spearmanr

    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 12, 300).astype(float)            # many ties
    norms = np.round(rng.gamma(2, size=300) + 0.1 * counts, 1)  # ties too
    norms[rng.integers(0, 300, 3)] = np.inf
    for a, b in ((norms, counts), (-norms, counts), (counts, counts[::-1])):
        assert mf.norm_popularity_spearman(a, b) == pytest.approx(spearmanr(a, b).statistic,
                                                                   abs=1e-12)
    assert np.array_equal(mf.metrics.average_ranks(norms), rankdata(norms))


def test_spearman_nan_and_bad_shapes():
    assert np.isnan(mf.norm_popularity_spearman([1, np.nan, 3], [1, 2, 3]))
    with pytest.raises(ValueError, match="same length"):
        mf.norm_popularity_spearman([1, 2, 3], [1, 2])


def test_learned_embeddings_recover_popular_items_better(notebook_data):
    """FINDINGS: with skew, popular items' factors are recovered far better than rare ones'."""
    h = mf.train(notebook_data, reg="l2_batch", reg_strength=0.05)
    counts = notebook_data.train.item_counts()
    buckets = mf.popularity_buckets(counts)
    r2 = mf.recovery_r2(h.factors()[1], notebook_data.truth.item_factors, buckets)["groups"]
    assert r2[3] > 0.8 and r2[1] < r2[3] - 0.3
