"""Controls described in data (a slider, a dropdown, a checkbox) and the widgets made from them."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Slider", "Choice", "Toggle", "log_options", "make_widget", "snap"]


@dataclass(frozen=True)
class Slider:
    """A numeric control. ``log=True`` makes a log-scale slider over round values (1, 2, 3, 5 per
    decade, see ``log_options``); min/max are the real values."""

    name: str
    min: float
    max: float
    value: float
    step: float | None = None   # linear sliders: the value step
    log: bool = False
    integer: bool = False
    label: str | None = None
    help: str = ""

    def __post_init__(self):
        if not self.min < self.max:
            raise ValueError(f"Slider {self.name!r}: min must be < max, got {self.min}, {self.max}")
        if self.log and self.min <= 0:
            raise ValueError(f"Slider {self.name!r}: a log slider needs min > 0, got {self.min}")
        if not self.min <= self.value <= self.max:
            raise ValueError(f"Slider {self.name!r}: value {self.value} outside {self.min}..{self.max}")


@dataclass(frozen=True)
class Choice:
    """A dropdown. ``options``: values, or (label, value) pairs."""

    name: str
    options: tuple
    value: Any
    label: str | None = None
    help: str = ""

    def pairs(self):
        return [o if isinstance(o, tuple) else (str(o), o) for o in self.options]

    def __post_init__(self):
        if self.value not in [v for _, v in self.pairs()]:
            raise ValueError(f"Choice {self.name!r}: value {self.value!r} not among the options")


@dataclass(frozen=True)
class Toggle:
    """An on/off checkbox."""

    name: str
    value: bool = False
    label: str | None = None
    help: str = ""


def log_options(lo, hi) -> list:
    """Round values 1, 2, 3, 5 × 10^k between ``lo`` and ``hi`` (both ends included): what a log
    slider offers, so that values a lesson names (1e-3, 0.05, …) are reachable exactly."""
    out = [float(lo)]
    for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 3, 5):
            v = float(f"{m}e{e}")
            if lo * (1 + 1e-9) < v < hi * (1 - 1e-9):
                out.append(v)
    return out + [float(hi)]


def snap(value, options):
    """The option nearest to ``value`` on a log scale (clamps to the ends)."""
    x = math.log(max(float(value), 1e-300))
    return min(options, key=lambda o: abs(math.log(o) - x))


def make_widget(ctl):
    import ipywidgets as w

    style = {"description_width": "initial"}
    layout = w.Layout(width="auto", min_width="240px")
    label = ctl.label or ctl.name
    if isinstance(ctl, Slider):
        if ctl.log:
            opts = log_options(ctl.min, ctl.max)
            wid = w.SelectionSlider(options=[(f"{v:.3g}", v) for v in opts],
                                    value=snap(ctl.value, opts), description=label,
                                    continuous_update=False, style=style, layout=layout)
        elif ctl.integer:
            wid = w.IntSlider(value=int(ctl.value), min=int(ctl.min), max=int(ctl.max),
                              step=int(ctl.step or 1), description=label,
                              continuous_update=False, style=style, layout=layout)
        else:
            wid = w.FloatSlider(value=ctl.value, min=ctl.min, max=ctl.max,
                                step=ctl.step or (ctl.max - ctl.min) / 100, description=label,
                                readout_format=".3g", continuous_update=False, style=style,
                                layout=layout)
    elif isinstance(ctl, Choice):
        wid = w.Dropdown(options=ctl.pairs(), value=ctl.value, description=label, style=style,
                         layout=layout)
    elif isinstance(ctl, Toggle):
        wid = w.Checkbox(value=bool(ctl.value), description=label, indent=False, layout=layout)
    else:
        raise TypeError(f"controls must be Slider, Choice or Toggle, got {type(ctl).__name__}")
    if ctl.help:
        # ipywidgets 8 syncs `tooltip`; 7 (Colab's) only `description_tooltip`
        if int(w.__version__.split(".")[0]) >= 8:
            wid.tooltip = ctl.help
        else:
            wid.description_tooltip = ctl.help
    return wid
