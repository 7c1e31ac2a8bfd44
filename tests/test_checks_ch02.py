"""The chapter 2 checks discriminate: stubs raise through, solutions pass, slips fail precisely."""
import warnings

import numpy as np
import pytest

from nncourse.checks import CheckFailed, check

from check_helpers import stub
from nncourse.checks.ch02 import network_output, reference_step
from nnlib.gradcheck import numerical_gradient, rel_error


# ----------------------------------------------------------------- correct answers
def sigmoid_ok(z):
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_tanh(z):  # another stable formula
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_prime_ok(z):
    a = sigmoid_ok(z)
    return a * (1.0 - a)


def log_loss_ok(p, y):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def gradient_step_ok(w, b, X, y, lr):
    p = sigmoid_ok(X @ w + b)  # (N,)
    dz = (p - y) / len(y)
    return w - lr * (X.T @ dz), b - lr * dz.sum()


def xor_network_ok():
    W = np.array([[20.0, -20.0], [20.0, -20.0]])  # h1 = OR, h2 = NAND
    return W, np.array([-10.0, 30.0]), np.array([20.0, 20.0]), -30.0  # output = AND


@pytest.mark.parametrize("exercise_id", ["2.1", "2.2", "2.3", "2.4", "2.5"])
def test_a_stub_raises_its_own_not_implemented_error(exercise_id):
    with pytest.raises(NotImplementedError, match=rf"^Exercise {exercise_id}: write this"):
        check(exercise_id, stub(exercise_id))


@pytest.mark.parametrize("exercise_id, answer", [
    ("2.1", sigmoid_ok), ("2.1", sigmoid_tanh), ("2.2", sigmoid_prime_ok), ("2.3", log_loss_ok),
    ("2.4", gradient_step_ok), ("2.5", xor_network_ok),
])
def test_a_correct_answer_passes_without_warnings(exercise_id, answer, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check(exercise_id, answer) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


def test_the_reference_step_is_gradient_descent_on_the_log_loss():
    # The check's reference agrees with centred finite differences of the loss.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 2)), np.array([1, 0, 0, 1, 1])
    w, b, lr = np.array([0.3, -0.7]), 0.2, 1.0
    wb = np.r_[w, b]
    numeric = numerical_gradient(lambda: log_loss_ok(sigmoid_ok(X @ wb[:2] + wb[2]), y), wb)
    w_new, b_new = reference_step(w, b, X, y, lr)
    assert rel_error(np.r_[w - w_new, b - b_new] / lr, numeric) < 1e-7


def test_the_network_output_solves_xor_with_the_known_weights():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    p = network_output(X, *xor_network_ok())
    assert np.all((p > 0.5) == np.array([False, True, True, False]))


# ----------------------------------------------------------------- wrong answers
def naive_where(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


WRONG = [
    ("2.1", lambda z: 1 / (1 + np.exp(-z)), "np.exp overflowed"),
    ("2.1", lambda z: np.exp(z) / (1 + np.exp(z)), "FloatingPointError"),
    ("2.1", naive_where, "np.where evaluates both branches"),
    ("2.1", lambda z: 1 / (1 + np.exp(np.clip(z, -500, 500))), "you return sigma(-z)"),
    ("2.1", lambda z: 1 / (1 + np.exp(-np.clip(z, -500, 500))).ravel(), "expected shape (2, 2), got (4,)"),
    ("2.1", lambda z: None, "returned None"),
    ("2.2", lambda z: z * (1 - z), "You computed z (1 - z)"),
    ("2.2", sigmoid_ok, "You returned sigma(z) itself"),
    ("2.2", lambda z: sigmoid_ok(z) * (1 - sigmoid_ok(z)) * 2, "expected [0.045, 0.105, 0.197, 0.25 , 0.197, 0.105, 0.045]"),
    ("2.2", lambda z: 1 / (1 + np.exp(-z)) * (1 - 1 / (1 + np.exp(-z))), "np.exp overflowed"),
    ("2.3", lambda p, y: -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)), "4 times too big"),
    ("2.3", lambda p, y: np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), "needs a minus sign"),
    ("2.3", lambda p, y: -np.mean(y * np.log(p)), "left out the (1 - y) log(1 - p) term"),
    ("2.3", lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)), "one loss per sample"),
    ("2.3", lambda p, y: -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), "clip p to [1e-12, 1 - 1e-12]"),
    ("2.3", lambda p, y: log_loss_ok(np.clip(p, 0.01, 0.99), y), "the loss should be large"),
    ("2.4", lambda w, b, X, y, lr: (2 * w - gradient_step_ok(w, b, X, y, lr)[0], b), "You moved uphill"),
    ("2.4", lambda w, b, X, y, lr: gradient_step_ok(w, b, X, y, lr * len(y)), "N = 6 times too big"),
    ("2.4", lambda w, b, X, y, lr: (gradient_step_ok(w, b, X, y, lr)[0], b), "the new b (db = mean of p - y)"),
    ("2.4", lambda w, b, X, y, lr: gradient_step_ok(w, b, X, 1 - y, lr), "the new w"),
    ("2.4", lambda w, b, X, y, lr: gradient_step_ok(w, b, X, y, lr)[0], "expected 2 values"),
    ("2.5", lambda: (np.array([[1.0, -1.0], [1.0, -1.0]]), np.array([-0.5, 1.5]), np.array([1.0, 1.0]), -1.5),
     "Right side, but not confident"),
    ("2.5", lambda: (np.array([[20.0, 20.0], [-20.0, -20.0]]), np.array([-10.0, 30.0]),
                     np.array([20.0, 20.0]), -30.0), "Your W works transposed"),
    ("2.5", lambda: (np.array([20.0, 20.0]), np.array([-10.0, 30.0]), np.array([20.0, 20.0]), -30.0),
     "W should have shape (2, 2) (inputs x hidden units)"),
    ("2.5", lambda: (np.array([[20.0, -20.0], [20.0, -20.0]]), np.array([-10.0, 30.0]), np.array([20.0, 20.0]), -10.0),
     "for x = [0., 0.] XOR is 0, so p must be below 0.1; your network gives p = 1.000"),
    ("2.5", lambda: (np.eye(2), np.zeros(2), np.ones(2)), "expected 4 values"),
]


@pytest.mark.parametrize("exercise_id, wrong, message", WRONG)
def test_a_wrong_answer_fails_with_a_specific_message(exercise_id, wrong, message):
    with pytest.raises(CheckFailed, match=rf"^Exercise {exercise_id} \(") as failure:
        check(exercise_id, wrong)
    assert message in str(failure.value)


def test_the_stability_check_leaves_numpys_error_state_as_it_was():
    before = np.geterr()
    with pytest.raises(CheckFailed):
        check("2.1", lambda z: 1 / (1 + np.exp(-z)))
    assert np.geterr() == before
