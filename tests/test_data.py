import numpy as np
import pytest

import mfteach as mf


def test_synthetic_is_deterministic_and_valid(rng_guard):
    a = mf.synthetic(100, 200, 3000, seed=3)
    b = mf.synthetic(100, 200, 3000, seed=3)
    c = mf.synthetic(100, 200, 3000, seed=4)
    assert np.array_equal(a.users, b.users) and np.array_equal(a.ratings, b.ratings)
    assert not np.array_equal(a.ratings, c.ratings)
    assert len(a) == 3000 and a.n_users == 100 and a.n_items == 200
    assert a.ratings.min() >= 1 and a.ratings.max() <= 5
    keys = a.users * a.n_items + a.items
    assert len(np.unique(keys)) == len(keys)


def test_synthetic_truth_explains_the_ratings():
    d = mf.synthetic(300, 400, 20000, noise=0.5, seed=0)
    resid = d.ratings - d.truth.predict(d.users, d.items)
    # clipping to 1..5 trims a little noise, so the error is at most the noise level
    assert 0.4 < np.sqrt(np.mean(resid ** 2)) <= 0.51
    assert d.truth.rank == 4


def test_zipf_skew_concentrates_ratings_on_few_items():
    top_share = []
    for z in (0.0, 1.2):
        c = np.sort(mf.synthetic(item_zipf=z, seed=0).item_counts())[::-1]
        top_share.append(c[:15].sum() / c.sum())  # share of the top 1% of items
    assert top_share[0] < 0.03 and top_share[1] > 0.15


def test_popularity_rating_effect_makes_popular_items_rated_higher():
    d = mf.synthetic(item_zipf=1.0, popularity_rating_effect=0.3, seed=0)
    counts = d.item_counts()
    rated = counts > 0
    corr = np.corrcoef(np.log(counts[rated]), d.truth.item_bias[rated])[0, 1]
    assert corr > 0.5


@pytest.mark.parametrize("kw, match", [
    (dict(n_users=0), "n_users"), (dict(item_zipf=-1), "item_zipf"), (dict(noise=np.nan), "noise"),
    (dict(cold_items=1.0), "cold_items"), (dict(n_users=10, n_items=10, n_ratings=90), "too many"),
])
def test_synthetic_rejects_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        mf.synthetic(**kw)


def test_ratings_validate_themselves():
    with pytest.raises(ValueError, match="index 5, outside 0..4"):
        mf.Ratings([0, 5], [0, 1], [3, 4], n_users=5)
    with pytest.raises(ValueError, match="finite"):
        mf.Ratings([0, 1], [0, 1], [3, np.nan])
    with pytest.raises(ValueError, match=r"duplicate \(user, item\) pair \(1, 2\)"):
        mf.Ratings([0, 1, 1], [0, 2, 2], [3, 4, 5])
    with pytest.raises(ValueError, match="outside the scale"):
        mf.Ratings([0], [0], [6], scale=(1, 5))
    with pytest.raises(TypeError, match="integer"):
        mf.Ratings([0.5], [0], [3])
    ok = mf.Ratings([0, 1, 1], [0, 2, 2], [3, 4, 5], allow_duplicates=True)
    assert len(ok) == 3


def test_ratings_refuse_what_float32_cannot_store():
    """Ratings are stored as float32: a finite float64 beyond its range would become inf."""
    with pytest.raises(ValueError, match=r"rating #0 is 1e\+39, too large for float32"):
        mf.Ratings([0], [0], [1e39])
    with pytest.raises(ValueError, match=r"rating #1 is -3.5e\+38, too large for float32"):
        mf.Ratings([0, 1], [0, 0], [3, -3.5e38])
    ok = mf.Ratings([0, 1], [0, 0], [3.4e38, -3.4e38])
    assert np.isfinite(ok.ratings).all() and ok.ratings.dtype == np.float32
    with pytest.raises(ValueError, match="ratings must be numbers"):
        mf.Ratings([0], [0], ["good"])


def test_ratings_indices_beyond_int64_are_refused_not_wrapped():
    with pytest.raises(ValueError, match=r"users holds index 9223372036854775808, outside 0..4"):
        mf.Ratings(np.array([2**63], np.uint64), [0], [1.0], n_users=5, n_items=1)
    with pytest.raises(ValueError, match=r"items holds index 1e\+20, outside 0..0"):
        mf.Ratings([0], np.array([1e20]), [1.0], n_users=1, n_items=1)
    with pytest.raises(ValueError, match="n_users must be a non-negative integer"):
        mf.Ratings([0], [0], [1.0], n_users=True)
    ok = mf.Ratings(np.array([0, 3], np.uint64), np.array([1.0, 0.0]), [1.0, 2.0], n_users=4, n_items=2)
    assert ok.users.tolist() == [0, 3] and ok.items.tolist() == [1, 0]


def test_duplicate_check_cannot_overflow_its_pair_key():
    """user * n_items + item overflows int64 for 2**33 × 2**33: (2**31, 0) would look like (0, 0)."""
    big = 2**33
    ok = mf.Ratings([0, 2**31], [0, 0], [1.0, 2.0], n_users=big, n_items=big)
    assert len(ok) == 2
    with pytest.raises(ValueError, match=r"duplicate \(user, item\) pair \(5, 7\) at rating #2"):
        mf.Ratings([5, 2**31, 5], [7, 0, 7], [1.0, 2.0, 3.0], n_users=big, n_items=big)
    with pytest.raises(ValueError, match=r"pair \(3, 1\) at rating #3"):
        mf.Ratings([3, 0, 2, 3, 0], [1, 0, 2, 1, 0], [1, 2, 3, 4, 5])  # the first repeat in order


def test_ratings_repr_counts_and_frames():
    d = mf.synthetic(50, 80, 500, seed=0)
    text = repr(d)
    assert "500 ratings" in text and "50 users" in text and "80 items" in text and "truth" in text
    assert d.item_counts().sum() == 500 and d.user_counts().shape == (50,)
    df = d.to_frame()
    assert list(df.columns) == ["user", "item", "rating"] and len(df) == 500
    back = mf.Ratings.from_frame(df.assign(user=df.user + 1000))
    assert len(back) == 500 and back.user_ids.min() >= 1000
    assert np.array_equal(back.user_ids[back.users], df.user.to_numpy() + 1000)


def test_random_split_partitions_and_keeps_cold_items_out_of_training(rng_guard):
    d = mf.synthetic(100, 200, 5000, cold_items=0.1, seed=0)
    s = mf.random_split(d, val=0.1, test=0.1, seed=0)
    assert len(s.train) + len(s.val) + len(s.test) == len(d)
    assert 0.68 < len(s.train) / len(d) < 0.76  # 80% of the 90% of ratings on warm items
    assert not np.isin(s.train.items, d.cold_items).any()
    assert np.isin(s.val.items, d.cold_items).any()
    again = mf.random_split(d, seed=0)
    assert np.array_equal(again.train.users, s.train.users)


def test_per_user_split_keeps_every_user_in_training():
    d = mf.synthetic(100, 200, 3000, user_zipf=1.0, seed=0)
    s = mf.per_user_split(d, val=0.2, test=0.2, seed=0)
    assert len(s.train) + len(s.val) + len(s.test) == len(d)
    active = d.user_counts() > 0
    assert (s.train.user_counts()[active] >= 1).all()
    share = s.val.user_counts()[d.user_counts() >= 20] / d.user_counts()[d.user_counts() >= 20]
    assert np.all(np.abs(share - 0.2) < 0.06)


def test_cold_item_split_holds_out_whole_items():
    d = mf.synthetic(100, 200, 5000, seed=0)
    s = mf.cold_item_split(d, cold=0.2, seed=0)
    cold = s.train.cold_items
    assert len(cold) == 40 and s.kind == "cold-item"
    assert not np.isin(s.train.items, cold).any()
    assert np.isin(np.concatenate([s.val.items, s.test.items]), cold).sum() == np.isin(d.items, cold).sum()


def test_split_rejects_bad_shares():
    d = mf.synthetic(20, 20, 100, seed=0)
    with pytest.raises(ValueError, match="val"):
        mf.random_split(d, val=1.5)
    with pytest.raises(ValueError, match="val \\+ test"):
        mf.random_split(d, val=0.6, test=0.5)


def test_ratings_replace_and_split_map_keep_everything_else():
    d = mf.synthetic(50, 60, 900, seed=0)
    bigger = d.replace(n_items=d.n_items + 10, truth=None)
    assert bigger.n_items == 70 and len(bigger) == len(d) and bigger.name == d.name
    assert np.array_equal(bigger.items, d.items) and bigger.scale == d.scale
    with pytest.raises(ValueError, match="outside 0..4"):
        d.replace(n_items=5)                              # validated again
    with pytest.raises(TypeError, match="unknown field"):
        d.replace(colour="red")
    s = mf.random_split(d, seed=0)
    scaled = s.map(lambda r: r.replace(ratings=r.ratings * 2, scale=(2, 10), truth=None))
    assert scaled.kind == s.kind and np.allclose(scaled.val.ratings, 2 * s.val.ratings)
