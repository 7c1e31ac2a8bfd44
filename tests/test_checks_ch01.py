"""The chapter 1 checks discriminate: stubs raise through, solutions pass, slips fail precisely.

Each wrong implementation below is a mistake a learner plausibly makes; the
test asserts the check fails *and* that its message points at the slip.
"""
import numpy as np
import pytest

from nncourse.checks import CheckFailed, check

from check_helpers import stub


# ----------------------------------------------------------------- correct answers
def predict_ok(X, w, b):
    return (X @ w + b > 0).astype(int)


def update_ok(w, b, x, y, lr):
    error = y - int(x @ w + b > 0)
    return w + lr * error * x, b + lr * error


def make_train(predict=predict_ok, update=update_ok, stop_early=True, w0=0.0):
    def train(X, y, lr=1.0, epochs=20):
        w, b, mistakes = np.full(X.shape[1], w0), 0.0, []
        for _ in range(epochs):
            count = 0
            for x_i, y_i in zip(X, y):
                count += int(predict(x_i[None, :], w, b)[0] != y_i)
                w, b = update(w, b, x_i, y_i, lr)
            mistakes.append(count)
            if stop_early and count == 0:
                break
        return w, b, mistakes
    return train


def nand_ok():
    return np.array([-1.0, -1.0]), 1.5


@pytest.mark.parametrize("exercise_id", ["1.1", "1.2", "1.3", "1.4"])
def test_a_stub_raises_its_own_not_implemented_error(exercise_id):
    with pytest.raises(NotImplementedError, match=rf"^Exercise {exercise_id}: write this"):
        check(exercise_id, stub(exercise_id))


@pytest.mark.parametrize("exercise_id, answer", [
    ("1.1", predict_ok), ("1.2", update_ok), ("1.3", make_train()), ("1.4", nand_ok),
    ("1.4", lambda: ([-2, -2], 3)),  # plain lists and ints are fine too
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
    (lambda X, w, b: (X[:, :2] @ w[:2] + b > 0).astype(int), "for x=[0.3, 0.8, 0.3], w=[ 0.5, -1. ,  2. ], b=0.1 (z = 0.05) the output should be 1, yours is 0"),
]


@pytest.mark.parametrize("wrong, message", WRONG_PREDICT)
def test_wrong_predict_fails_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 1.1 \\(perceptron_predict\\): ") as failure:
        check("1.1", wrong)
    assert message in str(failure.value)


def update_in_place(w, b, x, y, lr):
    error = y - int(x @ w + b > 0)
    w += lr * error * x
    return w, b + lr * error


WRONG_UPDATE = [
    (lambda w, b, x, y, lr: (w - lr * (y - int(x @ w + b > 0)) * x, b - lr * (y - int(x @ w + b > 0))),
     "wrong sign"),
    (lambda w, b, x, y, lr: (w + lr * (y - int(x @ w + b > 0)) * x, b), "b did not change"),
    (lambda w, b, x, y, lr: (w + (y - int(x @ w + b > 0)) * x, b + (y - int(x @ w + b > 0))),
     "forget to multiply by lr"),
    (lambda w, b, x, y, lr: (w + lr * y * x, b + lr * y), "The prediction is wrong, so w and b must move"),
    (lambda w, b, x, y, lr: (w + lr * (y - int(x @ w + b >= 0)) * x, b + lr * (y - int(x @ w + b >= 0))),
     "for w=[ 0.5, -0.5], b=0, x=[1., 1.], y=1, lr=1: the perceptron predicts 0"),
    (update_in_place, "changed the w it was given (in place)"),
    (lambda w, b, x, y, lr: w + lr * (y - int(x @ w + b > 0)) * x, "expected 2 values (a tuple)"),
]


@pytest.mark.parametrize("wrong, message", WRONG_UPDATE)
def test_wrong_update_fails_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 1.2 \\(perceptron_update\\): ") as failure:
        check("1.2", wrong)
    assert message in str(failure.value)


def update_after_counting_wrong(w, b, x, y, lr):
    return update_ok(w, b, x, 1 - y, lr)  # labels flipped: learns the opposite gate


WRONG_TRAIN = [
    (make_train(stop_early=False), "training should stop after epoch 6, the first with no mistakes"),
    (make_train(w0=1.0), "on AND (lr=1, epochs=20) the mistakes per epoch should be [1, 3, 3, 2, 1, 0]"),
    (make_train(update=update_after_counting_wrong), "the mistakes per epoch should be"),
    (make_train(update=lambda w, b, x, y, lr: update_ok(w, b, x, y, 1.0)),
     "on 5 points (lr=0.5): start from w = 0, b = 0"),
    (lambda X, y, lr=1.0, epochs=20: make_train()(X, y, lr, epochs)[:2], "expected 3 values"),
    (lambda X, y, lr=1.0, epochs=20: make_train()(X, y, lr, epochs=5), "should be [1, 3, 3, 2, 1, 0]"),
]


@pytest.mark.parametrize("wrong, message", WRONG_TRAIN)
def test_wrong_training_fails_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 1.3 \\(train_perceptron\\): ") as failure:
        check("1.3", wrong)
    assert message in str(failure.value)


WRONG_NAND = [
    (lambda: (np.array([1.0, 1.0]), -1.5), "computes AND; NAND is NOT AND"),
    (lambda: (np.array([1.0, 1.0]), -0.5), "for x=[0., 0.] NAND is 1 but your perceptron outputs 0"),
    (lambda: (np.array([-1.0, -1.0]), 0.5), "for x=[0., 1.] NAND is 1 but your perceptron outputs 0"),
    (lambda: (np.array([-1.0, -1.0, 0.0]), 1.5), "w should be an array of 2 weights"),
    (lambda: (np.array([-1.0, -1.0]), None), "b: your function returned None"),
    (lambda: None, "returned None"),
]


@pytest.mark.parametrize("wrong, message", WRONG_NAND)
def test_wrong_nand_weights_fail_with_a_specific_message(wrong, message):
    with pytest.raises(CheckFailed, match="^Exercise 1.4 \\(nand_weights\\): ") as failure:
        check("1.4", wrong)
    assert message in str(failure.value)
