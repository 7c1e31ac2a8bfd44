"""``python -m nnlib.grade`` is ``nnlib-grade``."""
import sys

from nnlib.grade.cli import main

sys.exit(main())
