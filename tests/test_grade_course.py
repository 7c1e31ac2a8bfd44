"""The grader on the course itself: every solution earns full points, chapter 1's exercise none.

A solution that loses points here has a grading cell the grader cannot
replay (see README.md, "Writing gradable checks"), so ``nnlib-grade
batch`` would refuse that assignment.
"""
from pathlib import Path

import pytest

from nncourse.grade.grader import grade_notebook
from nncourse.grade.notebook import Assignment, check_assignment, read_submission
from nncourse.grade.runner import Limits

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def grade(path, assignment):
    nb = read_submission(path)
    check_assignment(nb, assignment, name=path.name)
    return grade_notebook(nb, assignment, Limits(timeout=120))


def test_there_are_solutions_to_grade():
    assert ROOT / "solutions" / "01_perceptron.ipynb" in SOLUTIONS


def test_the_released_perceptron_exercise_scores_zero_not_attempted():
    assignment = Assignment.load(ROOT / "solutions" / "01_perceptron.ipynb")
    result = grade(ROOT / "exercises" / "01_perceptron.ipynb", assignment)
    assert result.possible > 0 and result.total == 0
    assert [e.status for e in result.exercises] == ["not attempted"] * len(assignment.grading)
    assert all(e.feedback.startswith(f"Exercise {e.label}:") for e in result.exercises)


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_every_solution_earns_full_points(path):
    assignment = Assignment.load(path)
    result = grade(path, assignment)
    failing = {e.label: e.feedback for e in result.exercises if e.status != "passed"}
    assert failing == {} and result.status == "ok", result.notes
    assert result.total == result.possible == assignment.possible > 0
