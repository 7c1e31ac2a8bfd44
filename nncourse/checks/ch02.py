"""Checks for chapter 2, from linear to non-linear (``solutions/02_nonlinear.ipynb``).

The lecture writes a tanh-based stable sigmoid, the clipped log-loss of p, the
log-loss gradient and a 2-2-1 network for XOR; the exercises ask for other
cases of the same ideas:

2.1 ``sigmoid(z)``: stable, no overflow for |z| = 1000 (checked under
    ``np.errstate(over="raise", invalid="raise")``); the lecture's stable form
    is 1/2 (1 + tanh(z/2)), the exercise asks for the two-branch form.
2.2 ``sigmoid_prime(z)`` = sigma(z) (1 - sigma(z)).
2.3 ``log_loss_from_logits(z, y)`` = mean(log(1 + e^z) - y z): the log-loss
    computed from z, never from p: exact where clipping p is not, and no
    overflow for |z| = 1000.
2.4 ``cost_gradients(w, b, X, y) -> (dw_quadratic, db_quadratic, dw_log, db_log)``:
    the gradients of the quadratic cost mean((p - y)^2) / 2 and of the log-loss
    for one sigmoid neuron p = sigma(X @ w + b).
2.5 ``one_of_three_network() -> (W, b, v, c)``: a 3-k-1 sigmoid network that
    is on when exactly one of three inputs is on.

The reference is :mod:`nnlib.functional` (``sigmoid``, ``sigmoid_backward``,
``binary_cross_entropy``, ``dense_forward``/``dense_backward``).
"""
import numpy as np

from nnlib import functional as F
from nncourse.checks import (CheckFailed, call, exercise, expect_array, expect_scalar,
                             expect_tuple, rng, show)

OVERFLOW_HINT = ("np.exp overflowed: exp(1000) is too big for a float. Only ever "
                 "exponentiate numbers <= 0: for z >= 0 use 1 / (1 + exp(-z)), for z < 0 "
                 "exp(z) / (1 + exp(z)). np.where evaluates both branches for every z, "
                 "so compute e = exp(-|z|) once and build both branches from it.")
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
    if "tanh" in getattr(getattr(sigmoid, "__code__", None), "co_names", ()):
        raise CheckFailed("your sigmoid uses tanh: that is the lecture's stable form. This exercise "
                          "asks for the other one, two branches that only exponentiate numbers <= 0.")
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
def reference_log_loss_from_logits(z, y):
    """mean(softplus(z) - y z), with softplus(z) = log(1 + e^z) = max(z, 0) + log(1 + e^-|z|)."""
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def _logits_advice(value, z, y):
    n = len(z)
    terms = np.logaddexp(0.0, z) - y * z  # (N,)
    p = np.clip(F.sigmoid(z), 1e-12, 1 - 1e-12)
    if np.isclose(value, -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rtol=1e-9):
        return (" That is the loss of the clipped p: for a certain, wrong z it stops at "
                "-log(1e-12) = 27.6. Compute it from z with log(1 + e^z) - y z instead.")
    if np.isclose(value, terms.sum()) and n > 1:
        return f" Yours is {n} times too big: average over the N = {n} samples (np.mean), don't sum."
    if np.isclose(value, -terms.mean()):
        return " Yours has the wrong sign: log(1 + e^z) - y z is never negative."
    if np.isclose(value, np.mean(np.logaddexp(0.0, z))):
        return " You left out the - y z term."
    if np.isclose(value, np.mean(np.logaddexp(0.0, -z) - y * z)) or np.isclose(
            value, np.mean(np.logaddexp(0.0, z) + y * z)):
        return " Check the signs: -log p = log(1 + e^-z) and -log(1 - p) = log(1 + e^z)."
    return ""


LOGIT_OVERFLOW_HINT = ("np.exp overflowed: log(1 + exp(z)) needs exp(1000) for z = 1000. Use "
                       "log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): the exponent is never positive.")


@exercise("2.3", "log_loss_from_logits", hints=(
    "Write -log p and -log(1 - p) with p = 1 / (1 + e^-z) and simplify: both become "
    "log(1 + e^something). Then combine the two cases y = 1 and y = 0 into one expression.",
    "-log p = log(1 + e^-z) and -log(1 - p) = log(1 + e^z), so one sample costs "
    "log(1 + e^z) - y z; and log(1 + e^z) = max(z, 0) + log(1 + e^-|z|), whose exponent is never "
    "positive. Average over the samples.",
))
def check_log_loss_from_logits(log_loss_from_logits):
    cases = [
        (np.array([2.0, -1.5, 0.3, -0.2]), np.array([1, 0, 1, 0])),
        (np.array([0.0, 0.0]), np.array([1, 0])),  # log 2
        (np.array([4.0, -4.0, 0.8]), np.array([0, 1, 1])),  # confident and wrong costs most
        (np.array([1000.0, -1000.0, 30.0, -40.0]), np.array([0, 0, 1, 1])),  # far beyond the clip
        (np.array([-1000.0, 1000.0]), np.array([0, 1])),  # certain and right: 0
    ]
    for z, y in cases:
        what = f"for z = {show(z)}, y = {show(y)}"
        got = call_strict(log_loss_from_logits, z.copy(), y.copy(), what=what, hint=LOGIT_OVERFLOW_HINT)
        if got is not None and np.size(got) > 1:
            raise CheckFailed(f"{what} you returned {show(np.asarray(got))}, one loss per sample; "
                              f"return their mean, one number.")
        expected = reference_log_loss_from_logits(z, y)
        value = expect_scalar(got, None, f"{what} the loss")
        try:
            expect_scalar(value, expected, f"{what} the loss", rtol=1e-7, atol=1e-10)
        except CheckFailed as failure:
            raise failure.with_advice(_logits_advice(value, z, y)) from None
    return "the mean log-loss from z: exact where clipping p is not, finite for |z| = 1000."


# ------------------------------------------------------------------ 2.4
def reference_gradients(w, b, X, y):
    """(dw, db) of the quadratic cost mean((p - y)^2) / 2, then of the log-loss, via nnlib.functional."""
    z, cache = F.dense_forward(X, w.reshape(-1, 1), np.array([b]))  # (N, 1)
    p = F.sigmoid(z)
    _, dp_log = F.binary_cross_entropy(p, y)  # (N, 1)
    _, dp_quadratic = F.mse(p, y.reshape(-1, 1) * 1.0)  # (N, 1): 2 (p - y) / N
    grads = []
    for dp in (dp_quadratic / 2.0, dp_log):
        dz = F.sigmoid_backward(dp, p)  # (N, 1)
        _, dW, db = F.dense_backward(dz, cache)
        grads += [dW.reshape(-1), float(db[0])]
    return tuple(grads)


def _gradient_slips(w, b, X, y):
    """What the classic slips return: {advice: (dw_q, db_q, dw_l, db_l)}."""
    p = F.sigmoid(X @ w + b)  # (N,)
    n = len(y)
    quadratic, log = (p - y) * p * (1 - p) / n, (p - y) / n  # (N,) each: dL/dz

    def grads(dq, dl):
        return X.T @ dq, dq.sum(), X.T @ dl, dl.sum()
    return {
        " For the quadratic cost sigma'(z) = p (1 - p) does not cancel: dL/dz = (p - y) p (1 - p) / N.":
            grads(log, log),
        " For the log-loss sigma'(z) cancels: dL/dz = (p - y) / N, without p (1 - p).":
            grads(quadratic, quadratic),
        " You returned the log-loss gradients first: the order is quadratic, then log.":
            grads(log, quadratic),
        f" Yours are N = {n} times too big: the costs are means, so divide by N.":
            grads(quadratic * n, log * n),
        " Yours have the wrong sign: dL/dz is built from p - y, not y - p.":
            grads(-quadratic, -log),
        " The quadratic gradient is twice too big: with the 1/2 in front, d/dp (p - y)^2 / 2 = p - y.":
            grads(2 * quadratic, log),
    }


@exercise("2.4", "cost_gradients", hints=(
    "Derive dL/dz for one sample under each cost, with the chain rule through p = sigma(z); "
    "the rest (dz/dw = x, dz/db = 1, the mean over samples) is the same for both.",
    "Quadratic: dl/dz = (p - y) p (1 - p), because sigma'(z) = p (1 - p) stays. Log-loss: "
    "dl/dz = p - y, because it cancels. Then dL/dw = X^T delta / N and dL/db = sum(delta) / N.",
))
def check_cost_gradients(cost_gradients):
    X = np.round(rng(2).normal(size=(6, 2)), 2)  # (6, 2)
    y = np.array([1, 0, 1, 1, 0, 0])
    cases = [(np.array([0.5, -0.3]), 0.1, X, y),
             (np.array([2.0, 2.0]), 2.0, np.array([[1.0, 0.0]]), np.array([0])),  # saturated, wrong
             (np.array([0.2, 0.1, -0.4]), -0.2, np.c_[X, X[:, 0] * X[:, 1]], y)]  # 3 features
    names = ("dw of the quadratic cost", "db of the quadratic cost", "dw of the log-loss",
             "db of the log-loss")
    for w, b, X_, y_ in cases:
        w_in = w.copy()
        got = expect_tuple(call(cost_gradients, w_in, b, X_.copy(), y_.copy()), 4,
                           "the return value (dw_quadratic, db_quadratic, dw_log, db_log)")
        if not np.array_equal(w_in, w):
            raise CheckFailed("your function changed the w it was given (in place).")
        expected = reference_gradients(w, b, X_, y_)
        where = f"for w = {show(w)}, b = {show(b)} on {len(y_)} sample(s) (p = {show(F.sigmoid(X_ @ w + b))})"
        for got_part, want, name in zip(got, expected, names):
            try:
                if np.ndim(want) == 0:
                    expect_scalar(got_part, want, f"{where}, {name}", rtol=1e-7, atol=1e-12)
                else:
                    expect_array(got_part, want, f"{where}, {name}", rtol=1e-7, atol=1e-12)
            except CheckFailed as failure:
                advice = ""
                for text, slip in _gradient_slips(w, b, X_, y_).items():
                    try:
                        if all(np.allclose(np.asarray(g, dtype=float), s_) for g, s_ in zip(got, slip)):
                            advice = text
                            break
                    except (TypeError, ValueError):
                        break
                raise failure.with_advice(advice) from None
    return "(p - y) p (1 - p) for the quadratic cost, (p - y) for the log-loss, averaged over N."


# ------------------------------------------------------------------ 2.5
CUBE = np.array([[a, b_, c] for a in (0.0, 1.0) for b_ in (0.0, 1.0) for c in (0.0, 1.0)])  # (8, 3)
EXACTLY_ONE = (CUBE.sum(axis=1) == 1).astype(int)  # (8,)


def network_output(X, W, b, v, c):
    """p = sigma(sigma(X @ W + b) @ v + c) with nnlib's reference pieces; p (n,)."""
    z1, _ = F.dense_forward(X, W, b)  # (n, k)
    z2, _ = F.dense_forward(F.sigmoid(z1), np.reshape(v, (-1, 1)), np.reshape(c, (1,)))  # (n, 1)
    return F.sigmoid(z2).reshape(-1)


def _network_parts(got, n_in=3):
    W, b, v, c = (np.asarray(part, dtype=np.float64) if part is not None else None for part in got)
    if W is None or W.ndim != 2 or W.shape[0] != n_in:
        hint = " (it looks transposed)" if W is not None and W.ndim == 2 and W.shape[1] == n_in else ""
        raise CheckFailed(f"W should have shape ({n_in}, k): one row per input, one column per hidden "
                          f"unit; got {show(W) if W is None else W.shape}{hint}.")
    k = W.shape[1]
    for name, arr, shape in (("b", b, (k,)), ("v", v, (k,))):
        if arr is None or arr.shape != shape:
            raise CheckFailed(f"{name} should have shape {shape}, one entry per hidden unit "
                              f"(W has {k} columns), got {show(arr)}.")
    if c is None or c.size != 1:
        raise CheckFailed(f"c should be one number, got {show(c)}.")
    for name, arr in (("W", W), ("b", b), ("v", v), ("c", c)):
        if not np.isfinite(arr).all():
            raise CheckFailed(f"{name} contains NaN or inf: {show(arr)}.")
    return W, b, v, c.reshape(())


@exercise("2.5", "one_of_three_network", hints=(
    "Count the inputs that are on: 0, 1, 2 or 3. The network must say yes for exactly one "
    "count. Which two thresholds on the count, each one neuron, would you combine?",
    "Let h1 = 'at least one on' (sigma(20 (x1 + x2 + x3) - 10)) and h2 = 'at least two on' "
    "(threshold at 1.5); the output is h1 and not h2: large v1 > 0, large v2 < 0, c so that "
    "only (h1, h2) = (1, 0) gives a positive sum.",
))
def check_one_of_three(one_of_three_network):
    got = expect_tuple(call(one_of_three_network), 4, "the return value (W, b, v, c)")
    W, b, v, c = _network_parts(got)
    p = network_output(CUBE, W, b, v, c)  # (8,)
    on = p > 0.5
    for x, target, p_x in zip(CUBE, EXACTLY_ONE, p):
        if (p_x > 0.5) != bool(target) or abs(p_x - target) >= 0.1:
            bound = "above 0.9" if target else "below 0.1"
            hint = ""
            if (p_x > 0.5) == bool(target):
                hint = " Right side, but not confident: scale the weights up to make the sigmoids steeper."
            elif np.array_equal(on, CUBE.sum(axis=1) % 2 == 1):
                hint = " Your network computes 'an odd number on': (1, 1, 1) has three on, not one."
            elif np.array_equal(on, CUBE.sum(axis=1) >= 1):
                hint = " Your network computes 'at least one on'; two on must give p < 0.1 too."
            elif np.array_equal(on, CUBE.sum(axis=1) <= 1):
                hint = " Your network computes 'at most one on'; none on must give p < 0.1 too."
            raise CheckFailed(f"for x = {show(x)} ({int(x.sum())} on) the answer is {target}, so p "
                              f"must be {bound}; your network gives p = {p_x:.3f}.{hint}")
    return f"{W.shape[1]} hidden units; p = {show(np.round(p, 2))} on the 8 corners."
