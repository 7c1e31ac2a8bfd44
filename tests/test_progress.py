"""``nnlib-grade progress FOLDER``: a learner's points and what is left, over every chapter.

The folder is made here from the course's own notebooks: chapter 4's exercise
notebook with exercise 4.1 and written question 4.2 done, chapter 5's solution
(everything done), nothing for the other chapters.
"""
import json
from pathlib import Path

import nbformat
import pytest

from nncourse.grade.cli import main

ROOT = Path(__file__).resolve().parents[1]
RELU = "def relu_backward(dout, cache):\n    return dout * (cache > 0)\n"


@pytest.fixture(scope="module")
def my_work(tmp_path_factory):
    folder = tmp_path_factory.mktemp("my_work")
    nb = nbformat.read(str(ROOT / "exercises" / "04_backprop.ipynb"), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "ex_4_1_relu_backward":
            cell.source = RELU
        elif grade_id == "answer_4_2":
            cell.source = "d log p_k / d z_j = [j = k] - p_j, so ..."
    nbformat.write(nb, str(folder / "04_backprop.ipynb"))
    (folder / "05_digits.ipynb").write_bytes((ROOT / "solutions" / "05_digits.ipynb").read_bytes())
    return folder


@pytest.fixture(scope="module")
def report(my_work):
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["progress", str(my_work), "--json", "--timeout", "60"])
    assert status == 0
    return {entry["chapter"]: entry for entry in json.loads(out.getvalue())}


def test_every_chapter_of_the_course_is_listed(report):
    assert sorted(report) == sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))


def test_a_chapter_in_progress_shows_points_done_and_left(report):
    ch4 = report["04_backprop"]
    assert (ch4["points"], ch4["possible"], ch4["status"]) == (1, 11, "ok")
    assert ch4["done"] == ["4.1"]
    assert ch4["left"] == ["4.3 not attempted", "4.4 not attempted", "4.5 not attempted"]
    assert list(ch4["written_left"].values()) == ["4.6"]  # 4.2 is answered


def test_a_finished_chapter_has_nothing_left(report):
    ch5 = report["05_digits"]
    assert ch5["points"] == ch5["possible"] == 10
    assert ch5["done"] == ["5.1", "5.2", "5.3", "5.4", "5.5"] and ch5["left"] == []
    assert ch5["written_left"] == {}


def test_a_chapter_without_a_notebook_is_not_started(report):
    others = [entry for name, entry in report.items() if name not in ("04_backprop", "05_digits")]
    assert others and all(entry["status"] == "not started" and entry["points"] == 0 for entry in others)


def test_the_table_says_it_in_one_line_per_chapter(my_work, capsys):
    assert main(["progress", str(my_work), "--timeout", "60"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Progress of {my_work} over {len(list((ROOT / 'solutions').glob('*.ipynb')))} chapters"
    ch4 = next(line for line in lines if line.startswith("04_backprop"))
    assert "1/11" in ch4 and "4.1" in ch4 and "4.3 not attempted" in ch4 and "written: 4.6" in ch4
    assert "10/10" in next(line for line in lines if line.startswith("05_digits"))
    assert any("not started: no 01_perceptron.ipynb in this folder" in line for line in lines)
    assert lines[-2].startswith("Total")


def test_a_missing_folder_is_a_usage_error(tmp_path, capsys):
    assert main(["progress", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err
