"""Checks for chapter 4, backpropagation (``solutions/04_backprop.ipynb``).

4.1 ``relu_backward(dout, cache) -> dz``, cache = z; the derivative at z = 0 is 0.
4.3 ``softmax_ce_backward(logits, T) -> dlogits`` for the cross-entropy with
    target weights T (N, K), L = -(1/N) sum_i sum_k T_ik log softmax(z)_ik:
    dlogits = (p * sum_k T_ik - T) / N; it is (p - T) / N only when every row
    of T sums to 1. The derivation is written question 4.2.
4.4 ``mlp_backward(params, x, y, activation) -> (loss, grads)`` for a network of
    any depth, params {"W1", "b1", ..., "WL", "bL"}, every hidden layer
    followed by ``activation`` ("sigmoid", "tanh" or "relu"), softmax
    cross-entropy on the logits; checked against finite differences on 1, 2
    and 4 hidden layers, for every activation.
4.5 ``mlp_flops(sizes, batch) -> (forward, backward)``: the FLOPs of the matrix
    products, 2 per multiply-add; the backward pass needs no dx for the input.

Gradients are compared with centred finite differences (:mod:`nnlib.gradcheck`);
a wrong one is named with its relative error, and a recognised slip with its
advice. An answer that calls nnlib's implementation of the exercise itself
(``nncourse.checks.forbidden.FORBIDDEN``) fails with "write it yourself" (see ``nncourse.checks._own``).
"""
import numpy as np

from nnlib import functional as F
from nncourse.checks import CheckFailed, exercise, expect_tuple, rng, show
from nncourse.checks._own import call_own
from nncourse.checks.forbidden import FORBIDDEN
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
@exercise("4.1", "relu_backward", hints=(
    "relu(z) = max(0, z) is a straight line on each side of 0. What is its slope for z > 0, "
    "and for z < 0? The chain rule then multiplies that slope by the upstream gradient.",
    "relu'(z) = 1 where z > 0 and 0 where z <= 0 (at z = 0 we take 0), so dz = dout * 1[z > 0], "
    "elementwise. Return a new array: dout may be used by another path of the graph.",
))
def check_relu_backward(relu_backward):
    for shape, seed in (((3, 4), 0), ((6,), 1), ((2, 1), 2)):
        g = rng(seed)
        z = g.normal(size=shape)
        z.flat[::3] = 0.0  # exact zeros: relu has a kink there, its derivative is taken as 0
        dout = g.normal(size=shape)
        case = f"for z = {show(z)}" if z.size <= 8 else f"for z of shape {shape} (every third entry 0)"
        dout_seen = dout.copy()
        got = call_own(relu_backward, dout_seen, z.copy(), forbidden=FORBIDDEN["4.1"],
                       what=f"dout and z of shape {shape}")
        if not np.array_equal(dout_seen, dout):
            raise CheckFailed(f"{case} your function changed dout in place. When a value feeds two "
                              f"paths, the same dout is used again: return a new array "
                              f"(dout * mask) instead.")
        expected = F.relu_backward(dout, z)
        expect_array_explained(got, expected, f"{case}, dz", [
            (dout * (z >= 0), "At z = 0 the derivative is taken as 0: use z > 0, not z >= 0."),
            ((z > 0).astype(float), "Multiply by dout: the chain rule gives dz = dout * relu'(z)."),
            (dout * z, "relu'(z) is 1 or 0 (a step), not z itself."),
            (dout * np.maximum(z, 0.0), "You multiplied by relu(z); its derivative is the step 1[z > 0]."),
            (dout * (dout > 0), "Mask by the sign of z (the cache), not by the sign of dout."),
        ], rtol=1e-12, atol=0)
    return "dz = dout where z > 0 and 0 elsewhere (also at z = 0), a new array."


# ------------------------------------------------------------------ 4.3
def _ce_loss(logits, T):
    return -np.sum(T * F.log_softmax(logits)) / len(logits)


def _ce_cases():
    g = rng(43)
    onehot = np.eye(3)[[0, 2, 1, 2]]  # (4, 3): the usual labels
    smooth = 0.9 * np.eye(4)[[1, 3, 0]] + 0.1 / 4  # (3, 4): label smoothing, rows sum to 1
    weighted = np.eye(3)[[2, 0, 1, 1]] * np.array([[1.0], [3.0], [0.5], [2.0]])  # rows sum to w_i
    return [
        ("one-hot targets", g.normal(size=(4, 3)), onehot),
        ("smoothed targets (rows sum to 1)", g.normal(size=(3, 4)), smooth),
        ("one sample, one-hot target", g.normal(size=(1, 5)), np.eye(5)[[3]]),
        ("weighted targets (row sums 1, 3, 0.5, 2)", g.normal(size=(4, 3)), weighted),
        ("one-hot targets and logits near 1000", 1000.0 + g.normal(size=(3, 3)), np.eye(3)[[1, 0, 2]]),
    ]


@exercise("4.3", "softmax_ce_backward", hints=(
    "Write L for one sample: -sum_k T_k log p_k with log p_k = z_k - log sum_j e^{z_j}. "
    "Differentiate log p_k with respect to one logit z_j first; then sum over k with the "
    "weights T_k; then remember the 1/N of the mean.",
    "d log p_k / d z_j = [j = k] - p_j. So dL/dz_ij = (p_ij * sum_k T_ik - T_ij) / N. "
    "Only when every row of T sums to 1 is this (p - T) / N.",
    "Compute p with the max-shift (subtract each row's maximum before exponentiating): logits "
    "of 1000 must not overflow.",
))
def check_softmax_ce_backward(softmax_ce_backward):
    for story, logits, T in _ce_cases():
        n = len(logits)
        case = f"for {story}, logits of shape {logits.shape}"
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            got = call_own(softmax_ce_backward, logits.copy(), T.copy(), forbidden=FORBIDDEN["4.3"],
                           what=case.removeprefix("for "))
        if isinstance(got, tuple):
            raise CheckFailed(f"{case} you returned a tuple of {len(got)}; return only dlogits, "
                              f"an array of the shape of logits.")
        arr = None if got is None else np.asarray(got, dtype=float)
        if arr is not None and arr.shape == logits.shape and not np.isfinite(arr).all():
            raise CheckFailed(f"{case} your dlogits holds NaN or inf: np.exp overflowed. Subtract "
                              f"each row's maximum from the logits before np.exp (max-shift).")
        p, sums = F.softmax(logits), T.sum(axis=1, keepdims=True)
        numeric = numerical_gradient(lambda: _ce_loss(logits, T), logits)
        expect_gradients({"dlogits": got}, {"dlogits": numeric}, {"dlogits": [
            ((p - T) / n, f"(p - T) / N is right only when every row of T sums to 1; here the "
             f"rows sum to {show(sums.ravel())}. Redo the derivative: the p term is multiplied by "
             f"the row sum of T."),
            (p * sums - T if n > 1 else None, "dlogits is N times too large: the loss is a mean, "
             "so divide by N."),
            ((T - p * sums) / n, "The sign is flipped: increasing the true class's logit lowers "
             "the loss, so its gradient is negative."),
            (p / n, "Subtract the targets: dlogits = (p * rowsum(T) - T) / N."),
            ((p - T) if n > 1 else None, "dlogits is N times too large, and (p - T) assumes rows "
             "of T that sum to 1."),
        ]}, case)
    return "(p * rowsum(T) - T) / N for one-hot, smoothed and weighted targets, stable at 1000."


# ------------------------------------------------------------------ 4.4
ACTIVATIONS = {"sigmoid": (F.sigmoid_forward, F.sigmoid_backward),
               "tanh": (F.tanh_forward, F.tanh_backward),
               "relu": (F.relu_forward, F.relu_backward)}


def reference_mlp(params, x, y, activation, bug=None):
    """(loss, grads) of the MLP of exercise 4.4; ``bug`` plants one classic slip."""
    n_layers = len(params) // 2
    act_forward, act_backward = ACTIVATIONS["tanh" if bug == "always tanh" else activation]
    caches, a = [], x
    for layer in range(1, n_layers + 1):
        z, dense_cache = F.dense_forward(a, params[f"W{layer}"], params[f"b{layer}"])
        if layer < n_layers or bug == "activation on output":
            a, act_cache = act_forward(z)
        else:
            a, act_cache = z, None
        caches.append((dense_cache, act_cache))
    loss, dz = F.softmax_cross_entropy(a, y)
    if bug == "no 1/N":
        dz = dz * len(x)
    grads = {}
    for layer in range(n_layers, 0, -1):
        dense_cache, act_cache = caches[layer - 1]
        if act_cache is not None and bug != "no derivative":
            dz = act_backward(dz, act_cache)
        da, grads[f"W{layer}"], grads[f"b{layer}"] = F.dense_backward(dz, dense_cache)
        if bug == "db mean":
            grads[f"b{layer}"] = dz.mean(axis=0)
        dz = da
    return loss, grads


SLIPS_44 = {
    "no derivative": "The hidden layers' gradients miss the activation's derivative: after "
                     "dx of layer l + 1, multiply by the activation's derivative (its backward "
                     "with layer l's own cache) before layer l's dense backward.",
    "always tanh": "You used tanh whatever `activation` says: pick the forward/backward pair "
                   "from ACTIVATIONS[activation].",
    "db mean": "db sums delta over the batch; it is not the mean.",
    "no 1/N": "Every gradient is N times too large: the loss is a mean over the N samples, "
              "so the gradient of the logits is (p - Y) / N.",
}


def _mlp_params(sizes, seed):
    g = rng(seed)
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{layer}"] = g.normal(size=(n_in, n_out)) / np.sqrt(n_in) * 1.5
        params[f"b{layer}"] = g.normal(size=n_out) * 0.5
    return params


MLP_CASES = [(hidden, activation) for hidden in ((5,), (4, 3), (3, 4, 3, 4))
             for activation in ("tanh", "relu", "sigmoid")]


@exercise("4.4", "mlp_backward", hints=(
    "Do the lecture's 2-layer backward pass on paper for 3 layers and look for the step "
    "that repeats. Store a (dense cache, activation cache) pair per layer in the forward "
    "loop, then run a second loop over the layers in reverse.",
    "delta^[L] = (p - Y) / N. For l = L, ..., 1: dW^[l] = a^[l-1]T delta^[l], db^[l] = sum over "
    "the batch of delta^[l], da^[l-1] = delta^[l] W^[l]T, then delta^[l-1] = da^[l-1] * "
    "f'(z^[l-1]) with layer l-1's own cache. The output layer has no activation.",
    "Number the layers 1..L = len(params) // 2 and build the keys as f\"W{l}\" and f\"b{l}\"; "
    "a cache list indexed by l - 1 keeps the reverse loop simple.",
))
def check_mlp_backward(mlp_backward):
    passed = []
    for index, (hidden, activation) in enumerate(MLP_CASES):
        try:
            _check_mlp_case(mlp_backward, index, hidden, activation)
        except CheckFailed as failure:
            if passed and len(hidden) > 1 and all(len(h) == 1 for h, _ in passed):
                raise failure.with_advice(
                    f"It passed for 1 hidden layer but not for {len(hidden)}: make sure nothing "
                    f"assumes two layers (loop over l = L, ..., 1).") from None
            raise
        passed.append((hidden, activation))
    return ("loss and every gradient match finite differences for 1, 2 and 4 hidden layers, "
            "with sigmoid, tanh and ReLU.")


def _check_mlp_case(mlp_backward, index, hidden, activation):
    g = rng(440 + index)
    n_in, n_classes, n = 3, 3, 5
    sizes = (n_in, *hidden, n_classes)
    x, y = g.normal(size=(n, n_in)), g.integers(0, n_classes, size=n)
    params = _mlp_params(sizes, 450 + index)
    before = {k: v.copy() for k, v in params.items()}
    depth = f"{len(hidden)} hidden layer{'s' * (len(hidden) > 1)}"
    case = f"for {depth} of sizes {sizes}, activation={activation!r}, a batch of {n}"
    got = call_own(mlp_backward, params, x.copy(), y.copy(), activation,
                   forbidden=FORBIDDEN["4.4"], what=case.removeprefix("for "))
    if any(not np.array_equal(params[k], before[k]) for k in before):
        raise CheckFailed(f"{case} your function changed params; it should only compute the "
                          f"loss and the gradients, not update anything.")
    got = expect_tuple(got, 2, f"{case}: the return value (loss, grads)")
    loss, _ = reference_mlp(before, x, y, activation)
    expect_scalar_explained(got[0], loss, f"{case}, the loss", [
        (reference_mlp(before, x, y, activation, "activation on output")[0],
         "The output layer has no activation: its z goes straight into softmax cross-entropy."),
        (reference_mlp(before, x, y, "tanh")[0] if activation != "tanh" else None,
         SLIPS_44["always tanh"]),
    ], rtol=1e-7)
    if not isinstance(got[1], dict) or set(got[1]) != set(before):
        shown = sorted(got[1]) if isinstance(got[1], dict) else show(got[1])
        raise CheckFailed(f"{case}: grads should be a dict with the keys of params, "
                          f"{sorted(before)}; got {shown}.")
    numeric = {f"d{k}": numerical_gradient(
        lambda: reference_mlp(params, x, y, activation)[0], params[k]) for k in params}
    slips = {f"d{k}": [] for k in params}
    for bug, advice in SLIPS_44.items():
        if bug == "always tanh" and activation == "tanh":
            continue
        for k, value in reference_mlp(before, x, y, activation, bug)[1].items():
            slips[f"d{k}"].append((value, advice))
    expect_gradients({f"d{k}": v for k, v in got[1].items()}, numeric, slips, case)


# ------------------------------------------------------------------ 4.5
def flops(sizes, batch, half=False, first_dx=False, backward_products=2):
    """(forward, backward) FLOPs of the matrix products; the keywords plant slips."""
    per = 1 if half else 2
    layers = list(zip(sizes[:-1], sizes[1:]))
    forward = sum(per * batch * a * b for a, b in layers)
    backward = sum(per * batch * a * b for a, b in layers)  # dW
    if backward_products == 2:
        backward += sum(per * batch * a * b for i, (a, b) in enumerate(layers) if i > 0 or first_dx)
    return forward, backward


@exercise("4.5", "mlp_flops", hints=(
    "Count only the matrix products. A product of an (m, k) and a (k, n) matrix makes "
    "m * n dot products of length k: how many multiplications and additions is that?",
    "(m, k) @ (k, n) costs 2 m k n FLOPs. Forward: one product per layer, x @ W. Backward: "
    "dW = x.T @ delta and dx = delta @ W.T, two products per layer, except that the first "
    "layer's dx is never needed: nothing learns from the input.",
))
def check_mlp_flops(mlp_flops):
    for sizes, batch in (((4, 3), 1), ((64, 32, 10), 32), ((784, 128, 10), 128),
                         ((10, 20, 30, 40), 7)):
        case = f"for sizes={list(sizes)} and batch={batch}"
        got = expect_tuple(call_own(mlp_flops, list(sizes), batch, forbidden=FORBIDDEN["4.5"],
                                    what=case.removeprefix("for ")),
                           2, f"{case}: the return value (forward, backward)")
        forward, backward = flops(sizes, batch)
        slips = [(flops(sizes, batch, half=True)[0], "A multiply-add is 2 FLOPs: (m, k) @ (k, n) "
                  "costs 2 m k n.")]
        expect_scalar_explained(got[0], forward, f"{case}, the forward FLOPs", slips, rtol=0, atol=0.5)
        expect_scalar_explained(got[1], backward, f"{case}, the backward FLOPs", [
            (flops(sizes, batch, first_dx=True)[1], "The first layer's dx is never needed (the "
             "input does not learn): leave that product out."),
            (flops(sizes, batch, half=True)[1], "A multiply-add is 2 FLOPs."),
            (flops(sizes, batch, backward_products=1)[1], "Each layer has two products backward: "
             "dW = x.T @ delta and dx = delta @ W.T (except the first layer's dx)."),
            (flops(sizes, batch, half=True, first_dx=True)[1], "A multiply-add is 2 FLOPs, and "
             "the first layer needs no dx."),
        ], rtol=0, atol=0.5)
    return "forward 2 N n_in n_out per layer; backward twice that, minus the first layer's dx."
