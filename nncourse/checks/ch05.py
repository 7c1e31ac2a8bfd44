"""Checks for chapter 5, training in practice (``solutions/05_digits.ipynb``).

5.1 ``lr_schedule(step, total_steps, lr_max, warmup_steps) -> float``: linear
    warm-up, lr_max * (step + 1) / warmup_steps for step < warmup_steps, then
    cosine decay lr_max * (1 + cos(pi * t)) / 2 with t = (step - warmup_steps)
    / (total_steps - warmup_steps) going from 0 towards 1.
5.2 ``sgd_step(params, grads, velocities, lr, momentum, weight_decay)``: for
    each i, v = momentum * v - lr * (g + wd * p), then p = p + v, in place,
    with wd = weight_decay for weights (2-D arrays) and 0 for biases (1-D),
    as nnlib's SGD does.
5.3 ``accuracy(y_true, y_pred) -> float``: the fraction predicted right.
5.4 ``precision_recall(y_true, y_pred, n_classes) -> (precision, recall)``,
    one float per class; 0 for a class never predicted (precision) or absent
    (recall), never NaN.
5.5 ``init_layer(n_in, n_out, activation, rng) -> (W, b)``: W normal with
    standard deviation sqrt(2 / n_in) for "relu" (He) and sqrt(2 / (n_in +
    n_out)) for "tanh" and "sigmoid" (Glorot), b = 0.

References: :class:`nnlib.optim.SGD` (momentum and weight decay), NumPy for the rest.
"""
import math

import numpy as np

from nncourse.checks import CheckFailed, exercise, expect_array, expect_tuple, rng, show
from nncourse.checks._own import call_own
from nncourse.checks.forbidden import FORBIDDEN
from nncourse.checks._slips import expect_array_explained, expect_scalar_explained
from nnlib.optim import SGD


# ------------------------------------------------------------------ 5.1
def schedule(step, total, lr_max, warmup, bug=None):
    """The learning rate of exercise 5.1 at ``step``; ``bug`` plants one classic slip."""
    if step < warmup and bug != "no warmup":
        return lr_max * (step if bug == "warmup from 0" else step + 1) / warmup
    start = 0 if bug in ("decay from step 0", "no warmup") else warmup
    t = (step - start) / max(1, total - start)
    if bug == "full period":
        return lr_max * (1 + math.cos(2 * math.pi * t)) / 2
    if bug == "plain cosine":
        return lr_max * math.cos(math.pi * t)
    return lr_max * (1 + math.cos(math.pi * t)) / 2


SCHEDULE_SLIPS = {
    "warmup from 0": "The first warm-up step has learning rate 0, so it does nothing: use "
                     "(step + 1) / warmup_steps.",
    "no warmup": "The first warmup_steps steps should rise linearly to lr_max.",
    "decay from step 0": "The cosine starts when the warm-up ends: measure t from "
                         "step - warmup_steps, over total_steps - warmup_steps steps.",
    "full period": "That is a whole period of the cosine (back up at the end); use half a "
                   "period, cos(pi * t), so the rate only goes down.",
    "plain cosine": "lr_max * cos(pi * t) goes negative in the second half; use "
                    "lr_max * (1 + cos(pi * t)) / 2, which goes from lr_max down to 0.",
}


@exercise("5.1", "lr_schedule", hints=(
    "Two phases. During the warm-up the rate grows in equal steps and reaches lr_max at the "
    "last warm-up step. After it, the rate follows half a cosine wave from lr_max down to 0.",
    "For step < warmup_steps: lr_max * (step + 1) / warmup_steps. After: t = (step - "
    "warmup_steps) / (total_steps - warmup_steps) and lr = lr_max * (1 + cos(pi * t)) / 2.",
))
def check_lr_schedule(lr_schedule):
    for total, lr_max, warmup in ((10, 0.1, 2), (8, 1.0, 0), (12, 0.5, 4)):
        steps = range(total)
        inputs = f"total_steps={total}, lr_max={lr_max}, warmup_steps={warmup}"
        got = []
        for step in steps:
            value = call_own(lr_schedule, step, total, lr_max, warmup, forbidden=FORBIDDEN["5.1"],
                             what=f"step={step}, {inputs}")
            if value is None or np.size(value) != 1:
                raise CheckFailed(f"for step={step}, {inputs} expected one learning rate, "
                                  f"got {show(value)}: return a single number, not an array.")
            got.append(value)
        want = [schedule(s, total, lr_max, warmup) for s in steps]
        slips = [([schedule(s, total, lr_max, warmup, bug) for s in steps], advice)
                 for bug, advice in SCHEDULE_SLIPS.items()]
        try:
            have = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            raise CheckFailed(f"for {inputs} expected numbers, got {show(got)}.") from None
        wrong = int(np.argmax(~np.isclose(have, want, rtol=1e-9, atol=1e-12)))
        expect_array_explained(have, want, f"for {inputs}, the rates of steps 0..{total - 1} "
                               f"(first wrong: step {wrong})", slips, rtol=1e-9, atol=1e-12)
    return "linear warm-up to lr_max, then half a cosine down towards 0."


# ------------------------------------------------------------------ 5.2
def _sgd_case(seed):
    g = rng(seed)
    params = [g.normal(size=(3, 2)), g.normal(size=2)]  # a weight matrix and a bias
    grads = [[g.normal(size=p.shape) for p in params] for _ in range(3)]  # 3 steps
    return params, grads


def _slip_step(p, g, v, lr, momentum, wd, bug):
    """(new p, new v) of one parameter under a planted slip."""
    decay = wd if (p.ndim > 1 or bug == "decay biases") else 0.0
    if bug == "no decay":
        decay = 0.0
    if bug == "decay outside":
        v_new = momentum * v - lr * g
        return p + v_new - lr * decay * p, v_new
    if bug == "decay sign":
        v_new = momentum * v - lr * (g - decay * p)
        return p + v_new, v_new
    v_new = momentum * v - lr * (g + decay * p)
    return p + v_new, v_new


SGD_SLIPS = {
    "no decay": "The weights were not decayed: add weight_decay * p to the gradient of every "
                "weight matrix, g + wd * p.",
    "decay biases": "Only weights (2-D arrays) are decayed, not biases (1-D): nnlib, like most "
                    "libraries, leaves the biases alone.",
    "decay outside": "The decay belongs inside the velocity, v = momentum * v - lr * (g + wd * p), "
                     "so that momentum carries it too (that is L2 regularisation).",
    "decay sign": "The decay should shrink the weights: the gradient of (wd / 2) * p**2 is "
                  "+wd * p, added to g.",
}


@exercise("5.2", "sgd_step", hints=(
    "L2 regularisation adds (wd / 2) * sum(W**2) to the loss. What does that add to the "
    "gradient of each weight? Then it is chapter 5's momentum step with that gradient.",
    "g' = g + wd * p for weights (2-D), g' = g for biases (1-D); then v = momentum * v - lr * g' "
    "and p = p + v, both in place (v *= ...; v -= ...; p += v).",
))
def check_sgd_step(sgd_step):
    for lr, momentum, wd, seed in ((0.1, 0.9, 0.05, 0), (0.5, 0.0, 0.1, 1), (0.01, 0.5, 0.0, 2)):
        params, grads = _sgd_case(seed)
        mine = [p.copy() for p in params]
        velocities = [np.zeros_like(p) for p in params]
        reference = SGD(lr=lr, momentum=momentum, weight_decay=wd)
        for step, g in enumerate(grads, start=1):
            settings = f"lr={lr}, momentum={momentum}, weight_decay={wd}"
            case = f"after step {step} with {settings}"
            before = [p.copy() for p in mine]
            v_before = [v.copy() for v in velocities]
            call_own(sgd_step, mine, [x.copy() for x in g], velocities, lr, momentum, wd,
                     forbidden=FORBIDDEN["5.2"], what=f"step {step} with {settings}")
            reference.step(zip(params, g), backend="numpy")
            v_ref = [state[0] for state in reference.state]
            if all(np.array_equal(p, q) for p, q in zip(mine, before)):
                raise CheckFailed(f"{case} the params did not change: update them in place "
                                  f"(p += v), so the caller's arrays change.")
            for i, (p, want) in enumerate(zip(mine, params)):
                kind = "weights W" if want.ndim > 1 else "biases b"
                slips = [(_slip_step(before[i], g[i], v_before[i], lr, momentum, wd, bug)[0], advice)
                         for bug, advice in SGD_SLIPS.items()]
                slips.append((before[i] - v_ref[i], "The step goes the wrong way: p = p + v with "
                              "v = momentum * v - lr * g'."))
                expect_array_explained(p, want, f"{case}, params[{i}] ({kind})", slips)
            for i, (v, want) in enumerate(zip(velocities, v_ref)):
                expect_array_explained(v, want, f"{case}, velocities[{i}]", [
                    (np.zeros_like(want), "The velocities stayed zero: update them in place "
                     "(v *= momentum; v -= lr * g')."),
                    (_slip_step(before[i], g[i], v_before[i], lr, momentum, wd, "decay outside")[1],
                     SGD_SLIPS["decay outside"]),
                ])
    return "v = momentum * v - lr * (g + wd * p) for weights, no decay for biases, in place."


# ------------------------------------------------------------------ 5.3
@exercise("5.3", "accuracy", hints=(
    "y_true == y_pred compares the arrays entry by entry and gives True/False per sample.",
    "The mean of a boolean array is the fraction of True entries: the mean of (y_true == y_pred) "
    "is a number between 0 and 1.",
))
def check_accuracy(accuracy):
    g = rng(3)
    cases = [(np.array([0, 1, 2, 1]), np.array([0, 1, 1, 1])), (np.array([3]), np.array([3])),
             (g.integers(0, 10, 50), g.integers(0, 10, 50)), (np.array([1, 0]), np.array([0, 1]))]
    for y_true, y_pred in cases:
        case = f"for y_true={show(y_true)}, y_pred={show(y_pred)}"
        got = call_own(accuracy, y_true.copy(), y_pred.copy(), forbidden=FORBIDDEN["5.3"],
                       what=case.removeprefix("for "))
        correct = int(np.sum(y_true == y_pred))
        expect_scalar_explained(got, correct / len(y_true), f"{case}, the accuracy", [
            (correct, "Return the fraction correct (a number in [0, 1]), not the count."),
            (100.0 * correct / len(y_true), "Return a fraction in [0, 1], not a percentage."),
            (1 - correct / len(y_true), "That is the error rate; accuracy counts the matches."),
        ])
    return "the fraction of matching labels."


# ------------------------------------------------------------------ 5.4
def _precision_recall(y_true, y_pred, k):
    tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in range(k)], dtype=float)
    predicted = np.bincount(y_pred, minlength=k).astype(float)
    actual = np.bincount(y_true, minlength=k).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros(k), where=actual > 0)
    return precision, recall


@exercise("5.4", "precision_recall", hints=(
    "Precision asks: of the samples the network *called* class c, how many were c? Recall asks: "
    "of the samples that *are* class c, how many did it find? Both count the same hits, "
    "y_true == c and y_pred == c, and divide by different totals.",
    "precision_c = hits_c / (number of y_pred == c) and recall_c = hits_c / (number of "
    "y_true == c); where a total is 0 the value is defined as 0 (test before dividing).",
))
def check_precision_recall(precision_recall):
    g = rng(4)
    cases = [(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3),
             (np.array([1, 1, 0, 3]), np.array([1, 0, 0, 0]), 4),  # class 2 absent, 3 never predicted
             (g.integers(0, 10, 80), g.integers(0, 10, 80), 10)]
    for y_true, y_pred, k in cases:
        case = f"for y_true={show(y_true)}, y_pred={show(y_pred)}, n_classes={k}"
        with np.errstate(divide="ignore", invalid="ignore"):
            got = call_own(precision_recall, y_true.copy(), y_pred.copy(), k,
                           forbidden=FORBIDDEN["5.4"], what=case.removeprefix("for "))
        got = expect_tuple(got, 2, f"{case}: the return value (precision, recall)")
        precision, recall = _precision_recall(y_true, y_pred, k)
        for name, have, want, other in (("precision", got[0], precision, recall),
                                        ("recall", got[1], recall, precision)):
            arr = None if have is None else np.asarray(have, dtype=float)
            if arr is not None and arr.shape == want.shape and np.isnan(arr).any():
                absent = int(np.flatnonzero(np.isnan(arr))[0])
                raise CheckFailed(f"{case}, {name}[{absent}] is NaN: 0 / 0 for a class that is "
                                  f"never {'predicted' if name == 'precision' else 'present'}. "
                                  f"Define it as 0 there.")
            expect_array_explained(have, want, f"{case}, the {name}", [
                (other, "Precision and recall are swapped: precision divides by how often a "
                 "class was predicted, recall by how often it occurs."),
                (100 * want, "Return fractions in [0, 1], not percentages."),
            ], rtol=1e-9, atol=1e-12)
    return "per class: hits / predicted and hits / actual, 0 (not NaN) where nothing was counted."


# ------------------------------------------------------------------ 5.5
def _target_std(n_in, n_out, activation):
    return math.sqrt(2.0 / n_in) if activation == "relu" else math.sqrt(2.0 / (n_in + n_out))


@exercise("5.5", "init_layer", hints=(
    "Both rules keep the variance of the signal from layer to layer. ReLU zeroes half of its "
    "inputs, so it needs twice the variance of a rule that only looks at the fan-in; tanh and "
    "sigmoid are nearly linear around 0, and Glorot averages fan-in and fan-out.",
    "relu: W ~ N(0, 2 / n_in) (He); tanh and sigmoid: W ~ N(0, 2 / (n_in + n_out)) (Glorot). "
    "rng.normal takes the standard deviation, the square root of the variance. b = 0.",
))
def check_init_layer(init_layer):
    for n_in, n_out, activation in ((400, 300, "relu"), (50, 800, "relu"), (400, 300, "tanh"),
                                    (50, 800, "sigmoid")):
        inputs = f"n_in={n_in}, n_out={n_out}, activation={activation!r}"
        case = f"for {inputs}"
        got = expect_tuple(call_own(init_layer, n_in, n_out, activation, np.random.default_rng(0),
                                    forbidden=FORBIDDEN["5.5"], what=inputs),
                           2, f"{case}: the return value (W, b)")
        W = np.asarray(got[0], dtype=np.float64) if got[0] is not None else None
        if W is None or W.shape != (n_in, n_out):
            transposed = " (transposed)" if W is not None and W.shape == (n_out, n_in) else ""
            raise CheckFailed(f"{case} W should have shape {(n_in, n_out)}, got "
                              f"{None if W is None else W.shape}{transposed}.")
        expect_array(got[1], np.zeros(n_out), f"{case}, b (biases start at zero)")
        want, have = _target_std(n_in, n_out, activation), float(W.std())
        if abs(have - want) > 0.03 * want or abs(W.mean()) > 0.1 * want:
            raise CheckFailed(f"{case} the standard deviation of W should be {want:.4f}, yours "
                              f"has mean {W.mean():.4f} and standard deviation {have:.4f}."
                              + _init_advice(have, n_in, n_out, activation))
        again = call_own(init_layer, n_in, n_out, activation, np.random.default_rng(0),
                         forbidden=FORBIDDEN["5.5"], what=inputs)[0]
        if not np.array_equal(np.asarray(again, dtype=np.float64), W):
            raise CheckFailed(f"{case} two calls with the same seed gave different W: draw the "
                              f"numbers from the rng you are given (rng.normal), not np.random.")
    return "He for ReLU, Glorot for tanh and sigmoid, b = 0, reproducible from rng."


def _init_advice(std, n_in, n_out, activation):
    def near(value):
        return np.isclose(std, value, rtol=0.03)
    other = "tanh" if activation == "relu" else "relu"
    if near(_target_std(n_in, n_out, other)):
        rule = "He, sqrt(2 / n_in)" if activation == "relu" else "Glorot, sqrt(2 / (n_in + n_out))"
        return f" That is the rule for {other}; for {activation} use {rule}."
    if near(math.sqrt(2.0 / n_out)):
        return " He initialisation uses the fan-in n_in, not n_out."
    if near(2.0 / n_in) or near(2.0 / (n_in + n_out)):
        return " That is the variance; the standard deviation is its square root."
    if near(math.sqrt(1.0 / n_in)):
        return " That is sqrt(1 / n_in) (LeCun); see the hint for the factor 2."
    if near(1.0):
        return " Scale the standard normal numbers by the standard deviation."
    return ""
