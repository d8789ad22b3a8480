"""The screen layer: the general live-panel builder and the plot classes.

It draws, it never trains: a panel calls the ``compute`` function a lesson gives it. Imports the
core (for names and small helpers), never ``mfteach.lessons``.
"""
from . import plots
from .panel import (Choice, Panel, PanelMessage, Slider, Sweep, Toggle, log_options,
                    panel_factory, projector)

__all__ = ["plots", "Panel", "PanelMessage", "Slider", "Choice", "Toggle", "panel_factory",
           "log_options", "projector", "Sweep"]
