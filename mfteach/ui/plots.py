"""Plots that draw results and never train.

Each plot is a small class: create it on an ``ax`` (default: the current axes), call
``update(...)`` with a result, call ``update`` again with another result and the same artists are
changed in place (fast redraws in live panels). ``artists`` lists what was drawn. Each also has a
one-call function form, e.g. ``plot_rmse_curves(history, ax=ax)``, that returns the plot object.

Colours are the Okabe–Ito palette (safe for the common colour-vision deficiencies); each series
also differs by line style or marker, so the plots read in greyscale and on a washed-out projector.
No ``plt.show()``, ``plt.figure()`` or rcParams changes here.
"""
# One import for every plot: ``from mfteach.ui import plots``.
from .bars import *  # noqa: F401,F403
from .bars import __all__ as _bars
from .curves import *  # noqa: F401,F403
from .curves import __all__ as _curves
from .embeddings import *  # noqa: F401,F403
from .embeddings import __all__ as _embeddings
from .plotbase import *  # noqa: F401,F403
from .plotbase import __all__ as _base

__all__ = [*_base, *_curves, *_embeddings, *_bars]
