"""Figure → PNG bytes, fast: one Agg draw (or only the axes that changed), a layout computed once
and then frozen (titles' and axis labels' places too), text stamped from bitmaps rendered once, an
RGB PNG with the fastest zlib setting."""
from __future__ import annotations

import contextlib
import io
import time

import numpy as np

from .stamps import TextStamps

__all__ = ["PngRenderer", "TextStamps"]


class PngRenderer:
    """Renders one figure again and again (a live panel's redraws). ``seconds`` holds the last
    call's "draw" (Agg) and "encode" (PNG) times."""

    # Room (inches) beside each column of axes for its tick labels to grow into (0.5 → 0.55 …)
    # without a new layout, which costs a second full draw.
    GROW = 0.22

    def __init__(self, fig):
        self.fig = fig
        self._engine = fig.get_layout_engine()
        room = self._engine is not None and hasattr(self._engine, "get") \
            and "wspace" in self._engine.get()
        self._wspace = self._engine.get()["wspace"] if room else None  # before any room was made
        self._rect = self._engine.get().get("rect") if room else None
        self._make_room()
        self._layout_frozen = False
        self._accepted = set()    # layout problems already there when it was frozen
        self._drawn = False
        self._boxes = {}          # axes → its tight bbox (pixels) when last drawn
        self._places = []         # (text, its owner, the owner's "auto" flag, position) when frozen
        self._clashes = set()     # labels over tick labels already there when it was frozen
        self._gaps = {}           # axis label → its distance (px) to its tick labels when placed
        self._size = None         # the figure's size in pixels when it was frozen
        # Figure draws counted by the figure's draw_event (savefig's too): a partial redraw paints
        # over the canvas as this renderer last left it, so only when no other draw came since.
        self._draws = self._own_draws = 0
        self._cid = fig.canvas.mpl_connect("draw_event", self._count_draw)
        self.seconds = {"draw": 0.0, "encode": 0.0}

    def png(self, only=None) -> bytes:
        """The figure as PNG bytes.

        The constrained layout is computed on the first draw and then frozen: redoing it every
        time costs a second full draw, and the axes rarely need to move. It is redone only when
        an axes' labels grow into another axes' area or off the figure.
        ``only``: the axes that changed since the last call (e.g. a sweep filling in): just
        those are redrawn over their own area, when that area touches no other axes.
        """
        canvas = self._canvas()
        t0 = time.perf_counter()
        if self._layout_frozen and self._pixel_size() != self._size:
            self._thaw()  # resized (set_size_inches, dpi): the frozen places are of another size
        with self._fixed_places():
            drawn = bool(only) and self._redraw(canvas, only)
        if not drawn:
            self._draw(canvas)
        t1 = time.perf_counter()
        # RGB, not RGBA: the figure is opaque, and a quarter less data to compress and send.
        rgba = np.asarray(canvas.buffer_rgba())
        from PIL import Image as PILImage

        buf = io.BytesIO()
        PILImage.fromarray(np.ascontiguousarray(rgba[..., :3])).save(buf, format="png",
                                                                     compress_level=1)
        self.seconds = {"draw": t1 - t0, "encode": time.perf_counter() - t1}
        return buf.getvalue()

    def _count_draw(self, event):
        self._draws += 1

    def _canvas(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = self.fig.canvas
        canvas = canvas if isinstance(canvas, FigureCanvasAgg) else FigureCanvasAgg(self.fig)
        TextStamps.attach(canvas.get_renderer())  # (the renderer draw() will use: same size)
        return canvas

    def _draw(self, canvas):
        TextStamps.attach(canvas.get_renderer()).drawn.clear()
        with self._fixed_places():
            canvas.draw()
        if not self._layout_frozen:
            self._freeze_layout(canvas)
        elif self._layout_broke(canvas) or not self._place_again(canvas, self._misplaced(canvas)):
            # Labels outgrew the frozen layout (e.g. ticks 0–5 → 0.0–2.0): one axes' texts now
            # run into another's, off the figure, or under its own axis label or title, and
            # placing that label again did not do. Lay out once more (titles and axis labels
            # placed afresh too), then freeze again.
            self.fig.set_layout_engine(self._engine if self._engine is not None else "none")
            TextStamps.attach(canvas.get_renderer()).drawn.clear()
            canvas.draw()
            self._freeze_layout(canvas)
        self._drawn = True
        self._boxes = {}
        self._own_draws = self._draws

    def remember(self, axes):
        """Note the area each of ``axes`` covers as last drawn (before a partial redraw)."""
        renderer = self._canvas().get_renderer()
        with self._fixed_places():
            self._boxes = {ax: ax.get_tightbbox(renderer) for ax in axes}

    def _redraw(self, canvas, axes) -> bool:
        """Repaint only ``axes`` over the last image, each within the area it covered before (see
        ``remember``). False (nothing done) when that is not safe: an area unknown, or the axes
        now reaching beyond its area (a longer label, wider ticks: a neighbour may be there)."""
        if not (self._drawn and self._layout_frozen) or self._draws != self._own_draws:
            return False  # (another draw since, e.g. savefig at another dpi: the canvas is not ours)
        renderer = canvas.get_renderer()
        for ax in axes:
            old, new = self._boxes.get(ax), ax.get_tightbbox(renderer)
            if old is None or new is None or not _inside(new, old.padded(1)):
                return False  # (this also covers y labels growing: the full draw checks them)
        img = np.asarray(renderer.buffer_rgba())          # (height, width, 4), writable
        h, w = img.shape[:2]
        face = (np.array(self.fig.get_facecolor()) * 255).round().astype(np.uint8)
        for ax in axes:
            box = self._boxes[ax].padded(1)  # the area it owns, kept: the new drawing fits in it
            x0, x1 = max(int(box.x0), 0), min(int(np.ceil(box.x1)), w)
            y0, y1 = max(int(h - np.ceil(box.y1)), 0), min(int(h - box.y0), h)
            img[y0:y1, x0:x1] = face
            ax.draw(renderer)
        return True

    def _make_room(self):
        """Room on the left for y labels, and on the right for an x label that outgrows the
        axes' end (e.g. epochs 15 → 40); not on a figure too narrow to spare it. In inches: the
        fractions follow the figure's width."""
        width = self.fig.get_figwidth()
        if self._wspace is not None and 2.5 * self.GROW / width < 0.5:
            self._engine.set(rect=(self.GROW / width, 0, 1 - 1.5 * self.GROW / width, 1),
                             wspace=self._wspace + self.GROW / width)
        elif self._wspace is not None:  # (made narrower since)
            self._engine.set(rect=self._rect, wspace=self._wspace)

    def _pixel_size(self):
        return tuple(self.fig.bbox.size)

    def _thaw(self):
        """Back to a fresh layout on the next draw (titles and axis labels placed afresh)."""
        self._make_room()
        self.fig.set_layout_engine(self._engine if self._engine is not None else "none")
        self._layout_frozen, self._drawn, self._places, self._boxes = False, False, [], {}

    def _freeze_layout(self, canvas):
        self.fig.set_layout_engine("none")
        self._layout_frozen = True
        self._size = self._pixel_size()
        # what a fresh layout could not avoid (a figure too small) is not a reason to redo it
        self._accepted = self._problems(canvas)
        self._places = _auto_places(self.fig)
        renderer = canvas.get_renderer()
        self._clashes = _clashes(self.fig, TextStamps.attach(renderer).drawn, renderer)
        self._gaps = _label_gaps(self.fig, TextStamps.attach(renderer).drawn, renderer)

    @contextlib.contextmanager
    def _fixed_places(self):
        """Titles and axis labels stay where the frozen layout's draw put them. Placing them again
        measures every tick label of the axes (and its siblings) once more: a third of a redraw.
        Only for this renderer's own draws: the flags are restored afterwards, so savefig (any
        dpi) places them itself."""
        done = []
        try:
            for text, owner, flag, pos in self._places:
                if getattr(owner, flag, False):   # (a label placed by hand stays as it is)
                    setattr(owner, flag, False)
                    done.append((owner, flag))
                    text.set_position(pos)
            yield
        finally:
            for owner, flag in done:
                setattr(owner, flag, True)

    def _new_clashes(self, canvas) -> set:
        """Titles or axis labels now over a tick label or offset text of their own axes (ticks
        grown wider or taller, an offset text come) that were not there when the places were
        frozen: (id of the label, what it is over)."""
        if not self._places:
            return set()
        renderer = canvas.get_renderer()
        return _clashes(self.fig, TextStamps.attach(renderer).drawn, renderer) - self._clashes

    def _misplaced(self, canvas) -> set:
        """ids of the titles and axis labels to place again: over ticks grown under them
        (``_new_clashes``), or left further from ticks that shrank than when they were placed
        (a y label stranded ~20 px out after 0.55 → 0.5)."""
        ids = {label for label, _ in self._new_clashes(canvas)}
        if self._gaps:
            renderer = canvas.get_renderer()
            now = _label_gaps(self.fig, TextStamps.attach(renderer).drawn, renderer)
            ids |= {k for k, gap in now.items() if gap > self._gaps.get(k, gap) + self.DRIFT}
        return ids

    DRIFT = 10  # pixels (~2 digits) a label may end up further from its ticks before it is placed
    # again: a one-digit shrink (10 → 5) is hardly visible and not worth a second draw (+50 ms)

    def _place_again(self, canvas, ids) -> bool:
        """Let matplotlib place the titles and labels ``ids`` again, in one more draw, the axes
        where they are: a y label beside ticks grown wider moves out, as a fresh layout would
        put it, at a third of the cost of a new layout (which draws two more times). False when
        that did not do (the label now off the figure or in another axes' area, or still over
        its ticks): the caller lays out afresh. Nothing to place: True, nothing done."""
        if not ids:
            return True
        kept = [p for p in self._places if id(p[0]) not in ids]
        again = [p for p in self._places if id(p[0]) in ids]
        self._places = kept  # these stay put; matplotlib places the others itself in this draw
        TextStamps.attach(canvas.get_renderer()).drawn.clear()
        with self._fixed_places():
            canvas.draw()
        self._places = kept + [(t, owner, flag, t.get_position()) for t, owner, flag, _ in again]
        renderer = canvas.get_renderer()
        self._gaps = _label_gaps(self.fig, TextStamps.attach(renderer).drawn, renderer)
        return not (self._layout_broke(canvas) or self._new_clashes(canvas))

    def _problems(self, canvas) -> set:
        """Each axes' area as last drawn (its frame and its texts: tick labels, axis labels,
        offsets, titles): pairs of axes whose areas overlap, and axes reaching off the figure.
        Read from where the draw put each text (asking the axes again lays their ticks out
        once more, a fifth of a redraw)."""
        renderer = canvas.get_renderer()
        drawn = TextStamps.attach(renderer).drawn
        axes = [ax for ax in self.fig.axes if ax.get_visible()]
        boxes = [_area(ax, drawn, renderer) for ax in axes]
        w, h = self.fig.bbox.width, self.fig.bbox.height
        out = {("count", len(self.fig.axes))}
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            if x0 < -1 or y0 < -1 or x1 > w + 1 or y1 > h + 1:
                out.add(("off", id(axes[i])))
            for j in range(i):
                a = boxes[j]
                if min(x1, a[2]) - max(x0, a[0]) > 1 and min(y1, a[3]) - max(y0, a[1]) > 1:
                    out.add(("overlap", id(axes[j]), id(axes[i])))
        return out

    def _layout_broke(self, canvas) -> bool:
        """A problem the frozen layout did not have: labels grew into a neighbour or off the
        figure (or axes came or went)."""
        return bool(self._problems(canvas) - self._accepted)


def _auto_places(fig) -> list:
    """(text, owner, flag, position) for every title and axis label matplotlib places itself
    (``Axes._autotitlepos``, ``Axis._autolabelpos``: no public switch), as last drawn."""
    out = []
    for ax in fig.axes:
        if getattr(ax, "_autotitlepos", None) is not False:   # None: not decided yet = auto
            for t in (ax.title, getattr(ax, "_left_title", None),
                      getattr(ax, "_right_title", None)):
                if t is not None and hasattr(ax, "_autotitlepos"):
                    out.append((t, ax, "_autotitlepos", t.get_position()))
        for axis in (ax.xaxis, ax.yaxis):
            if getattr(axis, "_autolabelpos", False):
                out.append((axis.label, axis, "_autolabelpos", axis.label.get_position()))
    return out


def _clashes(fig, drawn, renderer=None) -> set:
    """(label, tick label) pairs, as drawn, that overlap by more than a pixel: a title or axis
    label over a tick label or offset text of its own axes. A multi-line text, drawn line by line
    without its Text, is measured instead."""
    out = set()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        placed = [ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None),
                  ax.xaxis.label, ax.yaxis.label]
        boxes = []
        for axis in (ax.xaxis, ax.yaxis):
            if axis.offsetText in drawn:
                boxes.append((id(axis.offsetText), drawn[axis.offsetText]))
            # each side's tick labels as one column (row): a label squeezed between two of them
            # is still among them
            for side in ("label1", "label2"):
                box = _tick_box(axis, side, drawn)
                if box is not None:
                    boxes.append(((id(axis), side), box))
        for p in placed:
            a = drawn.get(p) if p is not None else None
            if a is None and renderer is not None:
                a = _measured(p, renderer)
            if a is None:
                continue
            for t, b in boxes:
                if min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1:
                    out.add((id(p), t))
    return out


def _tick_box(axis, side, drawn):
    """(x0, y0, x1, y1) around the tick labels of one side ("label1", "label2") of ``axis``, as
    drawn; None when none were."""
    bs = [drawn[t] for t in (getattr(k, side) for k in axis.majorTicks + axis.minorTicks)
          if t in drawn]
    if not bs:
        return None
    return (min(b[0] for b in bs), min(b[1] for b in bs),
            max(b[2] for b in bs), max(b[3] for b in bs))


def _label_gaps(fig, drawn, renderer) -> dict:
    """id(axis label) → pixels between it and its axis's tick labels on its side, as drawn (axis
    labels with tick labels beside them only)."""
    out = {}
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis, near, far in ((ax.xaxis, "bottom", "top"), (ax.yaxis, "left", "right")):
            label = axis.label
            a = drawn.get(label) or _measured(label, renderer)
            side = axis.get_label_position()
            if a is None or side not in (near, far):
                continue
            box = _tick_box(axis, "label1" if side == near else "label2", drawn)
            if box is None:
                continue
            x0, y0, x1, y1 = box
            out[id(label)] = {"bottom": y0 - a[3], "top": a[1] - y1,
                              "left": x0 - a[2], "right": a[0] - x1}[side]
    return out


def _measured(t, renderer):
    """(x0, y0, x1, y1) of a multi-line text, which is drawn line by line without its Text (so
    not in the stamps' record); None for any other text not drawn."""
    if t is None or "\n" not in t.get_text() or not (t.get_visible() and t.get_text().strip()):
        return None
    e = t.get_window_extent(renderer)
    return (e.x0, e.y0, e.x1, e.y1)


def _inside(a, b) -> bool:
    return b.x0 <= a.x0 and a.x1 <= b.x1 and b.y0 <= a.y0 and a.y1 <= b.y1


def _area(ax, drawn, renderer) -> tuple:
    """(x0, y0, x1, y1), display pixels: the axes' frame and the texts it drew around it."""
    x0, y0, x1, y1 = ax.bbox.extents
    texts = [ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)]
    for axis in (ax.xaxis, ax.yaxis):
        texts += [axis.label, axis.offsetText]
        lo, hi = sorted(axis.get_view_interval())
        span = (hi - lo) * 1e-9
        for t in axis.majorTicks + axis.minorTicks:
            loc = t.get_loc()
            if loc is not None and lo - span <= loc <= hi + span:
                texts += (t.label1, t.label2)
    for t in texts:
        if t is None:
            continue
        box = drawn.get(t)
        if box is None:
            box = _measured(t, renderer)
        if box is not None:
            x0, y0, x1, y1 = min(x0, box[0]), min(y0, box[1]), max(x1, box[2]), max(y1, box[3])
    return x0, y0, x1, y1
