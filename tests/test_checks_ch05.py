"""The chapter 5 checks discriminate: stubs raise through, solutions pass, slips fail precisely."""
import numpy as np
import pytest

from nncourse.checks import check

from check_helpers import stub, fails_with


# ----------------------------------------------------------------- correct answers
def minibatches_ok(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    return [(X[order[s:s + batch_size]], y[order[s:s + batch_size]])
            for s in range(0, len(X), batch_size)]


def minibatches_generator(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]


def momentum_ok(params, grads, velocities, lr, momentum):
    for p, g, v in zip(params, grads, velocities):
        v *= momentum
        v -= lr * g
        p += v


def accuracy_ok(y_true, y_pred):
    return float(np.mean(y_true == y_pred))


def confusion_ok(y_true, y_pred, n_classes):
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        cm[t, p] += 1
    return cm


def he_ok(n_in, n_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out)), np.zeros(n_out)


CORRECT = [("5.1", minibatches_ok), ("5.1", minibatches_generator), ("5.2", momentum_ok),
           ("5.3", accuracy_ok), ("5.3", lambda t, p: (t == p).mean()), ("5.4", confusion_ok),
           ("5.5", he_ok), ("5.5", lambda n_in, n_out, rng: (np.sqrt(2 / n_in) * rng.standard_normal(
               (n_in, n_out)), np.zeros(n_out)))]


@pytest.mark.parametrize("exercise_id", ["5.1", "5.2", "5.3", "5.4", "5.5"])
def test_a_stub_raises_its_own_not_implemented_error(exercise_id):
    with pytest.raises(NotImplementedError, match=rf"^Exercise {exercise_id}: write this"):
        check(exercise_id, stub(exercise_id))


@pytest.mark.parametrize("exercise_id, answer", CORRECT)
def test_a_correct_answer_passes(exercise_id, answer, capsys):
    assert check(exercise_id, answer) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


# ----------------------------------------------------------------- 5.1
def drop_last(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    return [(X[order[s:s + batch_size]], y[order[s:s + batch_size]])
            for s in range(0, len(X) - batch_size + 1, batch_size)]


def two_shuffles(X, y, batch_size, rng):
    ox, oy = rng.permutation(len(X)), rng.permutation(len(X))
    return [(X[ox[s:s + batch_size]], y[oy[s:s + batch_size]]) for s in range(0, len(X), batch_size)]


def no_shuffle(X, y, batch_size, rng):
    return [(X[s:s + batch_size], y[s:s + batch_size]) for s in range(0, len(X), batch_size)]


def shuffle_in_place(X, y, batch_size, rng):
    idx = np.arange(len(X))
    rng.shuffle(idx)
    idx = idx[::-1]  # any other order than rng.permutation's
    return [(X[idx[s:s + batch_size]], y[idx[s:s + batch_size]]) for s in range(0, len(X), batch_size)]


@pytest.mark.parametrize("wrong, message", [
    (drop_last, "you dropped the last 2 sample(s)"),
    (two_shuffles, "no longer match row for row"),
    (no_shuffle, "the batches are in the original order"),
    (shuffle_in_place, "expected rng.permutation(10)"),
    (lambda X, y, batch_size, rng: None, "returned None"),
    (lambda X, y, batch_size, rng: [X, y], "batch 0: expected 2 values"),
    (lambda X, y, batch_size, rng: minibatches_ok(X, y, batch_size + 1, rng), "batch sizes should be"),
])
def test_wrong_minibatches_fail_with_a_specific_message(wrong, message):
    fails_with("5.1", wrong, message)


# ----------------------------------------------------------------- 5.2
def plain_sgd(params, grads, velocities, lr, momentum):
    for p, g in zip(params, grads):
        p -= lr * g


def rebinding(params, grads, velocities, lr, momentum):
    for p, g, v in zip(params, grads, velocities):
        v = momentum * v - lr * g  # a new array: velocities[i] stays zero
        p += v


def torch_style(params, grads, velocities, lr, momentum):
    for p, g, v in zip(params, grads, velocities):
        v *= momentum
        v += g
        p -= lr * v


def wrong_sign(params, grads, velocities, lr, momentum):
    for p, g, v in zip(params, grads, velocities):
        v *= momentum
        v -= lr * g
        p -= v


def returns_new(params, grads, velocities, lr, momentum):
    return [p - lr * g for p, g in zip(params, grads)]


def velocity_unused(params, grads, velocities, lr, momentum):
    for p, g, v in zip(params, grads, velocities):
        v *= momentum
        v -= lr * g
        p -= lr * g  # plain SGD: the velocity is kept but never used


@pytest.mark.parametrize("wrong, message", [
    (plain_sgd, "The velocities stayed zero: update them in place"),
    (rebinding, "The velocities stayed zero: update them in place"),
    (velocity_unused, "after step 2 with lr=0.1, momentum=0.9, params[0]"),
    (velocity_unused, "ignores the velocity from the previous step"),
    (torch_style, "the PyTorch convention"),
    (wrong_sign, "The step goes the wrong way"),
    (returns_new, "the params did not change: update them in place"),
])
def test_wrong_momentum_fails_with_a_specific_message(wrong, message):
    fails_with("5.2", wrong, message)


# ----------------------------------------------------------------- 5.3 / 5.4
@pytest.mark.parametrize("wrong, message", [
    (lambda t, p: int(np.sum(t == p)), "not the count"),
    (lambda t, p: 100 * np.mean(t == p), "not a percentage"),
    (lambda t, p: np.mean(t != p), "That is the error rate"),
    (lambda t, p: t == p, "expected a single number"),
])
def test_wrong_accuracy_fails_with_a_specific_message(wrong, message):
    fails_with("5.3", wrong, message)


@pytest.mark.parametrize("wrong, message", [
    (lambda t, p, k: confusion_ok(t, p, k).T, "Your matrix is transposed"),
    (lambda t, p, k: confusion_ok(t, p, k).astype(float), "expected int values, got dtype float64"),
    (lambda t, p, k: confusion_ok(t, p, int(max(t.max(), p.max())) + 1), "expected shape (4, 4), got (2, 2)"),
])
def test_wrong_confusion_matrix_fails_with_a_specific_message(wrong, message):
    fails_with("5.4", wrong, message)


# ----------------------------------------------------------------- 5.5
@pytest.mark.parametrize("wrong, message", [
    (lambda n_in, n_out, rng: (rng.normal(0, np.sqrt(2 / n_out), (n_in, n_out)), np.zeros(n_out)),
     "uses the fan-in n_in, not n_out"),
    (lambda n_in, n_out, rng: (rng.normal(0, 2 / n_in, (n_in, n_out)), np.zeros(n_out)),
     "2 / n_in is the variance"),
    (lambda n_in, n_out, rng: (rng.normal(0, 1, (n_in, n_out)), np.zeros(n_out)),
     "Scale the standard normal numbers"),
    (lambda n_in, n_out, rng: (rng.normal(0, np.sqrt(2 / n_in), (n_out, n_in)), np.zeros(n_out)),
     "(transposed)"),
    (lambda n_in, n_out, rng: (rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)), np.ones(n_out)),
     "b (biases start at zero)"),
    (lambda n_in, n_out, rng: (np.random.normal(0, np.sqrt(2 / n_in), (n_in, n_out)), np.zeros(n_out)),
     "draw the numbers from the rng you are given"),
    (lambda n_in, n_out, rng: (np.zeros((n_in, n_out)), np.zeros(n_out)), "standard deviation 0.0000"),
])
def test_wrong_he_init_fails_with_a_specific_message(wrong, message):
    fails_with("5.5", wrong, message)
