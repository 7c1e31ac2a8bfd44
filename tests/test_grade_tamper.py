"""Tampering earns nothing (issue 6): every trick here pairs with wrong answers and must score 0.

Each submission of the toy assignment tries one way to forge the verdict:
edited or deleted test cells, redefined or monkeypatched check helpers,
NumPy or nnlib, objects whose ``__eq__`` always says True, printed or
published fake results, a fake results file, reading the solutions, hiding
tracebacks. They are graded once, in parallel; each test checks one trick.
A control submission shows that restoring the tests does not hurt honest work.
"""
import json

import pytest

import grade_toy as toy
from nncourse.grade.batch import run_batch
from nncourse.grade.notebook import Assignment
from nncourse.grade.runner import Limits

WRONG = {"ex_90_1_relu": "def relu(z):\n    return z",
         "ex_90_2_mse": "def mse(y_hat, y):\n    return 0.0",
         "ex_90_3_dense": "def dense_forward(x, W, b):\n    return x, None"}
SOLVED = {gid: toy.solved_code(gid) for gid in toy.SOLUTIONS}
FAKE_PASS = "\\u2714 Exercise 90.1 (relu) passed: 3 inputs, zero stays zero."
EDITED_TESTS = {"check_90_1_relu": f'print("{FAKE_PASS}")', "check_90_2_mse": "pass",
                "check_90_3_dense": "assert True"}

PATCH_HELPERS = """
import nncourse.checks
class CheckFailed(Exception):
    pass
def check(*args, **kwargs):
    print("{fake}")
    return True
call = lambda fn, *args, **kwargs: fn(*args, **kwargs)
expect_array = expect_scalar = expect_tuple = lambda got, *args, **kwargs: got
exercise = lambda *args: (lambda fn: fn)
for name in ("check", "call", "expect_array", "expect_scalar", "expect_tuple", "exercise", "CheckFailed"):
    setattr(nncourse.checks, name, globals()[name])
""".format(fake=FAKE_PASS)
PATCH_NUMPY = """
import numpy
numpy.allclose = numpy.isclose = numpy.array_equal = lambda *args, **kwargs: True
numpy.isfinite = lambda x: numpy.ones(numpy.shape(x), bool)
numpy.testing.assert_allclose = lambda *args, **kwargs: None
"""
REPLACE_NNLIB = """
import sys, types
import nncourse.checks, nnlib.functional
fake = types.ModuleType("nncourse.checks")
fake.__dict__.update(nncourse.checks.__dict__)
fake.expect_array = fake.expect_scalar = fake.expect_tuple = lambda got, *args, **kwargs: got
sys.modules["nncourse.checks"] = fake
nncourse.checks = fake
nnlib.functional.dense_forward = lambda x, W, b: (x, None)
from nncourse.checks import call, check, exercise, expect_array, expect_scalar, expect_tuple
"""
EQ_OBJECTS = {
    "ex_90_1_relu": ("class Same(np.ndarray):\n    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n"
                     "def relu(z):\n    return np.zeros(np.shape(z)).view(Same)"),
    "ex_90_2_mse": ("class Anything(float):\n    def __eq__(self, other):\n        return True\n"
                    "    def __ne__(self, other):\n        return False\n"
                    "def mse(y_hat, y):\n    return Anything(-1.0)"),
    "ex_90_3_dense": ("class Whatever:\n    def __eq__(self, other):\n        return True\n"
                      "    def __len__(self):\n        return 2\n    def __getitem__(self, i):\n        return self\n"
                      "    def __array__(self, *args, **kwargs):\n        return np.zeros((2, 2))\n"
                      "def dense_forward(x, W, b):\n    return Whatever()"),
}
FAKE_OUTPUT = """
import json
from IPython.display import publish_display_data
MIME = "application/x-nnlib-grade"
publish_display_data({MIME: json.dumps({"token": "guess", "calls": [], "values": {}, "functions": []})})
def relu(z):
    recorder = globals().get("__nnlib_grade__")
    if recorder is not None:  # inside the grader: publish a second, forged result with its token
        publish_display_data({MIME: json.dumps({"token": recorder.token, "calls": [], "values": {},
                                                 "functions": []})})
        recorder.calls.clear()
    print("%s")
    return z
""" % FAKE_PASS


def fake_results_file(out):
    forged = json.dumps({"student": "fake_results_file", "total": 5, "possible": 5, "status": "ok",
                         "exercises": [], "fingerprint": "x"})
    return f"""
import os
forged = {forged!r}
for path in ["grades.json", "results.json", "../grades.csv", {str(out / 'grades.csv')!r},
             {str(out / 'results' / 'fake_results_file.json')!r}]:
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as handle:
            handle.write(forged)
    except OSError as exc:
        print("blocked:", exc)
"""


def reads_solutions(solution):
    """Copy relu from the solutions notebook if it can be read, else give a wrong one."""
    return f"""
import json
try:
    cells = json.load(open({str(solution)!r}))["cells"]
    exec("".join(cells[3]["source"]))
except OSError:
    def relu(z):
        return z
"""


HIDE_ERRORS = """
import sys
ip = get_ipython()
ip.showtraceback = lambda *args, **kwargs: print("\\u2714 passed")
ip.showsyntaxerror = lambda *args, **kwargs: None
sys.excepthook = lambda *args: None
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("tamper")
    solution, exercise = toy.write_assignment(root)
    subs, out = root / "submissions", root / "out"
    subs.mkdir()
    cases = {
        "edited_tests": (dict(EDITED_TESTS, **WRONG), []),
        "edited_tests_but_solved": (dict(EDITED_TESTS, **SOLVED), []),
        "deleted_tests": ({}, list(EDITED_TESTS)),
        "patched_helpers": (dict(WRONG, ex_90_1_relu=PATCH_HELPERS + WRONG["ex_90_1_relu"]), []),
        "patched_numpy": (dict(WRONG, ex_90_1_relu=PATCH_NUMPY + WRONG["ex_90_1_relu"]), []),
        "replaced_nnlib": (dict(WRONG, ex_90_1_relu=REPLACE_NNLIB + WRONG["ex_90_1_relu"]), []),
        "eq_objects": (EQ_OBJECTS, []),
        "fake_output": (dict(WRONG, ex_90_1_relu=FAKE_OUTPUT), []),
        "fake_results_file": (dict(WRONG, ex_90_1_relu=fake_results_file(out) + WRONG["ex_90_1_relu"]), []),
        "reads_solutions": (dict(WRONG, ex_90_1_relu=reads_solutions(solution)), []),
        "hides_errors": (dict(WRONG, ex_90_1_relu=HIDE_ERRORS + WRONG["ex_90_1_relu"]), []),
    }
    for name, (replace, drop) in cases.items():
        toy.variant(exercise, subs / f"{name}.ipynb", replace, drop=drop)
    summary = run_batch(subs, Assignment.load(solution), out, limits=Limits(timeout=10),
                        self_check=False, progress=False)
    return summary.results, out


TRICKS = ["edited_tests", "deleted_tests", "patched_helpers", "patched_numpy", "replaced_nnlib",
          "eq_objects", "fake_output", "fake_results_file", "reads_solutions", "hides_errors"]


@pytest.mark.parametrize("trick", TRICKS)
def test_no_trick_earns_a_point(graded, trick):
    result = graded[0][trick]
    assert result["status"] == "ok"
    assert [e["points"] for e in result["exercises"]] == [0, 0, 0]
    assert {e["status"] for e in result["exercises"]} <= {"failed", "not attempted"}


def test_restored_tests_still_credit_honest_work(graded):
    assert graded[0]["edited_tests_but_solved"]["total"] == 5


def test_deleted_tests_are_restored_and_report_each_exercise(graded):
    result = graded[0]["deleted_tests"]
    assert [e["status"] for e in result["exercises"]] == ["not attempted"] * 3


def test_patched_checks_are_judged_by_the_real_ones(graded):
    feedback = {t: graded[0][t]["exercises"][1]["feedback"] for t in ("patched_helpers", "patched_numpy", "replaced_nnlib")}
    assert set(feedback.values()) == {"mse([1, 2, 4], [1, 0, 1]): expected 4.33333, got 0."}


def test_objects_that_equal_everything_are_reported_as_what_they_are(graded):
    feedback = [e["feedback"] for e in graded[0]["eq_objects"]["exercises"]]
    assert "expected [0., 0., 3.], got [0., 0., 0.]" in feedback[0]
    assert "expected a single number, got <object of type __main__.Anything>" in feedback[1]
    assert "expected 2 values (a tuple), got <object of type __main__.Whatever>" in feedback[2]


def test_a_fake_results_file_changes_no_grade(graded):
    results, out = graded
    csv_rows = (out / "grades.csv").read_text().splitlines()
    row = next(r for r in csv_rows if r.startswith("fake_results_file,"))
    assert row.split(",")[1:6] == ["0", "0", "0", "0", "5"]
    saved = json.loads((out / "results" / "fake_results_file.json").read_text())
    assert saved["total"] == 0 and saved["exercises"]
    assert json.loads((out / "grades.json").read_text())["students"]["fake_results_file"]["total"] == 0


def test_the_solutions_are_not_readable_from_the_kernel(graded):
    relu = graded[0]["reads_solutions"]["exercises"][0]
    assert relu["points"] == 0  # reading solutions/ raised OSError, so the copy never happened
    assert "expected [0., 0., 3.], got [-2., 0., 3.]" in relu["feedback"]


@pytest.mark.parametrize("trick, flag", [
    ("patched_helpers", "replaces modules or builtins"),
    ("patched_numpy", "monkeypatches NumPy, nnlib or nncourse"),
    ("replaced_nnlib", "replaces modules or builtins"),
    ("fake_output", "touches the grader's messages"),
    ("hides_errors", "hides errors"),
])
def test_tampering_is_flagged_for_the_instructor(graded, trick, flag):
    assert any(flag in line for line in graded[0][trick]["flags"]), graded[0][trick]["flags"]


def test_honest_work_raises_no_flag(graded):
    assert graded[0]["edited_tests_but_solved"]["flags"] == []
