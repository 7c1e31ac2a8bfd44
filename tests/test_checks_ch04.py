"""The chapter 4 checks discriminate: stubs raise through, solutions pass, slips fail precisely.

For the backward passes the message must name *which* gradient is wrong
(dx, dW or db) and give its relative error against finite differences.
"""
import re

import numpy as np
import pytest

from nnlib import functional as F
from nncourse.checks import check

from check_helpers import stub, fails_with
from nnlib.gradcheck import numerical_gradient, rel_error


# ----------------------------------------------------------------- correct answers
def sigmoid_backward_ok(dout, cache):
    return dout * cache * (1.0 - cache)


def dense_backward_ok(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def make_softmax_ce(shift=True, mean=True, divide=True, sign=1.0, subtract=True):
    def softmax_cross_entropy(logits, y):
        n = logits.shape[0]
        s = logits - logits.max(axis=1, keepdims=True) if shift else logits
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        logp = np.log(p[np.arange(n), y])
        loss = -logp.mean() if mean else -logp.sum()
        d = p.copy()
        if subtract:
            d[np.arange(n), y] -= 1.0
        return loss, sign * d / (n if divide else 1)
    return softmax_cross_entropy


def make_gradient_errors(copy=False, self_compare=False):
    def gradient_errors(loss_and_grads, params):
        _, grads = loss_and_grads(params)
        errors = {}
        for name in params:
            target = params[name].copy() if copy else params[name]
            numeric = numerical_gradient(lambda: loss_and_grads(params)[0], target)
            errors[name] = rel_error(grads[name], grads[name] if self_compare else numeric)
        return errors
    return gradient_errors


def make_train_step(sign=-1.0, skip=(), return_after=False, use_lr=True, copy=False):
    def train_step(params, x, y, lr):
        p = {k: v.copy() for k, v in params.items()} if copy else params
        z1, c1 = F.dense_forward(x, p["W1"], p["b1"])
        a1, ca = F.tanh_forward(z1)
        z2, c2 = F.dense_forward(a1, p["W2"], p["b2"])
        loss, dz2 = F.softmax_cross_entropy(z2, y)
        da1, dW2, db2 = F.dense_backward(dz2, c2)
        _, dW1, db1 = F.dense_backward(F.tanh_backward(da1, ca), c1)
        for name, grad in (("W1", dW1), ("b1", db1), ("W2", dW2), ("b2", db2)):
            if name not in skip:
                p[name] += sign * (lr if use_lr else 1.0) * grad
        if return_after:
            z = np.tanh(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
            return F.softmax_cross_entropy(z, y)[0]
        return loss
    return train_step


CORRECT = {"4.1": sigmoid_backward_ok, "4.2": dense_backward_ok, "4.3": make_softmax_ce(),
           "4.4": make_gradient_errors(), "4.5": make_train_step()}


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_a_stub_raises_its_own_not_implemented_error(exercise_id):
    with pytest.raises(NotImplementedError, match=rf"^Exercise {exercise_id}: write this"):
        check(exercise_id, stub(exercise_id))


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_a_correct_answer_passes(exercise_id, capsys):
    assert check(exercise_id, CORRECT[exercise_id]) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


def test_the_numpy_reference_passes_its_own_checks(capsys):
    check("4.1", F.sigmoid_backward)  # raises CheckFailed on a wrong answer
    check("4.2", F.dense_backward)
    check("4.3", F.softmax_cross_entropy)
    assert capsys.readouterr().out.count("passed") == 3


# ----------------------------------------------------------------- 4.1
@pytest.mark.parametrize("wrong, message", [
    (lambda dout, a: a * (1 - a), "Multiply by dout"),
    (lambda dout, a: dout * a, "sigma'(z) is a * (1 - a), not a"),
    (lambda dout, a: dout * F.sigmoid(a) * (1 - F.sigmoid(a)), "do not apply sigmoid to it again"),
    (lambda dout, a: dout * (1 - a * a), "tanh's derivative"),
])
def test_wrong_sigmoid_backward_fails_with_its_relative_error(wrong, message):
    text = fails_with("4.1", wrong, "dz is wrong (relative error", "against finite differences", message)
    error = float(re.search(r"dz is wrong \(relative error ([0-9.e+-]+)", text).group(1))
    assert error > 1e-3  # the number is the real relative error, not a placeholder


@pytest.mark.parametrize("wrong, message", [
    (lambda dout, a: None, "dz should be an array of numbers, got None"),
    (lambda dout, a: (dout * a * (1 - a)).sum(axis=0), "dz should have shape (3, 4)"),
])
def test_a_sigmoid_backward_that_is_not_an_array_of_the_right_shape_is_named(wrong, message):
    fails_with("4.1", wrong, message)


# ----------------------------------------------------------------- 4.2
def replace(index, value):
    """dense_backward with return value ``index`` replaced by value(dout, x, W)."""
    def dense_backward(dout, cache):
        x, W = cache
        out = list(dense_backward_ok(dout, cache))
        out[index] = value(dout, x, W)
        return tuple(out)
    return dense_backward


@pytest.mark.parametrize("wrong, wrong_name, right_names, advice", [
    (replace(2, lambda dout, x, W: dout.mean(axis=0)), "db", "dx, dW are right",
     ["db is the sum of dout over the batch, not the mean"]),
    (replace(1, lambda dout, x, W: x.T @ dout / len(x)), "dW", "dx, db are right",
     ["Do not divide by the batch size"]),
    (replace(0, lambda dout, x, W: 2 * dout @ W.T), "dx", "dW, db are right", []),  # no slip known
    (replace(1, lambda dout, x, W: -(x.T @ dout)), "dW", "dx, db are right", []),
])
def test_the_dense_backward_check_names_the_wrong_gradient(wrong, wrong_name, right_names, advice):
    text = fails_with("4.2", wrong, f"{wrong_name} is wrong (relative error", right_names, *advice)
    error = float(re.search(rf"{wrong_name} is wrong \(relative error ([0-9.e+-]+)", text).group(1))
    assert error > 1e-3  # the number is the real relative error, not a placeholder


def test_the_dense_backward_check_reports_every_wrong_gradient_at_once():
    def all_wrong(dout, cache):
        x, W = cache
        return 2 * dout @ W.T, x.T @ dout * 3, dout.mean(axis=0)
    text = fails_with("4.2", all_wrong, "dx is wrong", "dW is wrong", "db is wrong")
    assert "right" not in text


@pytest.mark.parametrize("wrong, message", [
    (replace(1, lambda dout, x, W: dout.T @ x), "dW should have shape (3, 2) (the shape of W), got (2, 3)"),
    (replace(0, lambda dout, x, W: dout @ W), "your function raised ValueError"),
    (lambda dout, cache: dense_backward_ok(dout, cache)[:2], "expected 3 values"),
    (replace(2, lambda dout, x, W: dout.sum(axis=1)), "db should have shape (2,)"),
])
def test_wrong_dense_backward_shapes_are_named(wrong, message):
    fails_with("4.2", wrong, message)


# ----------------------------------------------------------------- 4.3
@pytest.mark.parametrize("wrong, messages", [
    (make_softmax_ce(divide=False), ("dlogits is wrong (relative error", "N times too large")),
    (make_softmax_ce(mean=False), ("the loss", "You summed over the batch")),
    (make_softmax_ce(sign=-1.0), ("The sign is flipped",)),
    (make_softmax_ce(subtract=False), ("Subtract 1 at each row's true class",)),
    (make_softmax_ce(shift=False), ("np.exp overflowed", "max-shift")),
    (lambda logits, y: make_softmax_ce()(logits, y)[0], ("expected 2 values",)),
])
def test_wrong_softmax_cross_entropy_fails_with_a_specific_message(wrong, messages):
    fails_with("4.3", wrong, *messages)


# ----------------------------------------------------------------- 4.4
def test_perturbing_a_copy_is_caught():
    fails_with("4.4", make_gradient_errors(copy=True), "its error should be tiny",
               "not a copy")


def test_comparing_a_gradient_with_itself_is_caught():
    fails_with("4.4", make_gradient_errors(self_compare=True), "its error should be large",
               "b2")


def test_gradient_errors_must_return_one_number_per_parameter():
    fails_with("4.4", lambda f, params: {"W1": 0.0}, "expected a dict with keys")
    fails_with("4.4", lambda f, params: {k: [0.0, 1.0] for k in params}, "expected one relative error")


def test_gradient_errors_must_restore_params():
    def leaves_a_mess(loss_and_grads, params):
        errors = make_gradient_errors()(loss_and_grads, params)
        params["W1"] += 1.0
        return errors
    fails_with("4.4", leaves_a_mess, "left params changed")


# ----------------------------------------------------------------- 4.5
@pytest.mark.parametrize("wrong, messages", [
    (make_train_step(sign=+1.0), ("W1 moved uphill", "b2 moved uphill")),
    (make_train_step(skip=("b1", "b2")), ("b1 did not change", "b2 did not change")),
    (make_train_step(use_lr=False), ("moved by the whole gradient: multiply it by lr",)),
    (make_train_step(copy=True), ("W1 did not change: update it in place",)),
    (make_train_step(return_after=True), ("the loss after the update",)),
])
def test_wrong_train_step_fails_with_a_specific_message(wrong, messages):
    fails_with("4.5", wrong, "in step 1", *messages)
