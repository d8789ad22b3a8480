"""Controls described in data (a slider, a dropdown, a checkbox) and the widgets made from them."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

__all__ = ["Slider", "Choice", "Toggle", "log_options", "make_widget", "snap", "set_widget",
           "settle", "retarget"]


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


def set_widget(wid, spec, value):
    """Set one control, refusing values it cannot take (a ValueError naming the control)."""
    name = spec.name
    if isinstance(spec, Slider):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        lo, hi = (wid.options[0][1], wid.options[-1][1]) if spec.log else (wid.min, wid.max)
        if not lo - 1e-9 * abs(lo) <= value <= hi + 1e-9 * abs(hi):  # as the panel's builder says
            raise ValueError(f"{name} must be in {lo:g}..{hi:g} here, got {value!r}")
        if spec.log:
            wid.value = snap(value, [v for _, v in wid.options])
            return
        value = min(max(value, wid.min), wid.max)
        if spec.integer:
            value = int(round(value))
        elif wid.step:  # land on the slider's grid, as the front end would
            value = round(wid.min + round((value - wid.min) / wid.step) * wid.step, 10)
    elif isinstance(spec, Choice):
        allowed = [v for _, v in spec.pairs()]
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    elif not isinstance(value, bool) and type(value).__name__ != "bool_":
        raise ValueError(f"{name} must be True or False, got {value!r}")
    wid.value = value


def settle(spec, wid, value, change: dict):
    """The value ``retarget`` leaves on a control that holds ``value`` (nothing is changed): what
    a panel would train after a move, known before the move is made."""
    if isinstance(spec, Slider) and spec.log and ("min" in change or "max" in change):
        lo, hi = change.get("min", spec.min), change.get("max", spec.max)
        keep = lo * (1 - 1e-9) <= value <= hi * (1 + 1e-9)
        return snap(change.get("value", value if keep else change.get("default", value)),
                    log_options(lo, hi))
    if "value" in change:
        return change["value"]
    if "default" in change:
        # keep the student's value when it still fits the new range
        lo, hi = change.get("min", -math.inf), change.get("max", math.inf)
        if not lo <= value <= hi:
            return change["default"]
    return value


def retarget(wid, spec, change: dict):
    """Apply a panel link's change ("min"/"max"/"value"/"default"/"disabled") to one control."""
    if "disabled" in change:
        wid.disabled = bool(change["disabled"])
    if isinstance(spec, Slider) and spec.log and ("min" in change or "max" in change):
        opts = log_options(change.get("min", spec.min), change.get("max", spec.max))
        value = settle(spec, wid, wid.value, change)
        if [v for _, v in wid.options] != opts:
            wid.options = [(f"{v:.3g}", v) for v in opts]
        wid.value = value
        return
    # widen first so that min/max/value never cross while being set
    if "min" in change:
        wid.min = min(wid.min, change["min"])
    if "max" in change:
        wid.max = max(wid.max, change["max"])
    value = settle(spec, wid, wid.value, change)
    if value != wid.value:
        wid.value = value
    if "min" in change:
        wid.min = change["min"]
    if "max" in change:
        wid.max = change["max"]
