"""Figure → PNG bytes, fast: one Agg draw, a layout computed once and then frozen, fast zlib."""
from __future__ import annotations

import io

__all__ = ["PngRenderer"]


class PngRenderer:
    """Renders one figure again and again (a live panel's redraws)."""

    def __init__(self, fig):
        self.fig = fig
        self._layout_frozen = False
        self._yaxis_left = []

    def png(self) -> bytes:
        """The figure as PNG bytes: one Agg draw plus fast PNG compression.

        The constrained layout is computed on the first draw and then frozen: redoing it every
        time costs a second full draw, and the axes rarely need to move. It is redone only when
        a y axis's tick labels grow wider than the room the frozen layout left them.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image as PILImage

        canvas = self.fig.canvas
        if not isinstance(canvas, FigureCanvasAgg):
            canvas = FigureCanvasAgg(self.fig)
        canvas.draw()
        if not self._layout_frozen:
            self._freeze_layout(canvas)
        elif self._labels_grew(canvas):
            # Tick labels got wider than the frozen layout left room for (e.g. 0–5 → 0.0–2.0),
            # so a y label would run into its neighbour: lay out once more, then freeze again.
            self.fig.set_layout_engine("constrained")
            canvas.draw()
            self._freeze_layout(canvas)
        buf = io.BytesIO()
        img = PILImage.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw",
                                  "RGBA", 0, 1)
        img.save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def _freeze_layout(self, canvas):
        self.fig.set_layout_engine("none")
        self._layout_frozen = True
        renderer = canvas.get_renderer()
        # left edge of each y axis (ticks + label), in pixels: what the layout made room for
        self._yaxis_left = [_left(ax, renderer) for ax in self.fig.axes]

    def _labels_grew(self, canvas) -> bool:
        """Did any y axis's labels grow to the left of where the frozen layout put them? (~9 ms)"""
        renderer = canvas.get_renderer()
        if len(self.fig.axes) != len(self._yaxis_left):
            return True
        return any(_left(ax, renderer) < x0 - 2 for ax, x0 in zip(self.fig.axes, self._yaxis_left))


def _left(ax, renderer) -> float:
    """Left edge (pixels) of an axes' y ticks and label; +inf when the axis draws nothing."""
    bb = ax.yaxis.get_tightbbox(renderer) if ax.get_visible() else None
    return bb.x0 if bb is not None else float("inf")
