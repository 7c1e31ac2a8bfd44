"""Checks for chapter 3, feedforward networks (``solutions/03_feedforward.ipynb``).

3.1 ``dense_forward(x, W, b) -> z``: z = x @ W + b for a batch x (batch, n_in).
3.2 ``mlp_forward(x, params, activation) -> y_hat``: a = activation(a @ W + b)
    for every (W, b) in params except the last, which stays linear.
3.3 ``shape_puzzles() -> dict``: the shapes in the 784-128-64-10 network.
3.4 ``count_parameters(sizes) -> int``: weights plus biases of an MLP.

The reference is :mod:`nnlib.functional` (``dense_forward``, ``relu_forward``,
``tanh_forward``).
"""
import numpy as np

from nnlib import functional as F
from nncourse.checks import CheckFailed, call, exercise, expect_scalar, rng, show
from nncourse.checks._slips import diagnose, expect_array_explained


def _relu(z):
    return np.maximum(z, 0.0)


def _case(batch, n_in, n_out, seed):
    """Small random x (batch, n_in), W (n_in, n_out), b (n_out,) with short decimals."""
    g = rng(seed)
    return (np.round(g.normal(size=(batch, n_in)), 1), np.round(g.normal(size=(n_in, n_out)), 1),
            np.round(g.normal(size=n_out), 1))


# ------------------------------------------------------------------ 3.1
def expect_dense(dense_forward, x, W, b):
    """Fail unless dense_forward(x, W, b) equals x @ W + b; name the slip if recognised."""
    x_in, W_in = x.copy(), W.copy()
    inputs = f"x of shape {x.shape}, W of shape {W.shape} and b of shape {b.shape}"
    case = f"for {inputs}"
    got = call(dense_forward, x_in, W_in, b.copy(), what=inputs)
    if not (np.array_equal(x_in, x) and np.array_equal(W_in, W)):
        raise CheckFailed(f"{case} your function changed x or W in place; compute a new array z.")
    expected = F.dense_forward(x, W, b)[0]
    square = W.shape[0] == W.shape[1]
    slips = [
        (x @ W, "You forgot to add the bias b."),
        (x @ W.T + b if square else None, "You used W.T: W has one row per input, so z = x @ W + b."),
        (x @ W - b, "Add the bias, do not subtract it."),
        ((x @ W + b).T, "Your z is transposed: rows are samples, so z = x @ W + b has "
                        "shape (batch, n_out)."),
        ((x[:1] @ W + b), "Only the first sample was computed: x @ W handles the whole batch at once."),
    ]
    hint = " (one row per sample, one column per unit)" if np.ndim(got) == 2 else ""
    return expect_array_explained(got, expected, f"{case}, z{hint}", slips)


@exercise("3.1", "dense_forward")
def check_dense_forward(dense_forward):
    for shape, seed in (((4, 3, 2), 0), ((1, 3, 5), 1), ((3, 3, 3), 2), ((6, 1, 4), 3)):
        expect_dense(dense_forward, *_case(*shape, seed))
    return "z = x @ W + b for batches of 1 to 6 samples, square and non-square W."


# ------------------------------------------------------------------ 3.2
def _mlp(x, params, activation, last=False):
    """The reference forward pass; last=True also activates the output (a slip)."""
    a = x
    for i, (W, b) in enumerate(params):
        a = a @ W + b
        if i < len(params) - 1 or last:
            a = activation(a)
    return a


def expect_mlp(mlp_forward, x, params, activation, name):
    network = f"a network with layer sizes {_sizes(params)} and activation {name}"
    case = f"for {network}"
    got = call(mlp_forward, x.copy(), [(W.copy(), b.copy()) for W, b in params], activation,
               what=network)
    expected = _mlp(x, params, activation)
    other = np.tanh if activation is _relu else _relu
    slips = [
        (_mlp(x, params, activation, last=True),
         "You applied the activation after the last layer too; the output layer stays linear."),
        (_mlp(x, params, lambda z: z), "You applied no activation between the layers."),
        (_mlp(x, params, other) if len(params) > 1 else None,
         "You used a fixed activation; apply the `activation` you are given."),
        (activation(x @ params[0][0] + params[0][1]) if len(params) > 1 else None,
         "Only the first layer was applied: loop over every (W, b) in params."),
    ]
    return expect_array_explained(got, expected, f"{case}, the output", slips)


def _sizes(params):
    return [params[0][0].shape[0]] + [W.shape[1] for W, _ in params]


@exercise("3.2", "mlp_forward")
def check_mlp_forward(mlp_forward):
    g = rng(4)

    def layers(*sizes):
        return [(np.round(g.normal(size=(m, n)), 1), np.round(g.normal(size=n), 1))
                for m, n in zip(sizes[:-1], sizes[1:])]

    x = np.round(g.normal(size=(5, 3)), 1)  # (5, 3)
    expect_mlp(mlp_forward, x, layers(3, 2), _relu, "relu")
    expect_mlp(mlp_forward, x, layers(3, 4, 2), _relu, "relu")
    expect_mlp(mlp_forward, x, layers(3, 4, 4, 3), np.tanh, "tanh")
    expect_mlp(mlp_forward, x[:1], layers(3, 6, 5, 4, 1), _relu, "relu")
    return "1 to 4 layers, relu and tanh, linear output layer."


# ------------------------------------------------------------------ 3.3
PUZZLE_SHAPES = {
    "W1": (784, 128), "b2": (64,), "z2": (32, 64), "y_hat": (32, 10), "y_hat_one": (1, 10),
}
PUZZLE_HINTS = {
    "W1": "W has one row per input feature and one column per unit of the layer.",
    "b2": "a bias vector has one entry per unit of its layer.",
    "z2": "z has one row per sample of the batch and one column per unit.",
    "y_hat": "the output has one row per sample and one column per class.",
    "y_hat_one": "a single image reshaped to (1, 784) is a batch of one.",
}


@exercise("3.3", "shape puzzles")
def check_shape_puzzles(shape_puzzles):
    got = call(shape_puzzles)
    if not isinstance(got, dict):
        raise CheckFailed(f"expected a dict of shapes such as {{'W1': (3, 4), ...}}, got {show(got)}.")
    missing = [key for key in PUZZLE_SHAPES if key not in got]
    if missing:
        raise CheckFailed(f"your dict has no answer for {missing}; answer every key of the template.")
    for key, want in PUZZLE_SHAPES.items():
        answer = got[key]
        if not isinstance(answer, (tuple, list)) or not all(
                isinstance(n, (int, np.integer)) for n in answer):
            raise CheckFailed(f"{key}: write a shape as a tuple of ints such as (3, 4) or (4,), "
                              f"got {show(answer)}.")
        if tuple(answer) != want:
            flipped = " It is transposed." if tuple(answer)[::-1] == want and len(want) == 2 else ""
            raise CheckFailed(f"{key}: {tuple(answer)} is not right.{flipped} Hint: {PUZZLE_HINTS[key]}")
    return f"all {len(PUZZLE_SHAPES)} shapes right."


# ------------------------------------------------------------------ 3.4
def _count(sizes, biases=True):
    return sum(m * n + (n if biases else 0) for m, n in zip(sizes[:-1], sizes[1:]))


@exercise("3.4", "count_parameters")
def check_count_parameters(count_parameters):
    for sizes in ([2, 1], [3, 4, 2], [784, 128, 64, 10], [64, 32, 32, 32, 10]):
        got = call(count_parameters, list(sizes))
        expected = _count(sizes)
        slips = [
            (_count(sizes, biases=False), "You counted the weights but not the biases (one per unit)."),
            (_count(sizes) + sizes[0], "The input layer has no bias: only layers with weights do."),
            (sum(sizes), "That is the number of units; count the entries of every W and b."),
        ]
        if got is None or isinstance(got, bool) or np.ndim(got) != 0:
            raise CheckFailed(f"for sizes={sizes} expected one whole number, got {show(got)}.")
        try:
            expect_scalar(got, expected, f"for sizes={sizes} the number of parameters", rtol=0, atol=0)
        except CheckFailed as failure:
            raise failure.with_advice(diagnose(got, slips)) from None
    return "weights plus biases for 1 to 4 layers (109,386 for 784-128-64-10)."
