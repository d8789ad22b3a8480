"""Text stamps (ui/render.TextStamps): a panel's text drawn from bitmaps kept between redraws must
look like Agg's own text — same colour, same place to within half a pixel — and fall back to Agg
where a stamp could be wrong (clipped text, text cut by the canvas edge, math)."""
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mfteach.ui.render import PngRenderer, TextStamps


def _pixels(fig, stamped):
    canvas = FigureCanvasAgg(fig)
    if stamped:
        TextStamps.attach(canvas.get_renderer())
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype(int)


def _fig(texts, **kw):
    fig = Figure(figsize=(4, 2), dpi=80)
    ax = fig.add_axes((0.15, 0.2, 0.8, 0.7))
    ax.plot([0, 1], [0, 1])
    for x, y, s, extra in texts:
        ax.text(x, y, s, **{**kw, **extra})
    return fig


def _ink(img, text):
    """Total ink (darkness) in ``text``'s box and its centre (x, y) in pixels."""
    box = text.get_window_extent(text.figure.canvas.get_renderer())
    h = img.shape[0]
    y0, x0 = max(int(h - box.y1) - 2, 0), max(int(box.x0) - 2, 0)
    ink = (255 - img[y0:int(h - box.y0) + 2, x0:int(box.x1) + 2].mean(-1)).clip(0)
    ys, xs = np.indices(ink.shape)
    total = ink.sum()
    return total, (x0 + (xs * ink).sum() / total, y0 + (ys * ink).sum() / total)


def _same_elsewhere(out, ref, fig):
    """Away from every text (its box and 2 pixels round it) the images are identical: nothing
    left behind where a text was, nothing else changed."""
    from matplotlib.text import Text

    r = fig.canvas.get_renderer()
    keep = np.ones(out.shape[:2], bool)
    h = out.shape[0]
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text():
            b = t.get_window_extent(r)
            keep[max(int(h - b.y1) - 2, 0):int(h - b.y0) + 3, max(int(b.x0) - 2, 0):int(b.x1) + 3] = False
    assert np.array_equal(out[keep], ref[keep])


def _same_text(out, ref, text):
    """Stamped like Agg: as much ink (±3 %), its centre within half a pixel in x and in y (the
    rounding to the whole pixel; 0.05 for the centroid's own noise)."""
    (a, ca), (b, cb) = _ink(out, text), _ink(ref, text)
    assert abs(a - b) <= 0.03 * b, (text.get_text(), a, b)
    assert max(abs(ca[0] - cb[0]), abs(ca[1] - cb[1])) <= 0.55, (text.get_text(), ca, cb)


def test_stamped_text_matches_agg_and_is_reused():
    texts = [(0.1, 0.5, "RMSE 0.913", {}), (0.5, 0.2, "val", {"color": "C1"}),
             (0.6, 0.7, "rotated", {"rotation": 90})]
    fig = _fig(texts)
    ref = _pixels(fig, stamped=False)
    canvas = FigureCanvasAgg(fig)
    stamps = TextStamps.attach(canvas.get_renderer())
    canvas.draw()
    made = len(stamps.stamps)
    assert made >= 3 + 4                      # the three texts and the tick labels
    canvas.draw()                             # a redraw reuses every stamp...
    assert len(stamps.stamps) == made
    out = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    _same_elsewhere(out, ref, fig)            # ...and looks like Agg's own text
    for t in fig.axes[0].texts:
        _same_text(out, ref, t)


def test_a_moved_text_is_stamped_at_its_new_place():
    fig = _fig([(0.1, 0.5, "moving label", {})])
    canvas = FigureCanvasAgg(fig)
    TextStamps.attach(canvas.get_renderer())
    canvas.draw()
    fig.axes[0].texts[0].set_position((0.45, 0.15))
    canvas.draw()
    out = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    ref = _pixels(fig, stamped=False)
    _same_text(out, ref, fig.axes[0].texts[0])
    # where it was is empty now (only the line and axes remain, as Agg draws them)
    _same_elsewhere(out, ref, fig)


def test_colour_size_and_string_each_get_their_own_stamp():
    fig = _fig([(0.1, 0.5, "same", {"color": "red"})])
    canvas = FigureCanvasAgg(fig)
    TextStamps.attach(canvas.get_renderer())
    canvas.draw()
    t = fig.axes[0].texts[0]
    t.set_color("blue")
    canvas.draw()
    out = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    reddish = (out[..., 0] > 200) & (out[..., 2] < 80)
    bluish = (out[..., 2] > 200) & (out[..., 0] < 80)
    assert bluish.sum() > 10 and reddish.sum() == 0
    t.set_fontsize(20)
    t.set_text("other")
    canvas.draw()
    out = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    _same_text(out, _pixels(fig, stamped=False), t)


@pytest.mark.parametrize("case", ["clipped", "edge"])
def test_what_a_stamp_could_get_wrong_is_drawn_whole_elsewhere(case):
    """Drawn once where it is cut (by its clip box or the canvas edge), then moved inside: it
    must show whole there, like Agg draws it — not a cut stamp carried over."""
    start, then = {"clipped": ((0.9, 0.5), (0.2, 0.5)), "edge": ((1.05, 0.5), (0.2, 0.5))}[case]
    s = "a label that runs on and on"
    fig = _fig([(*start, s, {"clip_on": case == "clipped"})])
    fig.axes[0].set_axis_off()  # no tick labels (stamped) near the text
    canvas = FigureCanvasAgg(fig)
    stamps = TextStamps.attach(canvas.get_renderer())
    canvas.draw()
    assert not any(key[0] == s for key in stamps.stamps)  # no stamp kept of the cut text
    t = fig.axes[0].texts[0]
    t.set_position(then)
    canvas.draw()
    out = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    ref = _pixels(fig, stamped=False)
    if case == "edge":                        # stamped now, whole: Agg's ink at its place
        _same_text(out, ref, t)
    else:                                      # never stamped: exactly Agg's pixels
        assert np.array_equal(out, ref)


def test_math_and_multi_line_text_are_stamped_like_agg_draws_them():
    """Log-axis tick labels are mathtext, and bar labels have two lines (drawn line by line,
    without their Text): both stamped, both where Agg puts them, moved or not."""
    fig = _fig([(0.1, 0.5, r"$\sigma^2 + 10^{-3}$", {}), (0.5, 0.3, "3.83\n(n=15)", {})])
    fig.axes[0].set_yscale("log")
    canvas = FigureCanvasAgg(fig)
    stamps = TextStamps.attach(canvas.get_renderer())
    canvas.draw()
    assert any(k[0].startswith("$") for k in stamps.stamps)          # math was stamped
    assert any(k[0] == "(n=15)" for k in stamps.stamps)              # so was each line
    for t, pos in zip(fig.axes[0].texts, ((0.4, 0.7), (0.15, 0.2))):
        t.set_position(pos)
    canvas.draw()
    out = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    ref = _pixels(fig, stamped=False)
    for t in fig.axes[0].texts:
        _same_text(out, ref, t)
    _same_elsewhere(out, ref, fig)


def test_usetex_is_left_to_agg(monkeypatch):
    from mfteach.ui import render

    seen = []
    monkeypatch.setattr(render.TextStamps, "_agg", lambda self, *a: seen.append(a[3]))
    fig = _fig([])
    canvas = FigureCanvasAgg(fig)
    stamps = TextStamps.attach(canvas.get_renderer())
    gc = canvas.get_renderer().new_gc()
    stamps.draw_text(gc, 10, 10, "tex", fig.axes[0].xaxis.label.get_fontproperties(), 0,
                     ismath="TeX")
    assert seen == ["tex"] and not stamps.stamps


def test_the_panel_renderer_uses_stamps_and_keeps_them_bounded(monkeypatch):
    fig = _fig([(0.1, 0.5, "label", {})])
    r = PngRenderer(fig)
    r.png()
    stamps = fig.canvas.get_renderer().draw_text.stamps
    assert stamps.stamps
    monkeypatch.setattr(TextStamps, "LIMIT", 3)
    for i in range(6):                       # tick labels that come and go
        fig.axes[0].texts[0].set_text(f"label {i}")
        r.png()
        assert len(stamps.stamps) <= 3


def _overlaps(fig):
    from matplotlib.transforms import Bbox

    r = fig.canvas.get_renderer()
    a, b = (ax.get_tightbbox(r) for ax in fig.axes)
    inter = Bbox.intersection(a, b)
    return inter is not None and inter.width > 0 and inter.height > 0


@pytest.mark.parametrize("axis", ["y", "x", "x, two lines", "y on the right", "x label lines"])
def test_labels_that_outgrow_the_frozen_layout_get_a_new_one(axis):
    """The frozen layout is redone when, as drawn, a y axis's labels reach into the axes on its
    left, or the right axes' x labels run off the figure (read from the texts' drawn extents)."""
    fig = Figure(figsize=(6, 2.5), dpi=80, layout="constrained")
    left, right = fig.subplots(1, 2)
    if axis == "x label lines":   # upper axes over lower axes: a longer x label runs down
        fig = Figure(figsize=(4, 4), dpi=80, layout="constrained")
        left, right = fig.subplots(2, 1)
        right.set_title("the lower axes' title")
    if axis == "y on the right":
        right.yaxis.tick_right()
    for ax in (left, right):
        ax.plot([0, 1], [0, 1])
    r = PngRenderer(fig)
    r.png()
    assert not _overlaps(fig)
    frozen = right.get_position().x0
    if axis == "y":
        right.set_yticks([0, 0.5, 1], ["0", "a very wide tick label", "1"])
    elif axis == "y on the right":
        right.set_yticks([0, 0.5, 1], ["0", "a very wide tick label", "1"])
    elif axis == "x label lines":
        left.set_xlabel("one\ntwo\nthree\nfour lines")
    elif axis == "x":
        right.set_xticks([0, 1], ["0", "a very long last label"])
    else:  # drawn line by line, without its Text: measured instead
        right.set_xticks([0, 1], ["0", "cold\na very long last label"])
    r.png()
    if axis == "y":
        assert right.get_position().x0 > frozen + 20 / fig.bbox.width   # laid out again
        assert not _overlaps(fig)
    elif axis in ("y on the right", "x label lines"):
        assert not _overlaps(fig)
        r = fig.canvas.get_renderer()
        assert all(ax.get_tightbbox(r).x1 <= fig.bbox.width + 1 for ax in fig.axes)
    else:
        box = right.xaxis.get_tightbbox(fig.canvas.get_renderer())
        assert box.x1 <= fig.bbox.width + 1


def test_text_whose_ink_is_not_where_it_was_measured_is_left_to_agg(monkeypatch):
    """A stamp is cut from the box the text measures; if the ink lands elsewhere (a font or
    backend quirk), the text must still show (drawn by Agg), never vanish as an empty stamp."""
    from matplotlib.backends.backend_agg import RendererAgg

    fig = _fig([(0.3, 0.5, "still here", {})])
    fig.axes[0].set_axis_off()
    monkeypatch.setattr(RendererAgg, "get_text_width_height_descent",
                        lambda self, s, prop, ismath: (2.0, 2.0, -30.0) if s == "still here"
                        else (0.0, 0.0, 0.0))
    monkeypatch.setattr(TextStamps, "_blend", lambda *a: pytest.fail("stamped"))
    out = _pixels(fig, stamped=True)
    monkeypatch.undo()
    assert np.array_equal(out, _pixels(fig, stamped=False))


@pytest.mark.parametrize("rotation", [0, 90])
def test_a_stamp_is_within_half_a_pixel_wherever_it_goes(rotation):
    """Agg places glyphs to 1/64 pixel: a stamp made at one fraction and put down at another
    must still sit within ½ pixel of Agg's text (made at a whole pixel, put at a whole pixel)."""
    fig = Figure(figsize=(4, 3), dpi=80)                         # 320 × 240 pixels
    t = fig.text(100.49 / 320, 120.49 / 240, "RMSE 0.913", rotation=rotation)
    canvas = FigureCanvasAgg(fig)
    TextStamps.attach(canvas.get_renderer())
    canvas.draw()
    for k in range(1, 9):                                         # ⅛-pixel steps, x then y
        for dx, dy in ((k / 8, 0), (0, -k / 8)):
            t.set_position(((100.49 + dx) / 320, (120.49 + dy) / 240))
            canvas.draw()
            out = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
            _same_text(out, _pixels(fig, stamped=False), t)


def test_stamps_keep_their_colour_on_a_transparent_figure():
    """savefig(transparent=True) at the panel's dpi draws through the stamped renderer: a
    text's edges must keep its colour at partial alpha, as Agg's do (not fade to the
    background's)."""
    fig = _fig([(0.1, 0.5, "orange words", {"color": (1.0, 0.5, 0.0)})])
    fig.patch.set_alpha(0.0)
    fig.axes[0].patch.set_alpha(0.0)
    canvas = FigureCanvasAgg(fig)
    TextStamps.attach(canvas.get_renderer())
    canvas.draw()
    canvas.draw()                             # (stamped now)
    out = np.asarray(canvas.buffer_rgba()).astype(int)
    ref = FigureCanvasAgg(fig)
    ref.draw()
    agg = np.asarray(ref.buffer_rgba()).astype(int)
    t = fig.axes[0].texts[0]
    box = t.get_window_extent(canvas.get_renderer())
    h = out.shape[0]
    area = (slice(int(h - box.y1), int(h - box.y0) + 1), slice(int(box.x0), int(box.x1) + 1))
    edge = (out[area][..., 3] > 0) & (out[area][..., 3] < 255)
    assert edge.sum() > 20
    g_over_r = out[area][edge][:, 1] / out[area][edge][:, 0]
    assert np.allclose(g_over_r, 0.5, atol=0.02)             # orange, like Agg's own edges
    ref_edge = (agg[area][..., 3] > 0) & (agg[area][..., 3] < 255)
    assert np.allclose(agg[area][ref_edge][:, 1] / agg[area][ref_edge][:, 0], 0.5, atol=0.02)


def test_a_font_setting_changed_between_draws_is_drawn_in_the_new_font():
    import matplotlib

    fig = _fig([(0.1, 0.5, "Serif or sans", {})])
    fig.axes[0].set_axis_off()
    canvas = FigureCanvasAgg(fig)
    TextStamps.attach(canvas.get_renderer())
    canvas.draw()
    with matplotlib.rc_context({"font.sans-serif": ["DejaVu Serif"]}):
        canvas.draw()
        out = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
        ref = _pixels(fig, stamped=False)
    _same_text(out, ref, fig.axes[0].texts[0])


@pytest.mark.parametrize("case", ["not antialiased", "a fraction bar"])
def test_text_a_stamp_would_place_a_pixel_off_is_left_to_agg(case):
    kw = {"antialiased": False} if case == "not antialiased" else {}
    s = "no smoothing" if case == "not antialiased" else r"$\frac{1}{\sqrt{d}}$"
    fig = _fig([(0.3, 0.5, s, kw)])
    fig.axes[0].set_axis_off()
    canvas = FigureCanvasAgg(fig)
    stamps = TextStamps.attach(canvas.get_renderer())
    canvas.draw()
    fig.axes[0].texts[0].set_position((0.4123, 0.3377))
    canvas.draw()
    assert not stamps.stamps
    out = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    assert np.array_equal(out, _pixels(fig, stamped=False))


def test_text_laid_out_unlike_its_measure_is_left_to_agg():
    """Font features can lay a text out wider than it measures (no kerning): the glyphs past a
    gap would be cut from the stamp. The text must show whole."""
    fig = _fig([])
    try:
        t = fig.axes[0].text(0.02, 0.5, "AVAWAVAWAVAWAVAWAVAW  x1", fontfeatures=["-kern"])
    except (AttributeError, TypeError):
        pytest.skip("this matplotlib has no fontfeatures")
    fig.axes[0].set_axis_off()
    stamped, ref = _pixels(fig, stamped=True), _pixels(fig, stamped=False)
    assert np.array_equal(stamped, ref)


def test_a_figure_too_narrow_for_the_extra_room_still_renders():
    fig = Figure(figsize=(0.3, 1.0), dpi=80, layout="constrained")
    fig.subplots().plot([0, 1], [0, 1])
    assert PngRenderer(fig).png()[:4] == b"\x89PNG"


def _png_pixels(png):
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), int)


def _box(text):
    return text.get_window_extent(text.figure.canvas.get_renderer())


def _hit(a, b):
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1


def test_titles_and_axis_labels_keep_their_frozen_places_and_look_the_same():
    """After the first draw a redraw does not place titles and axis labels again (it measured
    every tick label once more): the picture is the one matplotlib's own placing gives, and the
    flags are given back, so savefig at another dpi places them itself."""
    def fig_with(ys):
        fig = Figure(figsize=(6, 2.5), dpi=80, layout="constrained")
        for ax in fig.subplots(1, 2):
            ax.plot([0, 1, 2], ys)
            ax.set(title="a title", xlabel="epochs", ylabel="RMSE")
        return fig

    fig = fig_with([1, 2, 3])
    r = PngRenderer(fig)
    r.png()
    assert len(r._places) == 10                  # 2 × (3 titles, x label, y label) frozen
    for ax in fig.axes:
        ax.lines[0].set_ydata([1.5, 2.5, 2.0])   # a move: same ticks, new curve
    fixed = r.png()
    places, r._places = r._places, []
    assert _png_pixels(fixed).tolist() == _png_pixels(r.png()).tolist()  # placed afresh: the same
    r._places = places
    ax = fig.axes[0]
    assert ax._autotitlepos is not False and ax.yaxis._autolabelpos
    ax.yaxis.label.set_position((0.3, 0.5))      # what a draw at another dpi would leave
    r.png()
    frozen = [p[3] for p in places if p[0] is ax.yaxis.label]
    assert frozen == [ax.yaxis.label.get_position()] and frozen != [(0.3, 0.5)]


def test_an_axis_label_is_placed_again_when_tick_labels_grow_under_it():
    """Tick labels grown wider within the room left for them (no new layout needed) would run
    under the frozen y label, and a grown offset text under the title: both are placed again."""
    fig = Figure(figsize=(4, 3), dpi=80, layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set(title="title", ylabel="RMSE")
    r = PngRenderer(fig)
    r.png()
    ax.set_yticks([0, 0.5, 1], ["0", "0.55", "1"])
    r.png()
    ticks = [t.label1 for t in ax.yaxis.majorTicks if t.label1.get_text()]
    assert not any(_hit(_box(ax.yaxis.label), _box(t)) for t in ticks)
    assert r._layout_frozen


def test_a_y_label_squeezed_between_two_tick_labels_is_placed_again():
    """y range 0–1 → 0–10000: the frozen y label's ink fell between the rows "4000" and "6000"
    (its box met each by at most a pixel in height); tick labels count as one column."""
    fig = Figure(figsize=(5, 3.5), dpi=100, layout="constrained")
    ax = fig.subplots()
    line, = ax.plot([0, 1], [0, 1])
    ax.set(xlabel="epoch", ylabel="value")
    r = PngRenderer(fig)
    r.png()
    line.set_ydata([0, 10000])
    ax.relim()
    ax.autoscale_view()
    r.png()
    ticks = [_box(t.label1) for t in ax.yaxis.majorTicks if t.label1.get_text()]
    label = _box(ax.yaxis.label)
    assert label.x1 < min(b.x0 for b in ticks)


def test_a_resized_figure_is_laid_out_afresh():
    """A live panel's figure made bigger (set_size_inches) gets a new layout: its axis labels sit
    where a fresh renderer of that size puts them, not where the old size had them."""
    def fig_at(w, h):
        fig = Figure(figsize=(w, h), dpi=80, layout="constrained")
        for ax in fig.subplots(2, 2).ravel():
            ax.plot([0, 1], [0, 1000])
            ax.set(title="title", xlabel="epoch", ylabel="RMSE")
        return fig

    fig = fig_at(6, 4)
    r = PngRenderer(fig)
    r.png()
    fig.set_size_inches(9, 6)
    got = _png_pixels(r.png())
    ref_fig = fig_at(9, 6)
    ref = _png_pixels(PngRenderer(ref_fig).png())
    assert got.shape == ref.shape
    for ax, ref_ax in zip(fig.axes, ref_fig.axes):
        for t, u in ((ax.xaxis.label, ref_ax.xaxis.label), (ax.yaxis.label, ref_ax.yaxis.label),
                     (ax.title, ref_ax.title)):
            assert np.allclose(_box(t), _box(u), atol=1), t.get_text()
    assert r._layout_frozen


def test_a_label_over_grown_ticks_is_placed_again_without_a_new_layout(monkeypatch):
    """Wider tick labels under a frozen y label: the label alone is placed again (one more draw,
    the axes where they are), not the whole figure laid out afresh (two more draws)."""
    fig = Figure(figsize=(6, 4), dpi=80, layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    for ax in axes:
        ax.plot([0, 1], [0, 1])
        ax.set(title="title", ylabel="RMSE")
    r = PngRenderer(fig)
    r.png()
    laid_out = []
    monkeypatch.setattr(type(r._engine), "execute",
                        lambda self, f, real=type(r._engine).execute: laid_out.append(1) or real(self, f))
    where = [ax.get_position().bounds for ax in axes]
    ax = axes[3]
    ax.set_yticks([0, 0.5, 1], ["0", "0.555", "1"])
    r.png()
    assert not laid_out and [a.get_position().bounds for a in axes] == where
    ticks = [_box(t.label1) for t in ax.yaxis.majorTicks if t.label1.get_text()]
    label = _box(ax.yaxis.label)
    assert label.x1 < min(t.x0 for t in ticks)          # left of every tick label now
    assert not any(_hit(label, t) for t in ticks) and r._layout_frozen


def test_a_two_line_label_over_grown_ticks_is_placed_again():
    """(From an independent review.) A multi-line label is drawn line by line, without its Text,
    so the stamps' record has no box for it: it is measured, and placed again like any other."""
    fig = Figure(figsize=(6, 4), dpi=80, layout="constrained")
    ax, other = fig.subplots(1, 2)
    for a in (ax, other):
        a.plot([0, 1], [0, 1])
    ax.set_ylabel("RMSE\n(test)")
    r = PngRenderer(fig)
    r.png()
    ax.set_yticks([0, 0.5, 1], ["0", "0.55555", "1"])
    r.png()
    ticks = [_box(t.label1) for t in ax.yaxis.majorTicks if t.label1.get_text()]
    assert not any(_hit(_box(ax.yaxis.label), t) for t in ticks)


@pytest.mark.parametrize("save", [dict(dpi=50), dict(bbox_inches="tight"), dict(facecolor="yellow")])
def test_a_savefig_between_redraws_does_not_leak_into_a_partial_redraw(save):
    """(From an independent review.) A partial redraw paints over the canvas as the renderer last
    left it; a savefig in between (another dpi, a tight box, another face colour) redraws that
    canvas, so the next redraw is a full one: the same PNG as without the savefig."""
    import io

    def run(kw):
        fig = Figure(figsize=(6, 4), dpi=80, layout="constrained")
        a, b = fig.subplots(1, 2)
        a.plot([0, 1], [0, 1])
        line, = b.plot([0, 1], [0, 1])
        r = PngRenderer(fig)
        r.png()
        r.remember([b])
        if kw is not None:
            fig.savefig(io.BytesIO(), format="png", **kw)
        line.set_ydata([0, 0.8])
        return _png_pixels(r.png(only=[b]))

    assert np.array_equal(run(save), run(None))


def test_a_label_left_far_out_by_ticks_that_shrank_comes_back():
    """Ticks shrinking under a frozen y label (0.55555 → 0.5) leave it stranded further out; it
    is placed again, beside the ticks as when it was placed, in one more draw (then none)."""
    from mfteach.ui.render import _label_gaps

    fig = Figure(figsize=(6, 4), dpi=80, layout="constrained")
    ax, other = fig.subplots(1, 2)
    for a in (ax, other):
        a.plot([0, 1], [0, 1])
        a.set_ylabel("RMSE")
    ax.set_yticks([0, 0.5, 1], ["0", "0.55555", "1"])
    r = PngRenderer(fig)
    r.png()
    gap = r._gaps[id(ax.yaxis.label)]
    ax.set_yticks([0, 0.5, 1], ["0", "0.5", "1"])
    before = r._draws
    r.png()
    assert r._draws == before + 2          # the draw, and one to place the label again
    renderer = fig.canvas.get_renderer()
    now = _label_gaps(fig, {t.label1: tuple(_box(t.label1).extents) for t in ax.yaxis.majorTicks}
                      | {ax.yaxis.label: tuple(_box(ax.yaxis.label).extents)}, renderer)
    assert abs(now[id(ax.yaxis.label)] - gap) <= 1
    before = r._draws
    r.png()
    assert r._draws == before + 1          # nothing left to place: one draw
