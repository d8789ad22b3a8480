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

__all__ = ["Exercise", "CheckResult", "Hint", "close_to", "check_init_function", "tidy"]


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
        message = tidy(str(message))
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


def tidy(message: str) -> str:
    """A message with no 17-digit floats (rounded to 4 significant digits) and no printed "nan"
    or "inf" (a parenthesis that shows one is dropped; elsewhere it reads "not a number")."""
    message = re.sub(r"(?<![\w.])-?\d+\.\d{7,}(?:e-?\d+)?",
                     lambda m: f"{float(m.group()):.4g}", message)
    message = re.sub(r"\s*\([^()]*\b(?:nan|inf)\b[^()]*\)", "", message)
    message = re.sub(r"-?\binf\b", "infinite", message)
    return re.sub(r"\bnan\b", "not a number", message)


# -- reusable checkers ---------------------------------------------------------------------------
def _one_number(answer) -> float:
    """``answer`` as a float; a one-element array, tensor or list counts as its element (e.g.
    ``svds(R, k=1)[1]`` without the ``[0]``)."""
    if answer is None or isinstance(answer, (str, bytes, bool)):
        return float(answer)
    try:
        import numpy as np

        a = np.asarray(answer, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return float(answer)
    if a.size != 1:
        raise ValueError(f"{a.size} numbers")
    return float(a.reshape(-1)[0])


def close_to(target: float, rel=0.05, what="your value", unit="", slips=()):
    """Checker: a number within ``rel`` (relative) of ``target``.

    slips: (value, message) pairs — what a usual mistake gives and the mistake's name; an answer
    within ``rel`` of one (and not of the target) is told that message.
    """

    def check(answer):
        try:
            x = _one_number(answer)
        except (TypeError, ValueError):
            return False, f"{what} should be a number, got {answer!r}"
        if not math.isfinite(x):
            return False, f"{what} is not a finite number (infinite or undefined): check the formula"
        if abs(x - target) <= rel * abs(target):
            return True, f"{what} = {x:.4g}{unit} (expected ≈ {target:.4g}{unit})"
        direction = "too big" if x > target else "too small"
        for value, why in slips:
            if abs(x - value) <= rel * abs(value):
                return False, f"{what} = {x:.4g}{unit} is {direction}: {why}"
        return False, f"{what} = {x:.4g}{unit} is {direction} (off by {abs(x / target - 1):.0%})"

    return check


def _std_slip(std: float, target: float, dim: int) -> str:
    """A name for the usual slip behind an init std that misses ``target`` ('' when none fits)."""
    def near(x, y, rel=0.06):
        return y > 0 and abs(x / y - 1) <= rel

    if near(std, 1.0):
        return " — that is N(0, 1), nn.Embedding's default: scale it down"
    if near(std, target / math.sqrt(3)):
        return (" — uniform_(w, -a, a) has std a/√3, not a: use a = √3·std")
    if near(std, target * math.sqrt(2)):
        return " — a factor √2 too big: Kaiming/He's gain √2 is for ReLU layers, not embeddings"
    if near(std, target * target) or near(std, 1 / dim):
        return " — that is 1/dim, not 1/√dim: take the square root"
    if near(std, math.sqrt(target)):
        return " — that std is the square root of the target: the std itself should be the target"
    return ""


def _constant_problem(w) -> str | None:
    """A message when every weight of ``w`` has the same value (a zeros or constant init)."""
    spread = (w.max() - w.min()).item()
    if spread <= 1e-6 * max(abs(w.mean().item()), 1e-3):
        return (f"every weight is the same value ({w.mean().item():.3g}): a zeros/constant init has "
                f"std 0, so all rows start identical and never break symmetry — draw random values")
    return None


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
                return False, (f"on a ({n:,}, {dim}) table some weights were not set (NaN left): "
                               f"initialise the tensor in place, e.g. nn.init.normal_(w, ...) — "
                               f"a function that returns a new tensor leaves w untouched")
            same = _constant_problem(w)
            if same:
                return False, same
            stds[n] = w.std().item()
        bad = {n: s for n, s in stds.items() if abs(s / target_std - 1) > rel}
        shown = ", ".join(f"{n:,} rows → {s:.4f}" for n, s in stds.items())
        if bad:
            n, s = next(iter(bad.items()))
            depends = max(stds.values()) / max(min(stds.values()), 1e-12) > 1 + 2 * rel
            why = (" — it changes with the number of rows, like Xavier does: leave the rows out "
                   "of the formula" if depends else _std_slip(s, target_std, dim))
            return False, f"std {s:.4f} on {n:,} rows, target {target_std:.4f}{why} ({shown})"
        return True, f"std ≈ {target_std:.4f} for every table size ({shown})"

    return check
