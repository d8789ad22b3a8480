"""Panels driven headlessly: set a control's value, check the status text and the figure."""
import io
import itertools

import numpy as np
import pytest
from PIL import Image

import mfteach as mf
from mfteach import panels
from mfteach.widgets import Choice, Panel, PanelMessage, Slider, Toggle


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

    monkeypatch.setattr(panels, "notebook_data", fake)
    panels.reg_sweep.cache_clear()
    yield
    panels.reg_sweep.cache_clear()


def test_moving_a_control_retrains_and_redraws(tiny_data):
    p = panels.init_panel()
    first_png, first_status = p.image.value, p.status_text
    assert not_blank(first_png) and "default N(0,1)" in first_status
    p.controls["init"].value = "normal"
    assert p.image.value != first_png and "normal(std)" in p.status_text
    assert p.status_text != first_status and not p.last_seconds["cached"]
    p.controls["init"].value = "default"  # back to a setting seen before: from the cache
    assert p.last_seconds["cached"] and "from cache" in p.status_text
    assert p.result.history.val_rmse == p.cache[p._key(p.values)].history.val_rmse


def test_pin_compares_a_and_b_on_the_same_axes(tiny_data):
    p = panels.init_panel(init="normal")
    p.pin_button.value = True
    p.controls["dim"].value = 8
    assert "A (dotted)" in p.status_text and "init='normal'" in p.status_text
    assert len(p.view.curves.pin_val.get_xdata()) > 0
    p.pin_button.value = False
    assert len(p.view.curves.pin_val.get_xdata()) == 0 and "A (dotted)" not in p.status_text


def test_copy_settings_line_reproduces_the_panel(tiny_data):
    p = panels.reg_panel()
    p.set(reg="l1_batch", strength=0.1, epochs=10)
    line = p.copy_box.value
    assert line.startswith("mf.panels.reg_panel(") and "l1_batch" in line
    again = eval(line, {"mf": mf})
    assert again.values == p.values
    assert again.result.history.val_rmse == p.result.history.val_rmse


def test_strength_range_follows_the_regularizer(tiny_data):
    p = panels.reg_panel()
    p.controls["reg"].value = "adam_wd"
    s = p.controls["strength"]
    assert s.min == pytest.approx(-6) and s.max == pytest.approx(-1)
    assert 1e-6 <= s.value <= 1e-1
    p.controls["reg"].value = "adamw"
    assert s.max == pytest.approx(2) and "AdamW" in p.status_text


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
    p = panels.init_std_panel()
    bundle = p._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/png" in bundle
    assert p.widget.children  # returned, not displayed


def test_projector_mode_uses_bigger_text(tiny_data):
    normal = panels.init_std_panel().view.plot.ax.xaxis.label.get_fontsize()
    big = panels.init_std_panel(projector=True).view.plot.ax.xaxis.label.get_fontsize()
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
                for x in (s.min, s.max):
                    combos.append({cname: cv, sname: x})
    names = list(choices)
    for a, b in itertools.combinations(names, 2):
        for va, vb in itertools.product(choices[a], choices[b]):
            combos.append({a: va, b: vb})
    return p, combos


@pytest.mark.parametrize("factory", ["init_panel", "init_std_panel", "reg_panel", "skew_panel",
                                     "capstone_panel"])
def test_every_control_combination_gives_a_plot_or_a_plain_message(tiny_data, factory):
    p, combos = grid(getattr(panels, factory))
    start = dict(p.values)
    for combo in combos:
        values = dict(start)
        values.update(combo)
        p.set(**values)
        text = p.status_text
        assert text.strip(), combo
        assert "Something unexpected" not in text and "Could not draw" not in text, (combo, text)
        assert not_blank(p.image.value), combo
        if p.result is not None and hasattr(p.result, "history"):
            h = p.result.history
            assert (h.diverged is None) or ("diverged" in text), (combo, text)


def test_sliders_only_update_on_release(tiny_data):
    for factory in (panels.init_panel, panels.reg_panel, panels.skew_panel):
        p = factory()
        for name, wid in p.controls.items():
            if hasattr(wid, "continuous_update"):
                assert wid.continuous_update is False, name


def test_projector_mode_from_the_environment(tiny_data, monkeypatch):
    normal = panels.init_std_panel().view.plot.ax.xaxis.label.get_fontsize()
    monkeypatch.setenv("MFTEACH_PROJECTOR", "1")
    assert panels.init_std_panel().view.plot.ax.xaxis.label.get_fontsize() > normal * 1.2


def test_axes_labels_never_run_into_a_neighbour_after_an_update():
    """The layout is frozen after the first draw for speed; when tick labels grow (capstone:
    bar axis 0–5 → 0.0–2.0 once the biases fault is off), it must be redone, not overlap."""
    from matplotlib.transforms import Bbox

    p = panels.capstone_panel("medium")
    p.set(biases=False)
    renderer = p.fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in p.fig.axes]
    for a, b in itertools.combinations(range(len(boxes)), 2):
        inter = Bbox.intersection(boxes[a], boxes[b])
        assert inter is None or inter.width <= 0 or inter.height <= 0, (a, b, inter)


def test_panel_displays_with_ipywidgets_7_too(monkeypatch):
    """Colab ships ipywidgets 7, whose widgets have no _repr_mimebundle_ (they display through
    _ipython_display_): the panel must still give a live view plus its static PNG."""
    p = panels.init_std_panel()

    class Widget7:  # what matters of an ipywidgets 7 VBox here: a model id, no mimebundle
        model_id = p.widget.model_id

    monkeypatch.setattr(p, "widget", Widget7())
    bundle = p._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == Widget7.model_id
    assert bundle["image/png"] and "mfteach panel" in bundle["text/plain"]


def test_reset_returns_to_the_starting_settings(tiny_data):
    """A teacher explores, then one click brings the class back to the panel's first run."""
    p = panels.reg_panel()
    first_status, first_result = p.status_text, p.result
    p.controls["reg"].value = "adamw"          # the strength range follows: 1e-3 … 100
    p.controls["strength"].value = 30.0
    p.controls["epochs"].value = 25
    assert p.values != p.start_values
    p.reset_button.click()
    assert p.values == p.start_values
    assert p.last_seconds["cached"] and p.result is first_result  # the very same run, redrawn
    assert p.status_text.split(" (")[0] == first_status.split(" (")[0]
    # a range that follows a choice is set before the value that needs it
    p.set(reg="adamw", strength=30.0)
    assert p.values["strength"] == pytest.approx(30.0, rel=0.01)
