"""Text drawn from bitmaps rendered once (a panel's titles, labels, legends, tick labels come
back unchanged from one redraw to the next): FreeType is about half of a redraw."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["TextStamps"]


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
