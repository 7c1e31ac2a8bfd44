"""``nnlib-grade``: check one notebook, grade a folder of submissions, validate metadata.

    nnlib-grade check exercises/04_backprop.ipynb
    nnlib-grade batch SUBMISSIONS/ --assignment 04_backprop --out grades/ [--resume]
    nnlib-grade validate [solutions/*.ipynb]
    nnlib-grade progress [FOLDER]      (a learner's points over every chapter: progress.py)

Exit status: ``check`` 0 when every exercise passes, 1 when some do not,
2 when the notebook cannot be graded; ``batch`` 0 when it ran (whatever the
students scored), 2 on a usage error, 3 when the solution does not earn full
points (so the grades would be wrong), 4 when there is no sandbox and
``--no-sandbox`` was not given; ``validate`` 0 when the metadata is valid.
"""
import argparse
import glob
import os
import re
import sys
from pathlib import Path

from nncourse.grade import progress
from nncourse.grade.aliases import current_name
from nncourse.grade.notebook import Assignment, AssignmentError, SubmissionError, check_assignment, read_submission
from nncourse.grade.runner import Limits


def default_solutions():
    from nncourse.release import ROOT
    return ROOT / "solutions"


def size(text):
    """"4G", "512M", "1.5GiB" or bytes -> bytes."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?)i?b?\s*", str(text).lower())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; write e.g. 4G or 512M.")
    return int(float(match.group(1)) * 1024 ** " kmgt".index(match.group(2) or " "))


def find_assignment(name, solutions):
    name = current_name(name)  # an old name (06_speedups) grades as the renamed assignment
    path = Path(solutions) / f"{name}.ipynb"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in Path(solutions).glob("*.ipynb"))) or "none"
        raise SubmissionError(f"no assignment {name!r}: {path} does not exist (assignments in "
                              f"{solutions}: {known}); pass --assignment NAME or --solutions DIR.")
    return Assignment.load(path)


def parser():
    p = argparse.ArgumentParser(prog="nnlib-grade", description="Check one notebook, grade a folder "
                                "of submissions, or validate nbgrader metadata (see the README, section For instructors).")
    sub = p.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="grade one notebook and print the table")
    check.add_argument("notebook", type=Path)
    batch = sub.add_parser("batch", help="grade a folder of submissions in parallel")
    batch.add_argument("submissions", type=Path)
    batch.add_argument("--out", type=Path, required=True, help="folder for grades.csv, grades.json, feedback/")
    batch.add_argument("--workers", type=int, default=2, help="parallel grading processes (default 2)")
    batch.add_argument("--resume", action="store_true", help="skip students already graded (unchanged submission)")
    batch.add_argument("--no-self-check", dest="self_check", action="store_false",
                       help="do not first grade the solution itself")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.add_argument("--no-sandbox", dest="sandbox", action="store_false",
                       help="grade without a sandbox (only where every submission is trusted; never an exam)")
    for command in (check, batch):
        command.add_argument("--assignment", required=command is batch,
                             help="assignment name, e.g. 04_backprop (check: default from the file name)")
        command.add_argument("--solutions", type=Path, default=None, help="folder of solution notebooks")
        command.add_argument("--timeout", type=float, default=20.0, help="seconds per cell (default 20)")
        command.add_argument("--notebook-timeout", type=float, default=300.0, help="seconds per notebook (default 300)")
        command.add_argument("--memory", type=size, default=size("4G"), help="memory limit per kernel (default 4G)")
        command.add_argument("--seed", type=int, default=None,
                             help="grading seed of the hidden inputs (default: a fresh one; batch --resume: the old one)")
    validate = sub.add_parser("validate", help="check nbgrader schema-v3 metadata")
    validate.add_argument("notebooks", type=Path, nargs="*", help="default: every solutions notebook")
    progress.add_parser(sub)
    return p


def use_cuda_simulator_without_gpu():
    """As the course does: no NVIDIA GPU -> Numba's CUDA simulator, here and in the kernels."""
    if "NUMBA_ENABLE_CUDASIM" in os.environ or glob.glob("/dev/nvidia[0-9]*"):
        return
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    if "numba.core.config" in sys.modules:  # imported with nnlib; numba.cuda itself is not yet
        sys.modules["numba.core.config"].reload_config()


def main(argv=None):
    use_cuda_simulator_without_gpu()
    args = parser().parse_args(argv)
    try:
        return {"check": run_check, "batch": run_batch, "validate": run_validate,
                "progress": lambda a: progress.run(a, find_assignment, _limits(a))}[args.command](args)
    except (SubmissionError, AssignmentError) as exc:
        print(f"nnlib-grade: {exc}", file=sys.stderr)
        return 2


def _limits(args):
    return Limits(timeout=args.timeout, notebook_timeout=args.notebook_timeout, memory=args.memory)


def run_check(args):
    from nncourse.grade.grader import grade_notebook
    from nncourse.grade.report import table
    solutions = args.solutions or default_solutions()
    assignment = find_assignment(args.assignment or args.notebook.stem, solutions)
    nb = read_submission(args.notebook)
    check_assignment(nb, assignment, name=args.notebook.name)
    from nncourse.grade.sandbox import detect
    if detect().warning():
        print(f"nnlib-grade: note: {detect().warning()}", file=sys.stderr)
    result = grade_notebook(nb, assignment, _limits(args), seed=args.seed)
    print(table(result, f"{args.notebook} (assignment {assignment.name})"))
    return 0 if result.total == result.possible and result.status == "ok" else 1


def run_batch(args):
    from nncourse.grade.batch import SandboxError, run_batch as batch
    if not args.submissions.is_dir():
        raise SubmissionError(f"{args.submissions} is not a folder of submissions.")
    if args.workers < 1:
        raise SubmissionError("--workers must be at least 1.")
    assignment = find_assignment(args.assignment, args.solutions or default_solutions())
    try:
        summary = batch(args.submissions, assignment, args.out, workers=args.workers, resume=args.resume,
                        limits=_limits(args), self_check=args.self_check, progress=not args.quiet,
                        sandbox=args.sandbox, seed=args.seed)
    except SandboxError as exc:
        print(f"nnlib-grade: {exc}", file=sys.stderr)
        return 4
    if summary.self_check:
        print(f"nnlib-grade: stopped: {summary.self_check}; raise --timeout or fix the assignment.", file=sys.stderr)
        return 3
    counts = {}
    for result in summary.results.values():
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    print(f"graded {summary.graded} submission{'s' * (summary.graded != 1)} ({summary.skipped} unchanged, "
          f"skipped) in {summary.seconds:.1f} s with {args.workers} workers; all {len(summary.results)}: "
          + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    print(f"wrote {args.out / 'grades.csv'}, {args.out / 'grades.json'} and {args.out / 'feedback'}/ "
          f"(grading seed {summary.seed}, sandbox: {summary.sandbox})")
    for warning in summary.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    return 0


def run_validate(args):
    from nncourse.grade.schema import validate_file
    paths = args.notebooks or sorted(default_solutions().glob("*.ipynb"))
    bad = 0
    for path in paths:
        errors = validate_file(path)
        bad += bool(errors)
        print(f"{path}: {'valid nbgrader schema-v3 metadata' if not errors else f'{len(errors)} problem(s)'}")
        for error in errors:
            print(f"  {error}")
    return 1 if bad or not paths else 0


if __name__ == "__main__":
    sys.exit(main())
