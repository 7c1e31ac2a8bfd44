"""Every numba.cuda kernel against the NumPy reference (nnlib.functional).

Without a GPU these run in Numba's CUDA simulator (tests/conftest.py sets
NUMBA_ENABLE_CUDASIM before Numba is imported), where the tile is 8 x 8 so
the small shapes below span several tiles: non-multiples of the tile and a
batch of one are in every list. With a GPU they run for real.
"""
import numpy as np
import pytest
from numba import cuda

from nnlib import functional as F
from nnlib.kernels import cpu
from nnlib.kernels import cuda as K
from nnlib.kernels.cuda_matmul import METHODS, matmul
from nnlib.optim import SGD, Adam

ACTS = {"identity": cpu.IDENTITY, "sigmoid": cpu.SIGMOID, "relu": cpu.RELU, "tanh": cpu.TANH}
SHAPES = [(1, 5), (9, 13)]  # (batch, n): batch 1, and more than one 8-wide tile
DENSE = [(1, 5, 3), (9, 10, 17), (17, 3, 9)]  # (batch, n_in, n_out)


def rand(rng, *shape, dtype=np.float64):
    return rng.normal(size=shape).astype(dtype)


def away_from_zero(rng, *shape):
    """Values with |v| >= 0.1, so relu's kink at 0 is never hit."""
    v = rng.normal(size=shape)
    return np.where(np.abs(v) < 0.1, 0.5, v)


def to_host(d):
    return d.copy_to_host()


@pytest.mark.parametrize("name", ACTS)
@pytest.mark.parametrize("shape", SHAPES)
def test_activate_matches_reference(name, shape):
    z = 3 * away_from_zero(np.random.default_rng(1), *shape)
    d = cuda.to_device(z)
    K.activate(d, ACTS[name])
    expected, _ = F.ACTIVATIONS[name][0](z)
    np.testing.assert_allclose(to_host(d), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ACTS)
@pytest.mark.parametrize("shape", SHAPES)
def test_activation_backward_matches_reference(name, shape):
    rng = np.random.default_rng(2)
    z, dout = away_from_zero(rng, *shape), rand(rng, *shape)
    fwd, bwd = F.ACTIVATIONS[name]
    a, cache = fwd(z)
    dz = cuda.device_array(shape)
    K.activation_backward(cuda.to_device(dout), cuda.to_device(np.asarray(a, float)), ACTS[name], dz)
    np.testing.assert_allclose(to_host(dz), bwd(dout, cache), rtol=1e-12, atol=1e-15)


def test_sigmoid_kernel_is_stable_for_huge_inputs():
    z = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    d = cuda.to_device(z)
    K.activate(d, cpu.SIGMOID)
    out = to_host(d)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, F.sigmoid(z), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ACTS)
@pytest.mark.parametrize("batch,n_in,n_out", DENSE)
def test_dense_forward_fuses_bias_and_activation(name, batch, n_in, n_out):
    rng = np.random.default_rng(3)
    x, W, b = rand(rng, batch, n_in), rand(rng, n_in, n_out), rand(rng, n_out)
    out = cuda.device_array((batch, n_out))
    K.dense_forward(cuda.to_device(x), cuda.to_device(W), cuda.to_device(b), ACTS[name], out)
    z, _ = F.dense_forward(x, W, b)
    expected, _ = F.ACTIVATIONS[name][0](z)
    np.testing.assert_allclose(to_host(out), expected, rtol=1e-10, atol=1e-12)


def test_dense_forward_float32_within_float32_tolerance():
    rng = np.random.default_rng(4)
    x, W, b = (rand(rng, 9, 20, dtype=np.float32), rand(rng, 20, 11, dtype=np.float32),
               rand(rng, 11, dtype=np.float32))
    out = cuda.device_array((9, 11), dtype=np.float32)
    K.dense_forward(cuda.to_device(x), cuda.to_device(W), cuda.to_device(b), cpu.TANH, out)
    z, _ = F.dense_forward(x.astype(float), W.astype(float), b.astype(float))
    assert to_host(out).dtype == np.float32
    np.testing.assert_allclose(to_host(out), np.tanh(z), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("need_dx", [True, False])
@pytest.mark.parametrize("batch,n_in,n_out", DENSE)
def test_dense_backward_matches_reference(need_dx, batch, n_in, n_out):
    rng = np.random.default_rng(5)
    x, W, dz = rand(rng, batch, n_in), rand(rng, n_in, n_out), rand(rng, batch, n_out)
    sentinel = np.full((batch, n_in), 7.0)
    dx, dW, db = cuda.to_device(sentinel), cuda.device_array((n_in, n_out)), cuda.device_array(n_out)
    K.dense_backward(cuda.to_device(dz), cuda.to_device(x), cuda.to_device(W), dx, dW, db, need_dx)
    ref_dx, ref_dW, ref_db = F.dense_backward(dz, (x, W))
    np.testing.assert_allclose(to_host(dW), ref_dW, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_host(db), ref_db, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_host(dx), ref_dx if need_dx else sentinel, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh"])
def test_dense_dx_fuses_the_previous_activation_derivative(name):
    """dx = (dz @ W.T) * act'(a): backprop's delta for the layer below, in one launch."""
    rng = np.random.default_rng(6)
    dz, W = rand(rng, 9, 10), rand(rng, 17, 10)
    fwd, bwd = F.ACTIVATIONS[name]
    a, cache = fwd(away_from_zero(rng, 9, 17))
    dx = cuda.device_array((9, 17))
    grid, block = K.matmul_grid(9, 17)
    K.dense_dx_kernel[grid, block](cuda.to_device(dz), cuda.to_device(W),
                                   cuda.to_device(np.asarray(a, float)), ACTS[name], dx)
    np.testing.assert_allclose(to_host(dx), bwd(dz @ W.T, cache), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch,n_classes", [(1, 3), (9, 10), (20, 17)])
def test_softmax_cross_entropy_matches_reference(batch, n_classes):
    rng = np.random.default_rng(7)
    logits, y = 3 * rand(rng, batch, n_classes), rng.integers(0, n_classes, batch)
    dlogits = cuda.device_array((batch, n_classes))
    loss = K.softmax_cross_entropy(cuda.to_device(logits), cuda.to_device(y), dlogits)
    ref_loss, ref_grad = F.softmax_cross_entropy(logits, y)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(to_host(dlogits), ref_grad, rtol=1e-10, atol=1e-14)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits, y = np.array([[1000.0, -1000.0, 0.0], [-5e3, 5e3, 1.0]]), np.array([0, 2])
    dlogits = cuda.device_array((2, 3))
    loss = K.softmax_cross_entropy(cuda.to_device(logits), cuda.to_device(y), dlogits)
    ref_loss, ref_grad = F.softmax_cross_entropy(logits, y)
    assert np.isfinite(loss) and loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(to_host(dlogits), ref_grad, atol=1e-14)


@pytest.mark.parametrize("shape", [(1, 1), (9, 3)])
def test_mse_matches_reference(shape):
    rng = np.random.default_rng(8)
    y_hat, y = rand(rng, *shape), rand(rng, *shape)
    grad = cuda.device_array(shape)
    loss = K.mse(cuda.to_device(y_hat), cuda.to_device(y), grad)
    ref_loss, ref_grad = F.mse(y_hat, y)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(to_host(grad), ref_grad, rtol=1e-12)


@pytest.mark.parametrize("shape", [(1, 1), (9, 3)])
def test_binary_cross_entropy_matches_reference_including_clipping(shape):
    rng = np.random.default_rng(9)
    p, y = rng.uniform(size=shape), rng.integers(0, 2, shape).astype(float)
    p.flat[0] = 0.0  # clipped to eps: a large finite loss, not inf
    grad = cuda.device_array(shape)
    loss = K.binary_cross_entropy(cuda.to_device(p), cuda.to_device(y), grad)
    ref_loss, ref_grad = F.binary_cross_entropy(p, y)
    assert np.isfinite(loss) and loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(to_host(grad), ref_grad, rtol=1e-10)


@pytest.mark.parametrize("make_opt", [
    lambda: SGD(lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda: Adam(lr=0.01, weight_decay=0.01),
], ids=["sgd", "adam"])
def test_optimizer_kernels_match_the_numpy_optimizer(make_opt):
    """Three steps of the fused update kernel vs nnlib.optim's NumPy path."""
    rng = np.random.default_rng(10)
    p0, grads = rand(rng, 37), [rand(rng, 37) for _ in range(3)]
    ref_p, ref_opt = p0.reshape(1, -1).copy(), make_opt()  # 2-D: gets weight decay
    d_p, d_s1, d_s2 = cuda.to_device(p0), cuda.to_device(np.zeros(37)), cuda.to_device(np.zeros(37))
    opt = make_opt()
    for t, g in enumerate(grads, start=1):
        ref_opt.step([(ref_p, g.reshape(1, -1))], backend="numpy")
        if isinstance(opt, SGD):
            K.sgd_update(d_p, cuda.to_device(g), d_s1, opt.lr, opt.momentum, opt.weight_decay)
        else:
            K.adam_update(d_p, cuda.to_device(g), d_s1, d_s2, opt.lr, *opt.betas, opt.eps, t,
                          opt.weight_decay)
    np.testing.assert_allclose(to_host(d_p), ref_p[0], rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n,k,m", [(1, 5, 3), (9, 10, 17), (33, 7, 35)])
def test_matmul_ladder_matches_numpy(method, n, k, m):
    if method == "tiled" and n > 20:
        n, m = 17, 18  # the tiled rung runs 64 threads per tile: keep the simulator quick
    rng = np.random.default_rng(11)
    A, B = rand(rng, n, k), rand(rng, k, m)
    C = matmul(cuda.to_device(A), cuda.to_device(B), cuda.device_array((n, m)), method)
    np.testing.assert_allclose(to_host(C), A @ B, rtol=1e-10, atol=1e-12)


def test_matmul_refuses_bad_shapes_and_methods_clearly():
    A, B = cuda.to_device(np.ones((2, 3))), cuda.to_device(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"A \(2, 3\), B \(4, 5\)"):
        matmul(A, B, cuda.device_array((2, 5)))
    with pytest.raises(ValueError, match="unknown method 'fast'; choose one of 'naive'"):
        matmul(A, A, cuda.device_array((2, 3)), method="fast")
