"""The claims registry: every sentence of the course that states a fact is a ``Claim`` here —
its id, the sentence, the conditions under which it holds, and an experiment that measures it
and says whether it holds. Notebooks cite a claim as ``(claim 02.cliff)``; the tests run every
claim on at least two seeds and check that each cited id exists and each claim is cited.

    python -m mfteach.lessons.claims            # the table: claim · conditions · measured · holds
    python -m mfteach.lessons.claims 02         # one lesson's claims
    mf.lessons.claims.check("02.cliff")         # rerun one claim, in a notebook

One module per lesson registers its claims (``claims/initialization.py`` …); they load on first use.
"""
from __future__ import annotations

import importlib
import math
import re
import time
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Claim", "Result", "claim", "registry", "get", "run", "check", "table", "CITE",
           "MODULES"]

# Lesson prefix → the module that registers its claims.
MODULES = {"00": "article", "01": "initialization", "02": "regularization", "03": "skew",
           "04": "capstone", "05": "check_own"}
# How text cites a claim: "(claim 02.cliff)" — the id is <lesson>.<name>.
CITE = re.compile(r"\(claim ((?:0\d)\.[a-z0-9][a-z0-9\-]*)\)")
_ID = re.compile(r"^0\d\.[a-z0-9][a-z0-9\-]*$")
_REGISTRY: dict = {}


@dataclass(frozen=True)
class Claim:
    """A sentence the course states, and the experiment that checks it.

    ``measure(seed) -> (numbers: dict, holds: bool)``; ``expect`` says in words what "holds" means
    (the check and its tolerance); ``conditions`` when the sentence is true (data, optimizer …).
    """

    id: str
    text: str
    conditions: str
    expect: str
    measure: Callable = field(repr=False)
    seeds: tuple = (0, 1)
    slow: bool = False

    @property
    def lesson(self) -> str:
        return self.id.split(".")[0]


@dataclass(frozen=True)
class Result:
    claim: Claim
    seed: int
    measured: dict
    holds: bool
    seconds: float

    def __str__(self):
        nums = ", ".join(f"{k} {_num(v)}" for k, v in self.measured.items())
        mark = "✅ holds" if self.holds else "❌ does NOT hold"
        return f"{mark} [{self.claim.id}, seed {self.seed}] {nums}"

    def _repr_html_(self):
        import html

        color = "#009E73" if self.holds else "#D55E00"
        return f"<div style='color:{color}'>{html.escape(str(self))}</div>"


def _num(v):
    if isinstance(v, float):
        return "n/a" if not math.isfinite(v) else f"{v:.3g}"
    return str(v)


def claim(id: str, text: str, *, conditions: str, expect: str, seeds=(0, 1), slow=False):
    """Decorator registering ``measure(seed) -> (dict, bool)`` as the experiment of claim ``id``."""
    if not _ID.match(id):
        raise ValueError(f"claim id must look like '02.cliff' (lesson.name), got {id!r}")
    if len(tuple(seeds)) < 2:
        raise ValueError(f"claim {id}: run on at least two seeds, got {seeds!r}")

    def register(fn):
        if id in _REGISTRY and _REGISTRY[id].measure.__qualname__ != fn.__qualname__:
            raise ValueError(f"claim id {id!r} registered twice")
        _REGISTRY[id] = Claim(id, text, conditions, expect, fn, tuple(seeds), slow)
        return fn

    return register


def _load(lessons=None):
    for prefix, name in MODULES.items():
        if lessons is None or prefix in lessons:
            importlib.import_module(f".{name}", __name__)


def registry(lessons=None) -> dict:
    """{id: Claim} of every registered claim (or of the given lesson prefixes, e.g. ["02"])."""
    _load(lessons)
    return {k: c for k, c in sorted(_REGISTRY.items()) if lessons is None or c.lesson in lessons}


def get(id: str) -> Claim:
    _load([id.split(".")[0]])
    if id not in _REGISTRY:
        raise ValueError(f"no claim {id!r}; registered: {sorted(_REGISTRY)}")
    return _REGISTRY[id]


def run(id: str, seed: int) -> Result:
    c = get(id)
    t = time.perf_counter()
    measured, holds = c.measure(seed)
    return Result(c, seed, dict(measured), bool(holds), time.perf_counter() - t)


def check(id: str, seeds=None) -> list:
    """Rerun claim ``id`` on its seeds (or ``seeds``); one Result per seed (shows in a notebook)."""
    c = get(id)
    return [run(id, s) for s in (seeds or c.seeds)]


def table(lessons=None, seeds=None, progress=None):
    """A DataFrame: one row per claim and seed — claim, conditions, measured, holds."""
    import pandas as pd

    rows = []
    for c in registry(lessons).values():
        for s in seeds or c.seeds:
            r = run(c.id, s)
            rows.append({"claim": c.id, "seed": s, "text": c.text, "conditions": c.conditions,
                         "expect": c.expect,
                         "measured": ", ".join(f"{k} {_num(v)}" for k, v in r.measured.items()),
                         "holds": r.holds, "seconds": round(r.seconds, 2)})
            if progress:
                progress(f"{c.id} seed {s}: {'holds' if r.holds else 'DOES NOT HOLD'}")
    return pd.DataFrame(rows)
