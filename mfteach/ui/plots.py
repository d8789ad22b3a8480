"""Every plot class in one import (``from mfteach.ui import plots``); see ``plotbase`` for how they
work: create on an ``ax``, ``update`` in place, ``message`` instead of a plot."""
from .bars import *  # noqa: F401,F403
from .bars import __all__ as _bars
from .curves import *  # noqa: F401,F403
from .curves import __all__ as _curves
from .embeddings import *  # noqa: F401,F403
from .embeddings import __all__ as _embeddings
from .plotbase import *  # noqa: F401,F403
from .plotbase import __all__ as _base

__all__ = [*_base, *_curves, *_embeddings, *_bars]
