"""BatchNorm and Dropout: reference, Numba and CUDA kernels, layers, and Sequential with them.

Gradients against centred finite differences in float64 (both modes for
BatchNorm), every backend against the NumPy reference, running statistics
against a direct computation, train vs evaluation mode, save/load.
"""
import numpy as np
import pytest

from nnlib import SGD, Dense, ReLU, Sequential
from nnlib.backends import cuda_norm, numba_norm
from nnlib.functional import norm as F
from nnlib.gradcheck import check_layer, rel_error
from nnlib.kernels import norm_cpu
from nnlib.layers.norm import BatchNorm, Dropout

ALL_BACKENDS = ("numpy", "numba", "cuda")
SHAPES = [(5, 3), (4, 2, 3, 2)]  # (N, D) features and (N, C, H, W) images


def batchnorm(C, rng):
    """A BatchNorm with random gamma, beta and running statistics (not the trivial 1, 0, 0, 1)."""
    layer = BatchNorm(C)
    layer.gamma[:] = rng.normal(size=C)
    layer.beta[:] = rng.normal(size=C)
    layer.running_mean[:] = rng.normal(size=C)
    layer.running_var[:] = rng.uniform(0.5, 2.0, size=C)
    return layer


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients_match_finite_differences(backend, rng, shape, training):
    layer = batchnorm(shape[1], rng)
    errors = check_layer(layer, rng.normal(size=shape), backend=backend, training=training)
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("module", [F, numba_norm], ids=["numpy", "numba"])
def test_dropout_gradient_with_a_fixed_mask(module, rng):
    x = rng.normal(size=(4, 6))
    mask = (rng.random(x.shape) >= 0.3) / 0.7

    pair = (lambda x: module.dropout_mask_forward(x, mask), module.dropout_mask_backward)
    assert check_layer(pair, x)["x"] < 1e-7


def run_batchnorm(module, x, gamma, beta, stats, training, dout):
    """(out, dx, dgamma, dbeta, running_mean, running_var) of one forward + backward."""
    mean, var = stats[0].copy(), stats[1].copy()
    out, cache = module.batchnorm_running_forward(x, gamma, beta, mean, var, 0.1, 1e-5, training)
    return (out, *module.batchnorm_running_backward(dout, cache), mean, var)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numba_batchnorm_matches_reference_on_random_shapes(rng, training, dtype):
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
    for _ in range(6):
        n, c, h, w = rng.integers(2, 6, size=4)
        shape = (n, c) if rng.random() < 0.5 else (n, c, h, w)
        x, dout = (rng.normal(size=shape).astype(dtype) for _ in range(2))
        gamma, beta, mean = (rng.normal(size=c).astype(dtype) for _ in range(3))
        stats = (mean, rng.uniform(0.5, 2, size=c).astype(dtype))
        ref = run_batchnorm(F, x, gamma, beta, stats, training, dout)
        got = run_batchnorm(numba_norm, x, gamma, beta, stats, training, dout)
        for r, g in zip(ref, got):
            assert g.dtype == dtype and g.shape == r.shape
            np.testing.assert_allclose(g, r, **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_by_row_batchnorm_kernels_give_the_per_channel_kernels_numbers(rng, dtype):
    """norm_cpu.batchnorm_rows_* (the fused trainer's, features (N, C) in training) add the
    same numbers in the same order as batchnorm_forward/backward: equal to the last bit,
    and so within the reference's tolerance."""
    for _ in range(6):
        n, c = rng.integers(2, 40, size=2)
        x, dout = (rng.normal(1.0, 2.0, size=(n, c)).astype(dtype) for _ in range(2))
        gamma, beta, mean = (rng.normal(size=c).astype(dtype) for _ in range(3))
        var = rng.uniform(0.5, 2, size=c).astype(dtype)
        per_channel = [np.empty((n, c), dtype), np.empty((n, c), dtype), np.empty(c, dtype),
                       mean.copy(), var.copy()]  # out, x_hat, inv_std, running mean, running var
        rows = [a.copy() for a in per_channel]
        out, x_hat, inv_std, m1, v1 = per_channel
        norm_cpu.batchnorm_forward(x[:, :, None], gamma, beta, m1, v1, 0.1, 1e-5, True,
                                   out[:, :, None], x_hat[:, :, None], inv_std)
        out, x_hat, inv_std, m2, v2 = rows
        norm_cpu.batchnorm_rows_forward(x, gamma, beta, m2, v2, 0.1, 1e-5, out, x_hat, inv_std,
                                        np.empty(c), np.empty(c))
        grads = []
        for kernel in ("per channel", "rows"):
            dx, dgamma, dbeta = np.empty((n, c), dtype), np.empty(c, dtype), np.empty(c, dtype)
            if kernel == "rows":
                norm_cpu.batchnorm_rows_backward(dout, x_hat, gamma, inv_std, dx, dgamma, dbeta,
                                                 np.empty(c), np.empty(c))
            else:
                norm_cpu.batchnorm_backward(dout[:, :, None], x_hat[:, :, None], gamma, inv_std,
                                            True, dx[:, :, None], dgamma, dbeta)
            grads.append((dx, dgamma, dbeta))
        for a, b in zip(per_channel + list(grads[0]), rows + list(grads[1])):
            np.testing.assert_array_equal(a, b)
        ref = run_batchnorm(F, x, gamma, beta, (mean, var), True, dout)
        tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
        for r, g in zip(ref, (rows[0], *grads[1], rows[3], rows[4])):
            np.testing.assert_allclose(g, r, **tol)


@pytest.mark.parametrize("shape", [(1, 3, 2, 2), (9, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_cuda_batchnorm_matches_reference(rng, shape, training):
    x, dout = rng.normal(size=shape), rng.normal(size=shape)
    c = shape[1]
    gamma, beta, stats = rng.normal(size=c), rng.normal(size=c), (rng.normal(size=c), np.ones(c))
    ref = run_batchnorm(F, x, gamma, beta, stats, training, dout)
    got = run_batchnorm(cuda_norm, x, gamma, beta, stats, training, dout)
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-12)


def test_cuda_dropout_matches_reference(rng):
    x, dout = rng.normal(size=(3, 2, 5)), rng.normal(size=(3, 2, 5))
    mask = (rng.random(x.shape) >= 0.5) * 2.0
    out, cache = cuda_norm.dropout_mask_forward(x, mask)
    np.testing.assert_array_equal(out, x * mask)
    np.testing.assert_array_equal(cuda_norm.dropout_mask_backward(dout, cache), dout * mask)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_running_statistics_follow_the_direct_formula(rng, backend):
    layer = BatchNorm(3, momentum=0.2)
    batches = [rng.normal(2.0, 3.0, size=(6, 3)) for _ in range(3)]
    mean, var = np.zeros(3), np.ones(3)
    for x in batches:
        layer.forward(x, backend=backend, training=True)
        mean = 0.8 * mean + 0.2 * x.mean(axis=0)
        var = 0.8 * var + 0.2 * x.var(axis=0, ddof=1)  # unbiased, as PyTorch
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-12)
    x = rng.normal(size=(4, 3))  # evaluation: the running statistics, unchanged by the call
    expected = layer.gamma * (x - mean) / np.sqrt(var + 1e-5) + layer.beta
    np.testing.assert_allclose(layer.forward(x, backend=backend), expected, rtol=1e-12)
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-12)


def test_batchnorm_training_output_has_zero_mean_unit_variance_per_channel(rng):
    x = rng.normal(5.0, 4.0, size=(8, 3, 4, 4))
    out = BatchNorm(3).forward(x, training=True)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1.0, rtol=1e-4)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_dropout_eval_is_identity_and_training_drops_about_p(backend):
    x = np.ones((200, 100))
    layer = Dropout(0.3, seed=1)
    np.testing.assert_array_equal(layer.forward(x, backend=backend, training=False), x)
    if backend == "cuda":
        x = x[:4]  # the simulator runs a thread per entry
    out = layer.forward(x, backend=backend, training=True)
    assert set(np.unique(out)) <= {0.0, 1 / 0.7}
    if backend != "cuda":
        assert abs((out == 0).mean() - 0.3) < 0.01
        assert abs(out.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_dropout_mask_is_the_same_on_every_backend(rng):
    x = rng.normal(size=(4, 5))
    outs = [Dropout(0.5, seed=7).forward(x, backend=b, training=True) for b in ALL_BACKENDS]
    assert (outs[0] == 0).any() and (outs[0] != 0).any()
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])


def stack():
    return [Dense(4, 8), BatchNorm(8), ReLU(), Dropout(0.2), Dense(8, 3)]


def train(backend, epochs=2):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 4)), rng.integers(0, 3, 7)  # batches of 4 and 3
    model = Sequential(stack(), seed=3, backend=backend)
    model.fit(X, y, epochs=epochs, batch_size=4, optimizer=SGD(0.1, momentum=0.9), verbose=False)
    return model, X


def test_sequential_trains_the_same_on_every_backend():
    (ref, X), *others = [train(b) for b in ALL_BACKENDS]
    assert not np.allclose(ref.layers[1].running_mean, 0)  # the stats did move
    for model, _ in others:
        for a, b in zip(model.parameters() + model.buffers(), ref.parameters() + ref.buffers()):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), rtol=1e-9)


def test_predict_uses_running_statistics_and_no_dropout():
    model, X = train("numba")
    bn = model.layers[1]
    h = X @ model.layers[0].W + model.layers[0].b
    h = np.maximum(bn.gamma * (h - bn.running_mean) / np.sqrt(bn.running_var + 1e-5) + bn.beta, 0)
    expected = h @ model.layers[4].W + model.layers[4].b  # Dropout: identity
    np.testing.assert_allclose(model._output(X), expected, rtol=1e-10)
    np.testing.assert_array_equal(model.forward(X), model.forward(X))  # eval: deterministic
    assert not np.allclose(model.train().forward(X), expected)  # training: batch stats, drops


def test_save_and_from_file_keep_running_statistics(tmp_path):
    model, X = train("numpy")
    loaded = Sequential.from_file(model.save(tmp_path / "bn"), backend="numpy")
    bn, bn2 = model.layers[1], loaded.layers[1]
    assert (bn2.momentum, bn2.eps, loaded.layers[3].p) == (bn.momentum, bn.eps, 0.2)
    np.testing.assert_array_equal(bn2.running_mean, bn.running_mean)
    np.testing.assert_array_equal(bn2.running_var, bn.running_var)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_clear_errors(clear_error):
    clear_error(lambda: Dropout(1.0), "p", "[0, 1)")
    clear_error(lambda: Dropout(-0.1), "p")
    clear_error(lambda: BatchNorm(0), "n_features")
    clear_error(lambda: BatchNorm(3, momentum=0), "momentum")
    clear_error(lambda: BatchNorm(3).forward(np.ones((2, 4))), "BatchNorm", "(batch, 3)")
    clear_error(lambda: Sequential([Dense(2, 4), BatchNorm(5), Dense(4, 2)]), "BatchNorm(4)")
    clear_error(lambda: BatchNorm(3).forward(np.ones((1, 3)), training=True), "batch_size >= 2")
    clear_error(lambda: F.batchnorm_running_forward(np.ones((3, 2)), np.ones(3), np.zeros(3),
                                                    np.zeros(3), np.ones(3), 0.1, 1e-5, False),
                "BatchNorm(2)")


def test_rel_error_of_batchnorm_catches_the_biased_variance_slip(rng):
    """The running-variance check above would fail with the biased variance: not vacuous."""
    x = rng.normal(size=(4, 3))
    assert rel_error(x.var(axis=0, ddof=1), x.var(axis=0)) > 1e-2


def test_the_chapter_signatures_batchnorm_forward_and_dropout_forward(rng):
    """Issue 14's pairs: batchnorm_forward(x, gamma, beta, eps) (training mode) and
    dropout_forward(x, p, rng), checked by finite differences and against the layers."""
    x = rng.standard_normal((6, 3))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    out, cache = F.batchnorm_forward(x, gamma, beta)
    mu, var = x.mean(axis=0), x.var(axis=0)  # biased batch variance
    np.testing.assert_allclose(out, gamma * (x - mu) / np.sqrt(var + 1e-5) + beta, rtol=1e-12)
    errors = check_layer((lambda x: F.batchnorm_forward(x, gamma, beta),
                          lambda dout, cache: F.batchnorm_backward(dout, cache)[0]), x)
    assert errors["x"] < 1e-7
    out, cache = F.dropout_forward(x, 0.5, np.random.default_rng(3))
    layer = Dropout(0.5, seed=3)
    np.testing.assert_array_equal(layer.forward(x, backend="numpy", training=True), out)
    np.testing.assert_array_equal(F.dropout_backward(np.ones_like(x), cache), out / x)
