"""An answer that merely calls nnlib's implementation of its exercise earns nothing (issue 12, 21).

The table ``nncourse.checks.forbidden.FORBIDDEN`` is the one place that says
which nnlib functions an exercise must not call; ``check`` refuses such an
answer with one clear sentence, and the grader can ask the same table about
a cell's source.
"""
import numpy as np
import pytest

import nnlib
import nnlib.functional as F
from nncourse.checks import CheckFailed, check, registry
from nncourse.checks import forbidden
from nnlib import perceptron as reference
from nnlib.functional import dense_forward as nnlib_dense_forward

WRITE_IT = "write it yourself; nnlib's version is the reference you are compared with."


def test_every_entry_names_a_registered_exercise_and_an_nnlib_object():
    exercises = registry()
    for exercise_id, paths in forbidden.FORBIDDEN.items():
        assert exercise_id in exercises, exercise_id
        for path in paths:
            assert path.startswith("nnlib."), path
            assert forbidden._resolve(path) is not None, f"{exercise_id}: {path} does not exist"


def perceptron_predict(X, w, b):  # calls the reference by its module
    return reference.predict(X, w, b)


def sigmoid_prime(z):  # an alias of the module, as the lecture imports it
    return F.sigmoid_backward(np.ones_like(z), F.sigmoid(z))


def dense_forward(x, W, b):  # imported under another name
    return nnlib_dense_forward(x, W, b)[0]


def helper(x, W, b):
    return nnlib.functional.dense.dense_forward(x, W, b)[0]  # the full path


def dense_via_helper(x, W, b):  # hides the call in a helper of its own
    return helper(x, W, b)


def margin_update(w, b, x, y, lr, margin):  # inside a lambda
    rule = lambda: reference.update(w, b, x, y, lr)  # noqa: E731
    return rule()


@pytest.mark.parametrize("exercise_id, answer, name", [
    ("1.1", perceptron_predict, "nnlib.perceptron.predict"),
    ("1.2", margin_update, "nnlib.perceptron.update"),
    ("2.2", sigmoid_prime, "nnlib.functional.sigmoid_backward"),
    ("3.1", dense_forward, "nnlib.functional.dense_forward"),
    ("3.1", dense_via_helper, "nnlib.functional.dense_forward"),
])
def test_check_refuses_an_answer_that_calls_nnlibs_implementation(exercise_id, answer, name):
    with pytest.raises(CheckFailed) as failure:
        check(exercise_id, answer)
    text = str(failure.value)
    assert text.startswith(f"Exercise {exercise_id} (") and name in text and text.endswith(WRITE_IT)
    assert forbidden.violations(exercise_id, answer) == [name]


def test_what_earlier_chapters_taught_may_be_used():
    def cost_of_dense(x, W, b):  # 3.2-style use of nnlib's dense layer is allowed in 3.2
        return F.dense_forward(x, W, b)[0]
    assert forbidden.violations("3.2", cost_of_dense) == []
    assert forbidden.violations("2.2", lambda z: F.sigmoid(z) * (1 - F.sigmoid(z))) == []
    assert forbidden.violations("9.9", perceptron_predict) == []  # no entry: nothing refused


def test_a_correct_answer_is_not_refused(capsys):
    check("1.1", lambda X, w, b: (X @ w + b > 0).astype(int))
    assert capsys.readouterr().out.startswith("\u2714 Exercise 1.1")


def test_the_grader_finds_the_same_calls_in_a_cells_source():
    context = "import numpy as np\nfrom nnlib import functional as F\nimport nnlib.perceptron as P\n"
    assert forbidden.violations_in_source(
        "2.2", "def sigmoid_prime(z):\n    return F.sigmoid_backward(1.0, F.sigmoid(z))", context) == \
        ["nnlib.functional.sigmoid_backward"]
    assert forbidden.violations_in_source(
        "1.1", "def perceptron_predict(X, w, b):\n    return P.predict(X, w, b)", context) == \
        ["nnlib.perceptron.predict"]
    assert forbidden.violations_in_source(
        "3.1", "from nnlib.functional.dense import dense_forward as d\ndef f(x, W, b):\n    return d(x, W, b)[0]") \
        == ["nnlib.functional.dense_forward"]
    assert forbidden.violations_in_source(
        "1.1", "def perceptron_predict(X, w, b):\n    return (X @ w + b > 0).astype(int)", context) == []
    assert forbidden.violations_in_source("1.1", "def broken(:\n", context) == []
    assert forbidden.message("1.1", ["nnlib.perceptron.predict"], "perceptron_predict") == (
        "your perceptron_predict calls nnlib.perceptron.predict: " + WRITE_IT)
