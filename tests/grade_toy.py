"""A tiny assignment ("90_toy") for the grader's tests, independent of the course chapters.

Three exercises in the course's exercise format (solution regions, hidden
tests, nbgrader schema-v3 metadata): 90.1 ``relu`` (2 points, a check
registered inside the grading cell and called with ``check``), 90.2 ``mse``
(2 points; its hidden inputs come from ``hidden_rng``, so from the grading
seed), 90.3 ``dense_forward`` (1 point, returns ``(z, cache)``), plus a
written answer, a cell that uses ``relu`` and a summary. ``write_assignment``
writes ``solutions/90_toy.ipynb`` and the released ``exercises/90_toy.ipynb``
into a folder; ``variant`` makes a student submission from the exercise by
replacing the code of chosen exercise cells.
"""
import nbformat

from nncourse.release import release_notebook

NAME = "90_toy"
IMPORTS = ("import numpy as np\n"
           "from nncourse.checks import call, check, exercise, expect_array, expect_scalar, expect_tuple")

SOLUTIONS = {
    "ex_90_1_relu": ('def relu(z):\n    """max(0, z) elementwise; z: any shape."""\n'
                     "    ### BEGIN SOLUTION\n    return np.maximum(0.0, z)\n    ### END SOLUTION"),
    "ex_90_2_mse": ('def mse(y_hat, y):\n    """Mean squared error of two (n,) arrays, one float."""\n'
                    "    ### BEGIN SOLUTION\n    return float(np.mean((y_hat - y) ** 2))\n    ### END SOLUTION"),
    "ex_90_3_dense": ('def dense_forward(x, W, b):\n    """z = x @ W + b for x (batch, n_in); returns (z, cache)."""\n'
                      "    ### BEGIN SOLUTION\n    z = x @ W + b  # (batch, n_out)\n    return z, (x, W)\n"
                      "    ### END SOLUTION"),
}
STUBS = {"ex_90_1_relu": "Exercise 90.1: return max(0, z) elementwise",
         "ex_90_2_mse": "Exercise 90.2: return the mean squared error",
         "ex_90_3_dense": "Exercise 90.3: return (z, cache) with z = x @ W + b"}

CHECKS = {
    "check_90_1_relu": ('@exercise("90.1", "relu")\ndef check_relu(fn):\n'
                        "    z = np.array([-2.0, 0.0, 3.0])\n"
                        '    expect_array(call(fn, z), np.maximum(0.0, z), "relu([-2, 0, 3])")\n'
                        '    return "3 inputs, zero stays zero."\n\ncheck("90.1", relu)\n'
                        "### BEGIN HIDDEN TESTS\nz = np.linspace(-1, 1, 6).reshape(2, 3)\n"
                        'expect_array(call(relu, z), np.maximum(0.0, z), "relu on a (2, 3) matrix")\n'
                        "### END HIDDEN TESTS"),
    "check_90_2_mse": ("y_hat, y = np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0])\n"
                       'expect_scalar(call(mse, y_hat, y), 13 / 3, "mse([1, 2, 4], [1, 0, 1])")\n'
                       'print("\\u2714 Exercise 90.2 (mse) passed: 1 input.")\n'
                       "### BEGIN HIDDEN TESTS\nfrom nncourse.grade.seed import hidden_rng\n"
                       "r = hidden_rng(3)  # seeded from the grading seed when graded\n"
                       "a, b = r.normal(size=5), r.normal(size=5)\n"
                       'expect_scalar(call(mse, a, b), np.mean((a - b) ** 2), "mse on random data")\n'
                       "### END HIDDEN TESTS"),
    "check_90_3_dense": ("from nnlib.functional import dense_forward as reference_dense\n"
                         "x, W, b = np.arange(6.0).reshape(2, 3), np.ones((3, 2)), np.array([0.5, -0.5])\n"
                         'out = expect_tuple(call(dense_forward, x, W, b), 2, "dense_forward(x, W, b)")\n'
                         'expect_array(out[0], reference_dense(x, W, b)[0], "z")\n'
                         "### BEGIN HIDDEN TESTS\nr = np.random.default_rng(4)\n"
                         "x, W, b = r.normal(size=(4, 3)), r.normal(size=(3, 5)), r.normal(size=5)\n"
                         'expect_array(call(dense_forward, x, W, b)[0], x @ W + b, "z on random data")\n'
                         "### END HIDDEN TESTS"),
}
POINTS = {"check_90_1_relu": 2, "check_90_2_mse": 2, "check_90_3_dense": 1}


def _meta(grade_id, grade, solution, points=None, stub=None):
    meta = {"nbgrader": {"grade": grade, "solution": solution, "locked": not solution,
                         "grade_id": grade_id, "schema_version": 3}}
    if points is not None:
        meta["nbgrader"]["points"] = points
    if stub:
        meta["nnlib"] = {"stub": stub}
    return meta


def solution_notebook():
    """The solutions notebook of the toy assignment (not executed; the grader does not need outputs)."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [md("# Toy assignment\n\n## What you will learn\nReLU, MSE, a dense layer.\n\n"
                "## Prerequisites\nNumPy.\n\n## Time\n5 minutes."),
             code(IMPORTS)]
    for ex_id, check_id in zip(SOLUTIONS, CHECKS):
        cells.append(md(f"### {STUBS[ex_id]}"))
        cells.append(code(SOLUTIONS[ex_id], metadata=_meta(ex_id, False, True, stub=STUBS[ex_id])))
        cells.append(code(CHECKS[check_id], metadata=_meta(check_id, True, False, POINTS[check_id])))
    cells.append(md("ReLU is zero for negative z.", metadata=_meta("answer_90_1", True, True, 0)))
    cells.append(code('print("relu of [-1, 1]:", relu(np.array([-1.0, 1.0])))'))
    cells.append(md("## Summary\nDone.\n\n## What comes next\nNothing."))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def write_assignment(folder):
    """Write solutions/90_toy.ipynb and exercises/90_toy.ipynb under ``folder``; return both paths."""
    (folder / "solutions").mkdir(parents=True, exist_ok=True)
    (folder / "exercises").mkdir(exist_ok=True)
    solution = solution_notebook()
    paths = folder / "solutions" / f"{NAME}.ipynb", folder / "exercises" / f"{NAME}.ipynb"
    nbformat.write(solution, str(paths[0]))
    nbformat.write(release_notebook(solution, f"{NAME}.ipynb"), str(paths[1]))
    return paths


def solved_code(grade_id):
    """The solution code of an exercise cell without the region markers (what a learner writes)."""
    return "\n".join(line for line in SOLUTIONS[grade_id].splitlines() if "### " not in line)


def variant(exercise_path, target, replace=None, drop=(), append=()):
    """Write a submission made from the exercise: cells by grade_id replaced or dropped, cells appended."""
    nb = nbformat.read(str(exercise_path), as_version=4)
    replace = replace or {}
    cells = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in drop:
            continue
        if gid in replace:
            cell.source = replace[gid]
        cells.append(cell)
    cells += [nbformat.v4.new_code_cell(source) for source in append]
    nb.cells = cells
    nbformat.write(nb, str(target))
    return target
