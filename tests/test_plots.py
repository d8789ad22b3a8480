import numpy as np
import pytest
from matplotlib.figure import Figure

import mfteach as mf
from mfteach.ui import plots


@pytest.fixture(scope="module")
def runs(small):
    a = mf.train(small, epochs=6, batch_size=512)
    b = mf.train(small, epochs=4, batch_size=512, init="default")
    return a, b


def ax():
    return Figure().subplots()


def labelled(a):
    return a.get_xlabel() and a.get_ylabel() and a.get_title()


def test_rmse_curves_update_in_place_and_mark_divergence(runs, small):
    a, b = runs
    p = plots.plot_rmse_curves(a, ax(), mean_rmse=0.9, truth_rmse=0.5)
    assert p.artists and labelled(p.ax)
    line = p.val_line
    assert list(line.get_xdata()) == list(range(7))
    p.update(b, 0.9, 0.5, pinned=a)
    assert p.val_line is line and list(line.get_xdata()) == list(range(5))  # same artist, new data
    assert len(p.pin_val.get_xdata()) == 7 and p.pin_val.get_label().startswith("A")
    assert len(p.div_marker.get_xdata()) == 0
    d = mf.train(small, optimizer="sgd", lr=1e4, epochs=3)
    p.update(d)
    assert len(p.div_marker.get_xdata()) == 1 and "diverged" in p.div_marker.get_label()


def test_norm_plots_and_scatter(runs):
    a, b = runs
    h = plots.plot_norm_histogram(a, ax())
    before = h.now_steps.get_data().values.copy()
    h.update(b)
    assert not np.array_equal(before, h.now_steps.get_data().values) and labelled(h.ax)
    nb = plots.plot_norms_by_bucket(a, ax())
    assert any(len(l.get_xdata()) == 7 for l in nb.lines.values()) and labelled(nb.ax)
    sc = plots.plot_norm_vs_popularity(a, ax())
    assert sc.points.get_offsets().shape == (a.item_norms[0].shape[0], 2)
    assert "ρ = " in sc.ax.get_title()


def test_norm_scatter_thins_only_unrated_rows_and_says_so():
    """A padded table's never-rated rows all sit at x = 0: draw a sample of them, every rated
    row, say so in the legend, and take the legend back when a later run needs no thinning."""
    cold = mf.random_split(mf.synthetic(100, 200, 3000, cold_items=0.1, seed=3), seed=3)
    a = mf.train(cold, epochs=2, batch_size=1024)
    counts = a.train_item_counts
    rated, unrated = int((counts > 0).sum()), int((counts == 0).sum())
    sc = plots.NormVsPopularity(ax(), max_unrated=2)
    sc.update(a)
    drawn = sc.points.get_offsets()
    assert unrated > 2 and len(drawn) == rated + 2
    assert (np.asarray(drawn)[:, 0] > 0).sum() == rated  # no rated row left out
    legend = [t.get_text() for t in sc.ax.get_legend().get_texts()]
    assert f"{rated + 2:,} of {len(counts):,} rows drawn" in legend[0]
    sc.max_unrated = 10_000
    sc.update(a)
    assert len(sc.points.get_offsets()) == len(counts)
    assert [t.get_text() for t in sc.ax.get_legend().get_texts()][0] == "after training"


def test_bucket_bars_recovery_and_spectrum(runs, small):
    a, b = runs
    pred = a.predict(small.val.users, small.val.items)
    res = mf.bucket_rmse(pred, small.val, a.train_item_counts)
    bars = plots.plot_bucket_rmse(res, ax())
    heights = [r.get_height() for r in bars.bars]
    assert heights[3] == pytest.approx(res["buckets"]["popular"]["rmse"]) and labelled(bars.ax)
    r2 = mf.recovery_r2(a.factors()[1], small.truth.item_factors,
                        mf.popularity_buckets(a.train_item_counts))
    rec = plots.plot_recovery(r2, ax())
    assert rec.overall.get_ydata()[0] == pytest.approx(r2["overall"])
    sp = plots.plot_spectrum(*a.factors(), ax(), true_rank=4)
    y = sp.line.get_ydata()
    assert np.all(np.diff(y) <= 1e-9) and labelled(sp.ax)


def test_init_std_vs_rows_marks_the_tables():
    p = plots.plot_init_std_vs_rows(32, 600, 100_000, ax(), scheme="xavier_uniform")
    ys = p.marks.get_ydata()
    assert ys[0] / ys[1] > 10  # Xavier: the bigger table gets a much smaller init
    p.update(32, 600, 100_000, scheme="kaiming")
    assert p.marks.get_ydata()[0] == pytest.approx(p.marks.get_ydata()[1])
    assert p.ax.get_xscale() == "log" and labelled(p.ax)


def test_sweeps_and_prediction_histogram():
    s = plots.plot_sweep([0.01, 0.1, 1], [0.8, 0.6, 0.9], [0.2, 0.5, 0.9], ax(),
                         current=(0.1, 0.6), mean_rmse=0.95)
    assert s.best.get_xdata()[0] == 0.1 and "best" in s.best.get_label()
    s.update([0.01, 0.1, 1], [np.nan, 0.7, 0.65])
    assert s.best.get_xdata()[0] == 1
    ph = plots.plot_prediction_histogram(np.random.default_rng(0).normal(3, 5, 1000), ax())
    assert ph.ax.get_xlim()[0] < -5 and labelled(ph.ax)


def test_message_replaces_the_plot(runs):
    a, _ = runs
    p = plots.plot_rmse_curves(a, ax())
    p.message("nothing to show")
    assert not p.val_line.get_visible() and p._msg.get_text() == "nothing to show"
    p.update(a)
    assert p.val_line.get_visible() and not p._msg.get_visible()


def test_library_does_not_touch_rcparams_or_pyplot(runs):
    import matplotlib
    import matplotlib.pyplot as plt

    before = dict(matplotlib.rcParams)
    n_figs = len(plt.get_fignums())
    from mfteach.lessons import initialization

    initialization.init_std_panel()
    assert dict(matplotlib.rcParams) == before
    assert len(plt.get_fignums()) == n_figs


def test_a_collapsed_spectrum_is_shown_as_a_collapse():
    """All-but-zero embeddings must not autoscale into a healthy-looking spectrum at 1e-7."""
    rng = np.random.default_rng(0)
    sp = plots.plot_spectrum(rng.normal(size=(50, 8)) * 1e-8, rng.normal(size=(60, 8)) * 1e-8, ax())
    assert sp.ax.get_ylim()[0] >= 1e-3 and "collapsed" in sp.note.get_text()
    sp.update(rng.normal(size=(50, 8)), rng.normal(size=(60, 8)))
    assert sp.note.get_text() == "" and sp.ax.get_ylim()[1] > 1


def test_bucket_bars_never_print_nan():
    res = {"overall": 0.9, "per_item": 0.95,
           "buckets": {"cold": {"rmse": float("nan"), "ratings": 0, "items": 0},
                       "rare": {"rmse": float("nan"), "ratings": 5, "items": 2},
                       "mid": {"rmse": 0.8, "ratings": 50, "items": 9},
                       "popular": {"rmse": 0.7, "ratings": 500, "items": 3}}}
    bars = plots.plot_bucket_rmse(res, ax())
    texts = [t.get_text() for t in bars.labels]
    assert not any("nan" in t.lower() for t in texts), texts
