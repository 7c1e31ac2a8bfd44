"""Sequence outputs and gradient clipping (notebook 09): TimeDense, one_hot,
sequence_cross_entropy, clip_norm, and a character-style model in Sequential.

Gradients against centred finite differences in float64; the Numba backend
against the NumPy reference; clipping against its definition.
"""
import numpy as np
import pytest

from nnlib import LSTM, RNN, SGD, Adam, Dense, Sequential, TimeDense
from nnlib.backends import numba_ops, numba_recurrent
from nnlib.functional import losses, sequence
from nnlib.gradcheck import check_layer, numerical_gradient, rel_error
from nnlib.optim import clip_by_global_norm, global_norm


def test_one_hot(clear_error):
    out = sequence.one_hot(np.array([[2, 0], [1, 1]]), 3)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.argmax(axis=2), [[2, 0], [1, 1]])
    np.testing.assert_array_equal(out.sum(axis=2), 1.0)
    clear_error(lambda: sequence.one_hot(np.array([0, 3]), 3), "0..2", "3")
    clear_error(lambda: sequence.one_hot(np.array([0.5]), 3), "integers")


def test_time_dense_gradients_and_numba(backend, rng):
    layer = TimeDense(3, 4, seed=0)
    layer.b = rng.normal(size=4)
    errors = check_layer(layer, rng.normal(size=(2, 5, 3)), backend=backend)
    assert set(errors) == {"x", "W", "b"} and max(errors.values()) < 1e-7, errors


def test_time_dense_numba_matches_reference(rng):
    x, W, b = rng.normal(size=(3, 4, 5)), rng.normal(size=(5, 2)), rng.normal(size=2)
    z_ref, c_ref = sequence.time_dense_forward(x, W, b)
    z, c = numba_recurrent.time_dense_forward(x, W, b)
    np.testing.assert_allclose(z, z_ref, rtol=1e-12)
    dz = rng.normal(size=z.shape)
    for got, ref in zip(numba_recurrent.time_dense_backward(dz, c),
                        sequence.time_dense_backward(dz, c_ref)):
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def test_sequence_cross_entropy_gradient_and_numba(rng, clear_error):
    z, y = rng.normal(size=(2, 3, 4)), rng.integers(0, 4, size=(2, 3))
    loss, dz = losses.sequence_cross_entropy(z, y)
    # the mean over all six steps of -log softmax
    p = np.exp(z) / np.exp(z).sum(axis=2, keepdims=True)
    expected = -np.mean(np.log(np.take_along_axis(p, y[..., None], axis=2)))
    assert abs(loss - expected) < 1e-12
    num = numerical_gradient(lambda: losses.sequence_cross_entropy(z, y)[0], z)
    assert rel_error(dz, num) < 1e-7
    loss_nb, dz_nb = numba_ops.LOSSES["sequence_cross_entropy"](z, y)
    assert abs(loss_nb - loss) < 1e-12
    np.testing.assert_allclose(dz_nb, dz, rtol=1e-10, atol=1e-14)
    clear_error(lambda: losses.sequence_cross_entropy(z, y[:, :2]), "(N, T)", "(2, 2)")


def test_clip_by_global_norm_scales_all_gradients_together():
    p = [np.zeros(2), np.zeros((1, 2))]
    g = [np.array([3.0, 0.0]), np.array([[0.0, 4.0]])]  # global norm 5
    assert global_norm(g) == pytest.approx(5.0)
    clipped = clip_by_global_norm(list(zip(p, g)), 1.0)
    np.testing.assert_allclose(clipped[0][1], [0.6, 0.0])
    np.testing.assert_allclose(clipped[1][1], [[0.0, 0.8]])  # direction kept, per-element would give 1, 1
    np.testing.assert_array_equal(g[0], [3.0, 0.0])  # the caller's arrays are untouched
    kept = clip_by_global_norm(list(zip(p, g)), 10.0)
    assert kept[0][1] is g[0]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("make", [lambda: SGD(0.5, clip_norm=0.1), lambda: Adam(0.5, clip_norm=0.1)],
                         ids=["sgd", "adam"])
def test_optimizer_step_clips_the_global_norm(backend, make):
    rng = np.random.default_rng(3)
    params = [rng.normal(size=(3, 2)), rng.normal(size=2)]
    grads = [10 * rng.normal(size=(3, 2)), 10 * rng.normal(size=2)]
    clipped_opt, plain = make(), make()
    plain.clip_norm = None
    a, b = [p.copy() for p in params], [p.copy() for p in params]
    clipped_opt.step(list(zip(a, grads)), backend=backend)
    scale = 0.1 / np.sqrt(sum((g ** 2).sum() for g in grads))
    plain.step([(p, g * scale) for p, g in zip(b, grads)], backend=backend)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-12)
    assert "clip_norm=0.1" in repr(clipped_opt)


def test_clip_norm_is_checked(clear_error):
    clear_error(lambda: SGD(0.1, clip_norm=-1.0), "clip_norm")
    clear_error(lambda: Adam(clip_norm=0), "clip_norm")


def char_batch(n=6, T=5, V=4, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, V, size=(n, T + 1))
    return sequence.one_hot(ids[:, :-1], V), ids[:, 1:]


def char_model(backend, cell=LSTM):
    return Sequential([cell(4, 6, return_sequences=True), TimeDense(6, 4)], seed=1, backend=backend)


@pytest.mark.parametrize("cell", [LSTM, RNN])
def test_sequence_model_trains_the_same_on_numpy_and_numba(cell):
    X, y = char_batch()
    models = []
    for backend in ("numpy", "numba"):
        model = char_model(backend, cell)
        history = model.fit(X, y, epochs=3, batch_size=4, loss="sequence_cross_entropy",
                            optimizer=Adam(0.05, clip_norm=1.0), verbose=False)
        models.append((model, history))
    (ref, h_ref), (got, h_got) = models
    assert h_got["loss"][-1] < h_got["loss"][0]
    np.testing.assert_allclose(h_got["loss"], h_ref["loss"], rtol=1e-9)
    for a, b in zip(got.parameters(), ref.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    proba = got.predict_proba(X)
    assert proba.shape == (6, 5, 4)
    np.testing.assert_allclose(proba.sum(axis=2), 1.0)
    assert got.predict(X).shape == (6, 5)
    result = got.evaluate(X, y)
    assert 0 <= result["accuracy"] <= 1 and result["loss"] == pytest.approx(h_got["loss"][-1], rel=0.5)


def test_sequence_loss_clear_errors(clear_error):
    X, y = char_batch()
    clear_error(lambda: char_model("numpy").fit(X, y[:, :3], loss="sequence_cross_entropy",
                                                 verbose=False), "one label per step", "(6, 5)")
    clear_error(lambda: char_model("numpy").fit(X, y + 4, loss="sequence_cross_entropy",
                                                 verbose=False), "y")
    stack = Sequential([LSTM(4, 6), Dense(6, 4)], backend="numpy")
    clear_error(lambda: stack.fit(X, y, loss="sequence_cross_entropy", verbose=False), "TimeDense")
    clear_error(lambda: Sequential([LSTM(4, 6), TimeDense(6, 4)]), "return_sequences=True")


def test_clip_norm_with_a_dense_stack_runs_layer_by_layer_and_matches_numpy():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, 20)
    weights = []
    for backend in ("numpy", "numba"):
        model = Sequential([Dense(3, 4), Dense(4, 2)], seed=0, backend=backend)
        model.fit(X, y, epochs=2, batch_size=5, optimizer=SGD(1.0, clip_norm=0.05), verbose=False)
        weights.append(model.parameters())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-9)


def test_cuda_backend_refuses_time_dense_by_name(clear_error):
    message = clear_error(lambda: Sequential([TimeDense(3, 2)], backend="cuda"), "cuda", "TimeDense")
    assert "backend='numba'" in message
