"""Assignments that were renamed when chapters were renumbered, so saved notebooks still grade.

The depth chapter was inserted as chapter 6, and the speedups chapter moved
from 6 to 7 (README, "What moved"). A learner's speedups notebook saved before
the move is named ``06_speedups.ipynb`` and its cells carry the old nbgrader
grade_ids (``ex_6_2_tiled_matmul``, ``check_6_2_tiled_matmul``, ``answer_6_4``).

- ``current_name("06_speedups")`` is ``"07_speedups"``: ``nnlib-grade check``
  (which infers the assignment from the file name) and ``--assignment`` accept
  the old name.
- ``upgrade(nb, assignment)`` renames such a notebook's grade_ids to the
  current ones (``ex_7_2_tiled_matmul``), in place, so the grader recognises
  the assignment and restores each grading cell after the student's cell it
  follows. An id is renamed only when the assignment has the new id and not
  the old one, so a depth-chapter notebook (``ex_6_k_...`` ids of its own) is
  never mistaken for an old speedups one.

The grading cells themselves always come from ``solutions/`` (they call
``check("7.k", ...)``), so what an old notebook's own check cells said does
not matter to the grade.
"""
import re

# old assignment name -> current assignment name
RENAMED = {"06_speedups": "07_speedups"}
# current assignment -> (old chapter, current chapter) of its grade_ids
RENUMBERED = {"07_speedups": (6, 7)}

_GRADE_ID = re.compile(r"^(ex|check|answer)_(\d+)_(.*)$")


def current_name(name):
    """The assignment's current name (``name`` itself unless it was renamed)."""
    return RENAMED.get(name, name)


def old_names(name):
    """The names the assignment ``name`` had before (possibly none)."""
    return [old for old, new in RENAMED.items() if new == name]


def upgrade(nb, assignment):
    """Rename the old grade_ids of a renumbered assignment's notebook in place; return how many."""
    if assignment.name not in RENUMBERED:
        return 0
    old, new = RENUMBERED[assignment.name]
    renamed = 0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        match = _GRADE_ID.match(grade_id) if isinstance(grade_id, str) else None
        if not match or int(match.group(2)) != old or grade_id in assignment.grade_ids:
            continue
        current = f"{match.group(1)}_{new}_{match.group(3)}"
        if current in assignment.grade_ids:
            meta["grade_id"] = current
            renamed += 1
    return renamed
