"""Compatibility alias: the checks moved to ``nncourse.checks`` (the course package).

Notebooks saved before the move say ``from nnlib.checks import check``; this
module keeps that line working. New code imports from ``nncourse.checks``.
It is the only place where nnlib imports the course package
(``tests/test_layout.py`` enforces that).
"""
from nncourse.checks import (CheckFailed, call, check, exercise, expect_array, expect_scalar,
                             expect_tuple, hint, rng, show)

__all__ = ["CheckFailed", "call", "check", "exercise", "expect_array", "expect_scalar",
           "expect_tuple", "hint", "rng", "show"]
