"""Panels driven headlessly: set a control's value, check the status text and the figure."""
import io
import itertools
import re

import numpy as np
import pytest
from PIL import Image

import mfteach as mf
from mfteach.lessons import capstone, initialization, regularization, skew
from mfteach.ui import Choice, Panel, PanelMessage, Slider, Toggle

PANELS = {"init_panel": initialization.init_panel, "init_std_panel": initialization.init_std_panel,
          "reg_panel": regularization.reg_panel, "skew_panel": skew.skew_panel,
          "capstone_panel": capstone.capstone_panel}


def not_blank(png: bytes) -> bool:
    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), float)
    return img.std() > 5  # a white page has std 0


@pytest.fixture
def tiny_data(monkeypatch):
    """Panels on small data, so robustness grids run in seconds."""
    small = mf.random_split(mf.synthetic(120, 200, 4000, item_zipf=1.0, seed=0), seed=0)
    cold = mf.random_split(mf.synthetic(120, 200, 4000, item_zipf=1.0, cold_items=0.05, seed=0), seed=0)

    def fake(item_zipf=1.2, user_zipf=0.8, noise=0.5, cold_items=0.0, n_items=1500, seed=0):
        if cold_items:
            return cold
        return mf.random_split(mf.synthetic(120, 200, 4000, item_zipf=item_zipf,
                                            user_zipf=user_zipf, noise=noise, seed=seed), seed=seed)

    for lesson in (initialization, regularization, skew):
        monkeypatch.setattr(lesson, "notebook_data", fake)
    regularization.u_point.cache_clear()
    yield
    regularization.u_point.cache_clear()


def test_moving_a_control_retrains_and_redraws(tiny_data):
    p = initialization.init_panel()
    first_png, first_status = p.image.value, p.status_text
    assert not_blank(first_png) and "default N(0,1)" in first_status
    p.controls["init"].value = "normal"
    assert p.image.value != first_png and "normal(std)" in p.status_text
    assert p.status_text != first_status and not p.last_seconds["cached"]
    p.controls["init"].value = "default"  # back to a setting seen before: from the cache
    assert p.last_seconds["cached"] and "from cache" in p.status_text
    assert p.result.history.val_rmse == p.cache[p._key(p.values)].history.val_rmse


def test_pin_compares_a_and_b_on_the_same_axes(tiny_data):
    p = initialization.init_panel(init="normal")
    p.pin_button.value = True
    p.controls["dim"].value = 8
    assert "A (dotted)" in p.status_text and "init='normal'" in p.status_text
    assert len(p.view.curves.pin_val.get_xdata()) > 0
    p.pin_button.value = False
    assert len(p.view.curves.pin_val.get_xdata()) == 0 and "A (dotted)" not in p.status_text


def test_copy_settings_line_reproduces_the_panel(tiny_data):
    p = regularization.reg_panel()
    p.set(reg="l1_batch", reg_strength=0.1, epochs=10)
    line = p.copy_box.value
    assert line.startswith("mf.lessons.regularization.reg_panel(") and "l1_batch" in line
    again = eval(line, {"mf": mf})
    assert again.values == p.values
    assert again.result.history.val_rmse == p.result.history.val_rmse


def test_strength_range_follows_the_regularizer(tiny_data):
    p = regularization.reg_panel()
    p.controls["reg"].value = "adam_weight_decay"
    s = p.controls["reg_strength"]
    options = [v for _, v in s.options]
    assert options[0] == pytest.approx(1e-6) and options[-1] == pytest.approx(1e-1)
    assert 1e-6 <= s.value <= 1e-1 and 1e-3 in options  # round values a lesson names are reachable
    p.controls["reg"].value = "adamw"
    assert [v for _, v in s.options][-1] == pytest.approx(20) and "AdamW" in p.status_text
    p.controls["reg"].value = "none"
    assert s.disabled  # "none" has no strength to set


def test_compute_errors_become_plain_messages():
    def compute(v):
        if v["x"] > 5:
            raise PanelMessage("x is too big — lower it")
        if v["x"] > 3:
            raise RuntimeError("boom")
        return v["x"]

    class View:
        def __init__(self, fig):
            self.ax = fig.subplots()
            self.line, = self.ax.plot([0, 1], [0, 0])
            self.msg = None

        def update(self, r, pinned=None):
            self.line.set_ydata([0, r])

        def message(self, text):
            self.msg = text

    p = Panel([Slider("x", 0, 10, 1), Choice("c", ("a", "b"), "a"), Toggle("t")], compute, View,
              describe=lambda r: f"x={r}")
    assert p.status_text.startswith("x=1")
    p.controls["x"].value = 7
    assert "x is too big" in p.status_text and p.view.msg == "x is too big — lower it"
    p.controls["x"].value = 4
    assert "Something unexpected went wrong (RuntimeError: boom)" in p.status_text
    with pytest.raises(ValueError, match="unknown control"):
        p.set(y=1)


def test_panel_displays_with_a_static_png_fallback(tiny_data):
    p = initialization.init_std_panel()
    bundle = p._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/png" in bundle
    assert p.widget.children  # returned, not displayed


def test_projector_mode_uses_bigger_text(tiny_data):
    normal = initialization.init_std_panel().view.plot.ax.xaxis.label.get_fontsize()
    big = initialization.init_std_panel(projector=True).view.plot.ax.xaxis.label.get_fontsize()
    assert big > normal * 1.2


def slider_points(spec):
    return [spec.min, spec.max, spec.value]


def grid(panel_factory):
    """Every dropdown value × slider extremes (others at their start), plus every dropdown pair."""
    p = panel_factory()
    specs = p.specs
    choices = {n: [v for _, v in s.pairs()] if isinstance(s, Choice) else [False, True]
               for n, s in specs.items() if isinstance(s, (Choice, Toggle))}
    sliders = {n: s for n, s in specs.items() if isinstance(s, Slider)}
    combos = []
    for (cname, cvals) in choices.items():
        for cv in cvals:
            combos.append({cname: cv})
            for sname, s in sliders.items():
                for x in ("min", "max"):  # of its range under this choice (it may follow it)
                    combos.append({cname: cv, sname: x})
    names = list(choices)
    for a, b in itertools.combinations(names, 2):
        for va, vb in itertools.product(choices[a], choices[b]):
            combos.append({a: va, b: vb})
    return p, combos


@pytest.mark.parametrize("factory", ["init_panel", "init_std_panel", "reg_panel", "skew_panel",
                                     "capstone_panel"])
def test_every_control_combination_gives_a_plot_or_a_plain_message(tiny_data, factory):
    p, combos = grid(PANELS[factory])
    for combo in combos:
        p.reset()  # the others at their start (from the cache)
        chosen = {n: v for n, v in combo.items() if v not in ("min", "max")}
        change = (p.links({**p.values, **chosen}, p.values) or {}) if p.links else {}
        p.set(**chosen, **{n: change.get(n, {}).get(v, getattr(p.specs[n], v))
                           for n, v in combo.items() if n not in chosen})
        text = p.status_text
        assert text.strip(), combo
        assert "Something unexpected" not in text and "Could not draw" not in text, (combo, text)
        assert not_blank(p.image.value), combo
        if p.result is not None and hasattr(p.result, "history"):
            h = p.result.history
            assert (h.diverged is None) or ("diverged" in text), (combo, text)


def test_sliders_only_update_on_release(tiny_data):
    for factory in (initialization.init_panel, regularization.reg_panel, skew.skew_panel):
        p = factory()
        for name, wid in p.controls.items():
            if hasattr(wid, "continuous_update"):
                assert wid.continuous_update is False, name


def test_projector_mode_from_the_environment(tiny_data, monkeypatch):
    normal = initialization.init_std_panel().view.plot.ax.xaxis.label.get_fontsize()
    monkeypatch.setenv("MFTEACH_PROJECTOR", "1")
    assert initialization.init_std_panel().view.plot.ax.xaxis.label.get_fontsize() > normal * 1.2


def test_axes_labels_never_run_into_a_neighbour_after_an_update():
    """The layout is frozen after the first draw for speed; when tick labels grow (capstone:
    bar axis 0–5 → 0.0–2.0 once the biases fault is off), it must be redone, not overlap."""
    from matplotlib.transforms import Bbox

    p = capstone.capstone_panel("medium")
    p.set(biases=False)
    renderer = p.fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in p.fig.axes]
    for a, b in itertools.combinations(range(len(boxes)), 2):
        inter = Bbox.intersection(boxes[a], boxes[b])
        assert inter is None or inter.width <= 0 or inter.height <= 0, (a, b, inter)


def test_panel_displays_with_ipywidgets_7_too(monkeypatch):
    """Colab ships ipywidgets 7, whose widgets have no _repr_mimebundle_ (they display through
    _ipython_display_): the panel must still give a live view plus its static PNG."""
    p = initialization.init_std_panel()

    class Widget7:  # what matters of an ipywidgets 7 VBox here: a model id, no mimebundle
        model_id = p.widget.model_id

    monkeypatch.setattr(p, "widget", Widget7())
    bundle = p._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == Widget7.model_id
    assert bundle["image/png"] and "mfteach panel" in bundle["text/plain"]


def test_reset_returns_to_the_starting_settings(tiny_data):
    """A teacher explores, then one click brings the class back to the panel's first run."""
    p = regularization.reg_panel()
    first_status, first_result = p.status_text, p.result
    p.controls["reg"].value = "adamw"          # the strength range follows: 1e-3 … 100
    p.controls["reg_strength"].value = 10.0
    p.controls["epochs"].value = 25
    assert p.values != p.start_values
    p.reset_button.click()
    assert p.values == p.start_values
    assert p.last_seconds["cached"] and p.result is first_result  # the very same run, redrawn
    assert p.status_text.split(" (")[0] == first_status.split(" (")[0]
    # a range that follows a choice is set before the value that needs it
    p.set(reg="adamw", reg_strength=10.0)
    assert p.values["reg_strength"] == pytest.approx(10.0, rel=0.01)


def _moves(p):
    """One new value per control: another option, the other end of a slider, the other state."""
    for name, spec in p.specs.items():
        now = p.values[name]
        if isinstance(spec, Choice):
            yield name, next(v for _, v in spec.pairs() if v != now)
        elif isinstance(spec, Toggle):
            yield name, not now
        else:  # the ends of its range now (it may follow a choice moved before)
            wid = p.controls[name]
            lo, hi = (wid.options[0][1], wid.options[-1][1]) if spec.log else (wid.min, wid.max)
            yield name, hi if now != hi else lo


def _same_run(a, b):
    assert b.values == a.values
    assert b.describe(b.result) == a.describe(a.result)
    if hasattr(a.result, "history"):
        assert b.result.history.val_rmse == a.result.history.val_rmse


@pytest.mark.parametrize("factory, args", [
    ("init_panel", {}), ("init_panel", {"init": "normal", "dim": 64}),
    ("init_std_panel", {}), ("init_std_panel", {"n_users": 5000, "n_items": 1_000_000}),
    ("reg_panel", {}), ("reg_panel", {"reg": "adamw", "reg_strength": 1.0}),
    ("skew_panel", {}), ("skew_panel", {"optimizer": "sgd", "lr": 30.0}),
    ("capstone_panel", {"level": "easy"}), ("capstone_panel", {"level": "medium", "init": False}),
    ("capstone_panel", {}),
])
def test_reproduce_line_rebuilds_the_same_panel(tiny_data, factory, args):
    """The Reproduce line, evaluated in a notebook (import mfteach as mf), gives the same settings
    and the same numbers: at the start and after moving each control."""
    p = PANELS[factory](**args)
    _same_run(p, eval(p.copy_box.value, {"mf": mf}))
    for name, value in _moves(p):
        p.set(**{name: value})
        line = p.copy_box.value
        assert line.startswith(f"mf.lessons.") and "#" not in line, line
        _same_run(p, eval(line, {"mf": mf}))


def test_reproduce_line_names_only_what_differs_from_the_defaults(tiny_data):
    p = initialization.init_panel(init="normal")
    assert p.copy_box.value == "mf.lessons.initialization.init_panel(init='normal')"
    p.set(init="default")
    assert p.copy_box.value == "mf.lessons.initialization.init_panel()"
    assert "level='medium'" in capstone.capstone_panel("medium").copy_box.value
    custom = initialization.init_panel(mf.random_split(mf.synthetic(50, 60, 900, seed=0), seed=0))
    assert custom.copy_box.value.startswith("# built with split=<Split>")


def test_bad_settings_are_refused_with_the_control_named(tiny_data):
    p = initialization.init_panel()
    with pytest.raises(ValueError, match="init must be one of"):
        p.set(init="bogus")
    with pytest.raises(ValueError, match="dim must be a finite number"):
        p.set(dim="abc")
    with pytest.raises(ValueError, match="level must be one of"):
        capstone.capstone_panel("impossible")
    with pytest.raises(ValueError, match="n_users must be a positive integer"):
        initialization.init_std_panel(n_users=-5)
    with pytest.raises(ValueError, match="reg_strength for 'adam_weight_decay' must be in"):
        regularization.reg_panel(reg="adam_weight_decay", reg_strength=0.5)
    with pytest.raises(ValueError, match="has no fault"):
        capstone.capstone_panel("easy", sgd_lr=False)
    # set() refuses what the builder refuses (it clamped: init_std=-1 trained std 0.001)
    with pytest.raises(ValueError, match=r"init_std must be in 0.001..3 here, got -1"):
        p.set(init_std=-1)
    with pytest.raises(ValueError, match=r"dim must be in 4..128 here"):
        p.set(dim=10 ** 9)
    r = regularization.reg_panel()
    with pytest.raises(ValueError, match=r"reg_strength must be in 1e-06..0.1 here, got 0.5"):
        r.set(reg="adam_weight_decay", reg_strength=0.5)
    r.set(reg_strength=0.002, reg="adam_weight_decay")  # the choice first, whatever the order
    assert r.values["reg_strength"] == pytest.approx(0.002, rel=0.2)


def test_result_cache_is_bounded_by_bytes_and_count():
    from mfteach.ui.cache import ResultCache, nbytes

    cache = ResultCache(max_items=10, max_bytes=3 * 8_000_000)
    for k in range(6):
        cache.put(k, {"table": np.zeros(1_000_000)})   # 8 MB each
    assert len(cache) == 3 and cache.bytes <= 3 * 8_000_000
    assert 5 in cache and 0 not in cache               # the oldest went first
    small = ResultCache(max_items=2)
    for k in range(4):
        small.put(k, [np.zeros(3)])
    assert len(small) == 2 and nbytes({"a": np.zeros(3), "b": [np.zeros(2)]}) == 40


def test_a_cached_run_keeps_no_gradients(tiny_data):
    p = initialization.init_panel()
    model = p.result.history.model
    assert all(w.grad is None for w in model.parameters())


def test_save_figure_gives_a_png_download_link(tiny_data):
    import base64

    p = initialization.init_std_panel()
    assert p.save_link.value == ""
    p.save_button.click()
    link = p.save_link.value
    assert "download=" in link and link.count("data:image/png;base64,") == 1
    data = link.split("base64,")[1].split("'")[0]
    assert base64.b64decode(data) == p.image.value


def test_projector_switch_for_front_ends_without_environment(tiny_data):
    from mfteach import ui

    normal = initialization.init_std_panel().view.plot.ax.xaxis.label.get_fontsize()
    ui.projector(True)
    try:
        assert initialization.init_std_panel().projector
        assert initialization.init_std_panel().view.plot.ax.xaxis.label.get_fontsize() > normal * 1.2
    finally:
        ui.projector(False)
    assert not initialization.init_std_panel().projector


def test_a_new_regularizer_starts_at_its_own_strength(tiny_data):
    """λ = 0.05 suits L2 on the batch's rows but is far past Adam weight_decay's cliff: switching
    the regularizer moves the strength to the new one's start value."""
    p = regularization.reg_panel()
    assert p.values["reg_strength"] == pytest.approx(0.05)
    p.set(reg="adam_weight_decay")
    assert p.values["reg_strength"] == pytest.approx(regularization.REGULARIZERS["adam_weight_decay"].start)
    p.set(reg_strength=2e-3)
    p.set(epochs=10)                                   # other moves keep the student's λ
    assert p.values["reg_strength"] == pytest.approx(2e-3)


def test_pinned_a_is_drawn_in_every_subplot_of_the_init_panel(tiny_data):
    p = initialization.init_panel()
    p.pin_button.value = True
    p.set(dim=8)
    v = p.view
    assert len(v.curves.pin_val.get_xdata()) > 0
    assert v.preds.pin_steps.get_label() == "A (dotted)"
    assert any(len(l.get_xdata()) for l in v.buckets.pin_lines.values())


def test_init_panel_says_when_the_learned_matrix_collapses(tiny_data):
    """The try-this points at the constant init's rank-1 collapse: the panel must show it."""
    p = initialization.init_panel(init="constant")
    assert "rank 1" in p.status_text
    p.set(init="zeros")
    assert "rank 0" in p.status_text
    p.set(init="normal")
    assert "rank" not in p.status_text


def test_a_run_that_diverged_midway_is_shown_as_no_result(tiny_data):
    """Its last finite epoch is no result: bars, recovery and norms of it read as findings
    ("popular items have the worst error"). The curves show the blow-up; the rest say why they
    are empty; the status states no RMSE of it (helper-43)."""
    p = skew.skew_panel(item_zipf=0.0, optimizer="sgd", lr=300.0)  # diverges at epoch 5
    h, v = p.result.history, p.view
    assert h.diverged and len(h.epochs) > 1
    assert "diverged at epoch" in p.status_text and "val RMSE" not in p.status_text
    assert v.bars._msg.get_visible() and "no trained model" in v.bars._msg.get_text()
    for plot in (v.bars, v.recovery, v.scatter):
        assert not any(a.get_visible() for a in plot.artists if hasattr(a, "get_visible"))
        assert not plot.ax.xaxis.get_visible() and plot.ax.get_title() == plot._own_title()
    assert v.curves.div_marker.get_visible()
    p.set(lr=30.0)  # back to a run that trains: everything returns
    assert not p.result.history.diverged and not v.bars._msg.get_visible()
    assert v.bars.ax.xaxis.get_visible() and v.bars.ax.get_legend().get_visible()


def test_a_pinned_run_that_diverged_is_drawn_in_the_curves_only(tiny_data):
    """A diverged A drew its last finite epoch as bars, R² marks and a ρ in the title, and its
    blow-up stretched B's curve flat (helper-44)."""
    p = skew.skew_panel(item_zipf=0.0, optimizer="sgd", lr=300.0)  # diverges at epoch 5
    p.pin_button.value = True
    p.set(lr=30.0)
    v = p.view
    assert p.pinned[1].history.diverged and not p.result.history.diverged
    assert "A" not in v.scatter.ax.get_title()
    assert len(v.bars.pin_marks.get_xdata()) == 0 and len(v.recovery.pin_marks.get_xdata()) == 0
    top = max(max(p.result.history.train_rmse), max(p.result.history.val_rmse))
    assert v.curves.ax.get_ylim()[1] < 3 * top  # B's range, A off the top
    assert len(v.curves.pin_val.get_xdata()) > 0  # A is still there, in the curves
    assert "A (dotted)" in p.status_text and "diverged: drawn in the training curves only" in \
        p.status_text


def test_a_message_hides_the_old_legend_axis_and_title(tiny_data):
    """'No regularizer: no U-curve' kept the last U-curve's 'best: 0.1 → 0.621' legend, its λ
    axis and label (helper-43); a diverged init showed its init as 'after training'."""
    p = regularization.reg_panel(epochs=5)
    sweep = p.view.sweep
    p.set(reg="none")
    assert sweep._msg.get_visible() and not sweep.ax.get_legend().get_visible()
    assert not sweep.ax.xaxis.get_visible() and sweep.ax.get_title() == "Validation U-curve"
    p.set(reg="l2_batch")
    assert not sweep._msg.get_visible() and sweep.ax.get_legend().get_visible()
    assert sweep.ax.xaxis.get_visible()
    q = initialization.init_panel(init="normal", init_std=3.0, dim=4, optimizer="sgd")
    assert q.result.history.diverged and q.view.norms._msg.get_visible()
    assert not any(a.get_visible() for a in q.view.norms.artists if hasattr(a, "get_visible"))


def test_a_message_fits_inside_its_axes():
    """matplotlib's wrap=True wraps to the figure's width: a centred message ran out of its
    axes, over the neighbouring plot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from mfteach.ui import plots

    fig = Figure(figsize=(9, 5.4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    (a, b), (c, d) = fig.subplots(2, 2, squeeze=False)
    bars = plots.BucketBars(a)
    bars.message("diverged at epoch 1 (step 7): loss became infinite — lower the learning rate "
                 "(now 1000). Nothing to show: try a smaller learning rate.")
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    box, ax_box = bars._msg.get_window_extent(r), a.get_window_extent(r)
    assert ax_box.x0 <= box.x0 and box.x1 <= ax_box.x1


def test_pinned_a_is_drawn_in_the_other_panels_too(tiny_data):
    p = skew.skew_panel()
    p.pin_button.value = True
    p.set(item_zipf=0.5)
    assert p.view.recovery.pin_marks.get_label() == "A" and "; A " in p.view.scatter.ax.get_title()
    r = regularization.reg_panel()
    r.pin_button.value = True
    r.set(reg_strength=0.2)
    assert r.view.sweep.pin_now.get_label() == "A" and len(r.view.sweep.pin_now.get_xdata()) == 1
    c = capstone.capstone_panel("easy")
    c.pin_button.value = True
    c.set(init=False)
    assert len(c.view.spectrum.pin_line.get_xdata()) > 0


# -- the work scheduler: current run first, sweep points after, newer moves supersede ------------
def _toy(calls, swept, points=5, point_s=0.0, compute_s=0.0, **kw):
    """A panel whose compute and sweep record what they were asked; a sweep point's value is a
    function of the point alone (computed in ``point_s`` seconds)."""
    from mfteach.ui import Sweep

    class View:
        def __init__(self, fig):
            self.ax = fig.subplots()
            self.line, = self.ax.plot([], [], "o-")
            self.ax.set(xlim=(-1, points), ylim=(0, 120))
            self.sweep_axes, self.seen, self.previews = [self.ax], None, []

        def update(self, r, pinned=None, sweep=None):
            self.seen = sweep
            done = [p for p in sweep.points if p in sweep.done]
            self.line.set_data([p[1] for p in done], [sweep.done[p] for p in done])

        def update_sweep(self, r, pinned, sweep):
            self.update(r, pinned, sweep)
            return self.sweep_axes

        def update_preview(self, r, pinned, values, sweep):  # used only with preview=
            self.previews.append((r, values["x"]))
            self.update(r, pinned, sweep)

    def compute(v):
        import time

        calls.append(v["x"])
        time.sleep(compute_s)
        return v["x"]

    def run(point):
        import time

        time.sleep(point_s)
        swept.append(point)
        return float(point[0] * 10 + point[1])

    kw.setdefault("ahead", False)  # computing ahead has its own tests: keep these call lists exact
    return Panel([Slider("x", 0, 10, 1, step=1, integer=True)], compute, View,
                 describe=lambda r: f"x={r}",
                 sweep=lambda v: Sweep(tuple((v["x"], k) for k in range(points)), run), **kw)


async def _until(cond, timeout=20):
    import asyncio
    import time

    t = time.perf_counter()
    while not cond():
        assert time.perf_counter() - t < timeout, "the panel's work never finished"
        await asyncio.sleep(0.002)



def _run_in_fresh_thread(scenario):
    """asyncio.run(scenario()) in a thread of its own: the test process may already run a loop in
    the main thread (Playwright's sync API, for the browser tests of the same session)."""
    import asyncio
    import threading

    out = {}

    def target():
        try:
            out["value"] = asyncio.run(scenario())
        except BaseException as e:  # noqa: BLE001 - re-raised in the test's thread
            out["error"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]

def test_a_burst_of_moves_retrains_once_for_the_last_value():
    import asyncio

    async def scenario():
        calls, swept = [], []
        # built inside a running loop, as in a kernel; a sweep point takes 0.1 s, so that a busy
        # machine cannot run all of value 1's points before the burst (seen once, loaded: a race)
        p = _toy(calls, swept, background=True, point_s=0.1)
        assert calls == [1] and p._job.phase == "sweep"  # drawn; its sweep not yet run
        for x in range(2, 9):                      # a burst: seven moves, no loop turn between
            p.controls["x"].value = x
        await _until(lambda: p._job.phase == "done")
        return p, calls, swept

    p, calls, swept = _run_in_fresh_thread(scenario)
    assert calls == [1, 8] and p.result == 8
    # only the last value's sweep ran, besides the stale point the worker may have had under way
    # when the burst came (it finishes, and is kept: the others were dropped)
    assert [s for s in swept if s[0] == 8] == [(8, k) for k in range(5)]
    assert [s for s in swept if s[0] != 8] in ([], [(1, 0)])
    assert p.view.seen.complete and list(p.view.line.get_ydata()) == [80.0, 81.0, 82.0, 83.0, 84.0]


def test_sweep_points_that_arrive_together_are_drawn_once():
    """While a cell runs the kernel's loop waits; the sweep points the worker finishes meanwhile
    arrive together after it, and the figure is drawn once for all of them, not once each."""
    import asyncio
    import time

    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True)
        draws = []
        real = p._render
        p._render = lambda job, full: (draws.append(full), real(job, full))[1]
        await asyncio.sleep(0)                      # the sweep goes to the worker ...
        t = time.perf_counter()
        while len(swept) < 5 and time.perf_counter() - t < 20:
            time.sleep(0.01)                        # ... while "a cell" blocks the loop
        await _until(lambda: p._job.phase == "done")
        return p, draws

    p, draws = _run_in_fresh_thread(scenario)
    assert draws == [False], draws                  # one drawing for the five points
    assert list(p.view.line.get_ydata()) == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert "sweep:" not in p.status_text


def test_points_that_arrived_with_a_failing_point_are_drawn_before_its_message():
    """A sweep point that raises ends the sweep with a message; the points that arrived just
    before it (in the same loop turn) are still drawn, as they were when each was drawn alone
    (found by review: the queued drawing was dropped)."""
    import asyncio
    import time

    from mfteach.ui import Sweep

    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True)
        await _until(lambda: p._job.phase == "done")
        spec_of = p.sweep_of

        def failing(v):
            spec = spec_of(v)

            def run(point):
                if point[1] == 2:
                    swept.append(point)
                    raise RuntimeError("boom at point 2")
                return spec.run(point)
            return Sweep(spec.points, run)

        p.sweep_of = failing
        p.controls["x"].value = 2
        await _until(lambda: p._job.values["x"] == 2 and p._job.phase == "sweep")
        t = time.perf_counter()
        while sum(pt[0] == 2 for pt in swept) < 3 and time.perf_counter() - t < 20:
            time.sleep(0.01)                        # "a cell" blocks the loop meanwhile
        await _until(lambda: p._job.phase == "done")
        return p

    p = _run_in_fresh_thread(scenario)
    assert "boom at point 2" in p.status.value
    assert list(p.view.line.get_ydata())[:2] == [20.0, 21.0]


def test_sweep_points_that_arrive_apart_are_each_drawn():
    import asyncio

    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True, point_s=0.05)
        draws = []
        real = p._render
        p._render = lambda job, full: (draws.append(full), real(job, full))[1]
        await _until(lambda: p._job.phase == "done")
        return p, draws

    p, draws = _run_in_fresh_thread(scenario)
    assert draws == [False] * 5, draws              # the sweep fills in point by point
    assert list(p.view.line.get_ydata()) == [10.0, 11.0, 12.0, 13.0, 14.0]


def test_a_newer_move_supersedes_a_sweep_filling_in_and_the_status_says_how_far():
    import asyncio

    async def scenario():
        calls, swept, texts = [], [], []
        p = _toy(calls, swept, background=True, point_s=0.05)
        p.controls["x"].value = 2
        await _until(lambda: any(pt[0] == 2 for pt in swept))
        texts.append(p.status_text)                # one point of x=2's sweep done
        p.controls["x"].value = 3                  # stale work: the rest of x=2's sweep
        await _until(lambda: p._job.phase == "done")
        texts.append(p.status_text)
        return p, calls, swept, texts

    p, calls, swept, texts = _run_in_fresh_thread(scenario)
    assert calls == [1, 2, 3]
    assert 1 <= sum(pt[0] == 2 for pt in swept) < 5 and sum(pt[0] == 3 for pt in swept) == 5
    assert "x=2" in texts[0] and re.search(r"sweep: run [1-4]/5", texts[0]), texts[0]
    assert texts[1].startswith("x=3") and "sweep:" not in texts[1]


def test_code_gets_the_current_run_at_once_and_wait_finishes_the_sweep():
    import asyncio

    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True)
        assert p.set(x=4) is p and p.result == 4 and "sweep: run 0/5" in p.status_text
        p.wait()
        return p, swept

    p, swept = _run_in_fresh_thread(scenario)
    assert p._job.phase == "done" and [pt for pt in swept if pt[0] == 4] == [(4, k) for k in range(5)]
    assert "image/png" in p._repr_mimebundle_()    # the saved copy is the finished figure


def test_the_status_times_the_current_run_not_the_sweep_point_drawn_last():
    calls, swept = [], []
    p = _toy(calls, swept)                        # no kernel: the move and its sweep run at once
    p.set(x=3)
    job = p._job
    assert job.phase == "done" and [pt for pt in swept if pt[0] == 3] == [(3, k) for k in range(5)]
    shown = float(re.search(r"drawn in ([0-9.]+) s", p.status_text).group(1))
    own = job.seconds["draw"] + job.seconds["encode"]
    assert abs(shown - own) < 0.006, (shown, own)      # (printed to 2 decimals)
    assert p.last_seconds["partial"]                   # the last image was a sweep point's


def test_background_needs_a_running_loop():
    # in a fresh thread: no loop there, whatever else runs in the test process (Playwright's)
    import threading

    seen = []

    def build():
        with pytest.raises(ValueError, match="background=True needs a running event loop"):
            _toy([], [], background=True)
        seen.append(True)

    t = threading.Thread(target=build)
    t.start()
    t.join()
    assert seen == [True]


def test_outside_a_kernel_a_running_loop_does_not_make_work_background():
    """A loop that is not a Jupyter kernel's (Playwright's sync API runs one in the test process)
    would never drive the steps: panels built under it work inline."""
    import asyncio

    async def scenario():
        return _toy([], [])

    p = _run_in_fresh_thread(scenario)
    assert not p.scheduler.background


def test_partial_redraws_give_the_same_picture_as_a_full_one():
    calls, swept = [], []
    p = _toy(calls, swept)                         # no loop: all at once, sweep redrawn point by point
    assert p.last_seconds["partial"] and p.view.seen.complete
    partial = np.asarray(Image.open(io.BytesIO(p.image.value)).convert("RGB"), int)
    full = np.asarray(Image.open(io.BytesIO(p.renderer.png())).convert("RGB"), int)
    assert (np.abs(partial - full).max(axis=2) > 40).mean() < 1e-3


def test_the_u_curve_fills_in_and_its_numbers_do_not_depend_on_order(tiny_data):
    p = regularization.reg_panel()
    p.set(reg="l1_batch", reg_strength=0.1)
    xs, val, tr = regularization.reg_sweep("l1_batch", True, 15, progress=False)
    line = p.view.sweep.val_line
    assert list(line.get_xdata()) == list(xs) and np.allclose(line.get_ydata(), val, equal_nan=True)
    assert np.isfinite(val).sum() >= 5 and "sweep:" not in p.status_text
    assert "sweep" not in p.view.sweep.ax.get_title()
    # each point is seeded from its settings: other orders (and other training between) agree
    points = [("l1_batch", True, 15, float(x)) for x in xs]
    regularization.u_point.cache_clear()
    backwards = {pt: regularization.u_point(*pt) for pt in reversed(points)}
    regularization.u_point.cache_clear()
    regularization.u_point("adamw", True, 5, 1.0)
    shuffled = {pt: regularization.u_point(*pt) for pt in (points[3::2] + points[::2] + points[1:3:2])}
    for pt, (v, _) in zip(points, zip(val, tr)):
        assert backwards[pt] == shuffled[pt] and np.allclose(backwards[pt][0], v, equal_nan=True)


def test_sweeps_called_from_code_show_progress_only_when_someone_watches(capsys, tiny_data):
    regularization.reg_sweep("l2_batch", True, 5, points=2)   # "auto": pytest's stderr is no tty
    assert capsys.readouterr() == ("", "")
    lines, split = [], mf.random_split(mf.synthetic(60, 80, 1500, seed=0), seed=0)
    skew.optimizer_lr_sweep(split, grid={"adam": [0.01, 0.02]}, progress=lines.append, epochs=2)
    assert len(lines) == 1 and lines[0].startswith("adam") and "nan" not in lines[0]
    assert re.search(r"learning rates in +\d+\.\d s", lines[0]), lines[0]
    skew.optimizer_lr_sweep(split, grid={"adam": [0.01, 0.02]}, progress=lines.append, epochs=2)
    # the same runs again come from memory: not "in 0.0 s" but where they came from
    assert "kept from an earlier run (trained in" in lines[1] and " 0.0 s;" not in lines[1], lines
    with pytest.raises(ValueError, match="progress must be"):
        regularization.reg_sweep("l2_batch", True, 5, points=2, progress="yes")


def _idle(p):
    """Nothing of ``p``'s left on the worker (what it computed may still be on its way to the
    loop: wait a few loop turns after this)."""
    from mfteach.ui.worker import WORKER

    return p._job.phase == "done" and not WORKER.pending(p)


def test_idle_time_computes_the_next_step_either_side_and_a_step_there_only_draws(monkeypatch):
    """A panel just built computes one step of each control ahead (once no cell trains); after a
    move is drawn and its sweep filled in, the settings one step either side of the control just
    moved (same compute, into the cache): the next step there is answered from the cache."""
    from mfteach.ui.worker import WORKER

    monkeypatch.setattr(WORKER, "idle_s", 0.0)

    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True, ahead=True)
        await _until(lambda: _idle(p) and len(p.cache) == 3)
        assert calls == [1, 2, 0]                  # built: a step either side
        p.controls["x"].value = 5
        await _until(lambda: _idle(p) and len(p.cache) == 6)
        assert calls == [1, 2, 0, 5, 6, 4]
        p.controls["x"].value = 6                  # one step up: computed already
        await _until(lambda: p._job.phase == "done")
        cached = p._job.cached
        await _until(lambda: _idle(p) and 7 in calls)
        p.controls["x"].value = 9                  # a jump: computed now
        await _until(lambda: _idle(p) and 8 in calls)
        await asyncio.sleep(0.05)
        return p, calls, cached

    import asyncio
    p, calls, cached = _run_in_fresh_thread(scenario)
    assert cached and p.result == 9 and "from cache" not in p.status_text
    # 6 and 4 ahead of 5; then 7 ahead of 6 (5 is cached); then 10 and 8 ahead of 9
    assert calls == [1, 2, 0, 5, 6, 4, 7, 9, 10, 8]


def test_a_panel_just_built_computes_ahead_only_once_no_cell_has_trained_for_a_while(monkeypatch):
    """Run All: the guesses of a panel just built wait until the cells stop training."""
    from mfteach import training
    from mfteach.ui.worker import WORKER

    now = {"quiet": 0.0, "cells": 0}
    monkeypatch.setattr("mfteach.ui.worker.quiet_for", lambda: now["quiet"])
    monkeypatch.setattr("mfteach.ui.worker._cells_run", lambda: now["cells"])
    monkeypatch.setattr(WORKER, "idle_s", 0.4)
    assert training.quiet_for() >= 0.0

    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True, ahead=True)
        await asyncio.sleep(0.6)                   # the worker looked twice: a cell trains
        before = [list(calls)]
        now["quiet"] = 5.0                         # no more training, but cells still run
        for _ in range(6):
            now["cells"] += 1
            await asyncio.sleep(0.2)
        before.append(list(calls))
        await _until(lambda: _idle(p) and len(calls) == 3)   # Run All is over
        return before, calls

    import asyncio
    before, calls = _run_in_fresh_thread(scenario)
    assert before == [[1], [1]] and calls == [1, 2, 0]


def test_a_move_drops_what_was_still_to_be_computed_ahead(monkeypatch):
    from mfteach.ui.worker import WORKER

    monkeypatch.setattr(WORKER, "idle_s", 1e9)  # the built panel's guesses never start here

    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True, ahead=True, compute_s=0.05)
        p.controls["x"].value = 5
        await _until(lambda: WORKER.running(p, p._key({"x": 6})) is not None)
        assert len(WORKER.pending(p)) == 2         # 6 under way, 4 queued ...
        p.controls["x"].value = 9                  # ... and dropped; 6 finishes
        await _until(lambda: _idle(p) and {8, 10} <= set(calls))
        import asyncio
        await asyncio.sleep(0.05)
        return calls

    calls = _run_in_fresh_thread(scenario)
    assert calls[:2] == [1, 5] and sorted(calls[2:4]) == [6, 9] and calls[4:] == [10, 8]


def test_a_move_to_the_setting_under_way_ahead_takes_that_run():
    """The worker is computing 6 when the student steps there: the move waits for that run
    (unpaused) instead of computing it a second time."""
    from mfteach.ui.worker import WORKER

    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True, ahead=True, compute_s=0.2)
        p.controls["x"].value = 5
        await _until(lambda: WORKER.running(p, p._key({"x": 6})) is not None)
        p.controls["x"].value = 6
        await _until(lambda: p._job.phase == "done" and p.result == 6)
        return calls

    calls = _run_in_fresh_thread(scenario)
    assert calls[:3] == [1, 5, 6] and calls.count(6) == 1


def test_computing_ahead_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("MFTEACH_AHEAD", "0")

    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True, ahead=None)
        p.controls["x"].value = 5
        await _until(lambda: p._job.phase == "done")
        import asyncio
        await asyncio.sleep(0.05)
        return p, calls

    p, calls = _run_in_fresh_thread(scenario)
    assert not p.ahead and calls == [1, 5]


def test_ctrl_c_during_a_move_does_not_leave_the_worker_paused():
    """A KeyboardInterrupt in a cell's p.set(...) skips the normal end of the move: the panel must
    not stay marked busy (the worker would pause every run for it)."""
    from mfteach.ui.worker import WORKER

    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True)
        real = p.compute

        def compute(v):
            if v["x"] == 3:
                raise KeyboardInterrupt
            return real(v)

        p.compute = compute
        with pytest.raises(KeyboardInterrupt):
            p.set(x=3)
        with WORKER._cv:
            return p in WORKER._busy, WORKER._moving()

    assert _run_in_fresh_thread(scenario) == (False, False)


# -- a long move's first look: a shorter run drawn while the full one trains ----------------------
def _long(v):
    return {"x": 0} if v["x"] >= 5 else None  # "x ≥ 5 trains long; x = 0 is its first part"


def _watched(p):
    """What the panel put on screen, in order: ("preview"/"full", result, status just after)."""
    seen = []
    draw, look = p._render, p._preview

    def render(job, full):
        draw(job, full)
        if full:
            seen.append(("full", job.result, p.status_text))

    def preview(job):
        n = len(p.view.previews)
        look(job)
        if len(p.view.previews) > n:
            seen.append(("preview", p.view.previews[-1][0], p.status_text))
    p._render, p._preview = render, preview
    return seen


def test_a_long_move_draws_a_shorter_run_first_then_its_own():
    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True, preview=_long)
        await _until(lambda: p._job.phase == "done")
        seen = _watched(p)
        p.controls["x"].value = 8
        await _until(lambda: p._job.phase == "done")
        first = list(seen)
        p.controls["x"].value = 3                   # short: no first look
        await _until(lambda: p._job.phase == "done")
        p.controls["x"].value = 9                   # its first look is in the cache now
        await _until(lambda: p._job.phase == "done")
        return p, calls, first, seen

    p, calls, first, seen = _run_in_fresh_thread(scenario)
    assert [(k, r) for k, r, _ in first] == [("preview", 0), ("full", 8)]
    assert "showing x=0 while x=8 trains" in first[0][2] and "computed in" in first[0][2]
    assert "showing" not in first[1][2] and "x=8" in first[1][2]
    assert calls == [1, 0, 8, 3, 9]                 # x = 0 computed once, for the first look
    assert [(k, r) for k, r, _ in seen[2:]] == [("full", 3), ("preview", 0), ("full", 9)]
    assert "from cache" in seen[3][2]
    assert p.result == 9 and p.view.previews == [(0, 8), (0, 9)]


def test_a_burst_of_long_moves_looks_first_only_at_the_last():
    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True, preview=_long)
        await _until(lambda: p._job.phase == "done")
        for x in range(5, 10):                      # no loop turn between the moves
            p.controls["x"].value = x
        await _until(lambda: p._job.phase == "done")
        return p, calls

    p, calls = _run_in_fresh_thread(scenario)
    assert calls == [1, 0, 9] and p.view.previews == [(0, 9)] and p.result == 9


def test_code_and_a_panel_outside_a_kernel_never_draw_a_first_look():
    """``set`` from a cell waits for the full run anyway: a first look would only cost it a
    drawing. Without a loop every move is computed at once, so there is nothing to look at."""
    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True, preview=_long)
        p.set(x=8)
        return p, calls

    p, calls = _run_in_fresh_thread(scenario)
    assert calls == [1, 8] and p.view.previews == []
    calls = []
    q = _toy(calls, [], preview=_long)
    q.controls["x"].value = 8
    assert calls == [1, 8] and q.view.previews == [] and q.result == 8


@pytest.mark.parametrize("fault", ["preview_of", "compute", "view"])
def test_a_first_look_that_fails_is_skipped_and_the_move_still_draws(fault):
    def compute_fails(v):
        if v["x"] == 0:
            raise ValueError("no x = 0 here")
        return v["x"]

    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True,
                 preview=(lambda v: 1 / 0) if fault == "preview_of" else _long)
        if fault == "compute":
            p.compute = compute_fails
        if fault == "view":
            p.view.update_preview = lambda *a: 1 / 0
        await _until(lambda: p._job.phase == "done")
        seen = _watched(p)
        p.controls["x"].value = 8
        await _until(lambda: p._job.phase == "done")
        return p, seen

    p, seen = _run_in_fresh_thread(scenario)
    assert [(k, r) for k, r, _ in seen] == [("full", 8)] and p.result == 8
    assert "⚠" not in seen[0][2] and "showing" not in seen[0][2]


def test_reg_panel_shows_a_long_run_s_first_epochs_and_ends_on_the_run_itself(monkeypatch):
    """Notebook 02: epochs 15 → 40 draws the 15-epoch run it goes on from, said so on the plot;
    then the 40-epoch run, the same numbers as training it from scratch."""
    import mfteach.ui.panel as panel_mod

    monkeypatch.setattr(panel_mod, "in_kernel", lambda: True)   # background, as in a kernel

    async def scenario():
        p = regularization.reg_panel(reg="l1_batch", reg_strength=0.03)
        shots = []
        look = p.view.update_preview

        def update_preview(run, pinned, values, sweep):
            look(run, pinned, values, sweep)
            shots.append((run.history.config.epochs, p.view.curves.ax.get_title(),
                          p.view.buckets.ax.get_title(), len(p.view.sweep.now.get_xdata())))
        p.view.update_preview = update_preview
        p.wait()
        p.controls["epochs"].value = 40
        await _until(lambda: p._job.phase in ("sweep", "done"))
        return p, shots

    p, shots = _run_in_fresh_thread(scenario)
    assert shots == [(15, "Training curves: epoch 15 of 40, still training",
                      "Item norms to epoch 15", 0)]
    assert p.view.curves.ax.get_title() == "Training curves"
    assert p.view.buckets.ax.get_title() == "Item norms by popularity"
    assert len(p.view.sweep.now.get_xdata()) == 1   # the live point is back, for the full run
    h = p.result.history
    fresh = mf.train(regularization._data(True), regularization.reg_config("l1_batch", 0.03, 40))
    assert h.config.epochs == 40 and h.val_rmse == fresh.val_rmse
    assert np.array_equal(h.factors()[1], fresh.factors()[1])


def test_reg_panel_looks_first_only_when_much_is_left_to_train():
    p = regularization.reg_panel()
    v = dict(p.values)
    assert v["epochs"] == 15 and p.preview_of(v) is None          # 15 epochs: ≈ 0.2 s
    assert p.preview_of({**v, "epochs": 40}) == {**v, "epochs": 15}  # the run it goes on from
    assert p.preview_of({**v, "epochs": 30}) is None              # 15 to go: not worth a look
    fresh = {**v, "reg_strength": 0.0777}                         # nothing at hand: the first 5
    assert p.preview_of({**fresh, "epochs": 40}) == {**fresh, "epochs": 5}
    assert p.preview_of({**fresh, "epochs": 20}) == {**fresh, "epochs": 5}


def test_a_first_look_while_the_worker_finishes_the_run_hurries_it(monkeypatch):
    """The move's run is under way on the worker (computed ahead): the first look is drawn
    meanwhile, the worker is told to run on without pausing, and its result is the one drawn."""
    import threading
    from types import SimpleNamespace

    from mfteach.ui.worker import WORKER

    task = SimpleNamespace(done=threading.Event(), error=None, result=8)
    task.done.set()
    hurried, panel = [], {}
    monkeypatch.setattr(WORKER, "running", lambda owner, key: task if key == (("x", 8),) else None)
    monkeypatch.setattr(WORKER, "hurry",  # when: how many first looks were drawn by then
                        lambda t: hurried.append((t, len(panel["p"].view.previews))))

    async def scenario():
        calls, swept = [], []
        p = panel["p"] = _toy(calls, swept, background=True, preview=_long)
        await _until(lambda: p._job.phase == "done")
        seen = _watched(p)
        p.controls["x"].value = 8
        await _until(lambda: p._job.phase == "done")
        return p, calls, seen

    p, calls, seen = _run_in_fresh_thread(scenario)
    assert [(k, r) for k, r, _ in seen] == [("preview", 0), ("full", 8)]
    assert hurried[0] == (task, 0) and all(t is task for t, _ in hurried)  # before the look
    assert calls == [1, 0] and p.result == 8          # x = 8 itself came from the worker


def test_a_move_whose_run_fails_after_its_first_look_leaves_no_trace_of_it(monkeypatch):
    """Found by review: the first look's titles ("epoch 15 of 40, still training") stayed above
    the full run's error message."""
    import mfteach.ui.panel as panel_mod

    monkeypatch.setattr(panel_mod, "in_kernel", lambda: True)

    async def scenario():
        p = regularization.reg_panel()
        p.wait()
        real = p.compute

        def compute(v):
            if v["epochs"] == 40:
                raise RuntimeError("boom at 40")
            return real(v)
        p.compute = compute
        looks = []
        p.view.update_preview = (lambda f: lambda *a: (looks.append(a[2]["epochs"]), f(*a)))(
            p.view.update_preview)
        p.controls["epochs"].value = 40
        await _until(lambda: p._job.phase == "done")
        return p, looks

    p, looks = _run_in_fresh_thread(scenario)
    assert looks == [40] and "boom at 40" in p.status_text
    assert [a.get_title() for a in p.fig.axes[:4]] == [
        "Training curves", "Validation U-curve", "Singular values of the learned rating matrix",
        "Item norms by popularity"]


def test_pin_during_a_move_pins_the_run_on_screen_under_its_own_settings():
    """Found by review: "Pin as A" pressed while a move trains pinned the last run drawn under
    the new move's settings."""
    async def scenario():
        calls, swept = [], []
        p = _toy(calls, swept, background=True)
        await _until(lambda: p._job.phase == "done")
        p.controls["x"].value = 8                   # queued: not computed before the press
        p.pin_button.value = True
        await _until(lambda: p._job.phase == "done")
        return p

    p = _run_in_fresh_thread(scenario)
    assert p.pinned == ({"x": 1}, 1) and p.result == 8
    assert "A (dotted) = x=1" in p.status_text
