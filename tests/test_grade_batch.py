"""``nnlib-grade batch``: a folder of mixed submissions, bad ones included, outputs and --resume."""
import csv
import json
import subprocess
import sys

import nbformat
import pytest

import grade_toy as toy

SOLVED = {gid: toy.solved_code(gid) for gid in toy.SOLUTIONS}
KILL_WORKER = ("import ctypes, os, signal\n"
               "ctypes.CDLL(None).kill(os.getppid(), signal.SIGKILL)  # past the guard, on purpose\n")
# In its sandbox a kernel's parent is bubblewrap's init, owned by root: the kill fails, so jo is
# graded like anyone else (the grading process it tried to kill is not even in its PID namespace).


def batch(*args):
    return subprocess.run([sys.executable, "-m", "nncourse.grade", "batch", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    solution, exercise = toy.write_assignment(root)
    subs = root / "submissions"
    subs.mkdir()
    toy.variant(exercise, subs / "ada.ipynb", SOLVED)
    toy.variant(exercise, subs / "bo.ipynb")
    folder = subs / "cy"
    folder.mkdir()
    (folder / "factor.txt").write_text("1.0")
    relu_from_file = ('FACTOR = float(open("factor.txt").read())\n\n'
                      "def relu(z):\n    return np.maximum(0.0, z) * FACTOR")
    toy.variant(exercise, folder / "90_toy.ipynb", dict(SOLVED, ex_90_1_relu=relu_from_file))
    (subs / "di").mkdir()
    toy.variant(exercise, subs / "di" / "a.ipynb")
    toy.variant(exercise, subs / "di" / "b.ipynb")
    (subs / "ed").mkdir()
    (subs / "ed" / "readme.txt").write_text("forgot the notebook")
    (subs / "fay.pdf").write_bytes(b"%PDF-1.4")
    (subs / "gus.ipynb").write_text('{"cells": [{"cell_type": ')
    (subs / "hal.ipynb").write_text("")
    other = toy.solution_notebook()
    for cell in other.cells:
        meta = cell.metadata.get("nbgrader", {})
        if "grade_id" in meta:
            meta["grade_id"] = meta["grade_id"].replace("_90_", "_2_")
    nbformat.write(other, str(subs / "ivy.ipynb"))
    toy.variant(exercise, subs / "jo.ipynb", dict(SOLVED, ex_90_2_mse=KILL_WORKER + SOLVED["ex_90_2_mse"]))
    (subs / ".DS_Store").write_text("ignored")
    out = root / "grades"
    first = batch(subs, "--assignment", toy.NAME, "--solutions", solution.parent, "--out", out, "--timeout", 10)
    return root, subs, out, first


EXPECTED = {  # student: (total, status, a phrase of the message)
    "ada": (5, "ok", ""), "bo": (0, "ok", ""), "cy": (5, "ok", ""),
    "di": (0, "invalid", "contains 2 notebooks (a.ipynb, b.ipynb) and none is named 90_toy.ipynb"),
    "ed": (0, "invalid", "contains no notebook"),
    "fay": (0, "invalid", "fay.pdf is not a notebook"),
    "gus": (0, "invalid", "is not valid notebook JSON"),
    "hal": (0, "invalid", "hal.ipynb is empty"),
    "ivy": (0, "invalid", "is not assignment 90_toy: its exercise cells belong to chapter 2"),
    "jo": (5, "ok", ""),
}


def test_the_batch_runs_to_the_end_and_summarises(setup):
    first = setup[3]
    assert first.returncode == 0, first.stderr
    assert "graded 10 submissions (0 unchanged, skipped)" in first.stdout
    assert "all 10: 6 invalid, 4 ok" in first.stdout
    assert "grading 90_toy" in first.stderr and "10/10" in first.stderr  # the progress bar


def test_grades_csv_has_a_row_per_student_with_points_total_and_status(setup):
    rows = list(csv.DictReader((setup[2] / "grades.csv").open()))
    assert list(rows[0])[:6] == ["student", "90.1", "90.2", "90.3", "total", "possible"]
    by_student = {row["student"]: row for row in rows}
    assert set(by_student) == set(EXPECTED)
    for student, (total, status, message) in EXPECTED.items():
        row = by_student[student]
        assert (float(row["total"]), row["status"]) == (total, status), student
        assert message in row["message"], student
    assert [by_student["ada"][k] for k in ("90.1", "90.2", "90.3")] == ["2", "2", "1"]


def test_grades_json_and_one_feedback_file_per_student(setup):
    data = json.loads((setup[2] / "grades.json").read_text())
    assert data["possible"] == 5 and [e["label"] for e in data["exercises"]] == ["90.1", "90.2", "90.3"]
    assert data["students"]["cy"]["exercises"][0]["status"] == "passed"  # data file copied with the folder
    assert {p.stem for p in (setup[2] / "feedback").glob("*.md")} == set(EXPECTED)
    assert "**Total: 5 / 5 points**" in (setup[2] / "feedback" / "ada.md").read_text()
    assert "**Not graded:** gus.ipynb is not valid notebook JSON" in (setup[2] / "feedback" / "gus.md").read_text()


def test_resume_skips_graded_submissions_and_regrades_changed_ones(setup):
    root, subs, out, _ = setup
    solution_dir = root / "solutions"
    seed = json.loads((out / "grades.json").read_text())["seed"]
    again = batch(subs, "--assignment", toy.NAME, "--solutions", solution_dir, "--out", out, "--resume", "--quiet")
    assert "graded 0 submissions (10 unchanged, skipped)" in again.stdout
    toy.variant(root / "exercises" / "90_toy.ipynb", subs / "bo.ipynb", SOLVED)
    again = batch(subs, "--assignment", toy.NAME, "--solutions", solution_dir, "--out", out, "--resume",
                  "--quiet", "--no-self-check")
    assert "graded 1 submission (9 unchanged, skipped)" in again.stdout
    rows = {row["student"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert rows["bo"]["total"] == "5" and rows["ada"]["total"] == "5" and len(rows) == 10
    graded = json.loads((out / "grades.json").read_text())  # regraded with the same grading seed
    assert graded["seed"] == seed and graded["students"]["bo"]["batch_seed"] == seed
    assert f"grading seed {seed}, sandbox: full" in again.stdout


def test_a_solution_that_fails_its_own_grading_stops_the_batch(tmp_path):
    solution, exercise = toy.write_assignment(tmp_path)
    nb = nbformat.read(str(solution), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex_90_2_mse":
            cell.source = cell.source.replace("** 2", "** 3")
    nbformat.write(nb, str(solution))
    subs = tmp_path / "submissions"
    subs.mkdir()
    toy.variant(exercise, subs / "ada.ipynb", SOLVED)
    done = batch(subs, "--assignment", toy.NAME, "--solutions", solution.parent, "--out", tmp_path / "out", "--quiet")
    assert done.returncode == 3
    assert "the solution scores 3/5: 90.2: mse([1, 2, 4], [1, 0, 1]): expected 4.33333" in done.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
