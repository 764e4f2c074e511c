"""``python -m symkb`` is the ``symkb`` command."""
import sys

from .cli import main

sys.exit(main())
