"""Checks for chapter 1, the perceptron (``solutions/01_perceptron.ipynb``).

The lecture writes the neuron for two inputs and runs the perceptron rule on
OR; the exercises ask for what it does not show:

1.1 ``perceptron_predict(X, w, b) -> y_hat``: step(X @ w + b) as 0/1 ints (N,),
    for any number of features d, with step(z) = 1 if z > 0 else 0.
1.2 ``margin_update(w, b, x, y, lr, margin) -> (w, b)``: the perceptron rule
    with a margin: with s = 2y - 1 (+1 or -1), move when s (x . w + b) <= margin
    (w + lr s x, b + lr s), else return w and b unchanged.
1.3 ``train_margin(X, y, lr=1.0, margin=0.0, max_epochs=100) -> (w, b, epochs)``:
    from zeros, epochs of ``margin_update`` in sample order until an epoch
    changes nothing; ``epochs`` counts the epochs run, that last one included.
1.4 ``majority_weights() -> (w, b)``: a perceptron with 3 inputs that
    outputs 1 when at least two of them are 1.

The reference is :mod:`nnlib.perceptron` (``predict``) and, for the margin
rule that nnlib does not have, ``reference_margin_update`` and
``reference_train_margin`` below.
"""
import itertools

import numpy as np

from nnlib import perceptron as reference
from nncourse.checks import (CheckFailed, call, exercise, expect_array, expect_finite,
                             expect_scalar, expect_tuple, rng, show)
from nnlib.data import logic_gate

CORNERS = logic_gate("and")[0]  # (4, 2): [0, 0], [0, 1], [1, 0], [1, 1]
CUBE = np.array(list(itertools.product([0.0, 1.0], repeat=3)))  # (8, 3): the corners of the cube
MAJORITY = (CUBE.sum(axis=1) >= 2).astype(int)  # (8,)


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
            if not hint and X.shape[1] > 2 and np.isclose(x[:2] @ w[:2] + b > 0, have):
                hint = (f" Your sum stops after two features; x has {X.shape[1]}: the weighted "
                        f"sum runs over all of them.")
            raise CheckFailed(f"for x={show(x)}, w={show(w)}, b={show(b)} (z = {show(z)}) "
                              f"the output should be {want}, yours is {have}.{hint}")
    return arr


@exercise("1.1", "perceptron_predict", hints=(
    "The lecture's neuron writes x1 w1 + x2 w2 + b out by hand. For d features the same sum "
    "runs over all d; which product of X (N, d) with w (d,) computes it for every row at once?",
    "z = X w + b is a vector of N weighted sums (the matrix-vector product); y_hat = 1 where "
    "z > 0 and 0 elsewhere, as integers, so a point exactly on the line (z = 0) is class 0.",
))
def check_predict(perceptron_predict):
    X3 = np.round(rng(1).normal(size=(5, 3)), 1)  # (5, 3): three features
    X4 = np.array([[1.0, -1.0, 2.0, 0.5]])  # (1, 4): one sample, four features
    cases = [
        (CORNERS, np.array([1.0, 1.0]), -1.5),  # AND
        (CORNERS, np.array([1.0, 1.0]), -1.0),  # z = 0 at [0, 1] and [1, 0]
        (X3, np.array([0.5, -1.0, 2.0]), 0.1),
        (X4, np.array([1.0, 1.0, -1.0, 2.0]), 0.2),
        (CUBE, np.array([1.0, 1.0, 1.0]), -1.5),  # z = 0 nowhere, 8 rows
    ]
    for X, w, b in cases:
        expect_labels(call(perceptron_predict, X.copy(), w.copy(), b), X, w, b)
    return "0/1 labels with step(0) = 0, for 2, 3 and 4 features and 1 to 8 samples."


# ------------------------------------------------------------------ 1.2
def reference_margin_update(w, b, x, y, lr, margin):
    """The margin rule on one sample: new (w, b); inputs unchanged."""
    s = 2 * y - 1  # +1 for class 1, -1 for class 0
    if s * (x @ w + b) <= margin:
        return w + lr * s * x, b + lr * s
    return w.copy(), b


def _margin_advice(got, w, b, x, y, lr, margin):
    """One sentence for the common slips, recognised by what they return."""
    try:
        w_got, b_got = np.asarray(got[0], dtype=np.float64), float(np.asarray(got[1]).reshape(()))
    except (TypeError, ValueError):
        return ""
    s = 2 * y - 1
    sz = s * (x @ w + b)
    classic = reference.update(w, b, x, y, lr)
    moves = sz <= margin
    if moves and np.allclose(w_got, w) and np.isclose(b_got, b):
        if sz == margin:
            return (f" s (x . w + b) equals the margin exactly: 'within the margin' includes it "
                    f"(<=, not <).")
        if sz > 0:
            return (f" The sample is on the right side, but only by s (x . w + b) = {sz:g} <= "
                    f"margin {margin:g}: it must still move (the classic rule only moves on mistakes).")
        if y == 0:
            return " For y = 0 the sign is s = 2y - 1 = -1, not y = 0: the sample must push w away."
        return " The sample is within the margin, so w and b must move: w + lr s x, b + lr s."
    if not moves and not (np.allclose(w_got, w) and np.isclose(b_got, b)):
        return (f" Here s (x . w + b) = {sz:g} > margin {margin:g}: the sample is safely on its "
                f"side, so nothing changes.")
    if moves and np.allclose(w_got, w - lr * s * x):
        return " The correction has the wrong sign: move towards s x, with s = 2y - 1."
    if moves and np.allclose(w_got, w + lr * s * x) and np.isclose(b_got, b):
        return " w is right but b did not change: b <- b + lr s."
    if moves and lr != 1 and np.allclose(w_got, w + s * x):
        return " Did you forget to multiply by lr?"
    if moves and np.allclose(w_got, w + lr * y * x):
        return " You used y (0 or 1) as the direction; use s = 2y - 1 (+1 or -1)."
    if np.allclose(w_got, classic[0]) and np.isclose(b_got, classic[1]):
        return " That is the classic rule (move on mistakes only); this one moves within the margin."
    return ""


def expect_margin_update(margin_update, w, b, x, y, lr, margin):
    """Run one margin update; fail with the sample, s (x . w + b) and what changed wrongly."""
    w_in = w.copy()
    got = expect_tuple(call(margin_update, w_in, b, x.copy(), y, lr, margin), 2,
                       "the return value (w, b)")
    if not np.array_equal(w_in, w):
        raise CheckFailed("your function changed the w it was given (in place); return a new "
                          "array instead, e.g. w_new = w + lr * s * x.")
    w_new, b_new = reference_margin_update(w, b, x, y, lr, margin)
    sz = (2 * y - 1) * (x @ w + b)
    case = (f"for w={show(w)}, b={show(b)}, x={show(x)}, y={y}, lr={show(lr)}, margin={show(margin)} "
            f"(s (x . w + b) = {sz:g}, so it should {'move' if sz <= margin else 'stay'})")
    try:
        expect_array(got[0], w_new, "w")
        expect_scalar(got[1], b_new, "b")
    except CheckFailed as failure:
        wrong = CheckFailed(f"{case}: {failure.problem}", failure.advice)
        raise wrong.with_advice(_margin_advice(got, w, b, x, y, lr, margin)) from None
    return got


@exercise("1.2", "margin_update", hints=(
    "Turn the label into a direction first: s = +1 for class 1 and -1 for class 0. Then "
    "s (x . w + b) is positive exactly when the sample is on its own side of the line, and "
    "it says by how much.",
    "If s (x . w + b) <= margin: w <- w + lr s x and b <- b + lr s (new values, not in place); "
    "otherwise w and b stay as they are. With s = 2y - 1, a right answer by too little also moves.",
))
def check_margin_update(margin_update):
    cases = [  # (w, b, x, y, lr, margin)
        (np.array([1.0, 1.0]), -0.5, np.array([1.0, 1.0]), 1, 1.0, 0.0),  # s z = 1.5 > 0: stays
        (np.array([1.0, 1.0]), -0.5, np.array([1.0, 0.0]), 1, 1.0, 1.0),  # right by 0.5 < 1: moves
        (np.array([1.0, 1.0]), -0.5, np.array([1.0, 0.0]), 0, 1.0, 0.0),  # wrong, y = 0: pushed away
        (np.array([0.5, -0.5]), 0.0, np.array([1.0, 1.0]), 0, 1.0, 0.0),  # z = 0 = margin: moves
        (np.array([2.0, 0.0]), -1.0, np.array([1.0, 0.0]), 1, 1.0, 1.0),  # s z = 1 = margin: moves
        (np.array([0.2, -0.4]), 0.1, np.array([0.5, 2.0]), 1, 0.1, 0.5),  # lr matters
        (np.array([0.3, 0.0, -1.0]), 0.2, np.array([1.0, -2.0, 0.5]), 0, 0.5, 0.25),  # 3 features
        (np.array([3.0, 3.0]), -1.0, np.array([1.0, 1.0]), 1, 1.0, 2.0),  # s z = 5 > 2: stays
    ]
    for case in cases:
        expect_margin_update(margin_update, *case)
    return "moves towards s x whenever s (x . w + b) <= margin, wrong or right by too little."


# ------------------------------------------------------------------ 1.3
def reference_train_margin(X, y, lr=1.0, margin=0.0, max_epochs=100, until="no update"):
    """(w, b, epochs) of the margin rule from zeros: epochs until one changes nothing.

    ``until="no mistake"`` is the slip of stopping after an epoch without mistakes.
    """
    w, b = np.zeros(X.shape[1]), 0.0
    for epoch in range(1, max_epochs + 1):
        moved = mistaken = False
        for x_n, y_n in zip(X, y):
            mistaken = mistaken or int(x_n @ w + b > 0) != y_n
            w_new, b_new = reference_margin_update(w, b, x_n, y_n, lr, margin)
            moved = moved or not (np.array_equal(w_new, w) and b_new == b)
            w, b = w_new, b_new
        if not (moved if until == "no update" else mistaken):
            return w, b, epoch
    return w, b, max_epochs


def _settles_by_comparing_ends(X, y, lr, margin, max_epochs):
    """The epochs of the slip that stops when w and b end an epoch where they started it."""
    w, b = np.zeros(X.shape[1]), 0.0
    for epoch in range(1, max_epochs + 1):
        w_start, b_start = w, b
        for x_n, y_n in zip(X, y):
            w, b = reference_margin_update(w, b, x_n, y_n, lr, margin)
        if np.array_equal(w, w_start) and b == b_start:
            return epoch
    return max_epochs


def _train_advice(epochs_got, w_got, X, y, lr, margin, max_epochs, expected_epochs):
    """A sentence for the common slips of the training loop."""
    no_mistake = reference_train_margin(X, y, lr, margin, max_epochs, "no mistake")[2]
    one_short = epochs_got == expected_epochs - 1 and expected_epochs < max_epochs
    if epochs_got == no_mistake and one_short:
        return (" Either you stopped after an epoch without mistakes (a right answer within the "
                "margin still moves w: stop after an epoch without updates), or you did not count "
                "the last epoch, the one in which nothing moves.")
    if epochs_got == no_mistake:
        return (" You stopped after an epoch without mistakes; with the margin rule a right answer "
                "can still move w. Stop after an epoch without any update.")
    if one_short:
        return (" Count the last epoch too: it is the one that checks that nothing moves any more "
                "(epochs counts every epoch run).")
    if epochs_got == max_epochs and expected_epochs < max_epochs:
        return " Stop after the first epoch in which no sample moved w or b."
    if epochs_got < expected_epochs and epochs_got == _settles_by_comparing_ends(X, y, lr, margin, max_epochs):
        return (" The line moved during the epoch and came back to where it started (XOR does "
                "that): count the updates that changed w or b, don't compare the epoch's start and end.")
    return ""


def expect_margin_training(train_margin, name, X, y, lr, margin, max_epochs):
    """Train from zeros; compare epochs, w and b with the reference."""
    w, b, epochs = reference_train_margin(X, y, lr, margin, max_epochs)
    got = expect_tuple(call(train_margin, X.copy(), y.copy(), lr=lr, margin=margin,
                            max_epochs=max_epochs), 3, "the return value (w, b, epochs)")
    where = f"on {name} (lr={show(lr)}, margin={show(margin)}, max_epochs={max_epochs})"
    try:
        epochs_got = expect_scalar(got[2], epochs, f"{where} the number of epochs", rtol=0, atol=0)
    except CheckFailed as failure:
        try:
            n = int(np.asarray(got[2]).reshape(()))
        except (TypeError, ValueError):
            raise failure from None
        stop = (f"epoch {epochs} is the first in which nothing moves" if epochs < max_epochs
                else "it never settles, so all max_epochs run")
        raise CheckFailed(f"{where}: {epochs} epochs ({stop}); yours says {n}.",
                          _train_advice(n, got[0], X, y, lr, margin, max_epochs, epochs)) from None
    what = f"{where}: start from w = 0, b = 0, visit the samples in order, update after each; final"
    expect_array(got[0], w, f"{what} w")
    expect_scalar(got[1], b, f"{what} b")
    return int(epochs_got)


@exercise("1.3", "train_margin", hints=(
    "Your margin_update already decides whether a sample moves the line. The loop only has to "
    "notice whether anything moved during a whole pass over the samples.",
    "Start from w = 0, b = 0; in epoch 1, 2, ..., max_epochs apply margin_update to each sample "
    "in order and count the updates that changed w or b; after the first epoch with zero such "
    "updates, stop: its number is the answer (max_epochs if none).",
))
def check_train_margin(train_margin):
    results = []
    for gate in ("and", "nand"):
        X, y = logic_gate(gate)
        for margin in (0.0, 1.0):
            n = expect_margin_training(train_margin, gate.upper(), X, y, 1.0, margin, 100)
            results.append(f"{gate.upper()} margin {margin:g}: {n}")
    X, y = logic_gate("xor")
    expect_margin_training(train_margin, "XOR", X, y, 1.0, 0.0, 7)
    X = np.array([[2.0, 1.0], [1.0, 3.0], [-1.0, -1.0], [-2.0, 0.5], [0.5, -2.0]])  # (5, 2)
    expect_margin_training(train_margin, "5 points", X, np.array([1, 1, 0, 0, 0]), 0.5, 0.5, 50)
    return f"epochs until nothing moves: {', '.join(results)}; XOR never settles."


# ------------------------------------------------------------------ 1.4
@exercise("1.4", "majority_weights", hints=(
    "With equal weights, z only depends on how many inputs are on: 0, 1, 2 or 3. Where must "
    "the threshold sit between those counts?",
    "With w = (1, 1, 1), z = (number of inputs on) + b; majority needs z > 0 for 2 and 3 "
    "inputs on and z <= 0 for 0 and 1: any b strictly between -2 and -1.",
))
def check_majority(majority_weights):
    got = expect_tuple(call(majority_weights), 2, "the return value (w, b)")
    w = np.asarray(got[0], dtype=np.float64) if got[0] is not None else None
    if w is None or w.shape != (3,):
        raise CheckFailed(f"w should be an array of 3 weights (one per input), got {show(got[0])}.")
    b = expect_scalar(got[1], None, "b")  # any finite number
    outputs = reference.predict(CUBE, w, b)
    for name, rule in (("OR (at least one on)", 1), ("AND (all three on)", 3)):
        if np.array_equal(outputs, (CUBE.sum(axis=1) >= rule).astype(int)):
            move = "lower" if rule == 1 else "raise"
            raise CheckFailed(f"w={show(w)}, b={show(b)} computes {name}; majority needs at least "
                              f"two on: {move} the bias past the right count.")
    for x, want, have in zip(CUBE, MAJORITY, outputs):
        if want != have:
            raise CheckFailed(f"for x={show(x)} the majority is {want} but your perceptron outputs "
                              f"{have} (z = {show(x @ w + b)}).")
    return f"w = {show(w)}, b = {show(b)} outputs the majority on all 8 corners of the cube."
