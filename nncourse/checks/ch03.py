"""Checks for chapter 3, feedforward networks (``solutions/03_feedforward.ipynb``).

3.1 ``dense_forward(x, W, b) -> z``: z = x @ W + b for a batch x (batch, n_in).
3.2 ``mlp_activations(x, params, activations) -> [a0, a1, ..., aL]``: a forward
    pass with its own activation per layer (``activations[l]``, e.g. ``identity``
    for a linear output), keeping every layer's output (a0 = x): the lecture's
    ``forward`` has one fixed activation and returns only y_hat.
3.3 ``shape_puzzles() -> dict``: the shapes in the 784-128-64-10 network.
3.4 ``count_parameters(sizes) -> int``: weights plus biases of an MLP.

The reference is :mod:`nnlib.functional` (``dense_forward``, ``relu_forward``,
``tanh_forward``).
"""
import numpy as np

from nnlib import functional as F
from nncourse.checks import CheckFailed, call, exercise, expect_array, expect_scalar, rng, show
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


@exercise("3.1", "dense_forward", hints=(
    "Unit j of the layer is a neuron whose weights are column j of W. One matrix product can "
    "compute every unit for every sample at once: which, given the shapes (N, n_in) and (n_in, n_out)?",
    "z = x W + b: (N, n_in) times (n_in, n_out) gives (N, n_out), and b, shape (n_out,), is "
    "added to every row by broadcasting. Compute a new array; leave x and W unchanged.",
))
def check_dense_forward(dense_forward):
    for shape, seed in (((4, 3, 2), 0), ((1, 3, 5), 1), ((3, 3, 3), 2), ((6, 1, 4), 3)):
        expect_dense(dense_forward, *_case(*shape, seed))
    return "z = x @ W + b for batches of 1 to 6 samples, square and non-square W."


# ------------------------------------------------------------------ 3.2
def identity(z):
    return z


def _all_layers(x, params, activations, keep="a"):
    """The reference list [a0, ..., aL]; keep="z" is the slip of storing pre-activations."""
    a, out = x, [x]
    for (W, b), act in zip(params, activations):
        z = a @ W + b  # (batch, n_l)
        a = act(z)
        out.append(z if keep == "z" else a)
    return out


def expect_mlp(mlp_activations, x, params, activations, names):
    network = (f"a network with layer sizes {_sizes(params)} and activations {names}")
    got = call(mlp_activations, x.copy(), [(W.copy(), b.copy()) for W, b in params], list(activations),
               what=network)
    expected = _all_layers(x, params, activations)
    case = f"for {network}"
    if got is None:
        raise CheckFailed(f"{case}: your function returned None; did you forget `return`?")
    if isinstance(got, np.ndarray):
        hint = " (the output alone)" if np.shape(got) == expected[-1].shape else ""
        raise CheckFailed(f"{case}: expected a list of {len(expected)} arrays [x, a1, ..., aL], got one "
                          f"array of shape {got.shape}{hint}; append every layer's output to a list.")
    got = list(got)
    if len(got) == len(expected) - 1:
        first = np.shape(got[0]) == expected[1].shape
        raise CheckFailed(f"{case}: expected {len(expected)} arrays (the input x and one per layer), "
                          f"got {len(got)}." + (" The list starts with x itself, a0 = x." if first else ""))
    if len(got) != len(expected):
        raise CheckFailed(f"{case}: expected a list of {len(expected)} arrays [x, a1, ..., aL], got "
                          f"{len(got)}.")
    first_act = [activations[0]] * len(activations)
    slips = {
        "z": ("You stored z = a @ W + b; store a = activation(z), the input of the next layer.",
              _all_layers(x, params, activations, keep="z")),
        "first": ("You used the first activation for every layer; layer l uses activations[l].",
                  _all_layers(x, params, first_act)),
    }
    for index, (got_a, want) in enumerate(zip(got, expected)):
        what = f"{case}, a{index}" + (" (= x)" if index == 0 else "")
        try:
            expect_array(got_a, want, what)
        except CheckFailed as failure:
            advice = next((text for text, slip in slips.values()
                           if np.shape(got_a) == slip[index].shape and np.allclose(got_a, slip[index])), "")
            raise failure.with_advice(advice) from None
    return got


def _sizes(params):
    return [params[0][0].shape[0]] + [W.shape[1] for W, _ in params]


@exercise("3.2", "mlp_activations", hints=(
    "It is the lecture's loop, with two changes: the activation now depends on the layer, and "
    "every layer's output is kept. Pair each (W, b) with its activation.",
    "a0 = x; for l = 1..L: z_l = a_{l-1} W_l + b_l and a_l = activations[l-1](z_l); the answer "
    "is the list [a0, a1, ..., aL] of L + 1 arrays.",
))
def check_mlp_activations(mlp_activations):
    g = rng(4)

    def layers(*sizes):
        return [(np.round(g.normal(size=(m, n)), 1), np.round(g.normal(size=n), 1))
                for m, n in zip(sizes[:-1], sizes[1:])]

    x = np.round(g.normal(size=(5, 3)), 1)  # (5, 3)
    expect_mlp(mlp_activations, x, layers(3, 2), [identity], ["identity"])
    expect_mlp(mlp_activations, x, layers(3, 4, 2), [_relu, identity], ["relu", "identity"])
    expect_mlp(mlp_activations, x, layers(3, 4, 4, 3), [np.tanh, _relu, identity],
               ["tanh", "relu", "identity"])
    expect_mlp(mlp_activations, x[:1], layers(3, 6, 5, 4, 1), [_relu, np.tanh, _relu, np.tanh],
               ["relu", "tanh", "relu", "tanh"])
    return "every layer's output kept, its own activation per layer, 1 to 4 layers."


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


@exercise("3.3", "shape puzzles", hints=(
    "Write the sizes under each symbol: x is (32, 784). Then read z = a W + b from left to "
    "right: the size in the middle of a product disappears.",
    "W of layer l is (n_{l-1}, n_l), its b is (n_l,), and z of layer l for a batch of N is "
    "(N, n_l); a single image reshaped to (1, 784) is a batch of N = 1.",
))
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


@exercise("3.4", "count_parameters", hints=(
    "Count layer by layer: a layer from n_in to n_out units has a weight matrix and a bias "
    "vector. How many numbers are in each?",
    "Layer l has n_{l-1} n_l weights and n_l biases; the total is the sum over l = 1..L of "
    "n_{l-1} n_l + n_l. The input layer has no parameters of its own.",
))
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
