"""Checks for chapter 2, from linear to non-linear (``solutions/02_nonlinear.ipynb``).

2.1 ``sigmoid(z)``: stable, no overflow for |z| = 1000 (checked under
    ``np.errstate(over="raise", invalid="raise")``).
2.2 ``sigmoid_prime(z)`` = sigma(z) (1 - sigma(z)).
2.3 ``log_loss(p, y)`` = -mean(y log p + (1 - y) log(1 - p)), finite at p = 0 or 1.
2.4 ``gradient_step(w, b, X, y, lr) -> (w, b)``: one step of gradient descent
    for one sigmoid neuron (logistic regression).
2.5 ``xor_network() -> (W, b, v, c)``: a 2-2-1 sigmoid network for XOR.

The reference is :mod:`nnlib.functional` (``sigmoid``, ``sigmoid_backward``,
``binary_cross_entropy``, ``dense_forward``/``dense_backward``).
"""
import numpy as np

from nnlib import functional as F
from nncourse.checks import (CheckFailed, call, exercise, expect_array, expect_scalar,
                             expect_tuple, rng, show)
from nnlib.data import logic_gate

OVERFLOW_HINT = ("np.exp overflowed: exp(1000) is too big for a float. Only ever "
                 "exponentiate numbers <= 0: for z >= 0 use 1 / (1 + exp(-z)), for z < 0 "
                 "exp(z) / (1 + exp(z)). np.where evaluates both branches for every z, "
                 "so compute e = exp(-|z|) once and build both branches from it.")
LOG_HINT = "log(0) is -inf: clip p to [1e-12, 1 - 1e-12] before taking logs."
EXTREME_Z = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0])


def call_strict(fn, *args, what=None, hint=OVERFLOW_HINT):
    """Call ``fn`` with overflow, log(0) and NaN-making operations raising (the stability test)."""
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        return call(fn, *args, what=what, hints={FloatingPointError: hint})


# ------------------------------------------------------------------ 2.1
@exercise("2.1", "stable sigmoid", hints=(
    "exp(-z) is harmless for large positive z and overflows for large negative z. Which way "
    "of writing sigma(z) only ever exponentiates a number <= 0?",
    "sigma(z) = 1 / (1 + e^(-z)) for z >= 0 and sigma(z) = e^z / (1 + e^z) for z < 0; with "
    "e = exp(-|z|), which is at most 1, both branches are safe for every z.",
))
def check_sigmoid(sigmoid):
    z_grid = np.linspace(-6.0, 6.0, 7)  # (7,)
    z_table = np.array([[-2.0, 0.5], [3.0, -0.25]])  # (2, 2): any shape
    for z in (z_grid, z_table, EXTREME_Z):
        got = call_strict(sigmoid, z.copy(), what=f"z = {show(z)}")
        expected = F.sigmoid(z)
        if got is not None and np.shape(got) == z.shape and np.allclose(got, 1.0 - expected):
            raise CheckFailed(f"for z = {show(z)} you return sigma(-z): {show(np.asarray(got))}; "
                              f"sigma(z) = 1 / (1 + exp(-z)) grows with z.")
        expect_array(got, expected, f"sigmoid(z) for z = {show(z)}", rtol=1e-9, atol=1e-12)
    return "matches 1 / (1 + exp(-z)), any shape, and |z| = 1000 gives 0 and 1 without overflow."


# ------------------------------------------------------------------ 2.2
@exercise("2.2", "sigmoid_prime", hints=(
    "Differentiate 1 / (1 + e^(-z)) with the chain rule, then write the result using sigma(z) "
    "itself rather than e^(-z).",
    "sigma'(z) = sigma(z) (1 - sigma(z)): compute a = sigma(z) once, with your stable sigmoid.",
))
def check_sigmoid_prime(sigmoid_prime):
    for z in (np.linspace(-3.0, 3.0, 7), np.array([[0.0, 2.0], [-3.0, 0.5]]), EXTREME_Z):
        got = call_strict(sigmoid_prime, z.copy(), what=f"z = {show(z)}")
        a = F.sigmoid(z)
        expected = F.sigmoid_backward(np.ones_like(z), a)  # sigma(z) (1 - sigma(z))
        advice = ""
        if got is not None and np.shape(got) == z.shape:
            if np.allclose(got, z * (1 - z)):
                advice = " You computed z (1 - z); the formula uses a = sigma(z): a (1 - a)."
            elif np.allclose(got, a):
                advice = " You returned sigma(z) itself; its derivative is sigma(z) (1 - sigma(z))."
        try:
            expect_array(got, expected, f"sigmoid_prime(z) for z = {show(z)}", rtol=1e-7, atol=1e-12)
        except CheckFailed as failure:
            raise failure.with_advice(advice) from None
    return "equals sigma(z) (1 - sigma(z)), peaks at 0.25 for z = 0 and is 0 (not NaN) at |z| = 1000."


# ------------------------------------------------------------------ 2.3
def _log_loss_advice(value, p, y):
    n = len(p)
    terms = y * np.log(p) + (1 - y) * np.log(1 - p)  # (N,)
    if np.isclose(value, -terms.sum()) and n > 1:
        return f" Yours is {n} times too big: average over the N = {n} samples (np.mean), don't sum."
    if np.isclose(value, terms.mean()):
        return " Yours is negative: log p <= 0, so the loss needs a minus sign in front."
    if np.isclose(value, -(y * np.log(p)).mean()):
        return " You left out the (1 - y) log(1 - p) term for the samples with y = 0."
    return ""


@exercise("2.3", "log_loss", hints=(
    "One sample costs -log of the probability the model gave to the right answer: p when "
    "y = 1, 1 - p when y = 0. The loss is the mean over the samples.",
    "L = -(1/N) sum_n [y_n log p_n + (1 - y_n) log(1 - p_n)], with p clipped to "
    "[1e-12, 1 - 1e-12] first so that log never sees 0.",
))
def check_log_loss(log_loss):
    cases = [
        (np.array([0.9, 0.2, 0.6, 0.35]), np.array([1, 0, 1, 0])),
        (np.array([0.5, 0.5]), np.array([1, 0])),  # log 2
        (np.array([0.99, 0.01, 0.7]), np.array([0, 1, 1])),  # confident and wrong costs most
    ]
    for p, y in cases:
        got = call(log_loss, p.copy(), y.copy())
        expected, _ = F.binary_cross_entropy(p, y)
        if got is not None and np.size(got) > 1:
            raise CheckFailed(f"for p = {show(p)}, y = {show(y)} you returned {show(np.asarray(got))}, "
                              f"one loss per sample; return their mean, one number.")
        value = expect_scalar(got, None, f"for p = {show(p)}, y = {show(y)} the loss")
        try:
            expect_scalar(value, expected, f"for p = {show(p)}, y = {show(y)} the loss", rtol=1e-7)
        except CheckFailed as failure:
            raise failure.with_advice(_log_loss_advice(value, p, y)) from None
    p, y = np.array([0.0, 1.0, 1.0]), np.array([1, 1, 0])
    got = call_strict(log_loss, p.copy(), y.copy(), hint=LOG_HINT)
    value = expect_scalar(got, None, f"for p = {show(p)}, y = {show(y)} the loss")  # finite
    if value < 10:
        raise CheckFailed(f"for p = {show(p)}, y = {show(y)} the loss should be large (a certain, "
                          f"wrong answer), yours is {value:.3g}; clip p to [1e-12, 1 - 1e-12].")
    return "the mean log-loss, finite even when p is exactly 0 or 1."


# ------------------------------------------------------------------ 2.4
def reference_step(w, b, X, y, lr):
    """One gradient-descent step of L = log_loss(sigma(X @ w + b), y), via nnlib.functional."""
    z, cache = F.dense_forward(X, w.reshape(-1, 1), np.array([b]))  # (N, 1)
    p = F.sigmoid(z)
    _, dp = F.binary_cross_entropy(p, y)
    dz = F.sigmoid_backward(dp, p)  # (N, 1): (p - y) / N
    _, dW, db = F.dense_backward(dz, cache)
    return w - lr * dW.reshape(-1), b - lr * float(db[0])


def _step_advice(w_got, w, b, X, y, lr):
    w_ok, _ = reference_step(w, b, X, y, lr)
    if np.allclose(w_got - w, -(w_ok - w)):
        return " You moved uphill: subtract the gradient, w - lr * dL/dw."
    if np.allclose(w_got - w, len(y) * (w_ok - w)):
        return f" Your step is N = {len(y)} times too big: dL/dw is X.T @ (p - y) / N."
    return ""


@exercise("2.4", "gradient_step", hints=(
    "Predict first, p = sigma(X w + b) for all N samples; p - y says how far off each "
    "prediction is and in which direction.",
    "dL/dw = X^T (p - y) / N and dL/db = mean(p - y); step downhill: w - lr dL/dw, "
    "b - lr dL/db, returned as new values.",
))
def check_gradient_step(gradient_step):
    X = np.round(rng(2).normal(size=(6, 2)), 2)  # (6, 2)
    y = np.array([1, 0, 1, 1, 0, 0])
    cases = [(np.array([0.5, -0.3]), 0.1, X, y, 0.5),
             (np.zeros(2), 0.0, X[:3], y[:3], 1.0),
             (np.array([0.2, 0.1, -0.4]), -0.2, np.c_[X, X[:, 0] * X[:, 1]], y, 0.1)]  # 3 features
    for w, b, X_, y_, lr in cases:
        w_in = w.copy()
        got = expect_tuple(call(gradient_step, w_in, b, X_.copy(), y_.copy(), lr), 2,
                           "the return value (w, b)")
        if not np.array_equal(w_in, w):
            raise CheckFailed("your function changed the w it was given (in place); "
                              "return w - lr * dw as a new array.")
        w_new, b_new = reference_step(w, b, X_, y_, lr)
        where = f"for w = {show(w)}, b = {show(b)}, lr = {show(lr)} on {len(y_)} samples"
        try:
            expect_array(got[0], w_new, f"{where} the new w", rtol=1e-7)
        except CheckFailed as failure:
            advice = _step_advice(np.asarray(got[0], dtype=float), w, b, X_, y_, lr) \
                if np.shape(got[0]) == w.shape else ""
            raise failure.with_advice(advice) from None
        expect_scalar(got[1], b_new, f"{where} the new b (db = mean of p - y)", rtol=1e-7)
    return "w and b move by -lr times the mean gradient of the log-loss."


# ------------------------------------------------------------------ 2.5
def network_output(X, W, b, v, c):
    """p = sigma(sigma(X @ W + b) @ v + c) with nnlib's reference pieces; p (n,)."""
    z1, _ = F.dense_forward(X, W, b)  # (n, 2)
    z2, _ = F.dense_forward(F.sigmoid(z1), np.reshape(v, (-1, 1)), np.reshape(c, (1,)))  # (n, 1)
    return F.sigmoid(z2).reshape(-1)


def _xor_parts(got):
    W, b, v, c = (np.asarray(part, dtype=np.float64) if part is not None else None for part in got)
    for name, arr, shape in (("W", W, (2, 2)), ("b", b, (2,)), ("v", v, (2,)), ("c", c, ())):
        if arr is None or arr.shape != shape and not (name == "c" and arr.size == 1):
            meaning = {"W": "inputs x hidden units", "b": "one per hidden unit",
                       "v": "one per hidden unit", "c": "one number"}[name]
            raise CheckFailed(f"{name} should have shape {shape} ({meaning}), got {show(arr)}.")
        if not np.isfinite(arr).all():
            raise CheckFailed(f"{name} contains NaN or inf: {show(arr)}.")
    return W, b, v, c.reshape(())


@exercise("2.5", "XOR by composition", hints=(
    "XOR is 'OR, but not AND'. Let one hidden unit compute OR and the other AND, each with "
    "steep sigmoids (weights around 10 or 20).",
    "With h1 = OR and h2 = AND, the output must be high only at (h1, h2) = (1, 0): "
    "v1 + c > 0 while c < 0 and v1 + v2 + c < 0, each by several units.",
))
def check_xor_network(xor_network):
    got = expect_tuple(call(xor_network), 4, "the return value (W, b, v, c)")
    W, b, v, c = _xor_parts(got)
    X, y = logic_gate("xor")
    p = network_output(X, W, b, v, c)  # (4,)
    for x, target, p_x in zip(X, y, p):
        if (p_x > 0.5) != bool(target) or abs(p_x - target) >= 0.1:
            bound = "above 0.9" if target else "below 0.1"
            hint = ""
            if (p_x > 0.5) == bool(target):
                hint = " Right side, but not confident: scale all weights up to make the sigmoids steeper."
            elif np.all((network_output(X, W.T, b, v, c) > 0.5) == y):
                hint = " Your W works transposed: W[i, j] connects input i to hidden unit j."
            raise CheckFailed(f"for x = {show(x)} XOR is {target}, so p must be {bound}; "
                              f"your network gives p = {p_x:.3f}.{hint}")
    return f"p = {show(np.round(p, 3))} on [0,0], [0,1], [1,0], [1,1]."
