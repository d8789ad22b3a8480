"""What a panel shows outside its live widgets: the static PNG saved with a notebook (GitHub,
nbviewer), a download link for the figure, its status as plain text."""
from __future__ import annotations

import base64
import html
import re

__all__ = ["PanelDisplay"]


class PanelDisplay:
    """Mixed into ``Panel`` (it has ``widget``, ``image``, ``status``, ``renderer``, ``wait``)."""

    def _on_save(self, button):
        """A download link for the figure as shown now (made on demand: a link kept up to date
        would send every figure twice)."""
        data = base64.b64encode(self.image.value).decode("ascii")
        name = re.sub(r"[^a-z0-9]+", "-", (self.reproduce() or "mfteach-panel").lower())[-60:]
        self.save_link.value = (f"<a download='{name.strip('-')}.png' href='data:image/png;base64,"
                                f"{data}'>⬇ download PNG</a>")

    def png(self) -> bytes:
        """The figure as PNG bytes (see ``render.PngRenderer``: one draw, layout frozen)."""
        return self.renderer.png()

    @property
    def status_text(self) -> str:
        """The status line as plain text (for tests and printing)."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.status.value))

    def _repr_mimebundle_(self, **kwargs):
        own = getattr(self.widget, "_repr_mimebundle_", None)
        if own is not None:
            bundle = dict(own(**kwargs) or {})
        else:
            # ipywidgets 7 (Colab's preinstalled version) displays widgets through
            # _ipython_display_; this is the same view reference it sends.
            bundle = {"application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id}}
        # A static copy of the figure for viewers without live widgets (GitHub, nbviewer): the
        # finished one (a sweep still filling in would be saved half drawn).
        self.wait()
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        bundle["text/plain"] = f"<mfteach panel: {self.status_text}>"
        return bundle

