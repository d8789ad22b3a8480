"""The Reproduce line: a panel remembers the call that built it, and writes that call back with
its current control values — one line a student pastes to share exactly what they saw."""
from __future__ import annotations

import functools
import inspect
import math

__all__ = ["panel_factory", "reproduce_line"]


def panel_factory(fn):
    """Decorate a function that builds a Panel: the panel remembers the call, and its Reproduce
    line is that call with the current control values, naming only what differs from the
    function's defaults. Each control must be a keyword parameter of ``fn`` whose default is the
    control's start value."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def make(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{fn.__name__}(): {e}") from None
        panel = fn(*args, **kwargs)
        panel.origin = (fn, dict(bound.arguments))
        panel.copy_box.value = panel.reproduce()
        return panel

    return make


def reproduce_line(fn, given: dict, values: dict) -> str:
    """``mf.<module>.<fn>(…)`` naming the arguments and control values that differ from ``fn``'s
    defaults; a comment when an argument (e.g. a custom Split) cannot be written on one line."""
    args = []
    for name, p in inspect.signature(fn).parameters.items():
        if name in values:
            v = values[name]
        elif name in given:
            v = given[name]
        else:
            continue
        if p.default is not inspect.Parameter.empty and _same(v, p.default):
            continue
        if not isinstance(v, (bool, int, float, str, type(None))):
            shown = ", ".join(f"{k}={x!r}" for k, x in values.items())
            return (f"# built with {name}=<{type(v).__name__}>: not reproducible in one line "
                    f"(settings: {shown})")
        args.append(f"{name}={v!r}")
    module = fn.__module__.replace("mfteach", "mf", 1)
    return f"{module}.{fn.__qualname__}({', '.join(args)})"


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
        except (TypeError, ValueError):
            return False
    return type(a) is type(b) and a == b
