"""nbgrader schema-v3 metadata (nncourse.grade.schema, ``nnlib-grade validate``).

nbgrader is not a dependency of the course; the rules are those of nbgrader 0.9's
``MetadataValidatorV3`` (checked against it on 20,000 random notebooks while
writing nncourse.grade.schema). nbgrader is a test dependency: the last tests
run its own validator on every solutions notebook and on a broken one (skipped,
with the reason, where it is not installed; never a silent pass).
"""
import copy
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import grade_toy as toy
from nncourse.grade.schema import cell_errors, notebook_errors, validate_file

SOLUTIONS = sorted((Path(__file__).resolve().parents[1] / "solutions").glob("*.ipynb"))
GOOD = {"grade": True, "solution": False, "locked": True, "grade_id": "check_1_1", "points": 2,
        "schema_version": 3}


def code_cell(**meta):
    return nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": dict(GOOD, **meta)})


def test_the_toy_solution_and_its_released_exercise_are_valid(tmp_path):
    for path in toy.write_assignment(tmp_path):
        assert validate_file(path) == []


@pytest.mark.parametrize("change, problem", [
    ({"points": "3"}, "points must be a number >= 0"),
    ({"points": -1}, "points must be a number >= 0"),
    ({"points": True}, "points must be a number >= 0"),
    ({"grade_id": "check 1.1"}, "may only contain letters, digits"),
    ({"grade_id": ""}, "needs a non-empty grade_id"),
    ({"schema_version": 2}, "schema_version must be 3"),
    ({"grade": "yes"}, "grade must be true or false"),
    ({"stub": "Exercise 1.1: ..."}, "unknown key 'stub'"),
])
def test_bad_cell_metadata_is_named(change, problem):
    meta = {k: v for k, v in dict(GOOD, **change).items() if v is not None}
    cell = nbformat.v4.new_code_cell("x", metadata={"nbgrader": meta})
    assert any(problem in e for e in cell_errors(cell)), cell_errors(cell)


def test_grade_cells_need_points_and_ids_and_markdown_answers_need_both_flags():
    no_points = code_cell()
    del no_points.metadata["nbgrader"]["points"]
    assert "needs points" in cell_errors(no_points)[0]
    locked = code_cell(grade=False, locked=True)
    del locked.metadata["nbgrader"]["grade_id"]
    assert "needs a non-empty grade_id" in cell_errors(locked)[0]
    answer = nbformat.v4.new_markdown_cell("my answer", metadata={"nbgrader": dict(
        GOOD, grade=False, solution=True, locked=False)})
    assert "a markdown cell with grade must also be solution" in cell_errors(answer)[0]
    answer.metadata["nbgrader"].update(grade=True, points=0)
    assert cell_errors(answer) == []
    task = code_cell(grade=False, task=True)
    assert "a task cell must be markdown" in cell_errors(task)[0]


def test_duplicate_grade_ids_are_refused():
    nb = nbformat.v4.new_notebook(cells=[code_cell(), nbformat.v4.new_markdown_cell("x"), code_cell()])
    assert notebook_errors(nb) == ["cell 3: grade_id 'check_1_1' is already used by cell 1."]


def test_validate_command_exit_status(tmp_path):
    solution, _ = toy.write_assignment(tmp_path)
    ok = subprocess.run([sys.executable, "-m", "nncourse.grade", "validate", str(solution)],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "valid nbgrader schema-v3 metadata" in ok.stdout
    nb = nbformat.read(str(solution), as_version=4)
    del nb.cells[4].metadata["nbgrader"]["points"]
    nbformat.write(nb, str(tmp_path / "bad.ipynb"))
    bad = subprocess.run([sys.executable, "-m", "nncourse.grade", "validate", str(tmp_path / "bad.ipynb")],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "cell 5: grade cell 'check_90_1_relu' needs points." in bad.stdout


def test_every_course_solution_validates_against_nbgrader_schema_v3():
    assert SOLUTIONS, "no solutions/*.ipynb found"
    problems = {path.name: validate_file(path) for path in SOLUTIONS}
    assert {name: errors for name, errors in problems.items() if errors} == {}


def nbgrader_validator():
    """nbgrader's own MetadataValidator (a test dependency: pyproject's [test] extra)."""
    nbgraderformat = pytest.importorskip(
        "nbgrader.nbgraderformat",
        reason="nbgrader is not installed, so its own validator cannot be compared: "
               "install the test extra, pip install -e '.[test]' (make test does)")
    return nbgraderformat.MetadataValidator(), nbgraderformat.ValidationError


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_nbgrader_itself_accepts_every_course_solution(path):
    validator, _ = nbgrader_validator()
    validator.validate_nb(copy.deepcopy(nbformat.read(str(path), as_version=4)))


def test_nbgrader_itself_refuses_what_our_schema_refuses():
    """The comparison really runs: a grade cell without points fails in both validators."""
    validator, ValidationError = nbgrader_validator()
    nb = copy.deepcopy(nbformat.read(str(SOLUTIONS[0]), as_version=4))
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    del cell.metadata["nbgrader"]["points"]
    assert any("needs points" in error for error in notebook_errors(nb))
    with pytest.raises(ValidationError, match="points"):
        validator.validate_nb(nb)
