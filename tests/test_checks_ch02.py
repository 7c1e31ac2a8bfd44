"""The chapter 2 checks discriminate: stubs raise through, solutions pass, slips fail precisely.

Each wrong answer is a mistake a learner plausibly makes; the test asserts
the check fails with a message that names the input and the likely slip.
"""
import warnings

import numpy as np
import pytest

from nncourse.checks import CheckFailed, check
from nnlib.functional import sigmoid
from nnlib.gradcheck import numerical_gradient, rel_error

from nncourse.checks.ch02 import reference_gradients


# ----------------------------------------------------------------- correct answers
def sigmoid_ok(z):
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_loss_from_logits_ok(z, y):
    return float(np.mean(np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z))) - y * z))


def log_loss_logaddexp(z, y):  # another stable formula
    return np.mean(np.logaddexp(0.0, z) - y * z)


def sigmoid_prime_ok(z):
    a = sigmoid(z)
    return a * (1.0 - a)


def gradients_with(delta_quadratic, delta_log):
    """cost_gradients built from two per-sample dl/dz formulas (to plant slips)."""
    def cost_gradients(w, b, X, y):
        p = sigmoid(X @ w + b)  # (N,)
        out = []
        for delta in (delta_quadratic(p, y), delta_log(p, y)):
            out += [X.T @ delta / len(y), float(np.mean(delta))]
        return tuple(out)
    return cost_gradients


QUADRATIC = lambda p, y: (p - y) * p * (1 - p)  # noqa: E731
LOG = lambda p, y: p - y  # noqa: E731
cost_gradients_ok = gradients_with(QUADRATIC, LOG)


def one_of_three_ok():
    return np.full((3, 2), 20.0), np.array([-10.0, -30.0]), np.array([20.0, -20.0]), -10.0


def one_of_three_three_units():  # "x1 only" or "x2 only" or "x3 only", ORed
    W = 20.0 * (2 * np.eye(3) - 1)  # (3, 3): +20 for its own input, -20 for the others
    return W, np.full(3, -10.0), np.full(3, 20.0), -10.0


@pytest.mark.parametrize("exercise_id, answer", [
    ("2.1", sigmoid_ok), ("2.3", log_loss_from_logits_ok), ("2.3", log_loss_logaddexp),
    ("2.2", sigmoid_prime_ok), ("2.4", cost_gradients_ok), ("2.5", one_of_three_ok), ("2.5", one_of_three_three_units),
])
def test_a_correct_answer_passes(exercise_id, answer, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and without a single warning
        assert check(exercise_id, answer) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


def test_the_gradient_reference_agrees_with_finite_differences():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 2, size=7)
    theta = np.array([0.3, -0.1, 0.2, 0.5])
    p = lambda: sigmoid(X @ theta[:3] + theta[3])  # noqa: E731
    quadratic = numerical_gradient(lambda: 0.5 * np.mean((p() - y) ** 2), theta)
    log = numerical_gradient(lambda: -np.mean(y * np.log(p()) + (1 - y) * np.log(1 - p())), theta)
    dwq, dbq, dwl, dbl = reference_gradients(theta[:3], theta[3], X, y)
    assert rel_error(np.r_[dwq, dbq], quadratic) < 1e-7 and rel_error(np.r_[dwl, dbl], log) < 1e-7


# ----------------------------------------------------------------- wrong answers
def clipped(z, y):
    p = np.clip(sigmoid(z), 1e-12, 1 - 1e-12)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


WRONG_LOGITS = [
    (clipped, "for z = [ 1000., -1000.,    30.,   -40.], y = [0, 0, 1, 1] the loss: expected 260, "
              "got 13.8155. That is the loss of the clipped p"),
    (lambda z, y: np.mean(np.log(1 + np.exp(z)) - y * z), "np.exp overflowed"),
    (lambda z, y: np.mean(np.log(1 + np.exp(z)) - y * z), "for z = [ 1000., -1000.,    30.,   -40.]"),
    (lambda z, y: np.sum(np.logaddexp(0.0, z) - y * z), "Yours is 4 times too big"),
    (lambda z, y: np.mean(y * z - np.logaddexp(0.0, z)), "wrong sign"),
    (lambda z, y: np.mean(np.logaddexp(0.0, z)), "You left out the - y z term"),
    (lambda z, y: np.mean(np.logaddexp(0.0, -z) - y * z), "Check the signs"),
    (lambda z, y: np.logaddexp(0.0, z) - y * z, "one loss per sample; return their mean"),
]


@pytest.mark.parametrize("wrong, message", WRONG_LOGITS)
def test_wrong_log_loss_from_logits_fails_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 2.3 \\(log_loss_from_logits\\): ") as failure:
        check("2.3", wrong)
    assert message in str(failure.value)


WRONG_SIGMOID = [
    (lambda z: 1 / (1 + np.exp(-z)), "np.exp overflowed"),
    (lambda z: 1 / (1 + np.exp(-z)), "your function raised FloatingPointError: overflow encountered in exp"),
    (lambda z: 1 - 1 / (1 + np.exp(-np.clip(z, -500, 500))), "you return sigma(-z)"),
    (lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)), "that is the lecture's stable form"),
    (lambda z: np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))), "sigmoid(z) for z = [-6., -4., -2.,  0.,  2.,  4.,  6.]"),
]


@pytest.mark.parametrize("wrong, message", WRONG_SIGMOID)
def test_wrong_sigmoid_fails_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 2.1 \\(stable sigmoid\\): ") as failure:
        check("2.1", wrong)
    assert message in str(failure.value)


WRONG_PRIME = [
    (lambda z: z * (1 - z), "You computed z (1 - z)"),
    (sigmoid, "You returned sigma(z) itself"),
    (lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2, "np.exp overflowed"),
]


@pytest.mark.parametrize("wrong, message", WRONG_PRIME)
def test_wrong_sigmoid_prime_fails_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 2.2 \\(sigmoid_prime\\): ") as failure:
        check("2.2", wrong)
    assert message in str(failure.value)


def swapped(w, b, X, y):
    dwq, dbq, dwl, dbl = cost_gradients_ok(w, b, X, y)
    return dwl, dbl, dwq, dbq


def summed(w, b, X, y):
    return tuple(g * len(y) for g in cost_gradients_ok(w, b, X, y))


WRONG_GRADIENTS = [
    (gradients_with(LOG, LOG), "for w = [ 0.5, -0.3], b = 0.1 on 6 sample(s)"),
    (gradients_with(LOG, LOG), "dw of the quadratic cost: expected"),
    (gradients_with(LOG, LOG), "sigma'(z) = p (1 - p) does not cancel"),
    (gradients_with(QUADRATIC, QUADRATIC), "dw of the log-loss: expected"),
    (gradients_with(QUADRATIC, QUADRATIC), "For the log-loss sigma'(z) cancels"),
    (swapped, "the order is quadratic, then log"),
    (summed, "Yours are N = 6 times too big"),
    (gradients_with(lambda p, y: -(p - y) * p * (1 - p), lambda p, y: y - p), "wrong sign"),
    (gradients_with(lambda p, y: 2 * (p - y) * p * (1 - p), LOG), "twice too big"),
    (lambda w, b, X, y: cost_gradients_ok(w, b, X, y)[:2], "expected 4 values"),
]


@pytest.mark.parametrize("wrong, message", WRONG_GRADIENTS)
def test_wrong_cost_gradients_fail_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 2.4 \\(cost_gradients\\): ") as failure:
        check("2.4", wrong)
    assert message in str(failure.value)


WRONG_NETWORK = [
    # parity: at least one, minus at least two, plus at least three
    (lambda: (np.full((3, 3), 20.0), np.array([-10.0, -30.0, -50.0]), np.array([20.0, -20.0, 20.0]), -10.0),
     "for x = [1., 1., 1.] (3 on) the answer is 0"),
    (lambda: (np.full((3, 3), 20.0), np.array([-10.0, -30.0, -50.0]), np.array([20.0, -20.0, 20.0]), -10.0),
     "an odd number on"),
    (lambda: (np.full((3, 1), 20.0), np.array([-10.0]), np.array([20.0]), -10.0),
     "Your network computes 'at least one on'"),
    (lambda: (np.full((3, 2), 20.0), np.array([10.0, -30.0]), np.array([20.0, -20.0]), -10.0),
     "Your network computes 'at most one on'"),
    (lambda: (np.full((3, 2), 2.0), np.array([-1.0, -3.0]), np.array([2.0, -2.0]), -1.0),
     "Right side, but not confident"),
    (lambda: (np.full((2, 3), 20.0), np.array([-10.0, -30.0]), np.array([20.0, -20.0]), -10.0),
     "W should have shape (3, k)"),
    (lambda: (np.full((3, 2), 20.0), np.array([-10.0, -30.0, 0.0]), np.array([20.0, -20.0]), -10.0),
     "b should have shape (2,)"),
    (lambda: (np.full((3, 2), 20.0), np.array([-10.0, -30.0]), np.array([20.0, -20.0]), [1.0, 2.0]),
     "c should be one number"),
]


@pytest.mark.parametrize("wrong, message", WRONG_NETWORK)
def test_wrong_networks_fail_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 2.5 \\(one_of_three_network\\): ") as failure:
        check("2.5", wrong)
    assert message in str(failure.value)
