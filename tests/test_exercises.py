"""Every exercise notebook is generated from its solution, and fails exactly its exercises.

For every notebook in ``solutions/`` (each chapter adds its own, nothing to
register here):

1. drift: ``exercises/NN.ipynb`` is byte for byte what ``solutions/NN.ipynb``
   generates, and holds no solution or hidden-test text;
2. discrimination: run top to bottom (cwd ``exercises/``), every grading
   cell fails, and every cell that fails does so with a stub's own
   ``NotImplementedError("Exercise N.k: ...")`` of this chapter: no other
   error anywhere, and every exercise's stub is reached;
3. the solution notebook, run top to bottom (cwd ``solutions/``), raises
   nothing, and each grading cell prints its check's pass line.

Notebooks run in a kernel of this very environment, with a per-cell time
limit, once per module (the tests share the executed copy).
"""
import functools
import re
from pathlib import Path

import ipykernel.kernelspec
import nbformat
import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from nncourse.release import BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION, release_text

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds, as nbval's --nbval-cell-timeout in pyproject.toml
GRADE_ID = re.compile(r"^check_(\d+)_(\d+)_")


class _CurrentEnvironment(KernelSpecManager):
    """Always the python3 kernel of the interpreter running the tests (as nbval --nbval-current-env)."""

    def get_kernel_spec(self, kernel_name):
        return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                      **ipykernel.kernelspec.get_kernel_dict())


@functools.lru_cache(maxsize=None)
def executed(path):
    """The notebook at ``path``, run top to bottom with errors recorded, in its own folder."""
    nb = nbformat.read(str(path), as_version=4)
    km = KernelManager(kernel_name="python3", kernel_spec_manager=_CurrentEnvironment())
    NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, allow_errors=True, record_timing=False,
                   store_widget_state=False, resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def chapter(path):
    return int(path.name.split("_")[0])


def grading(cell):
    return cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade", False)


def errors(cell):
    return [out for out in cell.get("outputs", []) if out.output_type == "error"]


def describe(index, cell):
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else "(empty)"
    return f"cell {index} ({first!r})"


def stubs(solution_nb):
    return {cell.metadata["nnlib"]["stub"] for cell in solution_nb.cells
            if cell.cell_type == "code" and BEGIN_SOLUTION in cell.source}


def regions(source, begin, end):
    """The lines strictly between begin and end markers."""
    inside, lines = False, []
    for line in source.splitlines():
        if line.strip().startswith(begin):
            inside = True
        elif line.strip().startswith(end):
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


notebooks = pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.name for p in SOLUTIONS])


def test_the_course_has_solution_notebooks():
    assert SOLUTIONS, "solutions/ holds no notebooks"


def test_every_exercise_notebook_comes_from_a_solution():
    orphans = sorted({p.name for p in (ROOT / "exercises").glob("*.ipynb")} - {p.name for p in SOLUTIONS})
    assert not orphans, f"exercises/ without a solution (remove them or add the solution): {orphans}"


@notebooks
def test_the_exercise_is_what_its_solution_generates(solution):
    exercise = ROOT / "exercises" / solution.name
    assert exercise.exists(), f"exercises/{solution.name} is missing: run `make release`."
    assert exercise.read_text(encoding="utf-8") == release_text(solution), \
        f"exercises/{solution.name} is stale or was edited by hand: run `make release`."


@notebooks
def test_the_exercise_holds_no_solution_or_hidden_test_text(solution):
    source_cells = nbformat.read(str(solution), as_version=4).cells
    exercise_cells = nbformat.read(str(ROOT / "exercises" / solution.name), as_version=4).cells
    assert len(exercise_cells) == len(source_cells)
    for index, (src, ex) in enumerate(zip(source_cells, exercise_cells)):
        for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
            assert marker not in ex.source, f"{describe(index, ex)} still holds {marker!r}"
        secret = regions(src.source, BEGIN_SOLUTION, END_SOLUTION) + \
            regions(src.source, BEGIN_HIDDEN, END_HIDDEN)
        leaked = [line for line in secret if len(line) > 12 and line in ex.source]
        assert not leaked, f"{describe(index, ex)} leaks solution or hidden-test lines: {leaked}"
        if src.cell_type == "markdown" and src.metadata.get("nbgrader", {}).get("solution"):
            assert src.source not in ex.source, f"{describe(index, ex)} leaks a model answer"
        assert not ex.get("outputs") and ex.get("execution_count") is None


@notebooks
def test_every_grading_cell_fails_in_the_exercise(solution):
    nb = executed(ROOT / "exercises" / solution.name)
    graded = [(i, cell) for i, cell in enumerate(nb.cells) if grading(cell)]
    assert graded, f"{solution.name} has no grading cells"
    passing = [describe(i, cell) for i, cell in graded if not errors(cell)]
    assert not passing, (f"exercises/{solution.name}: these grading cells pass without an answer, "
                         f"so their checks do not discriminate: {passing}")


@notebooks
def test_the_exercise_fails_only_with_its_own_stubs(solution):
    expected = stubs(nbformat.read(str(solution), as_version=4))
    n = chapter(solution)
    assert all(stub.startswith(f"Exercise {n}.") for stub in expected), \
        f"{solution.name}: stub texts must start with 'Exercise {n}.k:', got {sorted(expected)}"
    nb = executed(ROOT / "exercises" / solution.name)
    raised = set()
    for index, cell in enumerate(nb.cells):
        for error in errors(cell):
            assert error.ename == "NotImplementedError" and error.evalue in expected, (
                f"exercises/{solution.name} {describe(index, cell)} failed with "
                f"{error.ename}: {error.evalue}; only a stub's NotImplementedError "
                f"('Exercise {n}.k: ...') may fail in an exercise notebook.")
            raised.add(error.evalue)
    assert raised == expected, f"stubs never reached by any cell: {sorted(expected - raised)}"


@notebooks
def test_the_solution_passes_every_grading_cell(solution):
    nb = executed(solution)
    for index, cell in enumerate(nb.cells):
        failed = [f"{e.ename}: {e.evalue}" for e in errors(cell)]
        assert not failed, f"solutions/{solution.name} {describe(index, cell)} raised {failed}"
        if grading(cell):
            match = GRADE_ID.match(cell.metadata["nbgrader"]["grade_id"])
            assert match, f"{describe(index, cell)}: grade_id should read check_N_k_<name>"
            printed = "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")
            assert f"\u2714 Exercise {match.group(1)}.{match.group(2)} (" in printed, \
                f"solutions/{solution.name} {describe(index, cell)} printed no pass line: {printed!r}"
