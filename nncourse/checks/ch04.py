"""Checks for chapter 4, backpropagation (``solutions/04_backprop.ipynb``).

4.1 ``sigmoid_backward(dout, cache) -> dz``, cache = a = sigmoid(z).
4.2 ``dense_backward(dout, cache) -> (dx, dW, db)``, cache = (x, W).
4.3 ``softmax_cross_entropy(logits, y) -> (loss, dlogits)``, mean over the batch.
4.4 ``gradient_errors(loss_and_grads, params) -> {name: relative error}``.
4.5 ``train_step(params, x, y, lr) -> loss``: one gradient-descent step of the
    2-layer tanh network, params {"W1", "b1", "W2", "b2"} updated in place.

Every gradient is compared with nnlib's reference (:mod:`nnlib.functional`)
and with centred finite differences (:mod:`nnlib.gradcheck`); a wrong one is
named with its relative error.
"""
import numpy as np

from nnlib import functional as F
from nncourse.checks import CheckFailed, call, exercise, expect_finite, expect_tuple, rng, show
from nncourse.checks._slips import diagnose, expect_array_explained, expect_scalar_explained
from nnlib.gradcheck import numerical_gradient, rel_error

TOLERANCE = 1e-6  # relative error above which a gradient counts as wrong


def expect_gradients(got, numeric, slips, case):
    """Compare each named gradient with its finite-difference value; name every wrong one.

    got, numeric: {name: array}; slips: {name: [(slip result, advice)]}.
    """
    wrong, right = [], []
    for name, want in numeric.items():
        have = got[name]
        arr = None if have is None else np.asarray(have)
        if arr is None or arr.dtype.kind not in "biuf":
            raise CheckFailed(f"{case}: {name} should be an array of numbers, got {show(have)}.")
        if arr.shape != want.shape:
            raise CheckFailed(f"{case}: {name} should have shape {want.shape} (the shape of "
                              f"{name[1:]}), got {arr.shape}.")
        expect_finite(arr, f"{case}: {name}")  # explicit: NaN compares False with any tolerance
        error = rel_error(arr, want)
        if not error <= TOLERANCE:  # also catches NaN
            wrong.append(f"{name} is wrong (relative error {error:.1e} against finite "
                         f"differences).{diagnose(arr, slips.get(name, []))}")
        else:
            right.append(name)
    if wrong:
        verb = "is" if len(right) == 1 else "are"
        tail = f" {', '.join(right)} {verb} right." if right else ""
        raise CheckFailed(f"{case}: {' '.join(wrong)}{tail}")


# ------------------------------------------------------------------ 4.1
@exercise("4.1", "sigmoid_backward")
def check_sigmoid_backward(sigmoid_backward):
    for shape, seed in (((3, 4), 0), ((5,), 1), ((2, 1), 2)):
        g = rng(seed)
        z = g.normal(scale=2.0, size=shape)
        a, dout = F.sigmoid(z), g.normal(size=shape)
        case = f"for z of shape {shape}"
        got = call(sigmoid_backward, dout.copy(), a.copy(), what=f"dout and a of shape {shape}")
        numeric = numerical_gradient(lambda: F.sigmoid(z), z, df=dout)
        s = F.sigmoid(a)
        slips = {"dz": [
            (a * (1 - a), "Multiply by dout: the chain rule gives dz = dout * sigma'(z)."),
            (dout * a, "sigma'(z) is a * (1 - a), not a."),
            (dout * s * (1 - s),
             "The cache already holds a = sigma(z); do not apply sigmoid to it again."),
            (dout * (1 - a * a), "1 - a**2 is tanh's derivative; sigmoid's is a * (1 - a)."),
        ]}
        expect_gradients({"dz": got}, {"dz": numeric}, slips, case)
    return "dz = dout * a * (1 - a), matching finite differences."


# ------------------------------------------------------------------ 4.2
@exercise("4.2", "dense_backward")
def check_dense_backward(dense_backward):
    for (batch, n_in, n_out), seed in (((4, 3, 2), 0), ((1, 2, 5), 1), ((5, 3, 3), 2)):
        g = rng(seed)
        x, W = g.normal(size=(batch, n_in)), g.normal(size=(n_in, n_out))
        b, dout = g.normal(size=n_out), g.normal(size=(batch, n_out))
        case = f"for x {x.shape}, W {W.shape}, dout {dout.shape}"
        got = call(dense_backward, dout.copy(), (x.copy(), W.copy()), what=case.removeprefix("for "))
        got = expect_tuple(got, 3, f"{case}: the return value (dx, dW, db)")

        def z():
            return x @ W + b

        numeric = {"dx": numerical_gradient(z, x, df=dout), "dW": numerical_gradient(z, W, df=dout),
                   "db": numerical_gradient(z, b, df=dout)}
        slips = {
            "dx": [(dout @ W if n_in == n_out else None, "Use the transpose: dx = dout @ W.T.")],
            "dW": [(x.T @ dout / batch if batch > 1 else None, "Do not divide by the batch size "
                    "here: dout already carries the 1/N of the mean loss."),
                   (dout.T @ x if n_in == n_out else None, "dW = x.T @ dout, not its transpose.")],
            "db": [(dout.mean(axis=0) if batch > 1 else None,
                    "db is the sum of dout over the batch, not the mean.")],
        }
        expect_gradients(dict(zip(("dx", "dW", "db"), got)), numeric, slips, case)
    return "dx = dout @ W.T, dW = x.T @ dout, db = dout summed over the batch."


# ------------------------------------------------------------------ 4.3
def _onehot(y, k):
    return np.eye(k)[y]  # (N, k)


@exercise("4.3", "softmax_cross_entropy")
def check_softmax_cross_entropy(softmax_cross_entropy):
    cases = (((4, 3), 0.0, 0), ((1, 5), 0.0, 1), ((6, 4), 0.0, 2), ((3, 3), 1000.0, 3))
    for (n, k), offset, seed in cases:
        g = rng(seed)
        logits, y = offset + g.normal(size=(n, k)), g.integers(0, k, size=n)
        case = f"for logits of shape {(n, k)}" + (" with entries near 1000" if offset else "")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            got = call(softmax_cross_entropy, logits.copy(), y.copy(), what=case.removeprefix("for "))
        got = expect_tuple(got, 2, f"{case}: the return value (loss, dlogits)")
        loss, dlogits = F.softmax_cross_entropy(logits, y)
        if offset and not np.all(np.isfinite(np.asarray(got[0], dtype=float))):
            raise CheckFailed(f"{case} your loss is {show(got[0])}: np.exp overflowed. Subtract "
                              f"each row's maximum from the logits before np.exp (max-shift).")
        p, Y = F.softmax(logits), _onehot(y, k)
        logp = F.log_softmax(logits)[np.arange(n), y]
        expect_scalar_explained(got[0], loss, f"{case}, the loss", [
            (-logp.sum(), "You summed over the batch; the loss is the mean."),
            (logp.mean(), "Cross-entropy is minus the mean log-probability of the true class."),
        ] if n > 1 else [(logp.mean(), "Cross-entropy is -log p of the true class.")])
        numeric = numerical_gradient(lambda: F.softmax_cross_entropy(logits, y)[0], logits)
        expect_gradients({"dlogits": got[1]}, {"dlogits": numeric}, {"dlogits": [
            (p - Y, "dlogits is N times too large: the loss is a mean, so divide by N.")
            if n > 1 else (None, ""),
            ((Y - p) / n, "The sign is flipped: dlogits = (p - onehot(y)) / N."),
            (p / n, "Subtract 1 at each row's true class: (p - onehot(y)) / N."),
        ]}, case)
    return "mean loss and (p - onehot(y)) / N, stable for logits of 1000."


# ------------------------------------------------------------------ 4.4
def _one_number(value):
    """value as a finite float, or None when it is not one finite number."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.size != 1 or not np.isfinite(arr).all():
        return None
    return float(arr.reshape(()))


def _two_layer(x, y, bug=None):
    """loss_and_grads(params) of the 2-layer tanh network; ``bug`` plants one mistake."""
    def loss_and_grads(params):
        z1, cache1 = F.dense_forward(x, params["W1"], params["b1"])
        a1, cache_act = F.tanh_forward(z1)
        z2, cache2 = F.dense_forward(a1, params["W2"], params["b2"])
        loss, dz2 = F.softmax_cross_entropy(z2, y)
        da1, dW2, db2 = F.dense_backward(dz2, cache2)
        dz1 = da1 if bug == "no tanh'" else F.tanh_backward(da1, cache_act)
        _, dW1, db1 = F.dense_backward(dz1, cache1)
        grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": 2 * db2 if bug == "db2 x 2" else db2}
        return loss, grads
    return loss_and_grads


def _params(seed=5, sizes=(3, 4, 3)):
    g = rng(seed)
    return {"W1": g.normal(size=sizes[:2]), "b1": g.normal(size=sizes[1]) * 0.1,
            "W2": g.normal(size=sizes[1:]), "b2": g.normal(size=sizes[2]) * 0.1}


@exercise("4.4", "gradient_errors")
def check_gradient_errors(gradient_errors):
    g = rng(6)
    x, y = g.normal(size=(5, 3)), g.integers(0, 3, size=5)
    for bug, broken in ((None, ()), ("db2 x 2", ("b2",)), ("no tanh'", ("W1", "b1"))):
        params = _params()
        before = {k: v.copy() for k, v in params.items()}
        story = "a correct backward" if bug is None else f"a backward with a planted bug ({bug})"
        got = call(gradient_errors, _two_layer(x, y, bug), params, what=story)
        if not all(np.array_equal(params[k], before[k]) for k in params):
            raise CheckFailed(f"for {story} your function left params changed; every entry "
                              f"must be restored after its finite difference.")
        if not isinstance(got, dict) or set(got) != set(params):
            raise CheckFailed(f"for {story} expected a dict with keys {sorted(params)}, "
                              f"got {show(got)}.")
        for name, value in got.items():
            error = _one_number(value)
            if error is None or error < 0:
                raise CheckFailed(f"for {story} {name}: expected one relative error >= 0, "
                                  f"got {show(value)}.")
            if name in broken and error < 1e-3:
                raise CheckFailed(f"for {story} {name}'s gradient is wrong, so its error should be "
                                  f"large (> 1e-3), yours says {error:.1e}. Compare the analytic "
                                  f"gradient with the numerical one.")
            if name not in broken and error > 1e-5:
                raise CheckFailed(f"for {story} {name}'s gradient is right, so its error should be "
                                  f"tiny (< 1e-5), yours says {error:.1e}. Does f read the very array "
                                  f"that numerical_gradient perturbs (params[name], not a copy)?")
    return "small errors for a correct backward; large exactly where a bug was planted."


# ------------------------------------------------------------------ 4.5
def _reference_step(params, x, y, lr):
    loss, grads = _two_layer(x, y)(params)
    return loss, {k: params[k] - lr * grads[k] for k in params}, grads


def _step_advice(name, have, old, grad, lr):
    if have.shape != old.shape:
        return f"{name} changed shape from {old.shape} to {have.shape}."
    if np.allclose(have, old):
        return f"{name} did not change: update it in place, e.g. params[{name!r}] -= lr * d{name}."
    if np.allclose(have, old + lr * grad):
        return f"{name} moved uphill: subtract lr times the gradient."
    if np.allclose(have, old - grad) and lr != 1:
        return f"{name} moved by the whole gradient: multiply it by lr."
    error = rel_error(have - old, -lr * grad)
    return f"{name} moved, but not by -lr * d{name} (relative error of the step {error:.1e})."


def _close(have, want):
    have = np.asarray(have, dtype=np.float64)
    return have.shape == want.shape and np.allclose(have, want, rtol=1e-6, atol=1e-9)


@exercise("4.5", "train_step")
def check_train_step(train_step):
    g = rng(7)
    x, y, lr = g.normal(size=(6, 3)), g.integers(0, 3, size=6), 0.5
    params = _params(seed=8)
    for step in (1, 2):
        before = {k: v.copy() for k, v in params.items()}
        loss, after, grads = _reference_step(before, x, y, lr)
        case = f"in step {step} (lr={lr}, a batch of 6)"
        got = call(train_step, params, x.copy(), y.copy(), lr, what=f"step {step} of training")
        if not isinstance(params, dict) or set(params) != set(before):
            raise CheckFailed(f"{case} params should keep the keys {sorted(before)}.")
        problems = [_step_advice(k, np.asarray(params[k], dtype=np.float64), before[k], grads[k], lr)
                    for k in before if not _close(params[k], after[k])]
        if problems:
            raise CheckFailed(f"{case}: {' '.join(problems)}")
        after_loss = _two_layer(x, y)(after)[0]
        expect_scalar_explained(got, loss, f"{case}, the returned loss", [
            (after_loss, "That is the loss after the update; return the one of the forward pass."),
        ])
    return "two steps match the reference: forward, backward, params -= lr * grads."
