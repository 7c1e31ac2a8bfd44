"""nbgrader cell-metadata schema v3, checked without nbgrader: ``nnlib-grade validate``.

The rules of nbgrader 0.9's ``MetadataValidatorV3`` and its ``v3.json``
schema, so an instructor who already runs nbgrader can use solutions/ as is:

- ``metadata.nbgrader`` holds only the keys grade, solution, locked, task,
  grade_id, points, schema_version, checksum, cell_type; grade, solution and
  locked are required booleans; schema_version is 3;
- grade_id matches ``[a-zA-Z0-9_-]*``, is required (and non-empty) on every
  grade, solution or locked cell, and unique among them in a notebook;
- a grade cell has ``points`` (a number >= 0);
- a markdown cell is graded only as an answer: grade and solution together
  (a written answer worth 0 points is grade: true, solution: true, points: 0);
- a task cell is markdown.
"""
import re
from numbers import Real

import nbformat

KEYS = {"schema_version", "grade", "solution", "locked", "task", "grade_id", "points", "checksum", "cell_type"}
REQUIRED = ("schema_version", "grade", "locked", "solution")
GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]*$")


def cell_errors(cell):
    """The schema-v3 problems of one cell (an empty list when it is valid)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    if meta is None:
        return []
    if not isinstance(meta, dict):
        return ["metadata.nbgrader must be an object."]
    errors = [f"missing required key {k!r}." for k in REQUIRED if k not in meta]
    errors += [f"unknown key {k!r} (nbgrader v3 allows {', '.join(sorted(KEYS))})." for k in sorted(set(meta) - KEYS)]
    errors += _type_errors(meta)
    if errors:
        return errors
    return _rule_errors(cell, meta)


def _type_errors(meta):
    errors = []
    for key in ("grade", "solution", "locked", "task"):
        if key in meta and not isinstance(meta[key], bool):
            errors.append(f"{key} must be true or false, got {meta[key]!r}.")
    version = meta.get("schema_version")
    if "schema_version" in meta and (not isinstance(version, int) or isinstance(version, bool) or version != 3):
        errors.append(f"schema_version must be 3, got {version!r}.")
    gid = meta.get("grade_id")
    if "grade_id" in meta and not (isinstance(gid, str) and GRADE_ID.match(gid)):
        errors.append(f"grade_id {gid!r} may only contain letters, digits, '_' and '-'.")
    points = meta.get("points")
    if "points" in meta and (not isinstance(points, Real) or isinstance(points, bool) or points < 0):
        errors.append(f"points must be a number >= 0, got {points!r}.")
    if "checksum" in meta and not (isinstance(meta["checksum"], str) and len(meta["checksum"]) == 32):
        errors.append("checksum must be a 32-character string.")
    if "cell_type" in meta and meta["cell_type"] not in ("raw", "code", "markdown"):
        errors.append(f"cell_type must be raw, code or markdown, got {meta['cell_type']!r}.")
    return errors


def _rule_errors(cell, meta):
    errors = []
    grade, solution, locked, task = meta["grade"], meta["solution"], meta["locked"], meta.get("task", False)
    if (grade or solution or locked) and not meta.get("grade_id"):
        errors.append("a grade, solution or locked cell needs a non-empty grade_id.")
    if grade and "points" not in meta:
        errors.append(f"grade cell {meta.get('grade_id')!r} needs points.")
    markdown = cell.get("cell_type") == "markdown"
    if task and not markdown:
        errors.append("a task cell must be markdown.")
    elif not task and markdown and grade != solution:
        errors.append("a markdown cell with grade must also be solution and vice versa (a written "
                      "answer is grade: true, solution: true, points: N).")
    return errors


def notebook_errors(nb):
    """Problems of every cell, as "cell N: ..." lines, plus duplicate grade_ids."""
    errors, seen = [], {}
    for number, cell in enumerate(nb.cells, 1):
        errors += [f"cell {number}: {e}" for e in cell_errors(cell)]
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and (meta.get("grade") or meta.get("solution") or meta.get("locked")):
            gid = meta.get("grade_id")
            if gid in seen:
                errors.append(f"cell {number}: grade_id {gid!r} is already used by cell {seen[gid]}.")
            seen.setdefault(gid, number)
    return errors


def validate_file(path):
    return notebook_errors(nbformat.read(str(path), as_version=4))
