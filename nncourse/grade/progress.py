"""``nnlib-grade progress [FOLDER]``: a learner's progress over every chapter, from their own notebooks.

For each assignment of the course (``solutions/NN_topic.ipynb``) it looks for
the learner's notebook ``FOLDER/NN_topic.ipynb`` and grades it exactly as
``nnlib-grade check`` does (same restored tests, same limits), then prints
one table: points per chapter, the exercises done, and what is left (the
exercises not passed yet, with why, and the written questions still showing
the answer prompt). A chapter without a notebook is "not started". Nothing
is written; the exit status is 0 whatever the points (2 on a usage error).

    $ nnlib-grade progress my_work/
    Progress of my_work/ over 6 chapters
    Chapter         Points  Done          Left
    01_perceptron      8/8  1.1 1.2 1.3 1.4  -
    04_backprop       1/11  4.1           4.3 failed, 4.4 not attempted, 4.5 not attempted; written: 4.2, 4.6
    ...

``--json`` prints the same as JSON (one object per chapter). The grader is
reused, not changed: this module only adds the subcommand (``add_parser``,
``run``), which ``nncourse.grade.cli`` registers.
"""
import json
from pathlib import Path

from nncourse.grade.notebook import SubmissionError, check_assignment, exercise_label, read_submission
from nncourse.grade.report import points


def add_parser(sub):
    """Register ``progress`` on the argparse subparsers ``sub`` (the limits as for ``check``)."""
    from nncourse.grade.cli import size
    progress = sub.add_parser("progress", help="a learner's points and what is left, over every chapter")
    progress.add_argument("folder", type=Path, nargs="?", default=Path("."),
                          help="the folder holding your notebooks, named as in exercises/ (default: .)")
    progress.add_argument("--json", action="store_true", help="print JSON instead of a table")
    progress.add_argument("--solutions", type=Path, default=None, help="folder of solution notebooks")
    progress.add_argument("--timeout", type=float, default=20.0, help="seconds per cell (default 20)")
    progress.add_argument("--notebook-timeout", type=float, default=300.0,
                          help="seconds per notebook (default 300)")
    progress.add_argument("--memory", type=size, default=size("4G"),
                          help="memory limit per kernel (default 4G)")
    return progress


def run(args, assignment_for, limits):
    """Grade every chapter's notebook in ``args.folder``; print the table (or JSON). Returns 0."""
    from nncourse.grade.cli import default_solutions
    if not args.folder.is_dir():
        raise SubmissionError(f"{args.folder} is not a folder; pass the folder that holds your "
                              f"notebooks (e.g. my_work/).")
    solutions = args.solutions or default_solutions()
    names = sorted(path.stem for path in Path(solutions).glob("*.ipynb"))
    chapters = [chapter(args.folder, assignment_for(name, solutions), limits) for name in names]
    print(json.dumps(chapters, indent=1) if args.json else render(args.folder, chapters))
    return 0


def chapter(folder, assignment, limits):
    """One chapter's progress as plain data (see the module docstring)."""
    from nncourse.grade.grader import grade_notebook
    path = Path(folder) / f"{assignment.name}.ipynb"
    entry = {"chapter": assignment.name, "notebook": str(path), "points": 0.0,
             "possible": assignment.possible, "status": "not started", "done": [], "left": [],
             "written_left": written_questions(assignment.cells)}
    if not path.exists():
        entry["left"] = [f"{spec.label} not started" for spec in assignment.grading.values()]
        return entry
    try:
        nb = read_submission(path)
        check_assignment(nb, assignment, name=path.name)
    except SubmissionError as exc:
        entry.update(status="not graded", error=str(exc))
        return entry
    result = grade_notebook(nb, assignment, limits)
    entry.update(points=result.total, status=result.status,
                 written_left=unanswered(nb.cells, entry["written_left"]))
    for exercise in result.exercises:
        if exercise.status == "passed" and exercise.points >= exercise.max_points:
            entry["done"].append(exercise.label)
        else:
            entry["left"].append(f"{exercise.label} {exercise.status}")
    return entry


def written_questions(cells):
    """{grade_id: label} of the written questions (markdown answer cells) of a solution notebook."""
    return {cell.metadata["nbgrader"]["grade_id"]: exercise_label(cell.metadata["nbgrader"]["grade_id"])
            for cell in cells if cell.cell_type == "markdown"
            and cell.metadata.get("nbgrader", {}).get("solution")}


def unanswered(cells, questions):
    """The written questions whose cell in the learner's notebook is missing or still the prompt."""
    from nncourse.release import ANSWER_PROMPT
    answers = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source.strip() for cell in cells}
    return {grade_id: label for grade_id, label in questions.items()
            if answers.get(grade_id, "") in ("", ANSWER_PROMPT)}


def render(folder, chapters):
    """The table a learner reads."""
    rows = [("Chapter", "Points", "Done", "Left")]
    for entry in chapters:
        score = f"{points(entry['points'])}/{points(entry['possible'])}"
        if entry["status"] == "not started":
            rows.append((entry["chapter"], score, "-", f"not started: no {Path(entry['notebook']).name} "
                         f"in this folder (copy it from exercises/)"))
            continue
        if entry["status"] == "not graded":
            rows.append((entry["chapter"], score, "-", f"not graded: {entry['error']}"))
            continue
        left = ", ".join(entry["left"])
        if entry["written_left"]:
            left += ("; " if left else "") + "written: " + ", ".join(entry["written_left"].values())
        if entry["status"] != "ok":
            left += f" (grading status: {entry['status']})"
        rows.append((entry["chapter"], score, " ".join(entry["done"]) or "-", left or "-"))
    earned = sum(entry["points"] for entry in chapters)
    possible = sum(entry["possible"] for entry in chapters)
    rows.append(("Total", f"{points(earned)}/{points(possible)}", "", ""))
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"Progress of {folder} over {len(chapters)} chapters"]
    lines += [f"{r[0]:<{width[0]}}  {r[1]:>{width[1]}}  {r[2]:<{width[2]}}  {r[3]}".rstrip() for r in rows]
    lines.append("Run `nnlib-grade check FOLDER/NN_topic.ipynb` for the feedback on each exercise.")
    return "\n".join(lines)
