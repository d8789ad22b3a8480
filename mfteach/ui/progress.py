"""Progress for sweeps called from code: a ``tqdm.auto`` bar (a widget in a notebook, text in a
terminal), off where nobody watches.

``progress="auto"`` (the default of the lessons' sweeps) shows a bar in a Jupyter kernel — a
notebook widget, so nothing is written to stderr and an nbval-checked cell gets no stray text — and
in a terminal; it stays silent when stderr is not a terminal outside a kernel (tests, CI, a script
piped to a file). ``True`` always shows one, ``False``/``None`` never; a function is called with
one line per finished group (the older interface). Without tqdm installed, the lines are printed.
"""
from __future__ import annotations

import contextlib
import sys

__all__ = ["progress_bar", "interactive"]


def interactive() -> bool:
    """Inside a Jupyter kernel, or writing to a terminal."""
    ip = sys.modules.get("IPython")
    shell = ip.get_ipython() if ip is not None else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class _Quiet:
    def __init__(self, note=None):
        self._note = note

    def update(self, n=1):
        pass

    def note(self, line):
        if self._note is not None:
            self._note(line)


class _Bar:
    def __init__(self, bar):
        self.bar = bar

    def update(self, n=1):
        self.bar.update(n)

    def note(self, line):
        self.bar.set_postfix_str(line.split(";")[0].strip(), refresh=True)


@contextlib.contextmanager
def progress_bar(total: int, desc: str, progress="auto"):
    """A context giving ``update(n)`` (n runs finished) and ``note(line)`` (a group finished)."""
    if callable(progress):
        yield _Quiet(progress)
        return
    if progress not in ("auto", True, False, None):
        raise ValueError(f"progress must be 'auto', True, False, None or a function, got {progress!r}")
    if not progress or (progress == "auto" and not interactive()):
        yield _Quiet()
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield _Quiet(print)
        return
    bar = tqdm(total=total, desc=desc, leave=True)
    try:
        yield _Bar(bar)
    finally:
        bar.close()
