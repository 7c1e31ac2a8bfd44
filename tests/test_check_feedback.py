"""What a learner sees when an answer is wrong (issue 20).

A failed check renders, in IPython, as one block: the exercise, what is
wrong on which input, the likely mistake, how to ask for a hint, and the
learner's own frames when their code raised; never a frame of nnlib or
nncourse. The cell still fails: for nbval, for the exercise tests (nbclient
error outputs) and for the grader. A passing check prints one line.

The format tests run over the whole check registry, so new chapters get them.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import ipykernel.kernelspec
import nbformat
import numpy as np
import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

import nncourse
import nnlib
from nncourse.checks import CheckFailed, _render, check, exercise, expect_array, hint, registry

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = registry()
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LIBRARY_PATH = re.compile(r"nn(lib|course)[/\\][\w/\\]*\.py|site-packages|dist-packages")
PACKAGE_DIRS = [str(Path(nnlib.__file__).resolve().parent), str(Path(nncourse.__file__).resolve().parent)]


def plain(lines):
    """The rendered lines as the learner reads them (no colour codes)."""
    return ANSI.sub("", "\n".join(lines))


def words(text):
    """Text with its line breaks and runs of spaces as single spaces (wrapping aside)."""
    return " ".join(str(text).split())


def assert_no_library_frames(text):
    assert not LIBRARY_PATH.search(text), text
    for folder in PACKAGE_DIRS:
        assert folder not in text, text


def planted_error(*args, **kwargs):
    raise ValueError("planted mistake")


def planted_none(*args, **kwargs):
    return None


def test_the_registry_holds_every_chapter():
    chapters = {str(int(p.name[:2])) for p in (ROOT / "solutions").glob("*.ipynb")}
    assert {key.split(".")[0] for key in REGISTRY} == chapters  # one checks module per solution notebook
    assert all(fn.__module__ == f"nncourse.checks.ch{int(key.split('.')[0]):02d}"
               for key, (_, fn, _) in REGISTRY.items())


# ------------------------------------------------------------ the message format
@pytest.mark.parametrize("exercise_id", REGISTRY)
def test_code_that_raises_shows_the_message_and_only_the_learners_frames(exercise_id):
    title = REGISTRY[exercise_id].title
    with pytest.raises(CheckFailed) as info:
        check(exercise_id, planted_error)
    failure = info.value
    assert str(failure).startswith(f"Exercise {exercise_id} ({title}): your function raised "
                                   f"ValueError: planted mistake (on ")
    text = plain(failure._render_traceback_())
    assert text.splitlines()[0] == f"\u2718 Exercise {exercise_id} ({title}) did not pass"
    assert "your function raised ValueError: planted mistake" in words(text)
    assert "Your code raised the error here:" in text
    assert 'raise ValueError("planted mistake")' in text  # the learner's line...
    assert text.count("planted_error") == 1  # ...in the learner's one frame
    assert_no_library_frames(text)


@pytest.mark.parametrize("exercise_id", REGISTRY)
def test_a_wrong_value_shows_one_block_without_any_traceback(exercise_id):
    with pytest.raises(CheckFailed) as info:
        check(exercise_id, planted_none)
    text = plain(info.value._render_traceback_())
    title = REGISTRY[exercise_id].title
    assert text.splitlines()[0] == f"\u2718 Exercise {exercise_id} ({title}) did not pass"
    assert words(info.value.problem) in words(text)
    assert "Traceback" not in text and "File " not in text
    assert_no_library_frames(text)


@pytest.mark.parametrize("exercise_id", REGISTRY)
def test_an_unfinished_exercise_keeps_its_stub_error_and_renders_cleanly(exercise_id):
    stub_text = f"Exercise {exercise_id}: write this function"

    def stub(*args, **kwargs):
        raise NotImplementedError(stub_text)

    with pytest.raises(NotImplementedError) as info:
        check(exercise_id, stub)
    assert type(info.value) is NotImplementedError and str(info.value) == stub_text
    text = plain(info.value._render_traceback_())
    assert text.splitlines()[0].endswith(f"Exercise {exercise_id} ({REGISTRY[exercise_id].title}) "
                                         f"is not written yet")
    assert f"NotImplementedError: {stub_text}" in text and "raise NotImplementedError(stub_text)" in text
    assert_no_library_frames(text)


@pytest.mark.parametrize("exercise_id", REGISTRY)
def test_hints_are_offered_exactly_when_the_exercise_has_them(exercise_id):
    with pytest.raises(CheckFailed) as info:
        check(exercise_id, planted_none)
    offer = f'hint("{exercise_id}")'
    text = words(plain(info.value._render_traceback_()))
    assert (offer in text) == bool(REGISTRY[exercise_id].hints)


def test_the_likely_mistake_has_its_own_line():
    def naive_sigmoid(z):
        return 1 / (1 + np.exp(-z))

    with pytest.raises(CheckFailed) as info:
        check("2.1", naive_sigmoid)
    lines = plain(info.value._render_traceback_()).splitlines()
    assert any(line.startswith("  Likely mistake: np.exp overflowed") for line in lines)
    assert any("return 1 / (1 + np.exp(-z))" in line for line in lines)
    assert str(info.value).startswith("Exercise 2.1 (stable sigmoid): your function raised "
                                      "FloatingPointError: overflow encountered in exp (on z = ")
    assert str(info.value).endswith("build both branches from it.")  # the grader's one line keeps it


def test_a_hidden_test_that_fails_directly_renders_without_frames():
    with pytest.raises(CheckFailed) as info:
        expect_array(np.zeros(3), np.ones(3), "the output")
    text = plain(info.value._render_traceback_())
    assert text.splitlines()[0] == "\u2718 Check failed"
    assert "the output: expected [1., 1., 1.], got [0., 0., 0.]" in text
    assert_no_library_frames(text)


def test_the_learner_file_rule():
    assert _render.is_learner_file("/tmp/ipykernel_123/2890.py")
    assert _render.is_learner_file("<ipython-input-3-abc>")
    assert not _render.is_learner_file(np.__file__)
    assert not _render.is_learner_file(_render.__file__)
    assert not _render.is_learner_file(nnlib.__file__)
    assert not _render.is_learner_file(json.__file__)  # the standard library
    assert not _render.is_learner_file("<frozen importlib._bootstrap>")


# ------------------------------------------------------------ hints and passes
def test_hint_shows_the_next_hint_each_time_then_stays_on_the_last(capsys, monkeypatch):
    import nncourse.checks
    monkeypatch.setattr(nncourse.checks, "_HINTS_SHOWN", {})  # a learner who has asked for none yet
    title, _, hints = REGISTRY["2.3"]
    assert len(hints) == 2
    for expected in (1, 2, 2):
        hint("2.3")
        out = capsys.readouterr().out
        assert out.startswith(f"Hint {expected} of 2 for exercise 2.3 ({title})")
        assert words(hints[expected - 1]) in words(out)
    hint("2.3", 1)
    assert capsys.readouterr().out.startswith("Hint 1 of 2")
    with pytest.raises(ValueError, match="exercise 2.3 has hints 1 to 2, not 3"):
        hint("2.3", 3)
    # every course exercise has hints, so a temporary one (an id no other test uses), removed after
    exercise("98.7", "an exercise without hints")(lambda answer: None)
    try:
        hint("98.7")
        assert "has no hints" in capsys.readouterr().out
    finally:
        nncourse.checks._REGISTRY.pop("98.7")  # the registry the decorator wrote to


def test_every_hint_is_words_not_code():
    for exercise_id, (_, _, hints) in REGISTRY.items():
        for text in hints:
            assert 20 < len(text) < 300 and "return " not in text and "np." not in text, exercise_id


def test_a_passing_check_prints_exactly_one_line(capsys):
    @exercise("97.1", "identity")
    def check_identity(fn):
        expect_array(fn(np.arange(3)), np.arange(3), "f(x)")
        return "f(x) = x"

    assert check("97.1", lambda x: x) is None
    assert capsys.readouterr().out == "\u2714 Exercise 97.1 (identity) passed: f(x) = x\n"


# ------------------------------------------------------------ in a real kernel
class _CurrentEnvironment(KernelSpecManager):
    """The python3 kernel of the interpreter running the tests (as nbval --nbval-current-env)."""

    def get_kernel_spec(self, kernel_name):
        return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                      **ipykernel.kernelspec.get_kernel_dict())


CELLS = {
    "setup": "import numpy as np\nfrom nncourse.checks import check, expect_array",
    "raises": "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\ncheck('2.1', sigmoid)",
    "wrong": "def sigmoid(z):\n    return 1 - 1 / (1 + np.exp(-np.clip(z, -500, 500)))\ncheck('2.1', sigmoid)",
    "stub": "def sigmoid(z):\n    raise NotImplementedError('Exercise 2.1: write it')\ncheck('2.1', sigmoid)",
    "hidden": "expect_array(np.zeros(2), np.ones(2), 'a')",
    "passes": ("def sigmoid(z):\n    e = np.exp(-np.abs(z))\n"
               "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\ncheck('2.1', sigmoid)"),
}


def notebook(cells):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])


@pytest.fixture(scope="module")
def kernel_outputs():
    nb = notebook(CELLS.values())
    km = KernelManager(kernel_name="python3", kernel_spec_manager=_CurrentEnvironment())
    NotebookClient(nb, km=km, timeout=120, allow_errors=True).execute()
    return dict(zip(CELLS, (cell.outputs for cell in nb.cells)))


def error_of(outputs):
    errors = [out for out in outputs if out.output_type == "error"]
    assert len(errors) == 1, outputs
    return errors[0], plain(errors[0].traceback)


def test_in_ipython_code_that_raised_shows_the_block_and_its_cell(kernel_outputs):
    error, text = error_of(kernel_outputs["raises"])
    assert error.ename == "CheckFailed" and error.evalue.startswith("Exercise 2.1 (stable sigmoid): ")
    assert text.splitlines()[0] == "\u2718 Exercise 2.1 (stable sigmoid) did not pass"
    assert "Likely mistake: np.exp overflowed" in text
    assert 'Stuck? Run hint("2.1")' in text
    assert re.search(r"Cell In\[\d+\], line 2, in sigmoid", text)  # the learner's frame, by IPython
    assert "check('2.1', sigmoid)" not in text  # not even the calling line: only where it broke
    assert_no_library_frames(text)


def test_in_ipython_a_wrong_answer_is_one_block(kernel_outputs):
    error, text = error_of(kernel_outputs["wrong"])
    assert error.ename == "CheckFailed"
    assert "you return sigma(-z)" in words(text) and "Cell In" not in text
    assert_no_library_frames(text)


def test_in_ipython_the_stub_keeps_its_name_and_text(kernel_outputs):
    error, text = error_of(kernel_outputs["stub"])
    assert (error.ename, error.evalue) == ("NotImplementedError", "Exercise 2.1: write it")
    assert "is not written yet" in text and "raise NotImplementedError('Exercise 2.1: write it')" in text
    assert_no_library_frames(text)


def test_in_ipython_a_failing_hidden_test_shows_no_frames(kernel_outputs):
    error, text = error_of(kernel_outputs["hidden"])
    assert error.ename == "CheckFailed" and "a: expected [1., 1.], got [0., 0.]" in text
    assert "Cell In" not in text
    assert_no_library_frames(text)


def test_in_ipython_a_pass_is_a_single_line(kernel_outputs):
    outputs = kernel_outputs["passes"]
    assert [out.output_type for out in outputs] == ["stream"]
    lines = outputs[0].text.splitlines()
    assert len(lines) == 1 and lines[0].startswith("\u2714 Exercise 2.1 (stable sigmoid) passed")


# ------------------------------------------------------------ still a failure
def run_nbval(tmp_path, cells):
    path = tmp_path / "planted.ipynb"
    nbformat.write(notebook(cells), str(path))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
                           "--nbval-lax", "--nbval-current-env", str(path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)


def test_nbval_counts_a_failed_check_as_a_failed_cell(tmp_path):
    failed = run_nbval(tmp_path, [CELLS["setup"], CELLS["raises"]])
    assert failed.returncode == 1, failed.stdout
    report = ANSI.sub("", failed.stdout)
    assert "1 failed, 1 passed" in report and "Notebook cell execution failed" in report
    assert "Exercise 2.1 (stable sigmoid) did not pass" in report  # nbval shows the same block
    assert_no_library_frames(report)
    passed = run_nbval(tmp_path, [CELLS["setup"], CELLS["passes"]])
    assert passed.returncode == 0 and "2 passed" in passed.stdout, passed.stdout


@pytest.fixture(scope="module")
def graded_planted(tmp_path_factory):
    """exercises/02 with the naive sigmoid as the answer to 2.1, graded by nnlib-grade's code."""
    from nncourse.grade.grader import grade_notebook
    from nncourse.grade.notebook import Assignment, check_assignment, read_submission
    from nncourse.grade.runner import Limits

    nb = nbformat.read(str(ROOT / "exercises" / "02_nonlinear.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex_2_1_sigmoid")
    cell.source = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))"
    path = tmp_path_factory.mktemp("planted") / "02_nonlinear.ipynb"
    nbformat.write(nb, str(path))
    assignment = Assignment.load(ROOT / "solutions" / "02_nonlinear.ipynb")
    submission = read_submission(path)
    check_assignment(submission, assignment, name=path.name)
    return grade_notebook(submission, assignment, Limits(timeout=120))


def test_the_grader_fails_the_planted_answer_with_the_checks_message(graded_planted):
    result = {e.label: e for e in graded_planted.exercises}
    assert result["2.1"].status == "failed" and result["2.1"].points == 0
    assert result["2.1"].feedback.startswith("Exercise 2.1 (stable sigmoid): your function raised "
                                             "FloatingPointError")
    assert "np.exp overflowed" in result["2.1"].feedback
    assert {e.status for label, e in result.items() if label != "2.1"} == {"not attempted"}
    assert_no_library_frames(json.dumps([e.feedback for e in result.values()] + graded_planted.notes))
