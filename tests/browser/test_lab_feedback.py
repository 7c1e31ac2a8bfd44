"""A wrong answer in an exercise notebook, as a learner sees it in JupyterLab (issue 20).

exercises/02_nonlinear.ipynb (a temp copy) with the naive sigmoid planted as
the answer to 2.1 is run with Run > Run All Cells. Run All must stop at 2.1's
check cell; its error output must show the check's message and hint offer
and the learner's own line, and no file path of nnlib, nncourse or an
installed package; the page must show no widget error or console error.
"""
import re

import nbformat
import pytest

from nncourse.lab import ROOT

pytestmark = pytest.mark.browser

NAIVE_SIGMOID = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))"
LIBRARY_PATH = re.compile(r"nn(lib|course)[/\\][\w/\\]*\.py|site-packages|dist-packages")


def planted_exercise(lab):
    """exercises/02_nonlinear.ipynb with NAIVE_SIGMOID as 2.1's answer, in the lab's root."""
    nb = nbformat.read(str(ROOT / "exercises" / "02_nonlinear.ipynb"), as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex_2_1_sigmoid"]
    assert len(cells) == 1, "exercise 2.1's cell (grade_id ex_2_1_sigmoid) not found"
    assert "NotImplementedError" in cells[0].source  # the released stub, replaced below
    cells[0].source = NAIVE_SIGMOID
    check_cell = next(i for i, c in enumerate(nb.cells)
                      if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("check_2_1"))
    folder = lab.root_dir / "exercises"
    folder.mkdir(exist_ok=True)
    nbformat.write(nb, folder / "02_nonlinear.ipynb")
    code_cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    return "exercises/02_nonlinear.ipynb", code_cells.index(nb.cells[check_cell])


def test_a_wrong_answer_shows_the_message_without_library_paths(lab, lab_page, artifacts):
    relpath, check_index = planted_exercise(lab)
    lab_page.open(relpath)
    with pytest.raises(AssertionError, match="Run All stopped at an error"):
        lab_page.run_all()
    error_output = lab_page.page.locator('.jp-Notebook [data-mime-type="application/vnd.jupyter.stderr"]')
    error_output.first.scroll_into_view_if_needed()
    error_output.first.screenshot(path=artifacts / "exercise-02-planted-wrong-answer.png")

    prompts = lab_page.prompts()
    assert all(re.fullmatch(r"\[\d+\]:", p) for p in prompts[:check_index + 1]), prompts
    assert all(p == "[ ]:" for p in prompts[check_index + 1:]), f"Run All went on after the failed check: {prompts}"

    errors = lab_page.stderr_outputs()
    assert len(errors) == 1, errors
    text = errors[0]
    assert prompts[check_index] in text  # the error output is the check cell's
    for shown in ("Exercise 2.1 (stable sigmoid) did not pass",
                  "your function raised FloatingPointError: overflow encountered in exp",
                  "Likely mistake: np.exp overflowed", 'Stuck? Run hint("2.1")',
                  "Your code raised the error here:", "return 1 / (1 + np.exp(-z))"):
        assert shown in " ".join(text.split()), f"{shown!r} missing from the error output: {text}"
    assert not LIBRARY_PATH.search(text), f"a library file path in the learner's error output: {text}"
    assert "nnlib/" not in text and "nncourse/" not in text

    problems = lab_page.widget_problems(loading_grace=5)
    assert not problems, f"widget errors in the exercise notebook: {problems}"
    assert not lab_page.console_errors, f"JavaScript console errors: {lab_page.console_errors}"
