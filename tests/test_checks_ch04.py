"""The chapter 4 checks discriminate: stubs raise through, solutions pass, slips fail precisely.

For gradients the message must name *which* gradient is wrong and give its
relative error against finite differences; a recognised slip adds its advice.
An answer that calls nnlib's own implementation of the exercise fails with
"write it yourself".
"""
import re

import numpy as np
import pytest

from nnlib import functional as F
from nncourse.checks import check
from nncourse.checks.ch04 import reference_mlp

from check_helpers import fails_with


# ----------------------------------------------------------------- correct answers
def relu_backward_ok(dout, cache):
    return dout * (cache > 0)


def make_ce_backward(shift=True, rowsum=True, divide=True, sign=1.0, subtract=True):
    def softmax_ce_backward(logits, T):
        s = logits - logits.max(axis=1, keepdims=True) if shift else logits
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        scale = T.sum(axis=1, keepdims=True) if rowsum else 1.0
        d = p * scale - (T if subtract else 0.0)
        return sign * d / (len(logits) if divide else 1)
    return softmax_ce_backward


def make_mlp(bug=None):
    def mlp_backward(params, x, y, activation):
        return reference_mlp(params, x, y, activation, bug)
    return mlp_backward


def two_layers_only(params, x, y, activation):
    """A backward pass written for exactly one hidden layer (the lecture's network)."""
    fwd, bwd = {"tanh": (F.tanh_forward, F.tanh_backward), "relu": (F.relu_forward, F.relu_backward),
                "sigmoid": (F.sigmoid_forward, F.sigmoid_backward)}[activation]
    z1, c1 = F.dense_forward(x, params["W1"], params["b1"])
    a1, ca = fwd(z1)
    z2, c2 = F.dense_forward(a1, params["W2"], params["b2"])
    loss, dz2 = F.softmax_cross_entropy(z2, y)
    da1, dW2, db2 = F.dense_backward(dz2, c2)
    _, dW1, db1 = F.dense_backward(bwd(da1, ca), c1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def mlp_flops_ok(sizes, batch):
    layers = list(zip(sizes[:-1], sizes[1:]))
    forward = sum(2 * batch * a * b for a, b in layers)
    return forward, 2 * forward - 2 * batch * layers[0][0] * layers[0][1]


CORRECT = {"4.1": relu_backward_ok, "4.3": make_ce_backward(), "4.4": make_mlp(),
           "4.5": mlp_flops_ok}


def test_every_chapter_4_exercise_is_tested():
    from nncourse.checks import registry
    assert {k for k in registry() if k.startswith("4.")} == set(CORRECT)


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_a_correct_answer_passes(exercise_id, capsys):
    assert check(exercise_id, CORRECT[exercise_id]) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


# ----------------------------------------------------------------- nnlib's own implementation
@pytest.mark.parametrize("exercise_id, answer, name", [
    ("4.1", F.relu_backward, "nnlib.functional.activations.relu_backward"),
    ("4.1", lambda dout, z: F.relu_backward(dout, z), "relu_backward"),
    ("4.3", lambda logits, T: F.softmax_cross_entropy(logits, T.argmax(axis=1))[1],
     "softmax_cross_entropy"),
])
def test_calling_nnlibs_own_implementation_fails_with_write_it_yourself(exercise_id, answer, name):
    fails_with(exercise_id, answer, "you called", name, "Write it yourself")


def test_the_mlp_may_use_nnlibs_pairs_for_what_earlier_chapters_taught(capsys):
    check("4.4", make_mlp())  # reference_mlp calls F.dense_backward, F.relu_backward, ...
    assert "passed" in capsys.readouterr().out


def test_the_mlp_may_not_call_a_whole_model_backward():
    import nnlib

    def via_sequential(params, x, y, activation):
        model = nnlib.Sequential([nnlib.Dense(3, 3)], backend="numpy")
        model.forward(x)
        model.backward(np.zeros((len(x), 3)))
        return make_mlp()(params, x, y, activation)

    fails_with("4.4", via_sequential, "you called nnlib.model.Sequential.backward", "Write it yourself")


# ----------------------------------------------------------------- 4.1
@pytest.mark.parametrize("wrong, message", [
    (lambda dout, z: dout * (z >= 0), "use z > 0, not z >= 0"),
    (lambda dout, z: (z > 0).astype(float), "Multiply by dout"),
    (lambda dout, z: dout * z, "not z itself"),
    (lambda dout, z: dout * np.maximum(z, 0), "You multiplied by relu(z)"),
    (lambda dout, z: dout * (dout > 0), "not by the sign of dout"),
    (lambda dout, z: None, "returned None"),
])
def test_wrong_relu_backward_names_the_input_and_the_mistake(wrong, message):
    text = fails_with("4.1", wrong, message)
    assert "for z = " in text or "for z of shape" in text


def test_relu_backward_changing_dout_in_place_is_caught():
    def in_place(dout, z):
        dout[z <= 0] = 0.0
        return dout
    fails_with("4.1", in_place, "changed dout in place", "feeds two paths")


# ----------------------------------------------------------------- 4.3
@pytest.mark.parametrize("wrong, messages", [
    (make_ce_backward(rowsum=False), ("weighted targets", "dlogits is wrong (relative error",
                                      "right only when every row of T sums to 1")),
    (make_ce_backward(divide=False), ("one-hot targets", "N times too large")),
    (make_ce_backward(sign=-1.0), ("The sign is flipped",)),
    (make_ce_backward(subtract=False), ("Subtract the targets",)),
    (make_ce_backward(shift=False), ("near 1000", "np.exp overflowed", "max-shift")),
    (lambda logits, T: (0.0, make_ce_backward()(logits, T)), ("return only dlogits",)),
])
def test_wrong_softmax_ce_backward_fails_with_a_specific_message(wrong, messages):
    fails_with("4.3", wrong, *messages)


def test_the_memorised_formula_passes_one_hot_targets_but_not_weighted_ones():
    text = fails_with("4.3", make_ce_backward(rowsum=False), "row sums 1, 3, 0.5, 2")
    assert "one-hot targets," not in text.split(":")[1]  # it got past the one-hot cases


# ----------------------------------------------------------------- 4.4
@pytest.mark.parametrize("bug, messages", [
    ("no derivative", ("dW1 is wrong (relative error", "miss the activation's derivative")),
    ("db mean", ("db1 is wrong", "not the mean")),
    ("no 1/N", ("N times too large",)),
    ("activation on output", ("the loss", "The output layer has no activation")),
    ("always tanh", ("activation='relu'", "pick the forward/backward pair")),
])
def test_wrong_mlp_backward_names_the_case_the_gradient_and_the_slip(bug, messages):
    fails_with("4.4", make_mlp(bug), "for 1 hidden layer", *messages)


def test_a_backward_pass_for_one_hidden_layer_only_is_told_to_loop():
    text = fails_with("4.4", two_layers_only, "for 2 hidden layers",
                      "passed for 1 hidden layer but not for 2")
    assert "loop over" in text


def test_the_mlp_check_names_only_the_wrong_gradients():
    def wrong_w2(params, x, y, activation):
        loss, grads = reference_mlp(params, x, y, activation)
        grads["W2"] = 2 * grads["W2"]
        return loss, grads
    text = fails_with("4.4", wrong_w2, "dW2 is wrong (relative error", "dW1, db1, db2 are right")
    assert float(re.search(r"relative error ([0-9.e+-]+)", text).group(1)) > 0.1


def test_the_mlp_must_not_update_params_or_drop_keys():
    def updates(params, x, y, activation):
        loss, grads = reference_mlp(params, x, y, activation)
        params["W1"] -= 0.1 * grads["W1"]
        return loss, grads
    fails_with("4.4", updates, "changed params")
    fails_with("4.4", lambda p, x, y, a: (reference_mlp(p, x, y, a)[0], {"W1": 0}),
               "grads should be a dict with the keys of params")


# ----------------------------------------------------------------- 4.5
def make_flops(half=False, first_dx=False, one_product=False):
    def mlp_flops(sizes, batch):
        per = 1 if half else 2
        layers = list(zip(sizes[:-1], sizes[1:]))
        forward = sum(per * batch * a * b for a, b in layers)
        backward = forward
        if not one_product:
            backward += sum(per * batch * a * b for i, (a, b) in enumerate(layers) if i or first_dx)
        return forward, backward
    return mlp_flops


@pytest.mark.parametrize("wrong, messages", [
    (make_flops(half=True), ("for sizes=[4, 3] and batch=1, the forward FLOPs", "2 FLOPs")),
    (make_flops(first_dx=True), ("the backward FLOPs", "first layer's dx is never needed")),
    (make_flops(one_product=True), ("two products backward",)),
    (lambda sizes, batch: 2 * batch * sizes[0] * sizes[1], ("expected 2 values",)),
])
def test_wrong_flop_counts_fail_with_a_specific_message(wrong, messages):
    fails_with("4.5", wrong, *messages)
