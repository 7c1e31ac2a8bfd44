"""Checks for chapter 5, training in practice (``solutions/05_digits.ipynb``).

5.1 ``minibatches(X, y, batch_size, rng) -> [(X_batch, y_batch), ...]``: the
    rows in the order ``rng.permutation(len(X))``, cut into consecutive
    batches; the last one may be smaller.
5.2 ``sgd_momentum_step(params, grads, velocities, lr, momentum)``: for each
    i, v = momentum * v - lr * g, then p = p + v, both in place.
5.3 ``accuracy(y_true, y_pred) -> float``: the fraction predicted right.
5.4 ``confusion_matrix(y_true, y_pred, n_classes) -> (n_classes, n_classes)``
    ints: row = true class, column = predicted class.
5.5 ``he_init(n_in, n_out, rng) -> (W, b)``: W ~ N(0, 2 / n_in), b = 0.

References: :class:`nnlib.optim.SGD` (momentum), NumPy for the rest.
"""
import numpy as np

from nncourse.checks import (CheckFailed, call, exercise, expect_array, expect_numbers, expect_tuple,
                             rng, show)
from nncourse.checks._slips import expect_array_explained, expect_scalar_explained
from nnlib.optim import SGD


# ------------------------------------------------------------------ 5.1
def _batches(got, case, n_features):
    """The learner's batches as a list of (X_batch, y_batch) arrays."""
    if got is None:
        raise CheckFailed(f"{case}: your function returned None; return (or yield) the batches.")
    try:
        batches = list(got)
    except TypeError:
        raise CheckFailed(f"{case}: expected a list of (X_batch, y_batch) pairs, "
                          f"got {show(got)}.") from None
    out = []
    for i, pair in enumerate(batches):
        pair = expect_tuple(pair, 2, f"{case}: batch {i}")
        X_batch = expect_numbers(pair[0], f"{case}: X_batch {i}", shape=(None, n_features))
        out.append((X_batch, expect_numbers(pair[1], f"{case}: y_batch {i}", shape=(len(X_batch),))))
    return out


@exercise("5.1", "minibatches")
def check_minibatches(minibatches):
    for n, batch_size, seed in ((10, 4, 0), (12, 3, 1), (5, 8, 2), (7, 1, 3)):
        X = np.arange(n * 2, dtype=np.float64).reshape(n, 2)  # row i is [2i, 2i + 1]
        y = np.arange(n) * 10  # label of row i is 10 i
        case = f"for {n} samples and batch_size={batch_size}"
        got = _batches(call(minibatches, X.copy(), y.copy(), batch_size, np.random.default_rng(seed),
                            what=case.removeprefix("for ")), case, X.shape[1])
        order = np.random.default_rng(seed).permutation(n)
        sizes = [len(xb) for xb, _ in got]
        want = [min(batch_size, n - s) for s in range(0, n, batch_size)]
        if sum(sizes) < n and sizes == [batch_size] * (n // batch_size):
            raise CheckFailed(f"{case} you dropped the last {n - sum(sizes)} sample(s): keep the "
                              f"smaller last batch, so every sample is used once per epoch.")
        if sizes != want:
            raise CheckFailed(f"{case} the batch sizes should be {want}, yours are {sizes}.")
        rows = np.concatenate([xb[:, 0] for xb, _ in got]) / 2  # which row each X row came from
        labels = np.concatenate([yb for _, yb in got]) / 10
        if not np.array_equal(rows, labels):
            raise CheckFailed(f"{case} X_batch and y_batch no longer match row for row: shuffle "
                              f"both with the same order, X[idx] and y[idx].")
        if np.array_equal(rows, np.arange(n)) and n > 1:
            raise CheckFailed(f"{case} the batches are in the original order: visit the rows in "
                              f"the order rng.permutation(len(X)).")
        if not np.array_equal(rows, order):
            raise CheckFailed(f"{case} the rows come in the order {rows.astype(int).tolist()}, "
                              f"expected rng.permutation({n}) = {order.tolist()}; call "
                              f"rng.permutation once per epoch and cut it into consecutive slices.")
    return "every sample once per epoch, in rng.permutation order, last batch smaller."


# ------------------------------------------------------------------ 5.2
def _momentum_case(seed):
    g = rng(seed)
    params = [g.normal(size=(3, 2)), g.normal(size=2)]
    grads = [[g.normal(size=p.shape) for p in params] for _ in range(3)]  # 3 steps
    return params, grads


@exercise("5.2", "sgd_momentum_step")
def check_sgd_momentum_step(sgd_momentum_step):
    for lr, momentum, seed in ((0.1, 0.9, 0), (0.5, 0.0, 1), (0.01, 0.5, 2)):
        params, grads = _momentum_case(seed)
        mine = [p.copy() for p in params]
        velocities = [np.zeros_like(p) for p in params]
        reference = SGD(lr=lr, momentum=momentum)
        for step, g in enumerate(grads, start=1):
            case = f"after step {step} with lr={lr}, momentum={momentum}"
            before = [p.copy() for p in mine]
            call(sgd_momentum_step, mine, [x.copy() for x in g], velocities, lr, momentum,
                 what=f"step {step} with lr={lr}, momentum={momentum}")
            reference.step(zip(params, g), backend="numpy")
            v_ref = [state[0] for state in reference.state]
            if all(np.array_equal(p, q) for p, q in zip(mine, before)):
                raise CheckFailed(f"{case} the params did not change: update them in place "
                                  f"(p += v), so the caller's arrays change.")
            for i, (p, want) in enumerate(zip(mine, params)):
                expect_array_explained(p, want, f"{case}, params[{i}]", [
                    (before[i] - v_ref[i], "The step goes the wrong way: p = p + v with "
                     "v = momentum * v - lr * g."),
                    (before[i] - lr * g[i] if step > 1 and momentum > 0 else None,
                     "Your step ignores the velocity from the previous step: keep v in "
                     "velocities[i], updated in place (v *= momentum; v -= lr * g)."),
                ])
            for i, (v, want) in enumerate(zip(velocities, v_ref)):
                expect_array_explained(v, want, f"{case}, velocities[{i}]", [
                    (want / -lr, "Your velocity is momentum * v + g (the PyTorch convention); "
                     "here the velocity is the step itself: v = momentum * v - lr * g."),
                    (np.zeros_like(want), "The velocities stayed zero: update them in place "
                     "(velocities[i][...] = ... or v *= momentum; v -= lr * g)."),
                ])
    return "v = momentum * v - lr * g and p += v, in place, over three steps."


# ------------------------------------------------------------------ 5.3
@exercise("5.3", "accuracy")
def check_accuracy(accuracy):
    g = rng(3)
    cases = [(np.array([0, 1, 2, 1]), np.array([0, 1, 1, 1])), (np.array([3]), np.array([3])),
             (g.integers(0, 10, 50), g.integers(0, 10, 50)), (np.array([1, 0]), np.array([0, 1]))]
    for y_true, y_pred in cases:
        case = f"for y_true={show(y_true)}, y_pred={show(y_pred)}"
        got = call(accuracy, y_true.copy(), y_pred.copy(), what=case.removeprefix("for "))
        correct = int(np.sum(y_true == y_pred))
        expect_scalar_explained(got, correct / len(y_true), f"{case}, the accuracy", [
            (correct, "Return the fraction correct (a number in [0, 1]), not the count."),
            (100.0 * correct / len(y_true), "Return a fraction in [0, 1], not a percentage."),
            (1 - correct / len(y_true), "That is the error rate; accuracy counts the matches."),
        ])
    return "the fraction of matching labels."


# ------------------------------------------------------------------ 5.4
@exercise("5.4", "confusion_matrix")
def check_confusion_matrix(confusion_matrix):
    g = rng(4)
    cases = [(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3),
             (np.array([1, 1, 0]), np.array([1, 0, 0]), 4),  # classes 2 and 3 never appear
             (g.integers(0, 10, 80), g.integers(0, 10, 80), 10)]
    for y_true, y_pred, k in cases:
        expected = np.zeros((k, k), dtype=np.int64)
        np.add.at(expected, (y_true, y_pred), 1)
        case = f"for y_true={show(y_true)}, y_pred={show(y_pred)}, n_classes={k}"
        got = call(confusion_matrix, y_true.copy(), y_pred.copy(), k, what=case.removeprefix("for "))
        expect_array_explained(got, expected, f"{case}, the matrix", [
            (expected.T, "Your matrix is transposed: row i counts the samples whose TRUE class "
             "is i, column j those PREDICTED as j."),
        ], rtol=0, atol=0)
        expect_array(got, expected, f"{case}, the matrix", dtype_kind="iu")
    return "row = true class, column = predicted class, counts as ints."


# ------------------------------------------------------------------ 5.5
@exercise("5.5", "he_init")
def check_he_init(he_init):
    for n_in, n_out in ((400, 300), (50, 800)):
        inputs = f"n_in={n_in}, n_out={n_out}"
        case = f"for {inputs}"
        got = expect_tuple(call(he_init, n_in, n_out, np.random.default_rng(0), what=inputs),
                           2, f"{case}: the return value (W, b)")
        W = np.asarray(got[0], dtype=np.float64) if got[0] is not None else None
        if W is None or W.shape != (n_in, n_out):
            transposed = " (transposed)" if W is not None and W.shape == (n_out, n_in) else ""
            raise CheckFailed(f"{case} W should have shape {(n_in, n_out)}, got "
                              f"{None if W is None else W.shape}{transposed}.")
        expect_array(got[1], np.zeros(n_out), f"{case}, b (biases start at zero)")
        want, have = np.sqrt(2.0 / n_in), float(W.std())
        if abs(have - want) > 0.03 * want or abs(W.mean()) > 0.1 * want:
            raise CheckFailed(f"{case} the spread of W should be sqrt(2 / n_in) = {want:.4f}, yours "
                              f"has mean {W.mean():.4f} and standard deviation {have:.4f}."
                              + _init_advice(have, n_in, n_out))
        again = call(he_init, n_in, n_out, np.random.default_rng(0), what=inputs)[0]
        if not np.array_equal(np.asarray(again, dtype=np.float64), W):
            raise CheckFailed(f"{case} two calls with the same seed gave different W: draw the "
                              f"numbers from the rng you are given (rng.normal), not np.random.")
    return "W ~ N(0, 2 / n_in) of shape (n_in, n_out), b = 0, reproducible from rng."


def _init_advice(std, n_in, n_out):
    if np.isclose(std, np.sqrt(2.0 / n_out), rtol=0.03):
        return " He initialisation uses the fan-in n_in, not n_out."
    if np.isclose(std, 2.0 / n_in, rtol=0.03):
        return " 2 / n_in is the variance; the standard deviation is its square root."
    if np.isclose(std, np.sqrt(1.0 / n_in), rtol=0.03):
        return (" That is sqrt(1 / n_in); He initialisation for ReLU doubles the variance: "
                "sqrt(2 / n_in).")
    if np.isclose(std, 1.0, rtol=0.03):
        return " Scale the standard normal numbers by sqrt(2 / n_in)."
    return ""
