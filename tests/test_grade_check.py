"""What grading must get right (issue 6), on submissions of the toy assignment made here.

The submissions are graded once, in parallel, by the same code ``nnlib-grade
check`` and ``batch`` use; each test then asserts one case. The last tests
run the ``check`` command itself.
"""
import subprocess
import sys

import pytest

import grade_toy as toy
from nncourse.grade.batch import run_batch
from nncourse.grade.notebook import Assignment
from nncourse.grade.runner import Limits

SOLVED = {gid: toy.solved_code(gid) for gid in toy.SOLUTIONS}
TIMEOUT = 3.0
CASES = {
    "blank": {},
    "solution": SOLVED,
    "partial": {"ex_90_1_relu": SOLVED["ex_90_1_relu"], "ex_90_3_dense": SOLVED["ex_90_3_dense"]},
    "syntax": dict(SOLVED, ex_90_2_mse="def mse(y_hat, y):\n    return float(np.mean((y_hat - y) ** 2)\n"),
    "loop": dict(SOLVED, ex_90_2_mse="def mse(y_hat, y):\n    while True:\n        pass"),
    "exit": dict(SOLVED, ex_90_1_relu="import os\n\ndef relu(z):\n    os._exit(1)"),
    "segfault": dict(SOLVED, ex_90_2_mse="import ctypes\n\ndef mse(y_hat, y):\n    return ctypes.string_at(0)"),
    "allocation": dict(SOLVED, ex_90_3_dense=("def dense_forward(x, W, b):\n"
                                              "    scratch = np.zeros((2**15, 2**15))  # 8 GiB\n"
                                              "    return x @ W + b, (x, W)")),
    "dies_defining": dict(SOLVED, ex_90_2_mse="import os\nos._exit(3)"),
    "uses_reference": dict(SOLVED, ex_90_3_dense=("from nnlib.functional import dense_forward as reference\n\n"
                                                  "def dense_forward(x, W, b):\n    return reference(x, W, b)")),
}
APPENDED = {"loop_outside": 'while True:\n    pass'}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("check")
    solution, exercise = toy.write_assignment(root)
    subs = root / "submissions"
    subs.mkdir()
    for name, replace in CASES.items():
        toy.variant(exercise, subs / f"{name}.ipynb", replace)
    toy.variant(exercise, subs / "loop_outside.ipynb", SOLVED, append=[APPENDED["loop_outside"]])
    limits = Limits(timeout=TIMEOUT, notebook_timeout=120, memory=int(1.5 * 2**30))
    assignment = Assignment.load(solution)
    assignment.forbidden["90.3"] = ("nnlib.functional.dense.dense_forward",)  # as the course's table would say
    summary = run_batch(subs, assignment, root / "out", limits=limits, self_check=False, progress=False)
    return summary.results


def points(result):
    return {e["label"]: e["points"] for e in result["exercises"]}


def exercise(result, label):
    return next(e for e in result["exercises"] if e["label"] == label)


def test_blank_exercise_scores_zero_with_every_exercise_not_attempted(graded):
    result = graded["blank"]
    assert result["total"] == 0 and result["possible"] == 5
    assert {e["status"] for e in result["exercises"]} == {"not attempted"}
    assert exercise(result, "90.2")["feedback"] == toy.STUBS["ex_90_2_mse"]


def test_the_solution_earns_full_points(graded):
    result = graded["solution"]
    assert (result["total"], result["status"]) == (5, "ok")
    assert {e["status"] for e in result["exercises"]} == {"passed"}
    assert exercise(result, "90.1")["feedback"] == "Exercise 90.1 (relu) passed: 3 inputs, zero stays zero."


def test_partly_solved_earns_exactly_the_solved_exercises(graded):
    assert points(graded["partial"]) == {"90.1": 2, "90.2": 0, "90.3": 1}
    assert exercise(graded["partial"], "90.2")["status"] == "not attempted"


def test_a_syntax_error_costs_its_exercise_and_says_where(graded):
    result = graded["syntax"]
    assert points(result) == {"90.1": 2, "90.2": 0, "90.3": 1}
    feedback = exercise(result, "90.2")["feedback"]
    assert "cell 7 (your code for exercise 90.2) has a SyntaxError on line 2" in feedback
    assert "'(' was never closed" in feedback


def test_an_endless_loop_costs_its_exercise_only_and_time_stays_bounded(graded):
    result = graded["loop"]
    assert points(result) == {"90.1": 2, "90.2": 0, "90.3": 1}
    assert exercise(result, "90.2")["status"] == "timeout"
    assert f"did not finish within {TIMEOUT:.0f} s" in exercise(result, "90.2")["feedback"]
    assert result["status"] == "timeout" and result["restarts"] == 1
    assert result["seconds"] < TIMEOUT + 30


def test_an_endless_loop_outside_the_exercises_is_stopped_and_reported(graded):
    result = graded["loop_outside"]
    assert result["total"] == 5 and result["status"] == "timeout"
    assert any("did not finish within" in note for note in result["notes"])


@pytest.mark.parametrize("case, label, cause", [
    ("exit", "90.1", "exited with code 1"),
    ("segfault", "90.2", "segmentation fault"),
])
def test_kernel_death_is_reported_and_the_rest_is_graded(graded, case, label, cause):
    result = graded[case]
    assert result["status"] == "crashed"
    assert exercise(result, label)["status"] == "crashed" and cause in exercise(result, label)["feedback"]
    assert result["total"] == 5 - exercise(result, label)["max_points"]


def test_a_huge_allocation_hits_the_memory_limit_and_costs_only_its_exercise(graded):
    result = graded["allocation"]
    assert points(result) == {"90.1": 2, "90.2": 2, "90.3": 0}
    assert "MemoryError" in exercise(result, "90.3")["feedback"]


def test_a_kernel_that_dies_while_defining_an_exercise_is_restarted(graded):
    result = graded["dies_defining"]
    assert points(result) == {"90.1": 2, "90.2": 0, "90.3": 1}
    assert "crashed the kernel: the Python process exited with code 3" in exercise(result, "90.2")["feedback"]


def test_calling_nnlib_s_own_version_of_the_exercise_scores_nothing_and_is_flagged(graded):
    result = graded["uses_reference"]
    assert points(result) == {"90.1": 2, "90.2": 2, "90.3": 0}
    assert exercise(result, "90.3")["feedback"] == (
        "failed: your code calls nnlib's own `nnlib.functional.dense.dense_forward`, the function this "
        "exercise asks you to write: no points for it (write it yourself).")[len("failed: "):]
    assert result["flags"] == ["cell 10: uses nnlib in an exercise (the reference implementation?)",
                               "90.3: the student's code called nnlib.functional.dense.dense_forward"]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "nncourse.grade", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_check_prints_the_table_and_exits_0_when_everything_passes(tmp_path):
    solution, exercise_path = toy.write_assignment(tmp_path)
    done = run_cli("check", solution, "--solutions", solution.parent)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].split() == ["Exercise", "Points", "Feedback"]
    assert lines[2].startswith("90.1") and "2/2" in lines[2] and "\u2714 Exercise 90.1 (relu) passed" in lines[2]
    assert lines[5].split()[:2] == ["Total", "5/5"]
    blank = run_cli("check", exercise_path, "--solutions", solution.parent)
    assert blank.returncode == 1 and "0/5" in blank.stdout and "not attempted" in blank.stdout


def test_check_explains_a_notebook_it_cannot_grade(tmp_path):
    solution, _ = toy.write_assignment(tmp_path)
    (tmp_path / "90_toy.ipynb").write_text("{not json")
    done = run_cli("check", tmp_path / "90_toy.ipynb", "--solutions", solution.parent)
    assert done.returncode == 2 and "is not valid notebook JSON" in done.stderr
    done = run_cli("check", tmp_path / "mine.ipynb", "--solutions", solution.parent)
    assert done.returncode == 2 and "no assignment 'mine'" in done.stderr and "90_toy" in done.stderr
