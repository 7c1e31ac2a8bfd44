"""The chapter 1 checks discriminate: stubs raise through, solutions pass, slips fail precisely.

Each wrong implementation below is a mistake a learner plausibly makes; the
test asserts the check fails *and* that its message names the input and
points at the slip.
"""
import numpy as np
import pytest

from nncourse.checks import CheckFailed, check



# ----------------------------------------------------------------- correct answers
def predict_ok(X, w, b):
    return (X @ w + b > 0).astype(int)


def margin_ok(w, b, x, y, lr, margin):
    s = 2 * y - 1
    if s * (x @ w + b) <= margin:
        return w + lr * s * x, b + lr * s
    return w.copy(), b


def make_train(update=margin_ok, stop="no update", w0=0.0, count_last=True):
    """A training loop; the keywords plant one slip each."""
    def train(X, y, lr=1.0, margin=0.0, max_epochs=100):
        w, b = np.full(X.shape[1], w0), 0.0
        for epoch in range(1, max_epochs + 1):
            w_start, b_start, moved, mistaken = w, b, False, False
            for x_n, y_n in zip(X, y):
                mistaken = mistaken or int(x_n @ w + b > 0) != y_n
                w_new, b_new = update(w, b, x_n, y_n, lr, margin)
                moved = moved or not (np.array_equal(w_new, w) and b_new == b)
                w, b = w_new, b_new
            done = {"no update": not moved, "no mistake": not mistaken, "never": False,
                    "same ends": np.array_equal(w, w_start) and b == b_start}[stop]
            if done:
                return w, b, epoch if count_last else epoch - 1
        return w, b, max_epochs
    return train


def majority_ok():
    return np.ones(3), -1.5


@pytest.mark.parametrize("exercise_id, answer", [
    ("1.1", predict_ok), ("1.2", margin_ok), ("1.3", make_train()), ("1.4", majority_ok),
    ("1.4", lambda: ([2, 2, 2], -3)),  # plain lists and ints are fine too
    ("1.4", lambda: (np.array([1.0, 1.0, 1.0]), -1.1)),  # any b strictly between -2 and -1
])
def test_a_correct_answer_passes(exercise_id, answer, capsys):
    assert check(exercise_id, answer) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


# ----------------------------------------------------------------- wrong answers
WRONG_PREDICT = [
    (lambda X, w, b: (X @ w + b >= 0).astype(int), "step(0) is 0: use z > 0, not z >= 0"),
    (lambda X, w, b: X @ w + b, "expected 0/1 integers, got dtype float64"),
    (lambda X, w, b: np.where(X @ w + b > 0, 1, -1), "labels must be 0 or 1"),
    (lambda X, w, b: X @ w + b > 0, "got dtype bool; convert with .astype(int)"),
    (lambda X, w, b: None, "returned None"),
    (lambda X, w, b: (w @ X + b > 0).astype(int), "your function raised ValueError"),
    # the lecture's two-input neuron, used for three features
    (lambda X, w, b: (X[:, 0] * w[0] + X[:, 1] * w[1] + b > 0).astype(int),
     "for x=[0.3, 0.8, 0.3], w=[ 0.5, -1. ,  2. ], b=0.1 (z = 0.05) the output should be 1, yours is 0. "
     "Your sum stops after two features"),
]


@pytest.mark.parametrize("wrong, message", WRONG_PREDICT)
def test_wrong_predict_fails_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 1.1 \\(perceptron_predict\\): ") as failure:
        check("1.1", wrong)
    assert message in str(failure.value)


def margin_in_place(w, b, x, y, lr, margin):
    s = 2 * y - 1
    if s * (x @ w + b) <= margin:
        w += lr * s * x
        return w, b + lr * s
    return w, b


def classic_rule(w, b, x, y, lr, margin):
    error = y - int(x @ w + b > 0)
    return w + lr * error * x, b + lr * error


WRONG_MARGIN = [
    (classic_rule, "for w=[1., 1.], b=-0.5, x=[1., 0.], y=1, lr=1, margin=1 (s (x . w + b) = 0.5, "
                   "so it should move)"),
    (classic_rule, "it must still move (the classic rule only moves on mistakes)"),
    (lambda w, b, x, y, lr, m: margin_ok(w, b, x, y, lr, m) if (2 * y - 1) * (x @ w + b) != m
     else (w.copy(), b), "(<=, not <)"),  # strict inequality
    (lambda w, b, x, y, lr, m: (w + lr * y * x, b + lr * y) if (2 * y - 1) * (x @ w + b) <= m
     else (w.copy(), b), "For y = 0 the sign is s = 2y - 1 = -1"),  # y as the direction
    (lambda w, b, x, y, lr, m: (w - lr * (2 * y - 1) * x, b - lr * (2 * y - 1))
     if (2 * y - 1) * (x @ w + b) <= m else (w.copy(), b), "wrong sign"),
    (lambda w, b, x, y, lr, m: (w + (2 * y - 1) * x, b + (2 * y - 1))
     if (2 * y - 1) * (x @ w + b) <= m else (w.copy(), b), "forget to multiply by lr"),
    (lambda w, b, x, y, lr, m: (w + lr * (2 * y - 1) * x, b + lr * (2 * y - 1)),  # always moves
     "s (x . w + b) = 1.5 > margin 0: the sample is safely on its side, so nothing changes"),
    (margin_in_place, "changed the w it was given (in place)"),
    (lambda w, b, x, y, lr, m: w, "expected 2 values (a tuple)"),
]


@pytest.mark.parametrize("wrong, message", WRONG_MARGIN)
def test_wrong_margin_update_fails_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 1.2 \\(margin_update\\): ") as failure:
        check("1.2", wrong)
    assert message in str(failure.value)


WRONG_TRAIN = [
    (make_train(stop="never"), "on AND (lr=1, margin=0, max_epochs=100): 9 epochs (epoch 9 is the "
                               "first in which nothing moves); yours says 100. Stop after the first"),
    (make_train(count_last=False), "yours says 8. Either you stopped after an epoch without "
                                   "mistakes (a right answer within the margin still moves w"),
    (make_train(count_last=False), "or you did not count the last epoch"),
    (make_train(stop="no mistake"), "on AND (lr=1, margin=0, max_epochs=100): 9 epochs"),
    (make_train(stop="no mistake"), "Either you stopped after an epoch without mistakes"),
    (make_train(stop="same ends"), "on XOR (lr=1, margin=0, max_epochs=7): 7 epochs (it never settles"),
    (make_train(stop="same ends"), "don't compare the epoch's start and end"),
    (make_train(w0=1.0), "on AND (lr=1, margin=0, max_epochs=100)"),
    (make_train(update=lambda w, b, x, y, lr, m: margin_ok(w, b, x, y, 1.0, m)),
     "on 5 points (lr=0.5, margin=0.5, max_epochs=50): start from w = 0, b = 0"),
    (lambda X, y, lr=1.0, margin=0.0, max_epochs=100: make_train()(X, y, lr, margin, max_epochs)[:2],
     "expected 3 values"),
]


@pytest.mark.parametrize("wrong, message", WRONG_TRAIN)
def test_wrong_training_fails_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 1.3 \\(train_margin\\): ") as failure:
        check("1.3", wrong)
    assert message in str(failure.value)


WRONG_MAJORITY = [
    (lambda: (np.ones(3), -0.5), "computes OR (at least one on); majority needs at least two on: "
                                 "lower the bias"),
    (lambda: (np.ones(3), -2.5), "computes AND (all three on)"),
    (lambda: (np.array([1.0, 1.0, 0.5]), -1.5),
     "for x=[0., 1., 1.] the majority is 1 but your perceptron outputs 0 (z = 0)"),
    (lambda: (np.array([2.0, 1.0, 1.0]), -1.5),
     "for x=[1., 0., 0.] the majority is 0 but your perceptron outputs 1 (z = 0.5)"),
    (lambda: (np.array([1.0, 1.0]), -1.5), "w should be an array of 3 weights"),
    (lambda: (np.ones(3), None), "b: your function returned None"),
    (lambda: None, "returned None"),
]


@pytest.mark.parametrize("wrong, message", WRONG_MAJORITY)
def test_wrong_majority_weights_fail_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 1.4 \\(majority_weights\\): ") as failure:
        check("1.4", wrong)
    assert message in str(failure.value)
