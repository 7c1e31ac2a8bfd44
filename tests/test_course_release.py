"""The generator solutions/ -> exercises/ (nncourse.release), on small notebooks built here."""
import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nncourse.release import ANSWER_PROMPT, ReleaseError, drift, release_all, release_notebook, release_text

STUB = "Exercise 1.2: return the updated (w, b)"
SOLUTION_SOURCE = '''def update(w, b, x, y, lr):
    """One step of the rule."""
    error = y - int(x @ w + b > 0)
    ### BEGIN SOLUTION
    w_new = w + lr * error * x
    return w_new, b + lr * error
    ### END SOLUTION'''
GRADING_SOURCE = '''check("1.2", update)
### BEGIN HIDDEN TESTS
assert update(0, 0, 0, 0, 1) == (0, 0)  # secret case
### END HIDDEN TESTS'''


def solution_meta(grade_id="ex_1_2_update", stub=STUB):
    return {"nbgrader": {"grade": False, "solution": True, "locked": False,
                         "grade_id": grade_id, "schema_version": 3},
            "nnlib": {"stub": stub}}


def grading_meta(grade_id="check_1_2_update"):
    return {"nbgrader": {"grade": True, "solution": False, "locked": True,
                         "grade_id": grade_id, "points": 2, "schema_version": 3}}


def answer_meta(grade_id="answer_1_3"):
    return {"nbgrader": {"grade": True, "solution": True, "locked": False,
                         "grade_id": grade_id, "points": 0, "schema_version": 3}}


def with_outputs(cell, text="out\n"):
    cell.outputs = [new_output("stream", name="stdout", text=text)]
    cell.execution_count = 7
    return cell


def source_notebook():
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"},
                                "widgets": {"application/vnd.jupyter.widget-state+json": {}}})
    nb.cells = [
        new_markdown_cell("# Exercises"),
        with_outputs(new_code_cell("import numpy as np")),
        with_outputs(new_code_cell(SOLUTION_SOURCE, metadata=solution_meta())),
        with_outputs(new_code_cell(GRADING_SOURCE, metadata=grading_meta()), "\u2714 passed\n"),
        new_markdown_cell("The model answer: no line separates XOR.", metadata=answer_meta()),
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def test_a_solution_region_becomes_the_stub_at_the_regions_indentation():
    student = release_notebook(source_notebook(), "01_test.ipynb")
    assert student.cells[2].source == '''def update(w, b, x, y, lr):
    """One step of the rule."""
    error = y - int(x @ w + b > 0)
    # YOUR CODE HERE
    raise NotImplementedError('Exercise 1.2: return the updated (w, b)')'''


def test_the_stub_raises_its_message_when_the_function_is_called():
    student = release_notebook(source_notebook(), "01_test.ipynb")
    namespace = {}
    exec(student.cells[2].source, namespace)  # defines update() without running its body
    with pytest.raises(NotImplementedError, match=r"^Exercise 1\.2: return the updated \(w, b\)$"):
        namespace["update"](np.zeros(2), 0.0, np.ones(2), 1, 1.0)


def test_a_region_indented_deeper_keeps_its_own_indentation():
    nb = source_notebook()
    nb.cells[2].source = ("def f(x):\n    if x:\n        ### BEGIN SOLUTION\n        return 1\n"
                          "        ### END SOLUTION\n    return 0")
    student = release_notebook(nb, "01_test.ipynb")
    assert student.cells[2].source == (
        "def f(x):\n    if x:\n        # YOUR CODE HERE\n"
        f"        raise NotImplementedError({STUB!r})\n    return 0")


def test_hidden_tests_are_removed_and_the_visible_check_stays():
    student = release_notebook(source_notebook(), "01_test.ipynb")
    assert student.cells[3].source == 'check("1.2", update)'
    text = nbformat.writes(student)
    assert "secret case" not in text and "HIDDEN TESTS" not in text


def test_no_solution_text_is_left_anywhere():
    text = nbformat.writes(release_notebook(source_notebook(), "01_test.ipynb"))
    for line in ("w_new = w + lr * error * x", "return w_new, b + lr * error", "BEGIN SOLUTION",
                 "END SOLUTION", "The model answer"):
        assert line not in text


def test_outputs_and_execution_counts_are_cleared():
    student = release_notebook(source_notebook(), "01_test.ipynb")
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_metadata_and_cell_ids_are_kept_but_widget_state_is_dropped():
    source = source_notebook()
    student = release_notebook(source, "01_test.ipynb")
    assert [c["id"] for c in student.cells] == [c["id"] for c in source.cells]
    assert student.cells[2].metadata == solution_meta()
    assert student.cells[3].metadata == grading_meta()
    assert student.cells[4].metadata == answer_meta()
    assert student.metadata["kernelspec"]["name"] == "python3"
    assert "widgets" not in student.metadata
    nbformat.validate(student)


def test_a_written_answer_becomes_the_answer_prompt():
    student = release_notebook(source_notebook(), "01_test.ipynb")
    assert student.cells[4].cell_type == "markdown"
    assert student.cells[4].source == ANSWER_PROMPT


def test_the_source_notebook_is_not_modified():
    source = source_notebook()
    before = nbformat.writes(source)
    release_notebook(source, "01_test.ipynb")
    assert nbformat.writes(source) == before


def broken(change):
    nb = source_notebook()
    change(nb)
    return nb


def set_source(index, text):
    def change(nb):
        nb.cells[index].source = text
    return change


def set_metadata(index, metadata):
    def change(nb):
        nb.cells[index].metadata = metadata
    return change


BROKEN = [
    (set_metadata(2, {"nbgrader": solution_meta()["nbgrader"]}), "needs metadata.nnlib.stub"),
    (set_metadata(2, solution_meta(stub="finish this")), "needs metadata.nnlib.stub like"),
    (set_metadata(2, solution_meta(stub="Exercise 2.1: wrong chapter")), "names another chapter"),
    (set_source(2, "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "inside a function body"),
    (set_source(2, "def f():\n    ### BEGIN SOLUTION\n    return 1"), "is never closed by '### END SOLUTION'"),
    (set_source(1, "x = 1\n### END SOLUTION"), "'### END SOLUTION' without"),
    (set_source(2, "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return 1\n"
                   "    ### END SOLUTION"), "nested '### BEGIN SOLUTION'"),
    (set_source(3, "check('1.2', update)\n### BEGIN HIDDEN TESTS\nassert True"),
     "'### BEGIN HIDDEN TESTS' is never closed"),
    (set_source(2, "def f():\n    return 1"), "has no '### BEGIN SOLUTION' region"),
    (set_metadata(2, {"nnlib": {"stub": STUB}}), "needs the cell metadata nbgrader solution: true"),
    (set_source(0, "### BEGIN SOLUTION\nanswer\n### END SOLUTION"), "markers only work in code cells"),
    (set_metadata(3, grading_meta(grade_id="ex_1_2_update")), "grade_id 'ex_1_2_update' is used twice"),
]


@pytest.mark.parametrize("change, message", BROKEN)
def test_a_broken_source_is_refused_with_the_cell_and_the_fix(change, message):
    with pytest.raises(ReleaseError) as failure:
        release_notebook(broken(change), "01_test.ipynb")
    assert message in str(failure.value)
    assert str(failure.value).startswith("01_test.ipynb cell ")


def test_release_all_writes_every_notebook_and_drift_sees_what_changed(tmp_path):
    src, dst = tmp_path / "solutions", tmp_path / "exercises"
    src.mkdir()
    nbformat.write(source_notebook(), str(src / "01_test.ipynb"))
    assert drift(src, dst) == ["01_test.ipynb: missing from exercises/"]
    written = release_all(src, dst)
    assert [p.name for p in written] == ["01_test.ipynb"]
    assert drift(src, dst) == []
    assert (dst / "01_test.ipynb").read_text(encoding="utf-8") == release_text(src / "01_test.ipynb")
    (dst / "01_test.ipynb").write_text(release_text(src / "01_test.ipynb").replace(
        "YOUR CODE HERE", "my answer"), encoding="utf-8")  # a learner edited the generated file
    assert drift(src, dst) == ["01_test.ipynb: differs from what solutions/01_test.ipynb generates"]
    (dst / "02_orphan.ipynb").write_text("{}", encoding="utf-8")
    assert "02_orphan.ipynb: in exercises/ but not in solutions/" in drift(src, dst)


def test_release_is_deterministic():
    nb = source_notebook()
    assert nbformat.writes(release_notebook(nb, "01_test.ipynb")) == \
        nbformat.writes(release_notebook(nb, "01_test.ipynb"))
