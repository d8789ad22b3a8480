"""A panel's status line: what was trained and found, how long it took, a sweep's progress."""
from __future__ import annotations

import html

__all__ = ["fmt", "preview_html", "retraining_html", "status_html"]


def fmt(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else repr(v) if isinstance(v, str) else str(v)


def _settings(values) -> str:
    return html.escape(", ".join(f"{k}={fmt(v)}" for k, v in values.items()))


def retraining_html(values) -> str:
    """Shown the moment a control moves, while the retrain runs."""
    return f"<div style='font-size:1.05em;color:#666'>⏳ retraining with {_settings(values)} …</div>"


def preview_html(shown, training, computed, drawn) -> str:
    """Shown with a first look: the shorter run on screen (``shown``, values) while the move's
    own run (``training``) trains; only the settings that differ are named. ``computed``: its
    seconds, or None when it came from the cache."""
    diff = [k for k in training if shown.get(k) != training[k]]
    now = _settings({k: shown[k] for k in diff})
    goal = _settings({k: training[k] for k in diff})
    how = "from cache" if computed is None else f"computed in {computed:.2f} s"
    return (f"<div style='font-size:1.05em;color:#666'>⏳ showing {now} while {goal} trains … "
            f"({how}, drawn in {drawn:.2f} s)</div>")


def status_html(line, msg, job, seconds, pinned=None) -> str:
    """``line``: the describe() text (or None with ``msg``, a problem in plain words); ``job``: the
    move shown; ``seconds``: the panel's last timings; ``pinned``: (settings, result) of "A"."""
    pinned_values, a = pinned if pinned else (None, None)
    gone = getattr(getattr(a, "history", None), "diverged", None)  # drawn in the curves only
    timing = ("from cache" if job.cached else f"computed in {seconds['compute']:.2f} s") + \
             f", drawn in {seconds['draw'] + seconds['encode']:.2f} s"
    body = (f"<span style='color:#D55E00'>⚠ {html.escape(msg)}</span>" if msg is not None
            else html.escape(line))
    if job.sweep is not None and not job.sweep.complete:
        timing += f" — {job.sweep}"   # e.g. "sweep: run 3/7" while the points fill in
    pin = (f" <span style='color:#CC79A7'>A (dotted) = {_settings(pinned_values)}"
           f"{' — diverged: drawn in the training curves only' if gone else ''}</span>"
           if pinned_values else "")
    return (f"<div style='font-size:1.05em'>{body}"
            f"<span style='color:#666'> ({timing})</span>{pin}</div>")
