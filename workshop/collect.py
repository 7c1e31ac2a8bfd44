"""``make workshop-grade``: collect every learner's notebook, grade them, hand back the feedback.

    python workshop/collect.py [--dir build/workshop] --assignment 01_perceptron [grader options]

1. copies ``<dir>/homes/<name>/exercises/<assignment>.ipynb`` to
   ``<dir>/grading/<assignment>/submissions/<name>.ipynb`` (learners' files are
   only read);
2. runs ``nnlib-grade batch`` on that folder (the command, found next to this
   Python or on PATH), writing ``grades.csv``, ``grades.json`` and
   ``feedback/`` under ``<dir>/grading/<assignment>/grades/``; options this
   script does not know (``--timeout 10``, ``--workers 2``, ``--resume``...)
   are passed to it;
3. copies each learner's feedback file to ``<dir>/homes/<name>/feedback/<assignment>.md``,
   where the learner sees it in JupyterLab's file browser.

The exit status is the grader's.
"""
import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parent.parent


def grader_command():
    """``nnlib-grade`` from this Python's environment, else from PATH."""
    beside = Path(sys.executable).parent / "nnlib-grade"
    found = str(beside) if beside.exists() else shutil.which("nnlib-grade")
    if not found:
        sys.exit("collect: nnlib-grade is not installed: run `make workshop-deps`")
    return found


def collect(homes, assignment, submissions):
    """Copy each learner's notebook into ``submissions``; return (collected, missing) names."""
    submissions.mkdir(parents=True, exist_ok=True)
    collected, missing = [], []
    for home in sorted(p for p in homes.iterdir() if p.is_dir()):
        notebook = home / "exercises" / f"{assignment}.ipynb"
        if notebook.is_file():
            shutil.copy2(notebook, submissions / f"{home.name}.ipynb")
            collected.append(home.name)
        else:
            missing.append(home.name)
    return collected, missing


def hand_back(homes, assignment, feedback):
    """Copy ``feedback/<name>.md`` to each learner's ``feedback/<assignment>.md``; return the names."""
    returned = []
    for sheet in sorted(feedback.glob("*.md")):
        home = homes / sheet.stem
        if home.is_dir():
            (home / "feedback").mkdir(exist_ok=True)
            shutil.copyfile(sheet, home / "feedback" / f"{assignment}.md")
            returned.append(sheet.stem)
    return returned


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python workshop/collect.py", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default=os.environ.get("WORKSHOP_DIR", COURSE / "build/workshop"),
                        help="the workshop folder (default build/workshop)")
    parser.add_argument("--assignment", required=True, help="e.g. 01_perceptron")
    args, grader_args = parser.parse_known_args(argv)
    state = Path(args.dir)
    homes = state / "homes"
    if not homes.is_dir():
        sys.exit(f"collect: {homes} does not exist: no learner has logged in to this workshop")
    out = state / "grading" / args.assignment
    submissions, grades = out / "submissions", out / "grades"
    if submissions.exists():
        shutil.rmtree(submissions)  # a fresh copy: a learner who deleted the file is not graded
    collected, missing = collect(homes, args.assignment, submissions)
    print(f"collected {len(collected)} notebooks into {submissions}"
          + (f"; no {args.assignment}.ipynb in the folders of: {', '.join(missing)}" if missing else ""),
          flush=True)
    if not collected:
        return 1
    command = [grader_command(), "batch", str(submissions), "--assignment", args.assignment,
               "--out", str(grades), *grader_args]
    status = subprocess.run(command).returncode
    if (grades / "feedback").is_dir():
        returned = hand_back(homes, args.assignment, grades / "feedback")
        print(f"handed back {len(returned)} feedback files: <home>/feedback/{args.assignment}.md")
    return status


if __name__ == "__main__":
    sys.exit(main())
