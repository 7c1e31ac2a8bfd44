"""Checks for chapter 1, the perceptron (``solutions/01_perceptron.ipynb``).

1.1 ``perceptron_predict(X, w, b) -> y_hat``: step(X @ w + b) as 0/1 ints (n,),
    with step(z) = 1 if z > 0 else 0.
1.2 ``perceptron_update(w, b, x, y, lr) -> (w, b)``: one step of the rule on
    one sample, returning new values.
1.3 ``train_perceptron(X, y, lr=1.0, epochs=20) -> (w, b, mistakes)``.
1.4 ``nand_weights() -> (w, b)``: a perceptron that computes NAND.

The reference is :mod:`nnlib.perceptron` (``predict``, ``update``, ``Perceptron``).
"""
import numpy as np

from nnlib import perceptron as reference
from nncourse.checks import (CheckFailed, call, exercise, expect_array, expect_finite,
                             expect_scalar, expect_tuple, rng, show)
from nnlib.data import logic_gate

CORNERS = logic_gate("and")[0]  # (4, 2): [0, 0], [0, 1], [1, 0], [1, 1]


# ------------------------------------------------------------------ 1.1
def expect_labels(got, X, w, b, what="y_hat"):
    """Fail unless ``got`` equals step(X @ w + b) as 0/1 ints; name the first wrong row."""
    expected = reference.predict(X, w, b)
    if got is None:
        raise CheckFailed(f"{what}: your function returned None; did you forget `return`?")
    arr = np.asarray(got)
    if arr.shape != expected.shape:
        hint = " (one label per row of X)" if arr.ndim != 1 else ""
        raise CheckFailed(f"{what}: expected shape {expected.shape}, got {arr.shape}{hint}.")
    expect_finite(arr, what)  # NaN or inf: named before the dtype
    if arr.dtype.kind not in "iu":
        raise CheckFailed(f"{what}: expected 0/1 integers, got dtype {arr.dtype}; "
                          f"convert with .astype(int).")
    if not np.isin(arr, (0, 1)).all():
        raise CheckFailed(f"{what}: labels must be 0 or 1, got {show(arr)}; apply the step "
                          f"to z = X @ w + b instead of returning z.")
    for x, z, want, have in zip(X, X @ w + b, expected, arr):
        if want != have:
            hint = " step(0) is 0: use z > 0, not z >= 0." if z == 0 else ""
            raise CheckFailed(f"for x={show(x)}, w={show(w)}, b={show(b)} (z = {show(z)}) "
                              f"the output should be {want}, yours is {have}.{hint}")
    return arr


@exercise("1.1", "perceptron_predict")
def check_predict(perceptron_predict):
    X3 = np.round(rng(1).normal(size=(5, 3)), 1)  # (5, 3): any number of features
    cases = [
        (CORNERS, np.array([1.0, 1.0]), -1.5),  # AND
        (CORNERS, np.array([1.0, 1.0]), -1.0),  # z = 0 at [0, 1] and [1, 0]
        (CORNERS, np.array([-2.0, 0.5]), 0.7),
        (X3, np.array([0.5, -1.0, 2.0]), 0.1),
    ]
    for X, w, b in cases:
        expect_labels(call(perceptron_predict, X.copy(), w.copy(), b), X, w, b)
    return "0/1 labels with step(0) = 0, for 2 and 3 features."


# ------------------------------------------------------------------ 1.2
def expect_update(perceptron_update, w, b, x, y, lr):
    """Run one update; fail with the sample, the prediction and what changed wrongly."""
    w_in = w.copy()
    got = expect_tuple(call(perceptron_update, w_in, b, x.copy(), y, lr), 2, "the return value")
    if not np.array_equal(w_in, w):
        raise CheckFailed("your function changed the w it was given (in place); return a new "
                          "array instead, e.g. w_new = w + lr * error * x.")
    w_new, b_new = reference.update(w, b, x, y, lr)
    y_hat = int(x @ w + b > 0)
    case = f"for w={show(w)}, b={show(b)}, x={show(x)}, y={y}, lr={show(lr)}"
    story = f"the perceptron predicts {y_hat}, so the error y - y_hat is {y - y_hat}"
    try:
        expect_array(got[0], w_new, "w")
        expect_scalar(got[1], b_new, "b")
    except CheckFailed as failure:
        advice = _update_advice(got, w, b, x, y, lr, y - y_hat)
        wrong = CheckFailed(f"{case}: {story}; {failure.problem}", failure.advice)
        raise wrong.with_advice(advice) from None
    return got


def _update_advice(got, w, b, x, y, lr, error):
    """One sentence for the common slips, recognised by what they return."""
    try:
        w_got, b_got = np.asarray(got[0], dtype=np.float64), float(np.asarray(got[1]).reshape(()))
    except (TypeError, ValueError):
        return ""
    if error == 0:
        return " The prediction is right, so nothing should change."
    if np.allclose(w_got, w) and np.isclose(b_got, b):
        return " The prediction is wrong, so w and b must move: w <- w + lr * (y - y_hat) * x."
    if np.allclose(w_got, w - lr * error * x):
        return " The correction has the wrong sign: error = y - y_hat."
    if np.allclose(w_got, w + lr * error * x) and np.isclose(b_got, b):
        return " w is right but b did not change: b <- b + lr * error."
    if np.allclose(w_got, w + error * x) and lr != 1:
        return " Did you forget to multiply by lr?"
    return ""


@exercise("1.2", "perceptron_update")
def check_update(perceptron_update):
    cases = [
        (np.array([1.0, 1.0]), -0.5, np.array([0.0, 0.0]), 0, 1.0),  # right: no change
        (np.array([1.0, 1.0]), -0.5, np.array([1.0, 0.0]), 0, 1.0),  # false positive
        (np.array([0.5, -0.5]), 0.0, np.array([1.0, 1.0]), 1, 1.0),  # z = 0 -> y_hat = 0
        (np.array([0.2, -0.4]), 0.1, np.array([0.5, 2.0]), 1, 0.1),  # lr matters
        (np.array([0.3, 0.0, -1.0]), 0.2, np.array([1.0, -2.0, 0.5]), 0, 0.5),  # 3 features
    ]
    for w, b, x, y, lr in cases:
        expect_update(perceptron_update, w, b, x, y, lr)
    return "no change when right, w += lr (y - y_hat) x and b += lr (y - y_hat) when wrong."


# ------------------------------------------------------------------ 1.3
def expect_training(train_perceptron, name, X, y, lr, epochs):
    """Train from zeros; compare w, b and the mistakes per epoch with nnlib's Perceptron."""
    model = reference.Perceptron(X.shape[1], lr=lr).fit(X, y, epochs=epochs)
    got = expect_tuple(call(train_perceptron, X.copy(), y.copy(), lr=lr, epochs=epochs),
                       3, "the return value (w, b, mistakes)")
    mistakes = list(np.asarray(got[2]).reshape(-1)) if got[2] is not None else None
    expected = model.errors_
    if mistakes is None or len(mistakes) != len(expected) or not np.array_equal(mistakes, expected):
        stop = (f"training should stop after epoch {len(expected)}, the first with no mistakes"
                if model.converged else f"it never converges, so all {epochs} epochs run")
        raise CheckFailed(f"on {name} (lr={show(lr)}, epochs={epochs}) the mistakes per epoch "
                          f"should be {expected} ({stop}); yours are {show(got[2])}.")
    where = (f"on {name} (lr={show(lr)}): start from w = 0, b = 0, visit the samples in "
             f"order and update after every sample; final")
    expect_array(got[0], model.w, f"{where} w")
    expect_scalar(got[1], model.b, f"{where} b")
    return model


@exercise("1.3", "train_perceptron")
def check_train(train_perceptron):
    results = []
    for gate in ("and", "or", "nand"):
        X, y = logic_gate(gate)
        model = expect_training(train_perceptron, gate.upper(), X, y, lr=1.0, epochs=20)
        results.append(f"{gate.upper()} in {len(model.errors_)}")
    X, y = logic_gate("xor")
    expect_training(train_perceptron, "XOR", X, y, lr=1.0, epochs=8)
    X = np.array([[2.0, 1.0], [1.0, 3.0], [-1.0, -1.0], [-2.0, 0.5], [0.5, -2.0]])  # (5, 2)
    expect_training(train_perceptron, "5 points", X, np.array([1, 1, 0, 0, 0]), lr=0.5, epochs=20)
    return f"converges on {', '.join(results)} epochs; XOR never does."


# ------------------------------------------------------------------ 1.4
@exercise("1.4", "nand_weights")
def check_nand(nand_weights):
    got = expect_tuple(call(nand_weights), 2, "the return value (w, b)")
    w = np.asarray(got[0], dtype=np.float64) if got[0] is not None else None
    if w is None or w.shape != (2,):
        raise CheckFailed(f"w should be an array of 2 weights, got {show(got[0])}.")
    b = expect_scalar(got[1], None, "b")  # any finite number
    _, nand = logic_gate("nand")
    outputs = reference.predict(CORNERS, w, b)
    if np.array_equal(outputs, logic_gate("and")[1]):
        raise CheckFailed(f"w={show(w)}, b={show(b)} computes AND; NAND is NOT AND: "
                          f"flip the signs of w and b.")
    for x, want, have in zip(CORNERS, nand, outputs):
        if want != have:
            raise CheckFailed(f"for x={show(x)} NAND is {want} but your perceptron outputs "
                              f"{have} (z = {show(x @ w + b)}).")
    return f"w = {show(w)}, b = {show(b)} computes NAND on all four inputs."
