"""Reading submissions and restoring grading cells (nncourse.grade.notebook), without a kernel."""
import json

import nbformat
import pytest

import grade_toy as toy
from nncourse.grade.notebook import (Assignment, SubmissionError, check_assignment, loaded_names, parse,
                                     read_submission, restore, syntax_error)


@pytest.fixture(scope="module")
def toy_paths(tmp_path_factory):
    return toy.write_assignment(tmp_path_factory.mktemp("toy"))


@pytest.fixture(scope="module")
def assignment(toy_paths):
    return Assignment.load(toy_paths[0])


def test_the_assignment_knows_its_grading_cells_functions_and_points(assignment):
    assert list(assignment.grading) == ["check_90_1_relu", "check_90_2_mse", "check_90_3_dense"]
    assert [c.label for c in assignment.grading.values()] == ["90.1", "90.2", "90.3"]
    assert assignment.possible == 5
    assert assignment.functions == {"relu": "ex_90_1_relu", "mse": "ex_90_2_mse", "dense_forward": "ex_90_3_dense"}
    assert assignment.grading["check_90_3_dense"].functions == ["dense_forward"]
    assert assignment.grading["check_90_1_relu"].values == []  # everything else is imported or local
    assert "### BEGIN HIDDEN TESTS" not in assignment.grading["check_90_1_relu"].source
    assert "relu on a (2, 3) matrix" in assignment.grading["check_90_1_relu"].source
    assert "import numpy as np" in assignment.imports


@pytest.mark.parametrize("name, content, problem", [
    ("notes.txt", b"my answers", "is not a notebook: expected a .ipynb file"),
    ("empty.ipynb", b"", "is empty"),
    ("blank.ipynb", b"  \n", "is empty"),
    ("corrupt.ipynb", b'{"cells": [', "is not valid notebook JSON"),
    ("binary.ipynb", b"\xff\xfe\x00garbage", "is not valid notebook JSON"),
    ("list.ipynb", b"[1, 2]", "is JSON but not a Jupyter notebook"),
    ("nocells.ipynb", b'{"metadata": {}}', "is JSON but not a Jupyter notebook"),
    ("badcell.ipynb", json.dumps({"cells": [{"cell_type": "code", "source": 3, "metadata": {}}],
                                   "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
     "is not a readable notebook"),
])
def test_bad_submissions_get_a_clear_error(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=problem):
        read_submission(path)


def test_a_notebook_of_another_assignment_is_refused(tmp_path, assignment):
    other = toy.solution_notebook()
    for cell in other.cells:
        meta = cell.metadata.get("nbgrader", {})
        if "grade_id" in meta:
            meta["grade_id"] = meta["grade_id"].replace("_90_", "_4_")
    with pytest.raises(SubmissionError, match="not assignment 90_toy: its exercise cells belong to chapter 4"):
        check_assignment(other, assignment)
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    with pytest.raises(SubmissionError, match="no exercise cells"):
        check_assignment(plain, assignment)


def plan_of(nb, assignment):
    return [(c.kind, c.grade_id) for c in restore(nb, assignment)]


def test_edited_grading_cells_are_replaced_by_the_solutions_version(toy_paths, assignment, tmp_path):
    path = toy.variant(toy_paths[1], tmp_path / "s.ipynb", {"check_90_2_mse": "print('passed')"})
    plan = restore(read_submission(path), assignment)
    sources = {c.grade_id: c.source for c in plan if c.kind == "grading"}
    assert sources["check_90_2_mse"] == assignment.grading["check_90_2_mse"].source
    assert "print('passed')" not in [c.source for c in plan]


def test_deleted_grading_cells_come_back_where_they_were(toy_paths, assignment, tmp_path):
    full = plan_of(read_submission(toy_paths[1]), assignment)
    path = toy.variant(toy_paths[1], tmp_path / "s.ipynb", drop=["check_90_1_relu", "check_90_3_dense"])
    assert plan_of(read_submission(path), assignment) == full
    assert full.index(("grading", "check_90_1_relu")) == full.index(("code", "ex_90_1_relu")) + 1


def test_a_student_cell_that_claims_to_be_a_grading_cell_is_dropped(toy_paths, assignment, tmp_path):
    nb = read_submission(toy_paths[1])
    fake = nbformat.v4.new_code_cell("points = 100", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": "check_my_own", "points": 100,
        "schema_version": 3}})
    nb.cells.insert(3, fake)
    plan = restore(nb, assignment)
    assert "points = 100" not in [c.source for c in plan]
    assert [c.grade_id for c in plan if c.kind == "grading"] == list(assignment.grading)


def test_source_analysis_names_and_syntax_errors():
    assert loaded_names(parse("y = f(x) + np.sum(z)\nfor i in range(3): print(i)")) == {"f", "x", "np", "z"}
    assert loaded_names(parse("%matplotlib inline\nimport numpy as np\nnp.ones(2)")) == set()
    assert syntax_error("def f(:\n    pass") == (1, "invalid syntax")
    assert syntax_error("x = 1\ny = (\n") == (2, "'(' was never closed")
    assert syntax_error("%time x = 1") is None
