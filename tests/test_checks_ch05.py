"""The chapter 5 checks discriminate: stubs raise through, solutions pass, slips fail precisely."""
import math

import numpy as np
import pytest

from nnlib import Dense
from nnlib.optim import SGD
from nncourse.checks import check, registry
from nncourse.checks.ch05 import schedule

from check_helpers import fails_with


# ----------------------------------------------------------------- correct answers
def lr_schedule_ok(step, total_steps, lr_max, warmup_steps):
    if step < warmup_steps:
        return lr_max * (step + 1) / warmup_steps
    t = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_max * 0.5 * (1 + math.cos(math.pi * t))


def make_sgd(bug=None):
    def sgd_step(params, grads, velocities, lr, momentum, weight_decay):
        for p, g, v in zip(params, grads, velocities):
            wd = weight_decay if (p.ndim > 1 or bug == "decay biases") else 0.0
            if bug == "no decay":
                wd = 0.0
            v *= momentum
            if bug == "decay outside":
                v -= lr * g
                p += v - lr * wd * p
                continue
            v -= lr * (g - wd * p if bug == "decay sign" else g + wd * p)
            p += v
    return sgd_step


def accuracy_ok(y_true, y_pred):
    return float(np.mean(y_true == y_pred))


def make_precision_recall(swap=False, nan=False, percent=False):
    def precision_recall(y_true, y_pred, n_classes):
        hits = np.array([np.sum((y_true == c) & (y_pred == c)) for c in range(n_classes)], float)
        predicted = np.bincount(y_pred, minlength=n_classes)
        actual = np.bincount(y_true, minlength=n_classes)
        with np.errstate(divide="ignore", invalid="ignore"):
            if nan:
                precision, recall = hits / predicted, hits / actual
            else:
                precision = np.where(predicted > 0, hits / np.maximum(predicted, 1), 0.0)
                recall = np.where(actual > 0, hits / np.maximum(actual, 1), 0.0)
        scale = 100 if percent else 1
        return (recall, precision) if swap else (scale * precision, scale * recall)
    return precision_recall


def make_init(rule=None):
    def init_layer(n_in, n_out, activation, rng):
        relu = activation == "relu"
        if rule == "he everywhere":
            relu = True
        std = math.sqrt(2 / n_in) if relu else math.sqrt(2 / (n_in + n_out))
        if rule == "variance":
            std = std ** 2
        if rule == "fan-out" and relu:
            std = math.sqrt(2 / n_out)
        return rng.normal(0.0, std, size=(n_in, n_out)), np.zeros(n_out)
    return init_layer


CORRECT = [("5.1", lr_schedule_ok), ("5.2", make_sgd()), ("5.3", accuracy_ok),
           ("5.3", lambda t, p: (t == p).mean()), ("5.4", make_precision_recall()),
           ("5.5", make_init())]


def test_every_chapter_5_exercise_is_tested():
    assert {k for k in registry() if k.startswith("5.")} == {e for e, _ in CORRECT}


@pytest.mark.parametrize("exercise_id, answer", CORRECT)
def test_a_correct_answer_passes(exercise_id, answer, capsys):
    assert check(exercise_id, answer) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


# ----------------------------------------------------------------- 5.1
@pytest.mark.parametrize("bug, messages", [
    ("warmup from 0", ("warmup_steps=2", "first wrong: step 0", "use (step + 1) / warmup_steps")),
    ("no warmup", ("should rise linearly",)),
    ("decay from step 0", ("measure t from step - warmup_steps",)),
    ("full period", ("half a period",)),
    ("plain cosine", ("goes negative",)),
])
def test_wrong_schedules_name_the_settings_the_step_and_the_slip(bug, messages):
    fails_with("5.1", lambda s, total, lr, w: schedule(s, total, lr, w, bug), *messages)


def test_a_schedule_must_return_one_number():
    fails_with("5.1", lambda s, total, lr, w: [lr, lr], "expected one learning rate")


# ----------------------------------------------------------------- 5.2
@pytest.mark.parametrize("bug, messages", [
    ("no decay", ("params[0] (weights W)", "were not decayed")),
    ("decay biases", ("params[1] (biases b)", "not biases")),
    ("decay outside", ("inside the velocity",)),
    ("decay sign", ("should shrink the weights",)),
])
def test_wrong_weight_decay_names_the_step_the_parameter_and_the_slip(bug, messages):
    fails_with("5.2", make_sgd(bug), "after step 1 with lr=0.1, momentum=0.9, weight_decay=0.05",
               *messages)


def test_a_step_that_is_not_in_place_is_caught():
    def copies(params, grads, velocities, lr, momentum, weight_decay):
        for p, g, v in zip(params, grads, velocities):
            v = momentum * v - lr * g
            p = p + v
    fails_with("5.2", copies, "did not change: update them in place")


def test_nnlibs_own_sgd_is_refused():
    def via_nnlib(params, grads, velocities, lr, momentum, weight_decay):
        SGD(lr, momentum=momentum, weight_decay=weight_decay).step(zip(params, grads), backend="numpy")
    fails_with("5.2", via_nnlib, "you called nnlib.optim.Optimizer.step", "Write it yourself")


# ----------------------------------------------------------------- 5.3
@pytest.mark.parametrize("wrong, message", [
    (lambda t, p: int(np.sum(t == p)), "not the count"),
    (lambda t, p: 100 * np.mean(t == p), "not a percentage"),
    (lambda t, p: np.mean(t != p), "error rate"),
])
def test_wrong_accuracy_fails_with_a_specific_message(wrong, message):
    fails_with("5.3", wrong, "for y_true=[0, 1, 2, 1], y_pred=[0, 1, 1, 1]", message)


# ----------------------------------------------------------------- 5.4
@pytest.mark.parametrize("wrong, messages", [
    (make_precision_recall(swap=True), ("the precision", "swapped")),
    (make_precision_recall(nan=True), ("n_classes=4", "is NaN", "Define it as 0")),
    (make_precision_recall(percent=True), ("not percentages",)),
    (lambda t, p, k: float(np.mean(t == p)), ("expected 2 values",)),
])
def test_wrong_precision_recall_fails_with_a_specific_message(wrong, messages):
    fails_with("5.4", wrong, *messages)


# ----------------------------------------------------------------- 5.5
@pytest.mark.parametrize("wrong, messages", [
    (make_init("he everywhere"), ("activation='tanh'", "That is the rule for relu")),
    (make_init("variance"), ("n_in=400, n_out=300, activation='relu'", "the variance")),
    (make_init("fan-out"), ("fan-in n_in, not n_out",)),
    (lambda n_in, n_out, a, rng: (np.random.normal(0, math.sqrt(2 / n_in), (n_in, n_out)),
                                  np.zeros(n_out)), ("same seed gave different W",)),
    (lambda n_in, n_out, a, rng: (rng.normal(0, math.sqrt(2 / n_in), (n_out, n_in)), np.zeros(n_out)),
     ("(transposed)",)),
])
def test_wrong_init_fails_with_a_specific_message(wrong, messages):
    fails_with("5.5", wrong, *messages)


def test_nnlibs_own_dense_initialisation_is_refused():
    def via_dense(n_in, n_out, activation, rng):
        layer = Dense(n_in, n_out, init="he", seed=0)
        return layer.W, layer.b
    fails_with("5.5", via_dense, "you called nnlib.layers.dense.Dense.reset", "Write it yourself")
