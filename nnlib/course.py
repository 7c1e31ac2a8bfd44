"""Generate the student notebooks in ``exercises/`` from ``solutions/``.

``solutions/NN_topic.ipynb`` is the single source of each exercise. Release
(``python -m nnlib.course release`` or ``make release``) writes
``exercises/NN_topic.ipynb`` with:

- each code region between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
  replaced by ``raise NotImplementedError("<stub>")`` at the same
  indentation, where <stub> is the cell's ``metadata.nnlib.stub`` text
  ("Exercise N.k: what to do"); regions must sit inside a function body, so
  the notebook still runs and only the checks that call it fail;
- a markdown cell marked ``solution`` replaced by an answer prompt;
- everything between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``
  removed;
- all outputs and execution counts cleared.

``python -m nnlib.course check`` regenerates in memory and fails if
``exercises/`` differs (the drift test in ``tests/`` does the same).
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


def _stub_lines(cell, where):
    stub = cell.metadata.get("nnlib", {}).get("stub", "")
    if not STUB_PATTERN.match(stub):
        raise ReleaseError(
            f"{where}: a solution cell needs metadata.nnlib.stub like "
            f"'Exercise 1.2: update w and b', got {stub!r}.")

    def replace(indent):
        if not indent:
            raise ReleaseError(f"{where}: put the solution region inside a function body.")
        return [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError({stub!r})"]
    return replace


def release_notebook(nb, name="notebook"):
    """Return the student version of solution notebook ``nb`` (a new object)."""
    student = nbformat.v4.new_notebook(metadata=nb.metadata)
    for index, cell in enumerate(nb.cells):
        where = f"{name} cell {index}"
        grading = cell.metadata.get("nbgrader", {})
        source = cell.source
        if cell.cell_type == "code":
            if BEGIN_SOLUTION in source:
                source = _replace_regions(source, BEGIN_SOLUTION, END_SOLUTION,
                                          _stub_lines(cell, where), where)
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
    parser = argparse.ArgumentParser(prog="python -m nnlib.course", description=__doc__.split("\n")[0])
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
