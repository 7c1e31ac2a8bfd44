"""The chapter 3 checks discriminate: stubs raise through, solutions pass, slips fail precisely.

Each wrong implementation below is a mistake a learner plausibly makes; the
test asserts the check fails *and* that its message points at the slip.
"""
import numpy as np
import pytest

from nncourse.checks import CheckFailed, check

from check_helpers import fails_with


# ----------------------------------------------------------------- correct answers
def dense_ok(x, W, b):
    return x @ W + b


def make_mlp(keep="a", with_x=True, same_act=False, output_only=False):
    """mlp_activations, with one planted slip per keyword."""
    def mlp_activations(x, params, activations):
        a, out = x, [x] if with_x else []
        for (W, b), act in zip(params, activations):
            z = a @ W + b
            a = (activations[0] if same_act else act)(z)
            out.append(z if keep == "z" else a)
        return out[-1] if output_only else out
    return mlp_activations


def puzzles_ok():
    return {"W1": (784, 128), "b2": (64,), "z2": (32, 64), "y_hat": (32, 10), "y_hat_one": (1, 10)}


def count_ok(sizes):
    return sum(m * n + n for m, n in zip(sizes[:-1], sizes[1:]))


@pytest.mark.parametrize("exercise_id, answer", [
    ("3.1", dense_ok), ("3.1", lambda x, W, b: np.dot(x, W) + b[None, :]),
    ("3.2", make_mlp()), ("3.3", puzzles_ok),
    ("3.3", lambda: {k: list(v) for k, v in puzzles_ok().items()}),  # lists are fine too
    ("3.4", count_ok),
])
def test_a_correct_answer_passes(exercise_id, answer, capsys):
    assert check(exercise_id, answer) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


# ----------------------------------------------------------------- wrong answers
def dense_in_place(x, W, b):
    x += 0.0
    x *= 2.0
    return x @ W + b


WRONG_DENSE = [
    (lambda x, W, b: x @ W, "You forgot to add the bias b"),
    (lambda x, W, b: x @ W - b, "Add the bias, do not subtract it"),
    (lambda x, W, b: (x @ W + b).T, "expected shape (4, 2), got (2, 4)"),
    (lambda x, W, b: W.T @ x.T + b[:, None], "Your z is transposed"),
    (lambda x, W, b: W @ x + b, "your function raised ValueError"),
    (lambda x, W, b: x[:1] @ W + b, "Only the first sample was computed"),
    (lambda x, W, b: x @ W.T + b if W.shape[0] == W.shape[1] else x @ W + b, "You used W.T"),
    (lambda x, W, b: None, "returned None"),
    (dense_in_place, "changed x or W in place"),
]


@pytest.mark.parametrize("wrong, message", WRONG_DENSE)
def test_wrong_dense_forward_fails_with_a_specific_message(wrong, message):
    fails_with("3.1", wrong, message)


WRONG_MLP = [
    (make_mlp(keep="z"), "You stored z = a @ W + b; store a = activation(z)"),
    (make_mlp(keep="z"), "a network with layer sizes [3, 4, 2] and activations ['relu', 'identity'], a1"),
    (make_mlp(same_act=True), "You used the first activation for every layer"),
    (make_mlp(with_x=False), "expected 2 arrays (the input x and one per layer), got 1. The list starts with x"),
    (make_mlp(output_only=True), "expected a list of 2 arrays [x, a1, ..., aL], got one array of shape (5, 2) "
                                 "(the output alone)"),
    (lambda x, params, activations: None, "returned None"),
    (lambda x, params, activations: [x, x @ params[0][0] + params[0][1]] * 2, "expected a list of 2 arrays"),
]


@pytest.mark.parametrize("wrong, message", WRONG_MLP)
def test_wrong_mlp_activations_fails_with_a_specific_message(wrong, message):
    fails_with("3.2", wrong, message)


def test_the_mlp_check_names_the_network():
    with pytest.raises(CheckFailed) as failure:
        check("3.2", make_mlp(same_act=True))
    assert "layer sizes [3, 4, 2] and activations ['relu', 'identity'], a2: " in str(failure.value)


WRONG_PUZZLES = [
    ({"W1": (128, 784)}, "W1: (128, 784) is not right. It is transposed"),
    ({"b2": (1, 64)}, "b2: (1, 64) is not right"),
    ({"z2": (64, 32)}, "z2: (64, 32) is not right. It is transposed. Hint: z has one row per sample"),
    ({"y_hat_one": (10,)}, "a batch of one"),
    ({"W1": "784 x 128"}, "write a shape as a tuple of ints"),
    ({"W1": (784.0, 128.0)}, "write a shape as a tuple of ints"),
]


@pytest.mark.parametrize("change, message", WRONG_PUZZLES)
def test_wrong_shape_puzzles_fail_with_a_hint(change, message):
    fails_with("3.3", lambda: {**puzzles_ok(), **change}, message)


def test_a_missing_or_non_dict_puzzle_answer_is_named():
    answers = puzzles_ok()
    del answers["y_hat"]
    fails_with("3.3", lambda: answers, "no answer for ['y_hat']")
    fails_with("3.3", lambda: [(784, 128)], "expected a dict of shapes")


WRONG_COUNT = [
    (lambda sizes: sum(m * n for m, n in zip(sizes[:-1], sizes[1:])), "not the biases"),
    (lambda sizes: count_ok(sizes) + sizes[0], "The input layer has no bias"),
    (lambda sizes: sum(sizes), "That is the number of units"),
    (lambda sizes: float(count_ok(sizes)) + 0.5, "expected 3, got 3.5"),
    (lambda sizes: [count_ok(sizes)], "expected one whole number"),
]


@pytest.mark.parametrize("wrong, message", WRONG_COUNT)
def test_wrong_count_parameters_fails_with_a_specific_message(wrong, message):
    fails_with("3.4", wrong, message)
