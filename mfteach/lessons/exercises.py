"""A small exercise API: ``ex.check(answer)``, ``ex.hint()``, ``ex.solution()``.

Checks test *properties* of the answer (a number within a tolerance, an init whose std is right
for every table size, a training step that really adds the penalty) and say specifically what is
wrong. Nothing here needs the network.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from . import progress

__all__ = ["Exercise", "CheckResult", "Hint", "close_to", "check_init_function"]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check; shows itself as one coloured line in a notebook."""

    ok: bool
    message: str

    def __bool__(self):
        return self.ok

    def __str__(self):
        return ("✅ Correct! " if self.ok else "❌ Not yet: ") + self.message

    __repr__ = __str__

    def _repr_html_(self):
        color = "#009E73" if self.ok else "#D55E00"
        return f"<div style='color:{color};font-weight:bold'>{html.escape(str(self))}</div>"


@dataclass(frozen=True)
class Hint:
    """A hint or solution text that renders as Markdown-ish HTML in a notebook."""

    title: str
    text: str
    code: bool = False

    def __str__(self):
        return f"{self.title}\n{self.text}"

    __repr__ = __str__

    def _repr_html_(self):
        body = (f"<pre>{html.escape(self.text)}</pre>" if self.code
                else f"<p>{html.escape(self.text)}</p>")
        return f"<div><b>{html.escape(self.title)}</b>{body}</div>"


class Exercise:
    """One exercise.

    checker: answer → (ok, message); an exception inside it becomes a "not yet" message (the
        student's code raised), never a traceback from here.
    hints: shown one at a time, in order, by ``hint()``. solution: code or text.
    """

    def __init__(self, name: str, prompt: str, checker: Callable[[Any], tuple],
                 hints=(), solution: str = "", *, id: str | None = None):
        self.name, self.prompt, self.checker = name, prompt, checker
        self.hints, self.solution_text = list(hints), solution
        # a stable id for the learner's progress file (lesson prefix + a slug of the name)
        self.id = id or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        self._next_hint = 0
        self.solved = False

    def check(self, answer) -> CheckResult:
        if answer is None or answer is Ellipsis:
            return CheckResult(False, "replace the ... (or None) with your answer, then run again.")
        try:
            ok, message = self.checker(answer)
        except Exception as e:  # the student's code failed inside the check
            ok, message = False, f"running your answer raised {type(e).__name__}: {e}"
        self.solved = self.solved or bool(ok)
        progress.record(self.id, self.name, bool(ok), message)
        return CheckResult(bool(ok), message)

    def answer(self, text: str):
        """Write your answer in your own words (e.g. to "defend your choice"); it is kept with
        your progress and shown by ``mf.lessons.progress.summary()``."""
        progress.write_answer(self.id, self.name, text)
        return progress.summary()

    def hint(self) -> Hint:
        if not self.hints:
            return Hint(f"{self.name}: no hints", "Try the panel above, then ex.solution().")
        k = min(self._next_hint, len(self.hints) - 1)
        self._next_hint += 1
        more = "" if k == len(self.hints) - 1 else " (call hint() again for another)"
        return Hint(f"Hint {k + 1}/{len(self.hints)}{more}", self.hints[k])

    def solution(self) -> Hint:
        return Hint(f"{self.name}: a solution", self.solution_text, code=True)

    def __repr__(self):
        return f"Exercise({self.name!r}: {self.prompt})"

    def _repr_html_(self):
        return (f"<div style='border-left:4px solid #0072B2;padding-left:8px'><b>Exercise: "
                f"{html.escape(self.name)}</b><br>{html.escape(self.prompt)}<br><i>Use "
                f".check(answer), .hint(), .solution()</i></div>")


# -- reusable checkers ---------------------------------------------------------------------------
def close_to(target: float, rel=0.05, what="your value", unit=""):
    """Checker: a number within ``rel`` (relative) of ``target``."""

    def check(answer):
        try:
            x = float(answer)
        except (TypeError, ValueError):
            return False, f"{what} should be a number, got {answer!r}"
        if not math.isfinite(x):
            return False, f"{what} is {x}; it should be a finite number"
        if abs(x - target) <= rel * abs(target):
            return True, f"{what} = {x:.4g}{unit} (expected ≈ {target:.4g}{unit})"
        direction = "too big" if x > target else "too small"
        return False, f"{what} = {x:.4g}{unit} is {direction} (off by {abs(x / target - 1):.0%})"

    return check


def check_init_function(target_std: float, dim=32, rows=(600, 20_000, 200_000), rel=0.1):
    """Checker: ``answer(weight)`` initialises a (rows, dim) tensor in place with std ≈ target,
    for every table size (so the scale does not depend on the number of rows)."""
    import torch

    def check(fn):
        if not callable(fn):
            return False, "pass a function that takes a weight tensor and initialises it in place"
        stds = {}
        for n in rows:
            w = torch.full((n, dim), float("nan"))
            with torch.no_grad():
                fn(w)
            if not torch.isfinite(w).all():
                return False, (f"on a ({n}, {dim}) table some weights were not set (NaN left): "
                               f"initialise the tensor in place, e.g. nn.init.normal_(w, ...)")
            stds[n] = w.std().item()
        bad = {n: s for n, s in stds.items() if abs(s / target_std - 1) > rel}
        shown = ", ".join(f"{n:,} rows → {s:.4f}" for n, s in stds.items())
        if bad:
            n, s = next(iter(bad.items()))
            depends = max(stds.values()) / max(min(stds.values()), 1e-12) > 1 + 2 * rel
            why = (" — it changes with the number of rows, like Xavier does" if depends
                   else "")
            return False, f"std {s:.4f} on {n:,} rows, target {target_std}{why} ({shown})"
        return True, f"std ≈ {target_std} for every table size ({shown})"

    return check
