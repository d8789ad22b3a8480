"""Where a learner stands: which exercises passed, and the answers they wrote in their own words.

Kept in a small JSON file in the learner's own folder (the notebook's working directory, or the
path in ``$MFTEACH_PROGRESS``), so it survives a kernel restart. ``summary()`` shows it.
"""
from __future__ import annotations

import html
import json
import os
import tempfile
import time
from pathlib import Path

__all__ = ["path", "load", "record", "write_answer", "summary", "Summary", "forget"]

ENV = "MFTEACH_PROGRESS"
_problem = None  # why the file could not be written (shown in the summary, never raised)


def path() -> Path:
    return Path(os.environ.get(ENV) or Path.cwd() / "mfteach_progress.json")


def _shown() -> str:
    """The progress file as a learner should read it: relative to the notebook's folder when it
    lies there (no machine-specific absolute path in a notebook's output)."""
    p = path()
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def load() -> dict:
    """{exercise id: {"name", "passed", "tries", "last", "answer"}} ({} when there is no file)."""
    try:
        data = json.loads(path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save(data: dict):
    global _problem
    p = path()
    try:  # write a temporary file and rename it: a crash never leaves half a file
        fd, tmp = tempfile.mkstemp(prefix=".mfteach-progress-", dir=p.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, ensure_ascii=False)
        os.replace(tmp, p)
        _problem = None
    except OSError as e:
        _problem = f"could not save progress to {p}: {e.strerror or e}"


def _entry(data, exercise_id, name):
    return data.setdefault(exercise_id, {"name": name, "passed": False, "tries": 0, "last": "",
                                         "answer": ""})


def record(exercise_id: str, name: str, passed: bool, message: str = ""):
    """One check of an exercise: once passed, it stays passed."""
    data = load()
    e = _entry(data, exercise_id, name)
    e["tries"] += 1
    e["passed"] = bool(e["passed"] or passed)
    e["last"] = time.strftime("%Y-%m-%d %H:%M") + (" ✅" if passed else " ❌") + \
        (f" {message[:200]}" if message else "")
    _save(data)


def write_answer(exercise_id: str, name: str, text: str):
    """Keep a written answer (e.g. "defend your choice") with the exercise."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"write your answer as a non-empty string, got {text!r}")
    data = load()
    _entry(data, exercise_id, name)["answer"] = text.strip()[:5000]
    _save(data)


def forget():
    """Start over: remove the progress file."""
    try:
        path().unlink()
    except FileNotFoundError:
        pass


class Summary:
    """What ``summary()`` returns: an HTML table in a notebook, plain text elsewhere."""

    def __init__(self, data: dict, prefix=None):
        self.rows = {k: v for k, v in sorted(data.items()) if prefix is None or k.startswith(prefix)}

    @property
    def passed(self) -> int:
        return sum(v["passed"] for v in self.rows.values())

    def __str__(self):
        if not self.rows:
            return (f"No exercise checked yet (progress file: {_shown()})"
                    + (f"\n⚠ {_problem}" if _problem else ""))
        lines = [f"{self.passed} of {len(self.rows)} exercises passed (saved in {_shown()})"]
        for k, v in self.rows.items():
            tries = f"{v['tries']} {'try' if v['tries'] == 1 else 'tries'}"
            lines.append(f"{'✅' if v['passed'] else '⬜'} {v['name']} ({tries})"
                         + (f"\n     your answer: {v['answer']}" if v["answer"] else ""))
        if _problem:
            lines.append(f"⚠ {_problem}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        if not self.rows:
            return f"<p>No exercise checked yet (progress file: {html.escape(_shown())}).</p>"
        rows = "".join(
            f"<tr><td>{'✅' if v['passed'] else '⬜'}</td><td>{html.escape(v['name'])}</td>"
            f"<td>{v['tries']}</td><td>{html.escape(v['answer']) or '<i>—</i>'}</td></tr>"
            for v in self.rows.values())
        warn = f"<p style='color:#D55E00'>⚠ {html.escape(_problem)}</p>" if _problem else ""
        return (f"<p><b>{self.passed} of {len(self.rows)} exercises passed</b> (saved in "
                f"<code>{html.escape(_shown())}</code>)</p><table><tr><th></th><th>exercise"
                f"</th><th>tries</th><th>your written answer</th></tr>{rows}</table>{warn}")


def summary(lesson: str | None = None) -> Summary:
    """Which exercises passed (all, or one lesson's: summary("02")), with your written answers."""
    return Summary(load(), None if lesson is None else f"{lesson}.")
