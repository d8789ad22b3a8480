"""What ``diagnose`` returns: a ``Finding`` per problem or remark, collected in a ``Report``.

A Report is a plain list of Findings (so ``for f in diagnose(...)`` and ``len(...)`` keep working)
that also prints as text, shows as an HTML table in a notebook and turns into a DataFrame.
Each finding links to the notebook section that teaches it (``LINKS``).
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

__all__ = ["Finding", "Report", "LINKS", "anchor"]


def anchor(heading: str) -> str:
    """Jupyter's anchor for a Markdown heading: its rendered text with spaces turned into '-'
    (JupyterLab and Notebook 7 both do ``textContent.replace(/ /g, '-')``)."""
    text = heading.lstrip("#").strip().replace("`", "").replace("*", "")
    return text.replace(" ", "-")


def _link(notebook: str, heading: str) -> str:
    return f"notebooks/{notebook}.ipynb#{anchor(heading)}"


_NB1, _NB2, _NB3 = "01_initialization", "02_regularization", "03_skew_optimizers"
# finding name → the section that teaches it (a test checks every heading exists in notebooks/src)
LINKS = {
    "initial scale too large": _link(_NB1, "2. Predict, then run: the error before any training"),
    "coupled weight_decay past the cliff": _link(_NB2, "4. The weight-decay cliff, explained"),
    "coupled weight_decay near the cliff": _link(_NB2, "4. The weight-decay cliff, explained"),
    "coupled weight_decay below the cliff": _link(_NB2, "4. The weight-decay cliff, explained"),
    "embeddings collapsed to zero": _link(_NB2, "4. The weight-decay cliff, explained"),
    "embeddings collapsed to rank 1": _link(_NB1, "6. Zero, constant and huge inits"),
    "AdamW decay too small to matter": _link(_NB2, "5. AdamW: why its default does nothing here"),
    "rows never updated": _link(_NB1, "7. Cold items keep their init — when nothing touches the "
                                      "rows absent from a batch"),
    "norms tied to popularity": _link(_NB2, "7. Item norms and popularity"),
    "bias terms missing on uncentred ratings": _link(_NB3, "1. The article's Example 3, run as "
                                                           "written"),
    "predictions far off the rating scale": _link(_NB3, "1. The article's Example 3, run as "
                                                        "written"),
    "worse than predicting the mean": _link(_NB3, "1. The article's Example 3, run as written"),
    "overfitting": _link(_NB2, "2. Over- and under-fitting"),
    "diverged": _link(_NB3, "4. Do adaptive optimizers beat SGD on skewed data?"),
    "learning rate at its edge": _link(_NB3, "4. Do adaptive optimizers beat SGD on skewed data?"),
    "dense Adam on a large table": _link(_NB3, "The cost of dense Adam with big tables"),
}


def _fmt(v) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return f"{v:.3g}" if math.isfinite(v) else ("not a number" if math.isnan(v) else
                                                    ("+∞" if v > 0 else "−∞"))
    return str(v)


@dataclass(frozen=True)
class Finding:
    name: str
    severity: str          # "warning" or "info"
    evidence: dict = field(default_factory=dict)
    explanation: str = ""
    fix: str = ""
    link: str = ""         # the notebook section that teaches it (LINKS)

    @property
    def evidence_text(self) -> str:
        return ", ".join(f"{k} = {_fmt(v)}" for k, v in self.evidence.items())

    def __str__(self):
        icon = "⚠" if self.severity == "warning" else "ℹ"
        more = f" See {self.link}" if self.link else ""
        return f"{icon} {self.name}: {self.explanation} [{self.evidence_text}] Fix: {self.fix}{more}"


def linked(f: Finding) -> Finding:
    """``f`` with its section link filled in from LINKS (kept if it already has one)."""
    if f.link or f.name not in LINKS:
        return f
    return Finding(f.name, f.severity, f.evidence, f.explanation, f.fix, LINKS[f.name])


class Report(list):
    """The findings of one diagnosis, warnings first. ``notes``: checks that could not run (and
    why), shown under the findings."""

    def __init__(self, findings=(), notes=()):
        found = [linked(f) for f in findings]
        super().__init__(sorted(found, key=lambda f: f.severity != "warning"))  # stable
        self.notes = list(notes)

    @property
    def warnings(self) -> list:
        return [f for f in self if f.severity == "warning"]

    @property
    def healthy(self) -> bool:
        return not self.warnings

    def __str__(self):
        head = ("no warnings: looks healthy" if self.healthy
                else f"{len(self.warnings)} warning(s)")
        if len(self) > len(self.warnings):
            head += f", {len(self) - len(self.warnings)} note(s)"
        lines = [head] + [str(f) for f in self]
        lines += [f"(not checked: {n})" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        e = html.escape
        head = ("<p><b>no warnings: looks healthy</b></p>" if self.healthy
                else f"<p><b>{len(self.warnings)} warning(s)</b></p>")
        rows = []
        for f in self:
            icon = "⚠ warning" if f.severity == "warning" else "ℹ info"
            # shown in a notebook, the link is relative to the notebooks' own folder (they sit
            # side by side there), not to the project root the text form names
            href = f.link.removeprefix("notebooks/")
            link = (f'<a href="{e(href, quote=True)}" target="_blank">{e(f.link.split("/")[-1])}'
                    "</a>" if f.link else "")
            rows.append("<tr>" + "".join(
                f'<td style="text-align:left;vertical-align:top">{c}</td>' for c in
                (e(icon), f"<b>{e(f.name)}</b>", e(f.evidence_text), e(f.explanation), e(f.fix),
                 link)) + "</tr>")
        table = ("" if not rows else
                 "<table><thead><tr>" + "".join(
                     f'<th style="text-align:left">{h}</th>' for h in
                     ("severity", "finding", "evidence", "explanation", "fix", "learn more"))
                 + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
        notes = "".join(f"<p><i>not checked: {e(n)}</i></p>" for n in self.notes)
        return head + table + notes

    def to_frame(self):
        """One row per finding: severity, finding, evidence (text), explanation, fix, link."""
        import pandas as pd

        return pd.DataFrame([{"severity": f.severity, "finding": f.name,
                              "evidence": f.evidence_text, "explanation": f.explanation,
                              "fix": f.fix, "link": f.link} for f in self],
                            columns=["severity", "finding", "evidence", "explanation", "fix",
                                     "link"])
