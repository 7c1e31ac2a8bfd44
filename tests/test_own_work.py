"""An answer that merely calls nnlib's implementation of the exercise fails, in the notebook and in the grader.

The check watches the learner's call with a profile hook (``nncourse.checks._own``)
and raises inside it; the grader records that exception and replays it, so the
exercise earns no points there either, with the same message.
"""
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnlib import functional as F
from nncourse.checks import CheckFailed, check
from nncourse.checks._own import ReferenceUsed, call_own, resolve
from nncourse.checks.forbidden import CHECKED_AT_CALL, FORBIDDEN

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted({n for exercise_id in CHECKED_AT_CALL
                                         for n in FORBIDDEN[exercise_id]}))
def test_every_forbidden_name_resolves_to_a_python_function(name):
    assert resolve(name).co_name == name.rsplit(".", 1)[1]


def test_a_call_through_any_alias_is_seen_and_the_profile_is_restored():
    import sys
    from nnlib.functional.activations import relu_backward as alias

    before = sys.getprofile()
    with pytest.raises(CheckFailed, match="you called nnlib.functional.activations.relu_backward"):
        call_own(lambda d, z: alias(d, z), np.ones(2), np.ones(2),
                 forbidden=FORBIDDEN["4.1"])
    assert sys.getprofile() is before
    assert call_own(lambda d, z: d * (z > 0), np.ones(2), np.ones(2),
                    forbidden=FORBIDDEN["4.1"]).tolist() == [1.0, 1.0]


def test_the_rebuilt_exception_of_the_grader_gives_the_same_message():
    rebuilt = type("ReferenceUsed", (Exception,), {})  # what nncourse.grade.judge rebuilds by name

    def replay(dout, z):
        raise rebuilt("you called nnlib.functional.activations.relu_backward, nnlib's own "
                      "implementation of this exercise.")
    with pytest.raises(CheckFailed, match="Write it yourself"):
        check("4.1", replay)
    assert ReferenceUsed.__name__ == "ReferenceUsed"


def test_the_grader_gives_no_points_to_nnlibs_own_relu_backward(tmp_path):
    from nncourse.grade.cli import default_solutions, find_assignment
    from nncourse.grade.grader import grade_notebook
    from nncourse.grade.runner import Limits

    nb = nbformat.read(str(ROOT / "solutions" / "04_backprop.ipynb"), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex_4_1_relu_backward":
            cell.source = ("from nnlib import functional as F\n\n\n"
                           "def relu_backward(dout, cache):\n    return F.relu_backward(dout, cache)\n")
    result = grade_notebook(nb, find_assignment("04_backprop", default_solutions()),
                            Limits(timeout=60, notebook_timeout=300))
    points = {e.label: (e.points, e.feedback) for e in result.exercises}
    assert points["4.1"][0] == 0 and "write it yourself" in points["4.1"][1].lower()
    assert points["4.4"][0] == 5  # the other exercises still earn theirs
