"""nnlib.layers: Dense and the activation layers on both backends.

Gradients against finite differences (through nnlib.gradcheck.check_layer),
the Numba layer against the NumPy layer, inputs of any memory layout, and
the parameter setters.
"""
import numpy as np
import pytest

from nnlib.gradcheck import check_layer
from nnlib.layers import Dense, ReLU, Sigmoid, Tanh

ACTIVATIONS = {"sigmoid": Sigmoid, "relu": ReLU, "tanh": Tanh}


class OnBackend:
    """A layer with every forward on one backend: the tests' way to pass the backend down."""

    def __init__(self, layer, backend):
        self.layer, self.backend = layer, backend

    def forward(self, x):
        return self.layer.forward(x, backend=self.backend)

    def __getattr__(self, name):
        return getattr(self.layer, name)


def make(layer, backend):
    return OnBackend(layer, backend)


def layouts(x):
    """The same values as contiguous, strided, Fortran-order and transposed-view arrays."""
    big = np.zeros((2 * x.shape[0], x.shape[1]))
    big[::2] = x
    return {
        "contiguous": x.copy(),
        "strided x[::2]": big[::2],
        "fortran": np.asfortranarray(x),
        "transposed view": np.ascontiguousarray(x.T).T,
        "list": x.tolist(),
    }


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("init", ["xavier", "he", 0.5])
def test_dense_gradients_match_finite_differences(backend, rng, batch, init):
    layer = make(Dense(3, 4, init=init, seed=2), backend)
    layer.b = rng.standard_normal(4)  # non-zero biases matter too
    errors = check_layer(layer.layer, rng.standard_normal((batch, 3)), backend=backend)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_layer_gradients_match_finite_differences(backend, rng, name):
    z = rng.standard_normal((3, 4))
    z = np.sign(z) * (0.1 + np.abs(z))  # relu: stay away from the kink
    assert check_layer(ACTIVATIONS[name](), z, backend=backend)["x"] < 1e-7


def test_numba_and_numpy_dense_agree_on_random_shapes(rng):
    for _ in range(10):
        batch, n_in, n_out = rng.integers(1, 9, size=3)
        x = rng.standard_normal((batch, n_in))
        dout = rng.standard_normal((batch, n_out))
        results = []
        for backend in ("numpy", "numba"):
            layer = make(Dense(n_in, n_out, seed=3), backend)
            z = layer.forward(x)
            dx = layer.backward(dout)
            results.append((z, dx, layer.dW.copy(), layer.db.copy()))
        for ref, got in zip(*results):
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layout", ["strided x[::2]", "fortran", "transposed view", "list"])
def test_layers_accept_any_memory_layout(backend, rng, layout):
    x = rng.standard_normal((4, 3))
    dense = make(Dense(3, 2, seed=1), backend)
    relu = make(ReLU(), backend)
    z_ref = dense.forward(x)
    dx_ref = dense.backward(np.ones((4, 2)))
    a_ref = relu.forward(x)
    dz_ref = relu.backward(np.asfortranarray(np.ones((4, 3))))
    x_other = layouts(x)[layout]
    np.testing.assert_array_equal(dense.forward(x_other), z_ref)
    np.testing.assert_array_equal(dense.backward(layouts(np.ones((4, 2)))[layout]), dx_ref)
    np.testing.assert_array_equal(relu.forward(x_other), a_ref)
    np.testing.assert_array_equal(relu.backward(layouts(np.ones((4, 3)))[layout]), dz_ref)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 2)])
def test_activations_take_any_shape_and_backends_agree(rng, name, shape):
    z = rng.standard_normal(shape)
    outs = []
    for backend in ("numpy", "numba"):
        layer = make(ACTIVATIONS[name](), backend)
        a = layer.forward(z)
        dz = layer.backward(np.ones(shape))
        assert np.shape(a) == shape and np.shape(dz) == shape
        outs.append((a, dz))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-14, atol=1e-15)


def test_activation_forward_does_not_modify_its_input(backend, rng):
    z = rng.standard_normal((3, 3))
    before = z.copy()
    make(Sigmoid(), backend).forward(z)
    np.testing.assert_array_equal(z, before)


def test_float32_layers_stay_float32(backend, rng):
    layer = make(Dense(3, 2), backend)
    layer.reset(np.random.default_rng(0), np.float32)
    z = layer.forward(rng.standard_normal((4, 3)))
    assert z.dtype == np.float32
    assert layer.backward(np.ones((4, 2))).dtype == np.float32
    a = make(Tanh(), backend).forward(z)
    assert a.dtype == np.float32


def test_assigned_weights_are_stored_as_contiguous_floats_of_the_layer_dtype():
    layer = Dense(2, 3)
    layer.W = np.arange(6).reshape(3, 2).T  # ints, a transposed (Fortran-order) view
    assert layer.W.dtype == np.float64 and layer.W.flags.c_contiguous
    np.testing.assert_array_equal(layer.W, [[0, 2, 4], [1, 3, 5]])
    layer.b = [1, 2, 3]
    np.testing.assert_array_equal(layer.forward(np.array([[1.0, 1.0]])), [[2, 7, 12]])
    layer.reset(np.random.default_rng(0), np.float32)
    layer.W = np.ones((2, 3))
    assert layer.W.dtype == np.float32


def test_same_seed_same_weights_different_seed_different():
    np.testing.assert_array_equal(Dense(4, 3, seed=7).W, Dense(4, 3, seed=7).W)
    assert not np.allclose(Dense(4, 3, seed=7).W, Dense(4, 3, seed=8).W)


def test_initialisers_have_the_documented_scale():
    n_in, n_out = 400, 300
    xavier = Dense(n_in, n_out, init="xavier").W
    limit = np.sqrt(6 / (n_in + n_out))
    assert np.abs(xavier).max() <= limit and np.abs(xavier).max() > 0.99 * limit
    assert Dense(n_in, n_out, init="he").W.std() == pytest.approx(np.sqrt(2 / n_in), rel=0.02)
    assert Dense(n_in, n_out, init=0.5).W.std() == pytest.approx(0.5, rel=0.02)
    assert not Dense(n_in, n_out, init="zeros").W.any()
    assert not Dense(3, 2).b.any()
