"""Panel text and line sizes: normal, and bigger for a lecture-hall projector (applied with
``rc_context`` around a panel's drawing, never globally)."""
from __future__ import annotations

__all__ = ["NORMAL_RC", "PROJECTOR_RC", "PROJECTOR_HEIGHT", "projector"]

NORMAL_RC = {"font.size": 10.5, "axes.titlesize": 12, "axes.labelsize": 11}
PROJECTOR_RC = {"font.size": 15, "axes.titlesize": 16, "axes.labelsize": 15,
                "legend.fontsize": 13, "xtick.labelsize": 13, "ytick.labelsize": 13,
                "lines.linewidth": 3, "lines.markersize": 8}
PROJECTOR_HEIGHT = 1.35      # the same width, a taller canvas: bigger text leaves the plots room
_PROJECTOR = {"on": False}


def projector(on: bool = True):
    """Make every panel built from now on projector-sized (what MFTEACH_PROJECTOR=1 does, for
    front ends where you cannot set an environment variable before launch, e.g. Colab)."""
    _PROJECTOR["on"] = bool(on)
