"""Generate the student notebooks in ``exercises/`` from ``solutions/``.

``solutions/NN_topic.ipynb`` is the single source of each exercise. Release
(``python -m nncourse.release release`` or ``make release``) writes
``exercises/NN_topic.ipynb`` with:

- each code region between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
  replaced by ``raise NotImplementedError("<stub>")`` at the same
  indentation, where <stub> is the cell's ``metadata.nnlib.stub`` text
  ("Exercise N.k: what to do"); regions must sit inside a function body, so
  the notebook still runs and only the checks that call it fail;
- a markdown cell marked ``solution`` replaced by an answer prompt;
- everything between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``
  removed;
- all outputs and execution counts cleared, and saved widget state dropped.

Release refuses (``ReleaseError``, naming the notebook and cell) a source
that would leak or break: a cell marked ``solution`` without a region (its
answer would be published), a region in a cell not marked ``solution``, a
marker in a markdown cell, a region at the top level of a cell, a missing
or malformed stub text, an unclosed or nested marker, a repeated
``grade_id``.

``python -m nncourse.release check`` regenerates in memory and fails if
``exercises/`` differs (the drift test in ``tests/`` does the same).

The cells of an exercise N.k (``solutions/01_perceptron.ipynb`` is the model):

- solution cell: ``def f(...):`` whose body holds the region; metadata
  ``nbgrader`` {grade: false, solution: true, locked: false,
  grade_id: "ex_N_k_<name>", schema_version: 3} and ``nnlib`` {stub:
  "Exercise N.k: <what to do>"};
- grading cell: ``check("N.k", f)`` then the hidden tests; metadata
  ``nbgrader`` {grade: true, solution: false, locked: true,
  grade_id: "check_N_k_<name>", points: <int>, schema_version: 3}. End the
  hidden tests with a statement, not an expression: its value would be
  displayed, and a trailing ``;`` does not hide it under nbval (which runs
  cells without history);
- written answer: a markdown cell with ``nbgrader`` {grade: true,
  solution: true, locked: false, grade_id: "answer_N_k", points: 0,
  schema_version: 3} (nbgrader's schema requires a markdown solution cell
  to be a graded cell; 0 points keeps it ungraded, for the instructor to
  read).

``tests/test_exercises.py`` proves the result: every grading cell fails in
the exercise notebook, only with this chapter's stubs, and passes in the
solution notebook.
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
ANSWER_PROMPT = "_Write your answer here._"
STUB_PATTERN = re.compile(r"^Exercise \d+\.\d+: \S")


class ReleaseError(ValueError):
    """A solution notebook breaks the single-source format."""


def _replace_regions(source, begin, end, replace, where):
    """Replace every begin..end block of lines with replace(indent) (a list of lines)."""
    out, inside, indent = [], False, ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(begin):
            if inside:
                raise ReleaseError(f"{where}: nested {begin!r}.")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.extend(replace(indent))
        elif stripped.startswith(end):
            if not inside:
                raise ReleaseError(f"{where}: {end!r} without {begin!r}.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{where}: {begin!r} is never closed by {end!r}.")
    return "\n".join(out)


def _chapter(name):
    """The chapter number of a notebook named like '01_perceptron.ipynb', else None."""
    match = re.match(r"(\d+)_", Path(name).name)
    return int(match.group(1)) if match else None


def _stub_lines(cell, where, chapter=None):
    stub = cell.metadata.get("nnlib", {}).get("stub", "")
    if not STUB_PATTERN.match(stub):
        raise ReleaseError(
            f"{where}: a solution cell needs metadata.nnlib.stub like "
            f"'Exercise 1.2: update w and b', got {stub!r}.")
    if chapter is not None and int(stub.split()[1].split(".")[0]) != chapter:
        raise ReleaseError(f"{where}: the stub {stub!r} names another chapter; this notebook "
                           f"is chapter {chapter}, so it should read 'Exercise {chapter}.k: ...'.")

    def replace(indent):
        if not indent:
            raise ReleaseError(f"{where}: put the solution region inside a function body.")
        return [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError({stub!r})"]
    return replace


def _check_markers(cell, where, seen_ids):
    """Refuse cells whose markers and metadata disagree (see the module docstring)."""
    grading = cell.metadata.get("nbgrader", {})
    grade_id = grading.get("grade_id")
    if grade_id is not None:
        if grade_id in seen_ids:
            raise ReleaseError(f"{where}: grade_id {grade_id!r} is used twice; grade_ids must be unique.")
        seen_ids.add(grade_id)
    has_region = BEGIN_SOLUTION in cell.source
    if cell.cell_type != "code":
        if has_region or BEGIN_HIDDEN in cell.source:
            raise ReleaseError(f"{where}: markers only work in code cells; for a written answer "
                               f"mark the markdown cell nbgrader solution: true instead.")
        return
    if grading.get("solution") and not has_region:
        raise ReleaseError(f"{where}: the cell is marked nbgrader solution: true but has no "
                           f"{BEGIN_SOLUTION!r} region, so its answer would be published.")
    if has_region and not grading.get("solution"):
        raise ReleaseError(f"{where}: a {BEGIN_SOLUTION!r} region needs the cell metadata "
                           f"nbgrader solution: true (and a grade_id).")


def release_notebook(nb, name="notebook"):
    """Return the student version of solution notebook ``nb`` (a new object)."""
    metadata = {key: value for key, value in nb.metadata.items() if key != "widgets"}
    student = nbformat.v4.new_notebook(metadata=metadata)
    seen_ids = set()
    for index, cell in enumerate(nb.cells):
        where = f"{name} cell {index}"
        _check_markers(cell, where, seen_ids)
        grading = cell.metadata.get("nbgrader", {})
        source = cell.source
        if cell.cell_type == "code":
            if END_SOLUTION in source and BEGIN_SOLUTION not in source:
                raise ReleaseError(f"{where}: {END_SOLUTION!r} without {BEGIN_SOLUTION!r}.")
            if BEGIN_SOLUTION in source:
                source = _replace_regions(source, BEGIN_SOLUTION, END_SOLUTION,
                                          _stub_lines(cell, where, _chapter(name)), where)
            source = _replace_regions(source, BEGIN_HIDDEN, END_HIDDEN, lambda _: [], where)
            new = nbformat.v4.new_code_cell(source.rstrip("\n"), metadata=cell.metadata)
        elif cell.cell_type == "markdown" and grading.get("solution"):
            new = nbformat.v4.new_markdown_cell(ANSWER_PROMPT, metadata=cell.metadata)
        else:
            new = nbformat.from_dict(dict(cell))
            new.pop("outputs", None)
        if "id" in cell:
            new["id"] = cell["id"]
        student.cells.append(new)
    return student


def release_text(path):
    """The exercise notebook for solution file ``path``, as the exact text we write."""
    nb = nbformat.read(str(path), as_version=4)
    return nbformat.writes(release_notebook(nb, Path(path).name)) + "\n"


def release_all(src=ROOT / "solutions", dst=ROOT / "exercises"):
    """Write exercises/ from solutions/; returns the paths written."""
    dst.mkdir(exist_ok=True)
    written = []
    for path in sorted(src.glob("*.ipynb")):
        target = dst / path.name
        target.write_text(release_text(path), encoding="utf-8")
        written.append(target)
    return written


def drift(src=ROOT / "solutions", dst=ROOT / "exercises"):
    """Names of exercise notebooks that are missing, stale or have no solution."""
    problems = []
    sources = {p.name for p in src.glob("*.ipynb")}
    for name in sorted(sources):
        target = dst / name
        if not target.exists():
            problems.append(f"{name}: missing from exercises/")
        elif target.read_text(encoding="utf-8") != release_text(src / name):
            problems.append(f"{name}: differs from what solutions/{name} generates")
    for extra in sorted({p.name for p in dst.glob("*.ipynb")} - sources):
        problems.append(f"{extra}: in exercises/ but not in solutions/")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nncourse.release", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["release", "check"])
    args = parser.parse_args(argv)
    if args.command == "release":
        for path in release_all():
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    problems = drift()
    for p in problems:
        print(p)
    if problems:
        print("exercises/ is out of date: run `make release`.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
