"""``python -m nncourse.grade`` is ``nnlib-grade``."""
import sys

from nncourse.grade.cli import main

sys.exit(main())
