"""Hidden tests draw their random inputs from the grading seed (issues 12 and 21).

A hidden test that used ``np.random.default_rng(41)`` would test every
submission on the same inputs, which a learner who once saw them could
hard-code. ``nncourse.grade.seed.hidden_rng(41)`` gives those inputs when the
solution notebook runs on its own and new ones per submission under the
grader (recorded, so ``--resume`` reproduces a grade).
"""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from nncourse.grade.seed import hidden_rng, hidden_seed_context

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
# Random draws that would not follow the grading seed.
FIXED_RANDOM = re.compile(r"np\.random\.(default_rng|seed|RandomState|rand|randn|normal|uniform|random)\b")


def hidden_regions(path):
    """(cell index, text) of every hidden-test region in a solution notebook."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        text = "".join(cell["source"])
        if BEGIN in text:
            yield index, text[text.index(BEGIN):text.index(END)]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_hidden_tests_draw_from_the_grading_seed(path):
    regions = list(hidden_regions(path))
    assert regions, f"{path.name} has no hidden tests"
    fixed = [index for index, text in regions if FIXED_RANDOM.search(text)]
    assert not fixed, (f"{path.name}: hidden tests in cells {fixed} draw random inputs with np.random; "
                       f"use nncourse.grade.seed.hidden_rng(<int>) so each submission gets its own")
    seeded = [index for index, text in regions if "hidden_rng(" in text]
    assert seeded, f"{path.name}: no hidden test draws inputs from hidden_rng"


def test_hidden_rng_follows_the_grading_seed():
    alone = hidden_rng(41).normal(size=3)
    assert np.array_equal(alone, np.random.default_rng(41).normal(size=3))
    with hidden_seed_context(123):
        graded = hidden_rng(41).normal(size=3)
        again = hidden_rng(41).normal(size=3)
    with hidden_seed_context(124):
        other = hidden_rng(41).normal(size=3)
    assert np.array_equal(graded, again) and not np.array_equal(graded, alone)
    assert not np.array_equal(graded, other)
