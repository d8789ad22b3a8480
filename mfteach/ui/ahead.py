"""Computing ahead: idle time in a live panel becomes the next step's result.

Once a move is drawn (and its sweep filled in), the settings one step either side of the control
just moved are computed into the panel's cache, so the next arrow-key step only has to be drawn.
The same ``compute`` on the same settings: the results only arrive earlier. A new move drops what
is still queued. Background mode only (in a kernel, between messages); ``MFTEACH_AHEAD=0`` turns
it off (a crowded class server: it costs up to two runs of CPU per move).
"""
from __future__ import annotations

import contextlib
import io
import os

from .controls import Slider, Toggle

__all__ = ["enabled", "neighbours", "plan", "step"]


def enabled(ahead=None) -> bool:
    """``ahead`` if given, else on unless $MFTEACH_AHEAD is 0/off/false/no."""
    if ahead is not None:
        return bool(ahead)
    return os.environ.get("MFTEACH_AHEAD", "").strip().lower() not in ("0", "off", "false", "no")


def neighbours(spec, wid) -> list:
    """The values one step above and below a slider's (or the other state of a toggle); none
    for a choice (no "next" a student is likely to pick)."""
    if isinstance(spec, Toggle):
        return [not wid.value]
    if not isinstance(spec, Slider) or wid.disabled:
        return []
    if spec.log:
        opts = [v for _, v in wid.options]
        i = opts.index(wid.value) if wid.value in opts else None
        return [] if i is None else [opts[j] for j in (i + 1, i - 1) if 0 <= j < len(opts)]
    step = wid.step or 1
    out = []
    for v in (wid.value + step, wid.value - step):
        if wid.min - 1e-12 <= v <= wid.max + 1e-12:
            out.append(int(round(v)) if spec.integer else round(v, 10))
    return out


def plan(panel, job) -> list:
    """After ``job`` (a move of ``panel._moved``) is done: the settings to compute ahead."""
    name = panel._moved
    if not (panel.ahead and panel.scheduler.background and name and job.result is not None):
        return []
    values = ({**job.values, name: v} for v in neighbours(panel.specs[name], panel.controls[name]))
    return [v for v in values if panel._key(v) not in panel.cache]


def step(panel) -> bool:
    """Compute the next queued setting into the cache; True while more are queued."""
    if not panel._ahead:
        return False
    values = panel._ahead.pop(0)
    key = panel._key(values)
    if key not in panel.cache:
        try:  # quietly: a setting that fails here fails again, visibly, if it is chosen
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                panel.cache.put(key, panel.compute(dict(values)))
        except Exception:  # noqa: BLE001
            pass
    return bool(panel._ahead)
