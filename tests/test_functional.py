"""Every backward of the core against centred finite differences (float64).

Each operation is checked twice: as the NumPy reference (nnlib.functional)
and as the Numba kernel (nnlib.kernels.cpu), the latter called through a
small adapter with the reference's signature. Also: numerical stability of
sigmoid, softmax and the losses at |z| = 1000 on both backends.
"""
import warnings

import numpy as np
import pytest

from nnlib import functional as F
from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.kernels import cpu

TOL = 1e-7  # the threshold for float64 gradient checks


# ------------------------------------------------ the kernels, reference-shaped
def _kernel_dense_forward(x, W, b):
    z = np.empty((x.shape[0], W.shape[1]))
    cpu.dense_forward(x, W, b, cpu.IDENTITY, z)
    return z, (x, W)


def _kernel_dense_backward(dout, cache):
    x, W = cache
    dx, dW, db = np.empty_like(x), np.empty_like(W), np.empty(W.shape[1])
    cpu.dense_backward(np.ascontiguousarray(dout), x, W, dx, dW, db, True)
    return dx, dW, db


def _kernel_activation(name):
    code = cpu.ACT_CODES[name]

    def forward(z):
        a = np.array(z, order="C", copy=True)
        cpu.activate(a, code)
        return a, a

    def backward(dout, a):
        dz = np.empty_like(a)
        cpu.activation_backward(np.ascontiguousarray(dout), a, code, dz)
        return dz

    return forward, backward


def _kernel_loss(name):
    kernel = {"cross_entropy": cpu.softmax_cross_entropy, "mse": cpu.mse,
              "bce": cpu.binary_cross_entropy}[name]

    def loss(out, y):
        d = np.empty_like(out)
        value = kernel(out, y, d)
        return value, d

    return loss


def dense_pair(backend):
    if backend == "numpy":
        return F.dense_forward, F.dense_backward
    return _kernel_dense_forward, _kernel_dense_backward


def activation_pair(backend, name):
    return F.ACTIVATIONS[name] if backend == "numpy" else _kernel_activation(name)


def loss_fn(backend, name):
    return F.LOSSES[name] if backend == "numpy" else _kernel_loss(name)


# ------------------------------------------------------------ inputs
def away_from_zero(rng, shape, margin=0.1):
    """Values with |z| >= margin: relu's kink at 0 breaks finite differences."""
    z = rng.standard_normal(shape)
    return np.sign(z) * (margin + np.abs(z))


def loss_inputs(name, rng, n=5, k=3):
    """(network output, target) for a loss, away from the clipping edges."""
    if name == "cross_entropy":
        return rng.standard_normal((n, k)), rng.integers(0, k, n)
    if name == "mse":
        return rng.standard_normal((n, k)), rng.standard_normal((n, k))
    return rng.uniform(0.05, 0.95, (n, k)), rng.integers(0, 2, (n, k)).astype(float)


# ------------------------------------------------------------ gradient checks
@pytest.mark.parametrize("shape", [(4, 3, 2), (1, 5, 1), (3, 1, 4)])  # (batch, n_in, n_out)
def test_dense_backward_matches_finite_differences(backend, rng, shape):
    batch, n_in, n_out = shape
    x, W, b = (rng.standard_normal(s) for s in ((batch, n_in), (n_in, n_out), (n_out,)))
    forward, backward = dense_pair(backend)
    dout = rng.standard_normal((batch, n_out))
    _, cache = forward(x, W, b)
    dx, dW, db = backward(dout, cache)
    for analytic, wrt in ((dx, x), (dW, W), (db, b)):
        num = numerical_gradient(lambda: forward(x, W, b)[0], wrt, df=dout)
        assert analytic.shape == wrt.shape
        assert rel_error(analytic, num) < TOL


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh", "identity"])
def test_activation_backward_matches_finite_differences(backend, rng, name):
    z = away_from_zero(rng, (4, 5)) if name == "relu" else rng.standard_normal((4, 5))
    forward, backward = activation_pair(backend, name)
    dout = rng.standard_normal(z.shape)
    _, cache = forward(z)
    dz = backward(dout, cache)
    num = numerical_gradient(lambda: forward(z)[0], z, df=dout)
    assert rel_error(dz, num) < TOL


@pytest.mark.parametrize("name", ["cross_entropy", "mse", "bce"])
@pytest.mark.parametrize("n", [1, 6])
def test_loss_gradient_matches_finite_differences(backend, rng, name, n):
    out, y = loss_inputs(name, rng, n=n)
    loss = loss_fn(backend, name)
    value, dout = loss(out, y)
    num = numerical_gradient(lambda: loss(out, y)[0], out)
    assert np.isfinite(value) and value > 0
    assert rel_error(dout, num) < TOL


@pytest.mark.parametrize("name", ["cross_entropy", "mse", "bce"])
def test_loss_values_agree_between_backends(rng, name):
    out, y = loss_inputs(name, rng, n=7, k=4)
    ref, dref = F.LOSSES[name](out, y)
    got, dgot = _kernel_loss(name)(out, y)
    assert got == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(dgot, dref, rtol=1e-12, atol=1e-15)


def test_loss_values_against_hand_computed_cases():
    # softmax of equal logits is uniform: CE = log(n_classes)
    loss, d = F.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    assert loss == pytest.approx(np.log(4))
    np.testing.assert_allclose(d, (np.full((2, 4), 0.25) - np.eye(4)[[0, 3]]) / 2)
    loss, d = F.mse(np.array([[1.0], [3.0]]), np.array([0.0, 1.0]))  # 1-D y is a column
    assert loss == pytest.approx((1 + 4) / 2)
    np.testing.assert_allclose(d, [[1.0], [2.0]])
    loss, _ = F.binary_cross_entropy(np.array([[0.8], [0.4]]), np.array([[1.0], [0.0]]))
    assert loss == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)


def test_softmax_rows_are_probabilities_and_log_softmax_is_its_log(rng):
    z = rng.standard_normal((5, 4)) * 10
    p = F.softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert (p > 0).all()
    np.testing.assert_allclose(F.log_softmax(z), np.log(p), atol=1e-12)
    np.testing.assert_allclose(F.softmax(z + 100.0), p, rtol=1e-12)  # shift-invariant


# ------------------------------------------------------------ stability
BIG = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])


@pytest.fixture
def strict_floats():
    """Any overflow / invalid operation / warning becomes an error."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        yield


def test_sigmoid_is_stable_at_1000(backend, strict_floats):
    forward, backward = activation_pair(backend, "sigmoid")
    a, cache = forward(BIG.copy())
    np.testing.assert_array_equal(a[0], [1.0, 0.0, 0.5])
    assert np.isfinite(backward(np.ones_like(a), cache)).all()
    assert F.sigmoid(-1000.0) == 0.0 and F.sigmoid(1000.0) == 1.0


def test_softmax_and_cross_entropy_are_stable_at_1000(backend, strict_floats):
    p = F.softmax(BIG)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p[0], [1.0, 0.0, 0.0])
    loss, d = loss_fn(backend, "cross_entropy")(BIG, np.array([1, 1]))
    # row 0: the true class is 2000 below the max: loss 2000; row 1: log(1 + e^-1)
    assert loss == pytest.approx((2000.0 + np.log1p(np.exp(-1.0))) / 2)
    assert np.isfinite(d).all()


def test_binary_cross_entropy_is_stable_at_saturated_probabilities(backend, strict_floats):
    forward, _ = activation_pair(backend, "sigmoid")
    p, _ = forward(BIG.copy())  # exactly 0 and 1
    y = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])  # the wrong answer where saturated
    loss, dp = loss_fn(backend, "bce")(p, y)
    assert np.isfinite(loss) and loss > 10  # large but finite (clipped at machine eps)
    assert np.isfinite(dp).all()
    right, _ = loss_fn(backend, "bce")(p, (p > 0.5).astype(float))  # right where saturated
    assert right == pytest.approx(np.log(2) / 6, rel=1e-6)  # only the p = 0.5 entry counts
