"""Figure → PNG bytes, fast: one Agg draw (or only the axes that changed), a layout computed once
and then frozen (titles' and axis labels' places too), text stamped from bitmaps rendered once, an
RGB PNG with the fastest zlib setting."""
from __future__ import annotations

import contextlib
import io
import math
import time

import numpy as np

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
        if self._engine is not None and hasattr(self._engine, "get") \
                and "wspace" in self._engine.get():
            width = fig.get_figwidth()
            # room on the left for y labels, and on the right for an x label that outgrows the
            # axes' end (e.g. epochs 15 → 40); not on a figure too narrow to spare it
            if 2.5 * self.GROW / width < 0.5:
                self._engine.set(rect=(self.GROW / width, 0, 1 - 1.5 * self.GROW / width, 1),
                                 wspace=self._engine.get()["wspace"] + self.GROW / width)
        self._layout_frozen = False
        self._accepted = set()    # layout problems already there when it was frozen
        self._drawn = False
        self._boxes = {}          # axes → its tight bbox (pixels) when last drawn
        self._places = []         # (text, its owner, the owner's "auto" flag, position) when frozen
        self._clashes = set()     # labels over tick labels already there when it was frozen
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
        elif self._layout_broke(canvas) or self._labels_clash(canvas):
            # Labels outgrew the frozen layout (e.g. ticks 0–5 → 0.0–2.0): one axes' texts now
            # run into another's, off the figure, or under its own axis label or title. Lay out
            # once more (titles and axis labels placed afresh too), then freeze again.
            self.fig.set_layout_engine(self._engine or "constrained")
            TextStamps.attach(canvas.get_renderer()).drawn.clear()
            canvas.draw()
            self._freeze_layout(canvas)
        self._drawn = True
        self._boxes = {}

    def remember(self, axes):
        """Note the area each of ``axes`` covers as last drawn (before a partial redraw)."""
        renderer = self._canvas().get_renderer()
        with self._fixed_places():
            self._boxes = {ax: ax.get_tightbbox(renderer) for ax in axes}

    def _redraw(self, canvas, axes) -> bool:
        """Repaint only ``axes`` over the last image, each within the area it covered before (see
        ``remember``). False (nothing done) when that is not safe: an area unknown, or the axes
        now reaching beyond its area (a longer label, wider ticks: a neighbour may be there)."""
        if not (self._drawn and self._layout_frozen):
            return False
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

    def _freeze_layout(self, canvas):
        self.fig.set_layout_engine("none")
        self._layout_frozen = True
        # what a fresh layout could not avoid (a figure too small) is not a reason to redo it
        self._accepted = self._problems(canvas)
        self._places = _auto_places(self.fig)
        self._clashes = _clashes(self.fig, TextStamps.attach(canvas.get_renderer()).drawn)

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

    def _labels_clash(self, canvas) -> bool:
        """A title or axis label now over a tick label or offset text of its own axes (ticks grown
        wider or taller, an offset text come) that was not there when the places were frozen."""
        if not self._places:
            return False
        return bool(_clashes(self.fig, TextStamps.attach(canvas.get_renderer()).drawn)
                    - self._clashes)

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


def _clashes(fig, drawn) -> set:
    """(label, tick label) pairs, as drawn, that overlap by more than a pixel: a title or axis
    label over a tick label or offset text of its own axes."""
    out = set()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        placed = [ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None),
                  ax.xaxis.label, ax.yaxis.label]
        others = []
        for axis in (ax.xaxis, ax.yaxis):
            others.append(axis.offsetText)
            for tick in axis.majorTicks + axis.minorTicks:
                others += (tick.label1, tick.label2)
        boxes = [(t, drawn[t]) for t in others if t in drawn]
        for p in placed:
            a = drawn.get(p)
            if a is None:
                continue
            for t, b in boxes:
                if min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1:
                    out.add((id(p), id(t)))
    return out


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
        if box is None and "\n" in t.get_text() and t.get_visible() and t.get_text().strip():
            # a multi-line text is drawn line by line, without its Text: measure it
            e = t.get_window_extent(renderer)
            box = (e.x0, e.y0, e.x1, e.y1)
        if box is not None:
            x0, y0, x1, y1 = min(x0, box[0]), min(y0, box[1]), max(x1, box[2]), max(y1, box[3])
    return x0, y0, x1, y1


def _font_file(prop) -> str:
    from matplotlib import font_manager

    return font_manager.findfont(prop)   # (cached by matplotlib, rcParams included)


class TextStamps:
    """Text drawn from bitmaps kept per (string, font, colour, angle): rendering glyphs with
    FreeType is about half of a panel's redraw, and most of its text (titles, labels, legends,
    tick labels) comes back unchanged from one move to the next.

    A text not seen before is drawn by Agg itself into a scratch canvas of the same size, at its
    place rounded to the whole pixel; the pixels it covered become its stamp (coverage × colour),
    blended in ("over", as Agg blends) there and at every later place, rounded the same way: it
    sits within ½ pixel of where Agg would put it, in x and in y. Mathtext without bars (log-axis
    tick labels) is stamped too. Left to Agg: clipped text, usetex, text that is not
    antialiased, math with fraction or root bars, text at the canvas edge, and text whose ink is
    not inside the box it measures.
    """

    LIMIT = 4096   # stamps kept per renderer (tick labels come and go); past it, start afresh

    def __init__(self, renderer):
        self.renderer = renderer
        self.stamps = {}
        self._scratch = None
        self.drawn = {}   # Text → (x0, y0, x1, y1) display pixels drawn of it (the caller clears it)

    @classmethod
    def attach(cls, renderer):
        """Make ``renderer.draw_text`` use stamps (once per renderer)."""
        if not isinstance(renderer.__dict__.get("draw_text"), _Stamping):
            renderer.draw_text = _Stamping(cls(renderer))
        return renderer.draw_text.stamps

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        r = self.renderer
        if ismath not in (False, True) or not gc.get_antialiased() \
                or gc.get_clip_rectangle() is not None or gc.get_clip_path()[0] is not None:
            return self._agg(gc, x, y, s, prop, angle, ismath, mtext)
        if ismath and r.mathtext_parser.parse(s, r.dpi, prop, antialiased=True).rects:
            # bars (fractions, roots) snap to whole pixels differently at each sub-pixel place:
            # a stamp of one could sit a pixel off
            return self._agg(gc, x, y, s, prop, angle, ismath, mtext)
        feats = getattr(mtext, "get_fontfeatures", lambda: None)()  # (matplotlib ≥ 3.10)
        # hash(prop): a Text changes its FontProperties in place (and their == compares hashes)
        # (and the font file it resolves to now: "sans-serif" means what rcParams say at draw)
        key = (s, bool(ismath), hash(prop), _font_file(prop), float(angle), tuple(gc.get_rgb()),
               gc.get_alpha(), gc.get_forced_alpha(), gc.get_antialiased(), r.dpi,
               tuple(feats) if feats else None, getattr(mtext, "get_language", lambda: None)())
        ix, iy = int(round(x)), int(round(y))
        stamp = self.stamps.get(key)
        if stamp is None:
            stamp = self._make(gc, x, y, s, prop, angle, bool(ismath), mtext, ix, iy)
            if stamp is None:  # touched the edge: let Agg draw it where it is
                return self._agg(gc, x, y, s, prop, angle, ismath, mtext)
            if len(self.stamps) >= self.LIMIT:
                self.stamps.clear()
            self.stamps[key] = stamp
        self._blend(stamp, ix, iy)
        if stamp[2].size and mtext is not None:  # (a multi-line text's lines come without it)
            h, w = stamp[2].shape
            H = r.height      # buffer rows run down, display y up
            box = (ix + stamp[0] - 1, H - (iy + stamp[1] + h) - 1,
                   ix + stamp[0] + w + 1, H - (iy + stamp[1]) + 1)
            old = self.drawn.get(mtext)
            self.drawn[mtext] = box if old is None else (
                min(box[0], old[0]), min(box[1], old[1]), max(box[2], old[2]), max(box[3], old[3]))

    def _agg(self, gc, x, y, s, prop, angle, ismath, mtext):
        from matplotlib.backends.backend_agg import RendererAgg

        RendererAgg.draw_text(self.renderer, gc, x, y, s, prop, angle, ismath, mtext)
        if mtext is not None:
            self.drawn[mtext] = tuple(mtext.get_window_extent(self.renderer).extents)

    def _make(self, gc, x, y, s, prop, angle, ismath, mtext, ix, iy):
        """Render with Agg into the scratch canvas; the stamp: (dx, dy, alpha (h, w), rgb (3,))
        relative to (ix, iy), or None when the text reaches the canvas edge."""
        from matplotlib.backends.backend_agg import RendererAgg

        r = self.renderer
        # The line's ink box about its baseline start (x, y) (pixels, y down), turned by the
        # angle, with 2 pixels of room for antialiasing (ink found on that border: Agg draws it)
        w, h, d = RendererAgg.get_text_width_height_descent(r, s, prop, ismath)
        c, sn = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        xs, ys = [], []
        for bx, by in ((0, d - h), (w, d - h), (0, d), (w, d)):
            xs.append(ix + bx * c + by * sn)
            ys.append(iy - bx * sn + by * c)
        m = 2
        x0, x1 = int(min(xs) - m), int(math.ceil(max(xs) + m)) + 1
        y0, y1 = int(min(ys) - m), int(math.ceil(max(ys) + m)) + 1
        if x0 < 0 or y0 < 0 or x1 > r.width or y1 > r.height:
            return None  # at or past the canvas edge: a stamp made here could carry a cut
        if self._scratch is None or (self._scratch.width, self._scratch.height) != (r.width, r.height):
            self._scratch = RendererAgg(r.width, r.height, r.dpi)
        scratch = self._scratch
        scratch.clear()
        # drawn at the whole pixel it is stamped at: Agg places glyphs to 1/64 pixel, and a stamp
        # cut at a fraction would carry that fraction to every later place (up to 1 pixel off)
        RendererAgg.draw_text(scratch, gc, ix, iy, s, prop, angle, ismath, mtext)
        full = np.asarray(scratch.buffer_rgba())[..., 3]
        alpha = full[y0:y1, x0:x1]                      # transparent but the text
        rows, cols = np.nonzero(alpha)
        if np.count_nonzero(full) != rows.size:
            return None  # ink outside the box it was measured to fill (e.g. font features that
            #              change the layout): Agg draws this one
        if rows.size == 0:
            return (0, 0, np.zeros((0, 0), np.float32), np.zeros(3, np.float32))  # blank text
        r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        if r0 == 0 or c0 == 0 or r1 == alpha.shape[0] or c1 == alpha.shape[1]:
            return None  # ink on the box's border: it may go on past it; leave it to Agg
        img = np.asarray(scratch.buffer_rgba())
        patch = img[y0 + r0:y0 + r1, x0 + c0:x0 + c1]
        # Agg on a transparent canvas leaves the text's colour where it drew (straight alpha)
        rgb = patch[..., :3].reshape(-1, 3)[np.argmax(patch[..., 3])].astype(np.float32)
        return (x0 + c0 - ix, y0 + r0 - iy, patch[..., 3].astype(np.float32) / 255.0, rgb)

    def _blend(self, stamp, ix, iy):
        dx, dy, alpha, rgb = stamp
        if alpha.size == 0:
            return
        img = np.asarray(self.renderer.buffer_rgba())   # (H, W, 4), writable: the image itself
        H, W = img.shape[:2]
        x0, y0 = ix + dx, iy + dy
        h, w = alpha.shape
        # the part on the canvas (a stamp made elsewhere may now reach past an edge)
        a0, b0 = max(0, -y0), max(0, -x0)
        a1, b1 = min(h, H - y0), min(w, W - x0)
        if a1 <= a0 or b1 <= b0:
            return
        a = alpha[a0:a1, b0:b1, None]
        dst = img[y0 + a0:y0 + a1, x0 + b0:x0 + b1]
        out = dst.astype(np.float32)
        # "over", straight alpha (as Agg's own blending): on an opaque image this is a plain mix
        # of background and text colour; on a transparent one (savefig(transparent=True)) the
        # edges keep the text's colour at partial alpha
        da = out[..., 3:] / 255.0
        new_a = a + da * (1.0 - a)
        w_src = np.divide(a, new_a, out=np.zeros_like(a), where=new_a > 0)
        out[..., :3] += (rgb - out[..., :3]) * w_src
        out[..., 3:] = new_a * 255.0
        dst[...] = (out + 0.5).astype(np.uint8)


class _Stamping:
    """``renderer.draw_text`` replaced (instance attribute): the stamps' drawing."""

    def __init__(self, stamps):
        self.stamps = stamps

    def __call__(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        return self.stamps.draw_text(gc, x, y, s, prop, angle, ismath, mtext)
