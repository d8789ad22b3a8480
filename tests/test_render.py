"""Every panel, normal and projector-sized, with and without a pinned "A", at its start and at the
extremes of each control: no text overlaps text or leaves the figure, no NaN/inf is shown as a
number (in the figure or the status line), and no legend covers the data it explains."""
import re

import pytest

from _render import legend_covers_data, problems
from test_panels import PANELS, _moves, tiny_data  # noqa: F401  (fixture)

ARGS = {"capstone_panel": {"level": "medium"}}


def _check(p, where):
    bad = problems(p.fig) + legend_covers_data(p.fig)
    if re.search(r"\bnan\b|\binf\b", p.status_text, re.I):
        bad.append(f"status shows nan/inf: {p.status_text!r}")
    assert not bad, (where, p.values, bad)


@pytest.mark.slow
@pytest.mark.parametrize("projector", [False, True], ids=["normal", "projector"])
@pytest.mark.parametrize("factory", sorted(PANELS))
def test_panel_figures_read_cleanly(tiny_data, factory, projector):
    p = PANELS[factory](projector=projector, **ARGS.get(factory, {}))
    _check(p, "start")
    start = dict(p.values)
    for name, value in list(_moves(p)):
        p.reset()  # one control moved from the start (a range that follows a choice follows it)
        p.set(**{name: value})
        _check(p, f"{name}={value!r}")
    p.set(**start)
    p.pin_button.value = True                        # A = the start; B = each move again
    for name, value in list(_moves(p))[:2]:
        p.reset()
        p.set(**{name: value})
        _check(p, f"pinned, {name}={value!r}")


@pytest.mark.slow
@pytest.mark.parametrize("factory, move", [("init_panel", {"init": "normal"}),
                                           ("reg_panel", {"reg_strength": 0.2})])
def test_pinned_projector_panels_on_the_lessons_data(factory, move):
    """On the lesson's own data (its legends count hundreds of items, tiny_data's a few), with a
    pinned A far from B: the norms legend stayed inside its axes and above A's curves."""
    p = PANELS[factory](projector=True)
    p.pin_button.value = True
    p.set(**move)
    _check(p, f"pinned A, then {move}")
