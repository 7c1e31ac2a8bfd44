"""nnlib.gradcheck: the helpers every other gradient test (and notebook 04) relies on."""
import numpy as np
import pytest

from nnlib import functional as F
from nnlib.gradcheck import check_layer, numerical_gradient, rel_error
from nnlib.layers import Dense, Sigmoid


def test_rel_error_is_zero_for_equal_and_large_for_different_arrays():
    a = np.array([1.0, -2.0, 0.0])
    assert rel_error(a, a.copy()) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0  # no 0/0
    assert rel_error([1.0], [1.0 + 1e-9]) == pytest.approx(1e-9 / 2, rel=1e-3)
    assert rel_error([1.0, 5.0], [-1.0, 5.0]) == 1.0  # opposite signs: the maximum
    assert rel_error([], []) == 0.0


def test_rel_error_refuses_different_shapes():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        rel_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_of_known_functions(rng):
    x = rng.standard_normal((3, 2))
    # f = sum(x**3): df/dx = 3 x**2 (centred differences are exact up to O(h**2))
    grad = numerical_gradient(lambda: np.sum(x ** 3), x)
    assert rel_error(grad, 3 * x ** 2) < 1e-8
    # array-valued f with an upstream gradient: d/dx sum(df * sin(x)) = df * cos(x)
    df = rng.standard_normal(x.shape)
    grad = numerical_gradient(lambda: np.sin(x), x, df=df)
    assert rel_error(grad, df * np.cos(x)) < 1e-8


def test_numerical_gradient_restores_x_and_refuses_non_float(rng):
    x = rng.standard_normal(4)
    before = x.copy()
    numerical_gradient(lambda: np.sum(x * x), x)
    np.testing.assert_array_equal(x, before)
    with pytest.raises(TypeError, match="float NumPy array"):
        numerical_gradient(lambda: 0.0, np.arange(3))
    with pytest.raises(TypeError, match="float NumPy array"):
        numerical_gradient(lambda: 0.0, [1.0, 2.0])


def test_check_layer_passes_correct_and_flags_wrong_backward(rng, backend):
    x = rng.standard_normal((3, 4))
    layer = Dense(4, 2, seed=1)
    errors = check_layer(layer, x, backend=backend)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < 1e-7

    def wrong_sigmoid_backward(dout, a):
        return dout * a  # forgot the (1 - a)

    errors = check_layer((F.sigmoid_forward, wrong_sigmoid_backward), x)
    assert errors["x"] > 1e-2
    assert check_layer((F.sigmoid_forward, F.sigmoid_backward), x)["x"] < 1e-7
    assert set(check_layer(Sigmoid(), x, backend=backend)) == {"x"}
