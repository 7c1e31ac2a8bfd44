"""Notebooks saved before the speedups chapter moved from 6 to 7 still check and grade.

See nncourse/grade/aliases.py and nncourse/checks/_moved.py: the grader maps
the old assignment name and grade_ids; ``check("6.k", f)`` tells an old
speedups exercise from the depth chapter's by the function's name.
"""
import re
from pathlib import Path

import nbformat
import pytest

from nncourse.checks import CheckFailed, check
from nncourse.grade.aliases import current_name, old_names, upgrade
from nncourse.grade.batch import Submission, locate_notebook
from nncourse.grade.cli import find_assignment
from nncourse.grade.grader import grade_notebook
from nncourse.grade.notebook import Assignment, SubmissionError, check_assignment, read_submission, restore
from nncourse.grade.runner import Limits

ROOT = Path(__file__).resolve().parents[1]
SPEEDUPS = ROOT / "solutions" / "07_speedups.ipynb"


def as_saved_before_the_move(source, folder):
    """``source`` rewritten as it looked when speedups was chapter 6, saved as 06_speedups.ipynb."""
    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if "grade_id" in meta:
            meta["grade_id"] = re.sub(r"^(ex|check|answer)_7_", r"\1_6_", meta["grade_id"])
        cell.source = re.sub(r'check\("7\.', 'check("6.', cell.source).replace("checks.ch07", "checks.ch06")
    path = Path(folder) / "06_speedups.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_the_old_assignment_name_is_an_alias_of_the_new_one():
    assert current_name("06_speedups") == "07_speedups"
    assert current_name("06_deep") == "06_deep" and current_name("01_perceptron") == "01_perceptron"
    assert old_names("07_speedups") == ["06_speedups"]
    assert find_assignment("06_speedups", ROOT / "solutions").name == "07_speedups"


def test_an_old_notebook_gets_the_current_grade_ids_and_the_same_grading_plan(tmp_path):
    assignment = Assignment.load(SPEEDUPS)
    old = read_submission(as_saved_before_the_move(ROOT / "exercises" / "07_speedups.ipynb", tmp_path))
    current = read_submission(ROOT / "exercises" / "07_speedups.ipynb")
    check_assignment(old, assignment, name="06_speedups.ipynb")  # raises if not recognised
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in old.cells]
    assert ids == [c.metadata.get("nbgrader", {}).get("grade_id") for c in current.cells]
    assert [(c.kind, c.grade_id) for c in restore(old, assignment)] == \
        [(c.kind, c.grade_id) for c in restore(current, assignment)]


def test_a_notebook_of_another_chapter_6_is_not_renamed():
    assignment = Assignment.load(SPEEDUPS)
    other = nbformat.v4.new_notebook()
    meta = {"nbgrader": {"grade_id": "ex_6_1_layer_variance", "solution": True, "grade": False}}
    other.cells = [nbformat.v4.new_code_cell("def f():\n    pass", metadata=meta)]
    assert upgrade(other, assignment) == 0
    with pytest.raises(SubmissionError, match="belong to chapter 6"):
        check_assignment(other, assignment, name="06_deep.ipynb")


def test_a_student_folder_with_the_old_file_name_is_found(tmp_path):
    folder = tmp_path / "ana"
    folder.mkdir()
    as_saved_before_the_move(ROOT / "exercises" / "07_speedups.ipynb", folder)
    (folder / "scratch.ipynb").write_text("{}")
    found, _ = locate_notebook(Submission("ana", folder, ""), "07_speedups")
    assert found.name == "06_speedups.ipynb"


def test_an_old_solved_notebook_earns_full_points(tmp_path):
    assignment = find_assignment("06_speedups", ROOT / "solutions")
    nb = read_submission(as_saved_before_the_move(SPEEDUPS, tmp_path))
    check_assignment(nb, assignment, name="06_speedups.ipynb")
    result = grade_notebook(nb, assignment, Limits(timeout=120))
    assert result.total == result.possible > 0, result.notes
    assert [e.label for e in result.exercises] == ["7.1", "7.2", "7.3"]


# ------------------------------------------------------------------ interactive check()
def speedup(times_before, times_after, n_workers):  # the old exercise 6.3's function name
    s = min(times_before) / min(times_after)
    return s, s / n_workers


def test_check_with_an_old_id_and_the_old_function_runs_the_moved_check(capsys):
    check("6.3", speedup)
    out = capsys.readouterr().out
    assert "exercise 6.3 (speedup) of the speedups chapter is now exercise 7.3" in out
    assert "\u2714 Exercise 7.3 (" in out


def test_a_wrong_old_answer_fails_under_its_new_id():
    def speedup(times_before, times_after, n_workers):  # noqa: F811 - same name on purpose
        return 1.0, 1.0
    with pytest.raises(CheckFailed, match=r"^Exercise 7\.3 \("):
        check("6.3", speedup)


def test_any_other_answer_to_6_k_is_checked_as_the_depth_chapters_exercise(capsys):
    def leaky_relu_std(n_in, slope):
        return (2 / ((1 + slope ** 2) * n_in)) ** 0.5
    check("6.2", leaky_relu_std)
    out = capsys.readouterr().out
    assert out.startswith("\u2714 Exercise 6.2 (leaky_relu_std)") and "speedups" not in out
    with pytest.raises(CheckFailed, match=r"^Exercise 6\.3 \(batchnorm_forward\)"):
        check("6.3", lambda x, gamma, beta, eps=1e-5: (x, None))
