"""python -m mfteach … (the same as the ``mfteach`` command)."""
import sys

from .cli import main

sys.exit(main())
