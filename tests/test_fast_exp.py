"""nnlib.kernels.fast_exp: the vectorisable exp behind the Numba sigmoid, against np.exp."""
import numpy as np
import pytest
from numba import njit

from nnlib.kernels import cpu
from nnlib.kernels.fast_exp import exp_nonpositive, exp_nonpositive32, exp_nonpositive_like

TINY = np.finfo(np.float64).tiny  # smallest normal float64


@njit(cache=True)
def _exp_all(x, out):
    for i in range(x.size):
        out[i] = exp_nonpositive(x[i])


def fast_exp(x):
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _exp_all(x, out)
    return out


def test_within_3_ulp_of_numpy_over_the_whole_range():
    rng = np.random.default_rng(0)
    x = -np.concatenate([rng.random(200_000) * 745, np.linspace(0, 1, 5001),
                         rng.random(5000) * 1e-8, [0.0, 5e-324, 0.5 * np.log(2)]])
    expected = np.exp(x)
    normal = expected >= TINY
    ulps = np.abs(fast_exp(x) - expected) / np.spacing(expected)
    assert ulps[normal].max() <= 3


def test_underflow_subnormals_and_special_values():
    x = np.array([-708.5, -720.0, -745.0, -745.2, -746.0, -1000.0, -np.inf, 0.0, -0.0])
    got = fast_exp(x)
    np.testing.assert_allclose(got, np.exp(x), rtol=1e-12, atol=2 * 5e-324)
    assert got[-2] == 1.0 and got[-1] == 1.0
    assert np.isnan(fast_exp(np.array([np.nan]))[0])  # NaN is not hidden by the clamp


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-15), ("float32", 2.5e-7)])  # 2 ulp
def test_sigmoid_kernel_matches_reference_on_extremes(dtype, rtol):
    from nnlib import functional as F

    z = np.array([[-1000.0, -100.0, -30.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 30.0, 100.0, 1000.0]],
                 dtype=dtype)
    a = z.copy()
    cpu.activate(a, cpu.SIGMOID)
    np.testing.assert_allclose(a, F.sigmoid(z), rtol=rtol, atol=0)
    nan = np.array([[np.nan]], dtype=dtype)
    cpu.activate(nan, cpu.SIGMOID)
    assert np.isnan(nan[0, 0])  # a diverged layer stays visible


@njit(cache=True)
def _exp32_all(x, out):
    for i in range(x.size):
        out[i] = exp_nonpositive_like(x[i])  # float32 in: the float32 exp


def test_float32_exp_within_2_ulp_of_numpy_and_keeps_float32():
    rng = np.random.default_rng(1)
    x = -np.concatenate([rng.random(200_000) * 87, np.linspace(0, 1, 5001),
                         rng.random(5000) * 1e-6, [0.0, 0.5 * np.log(2)]]).astype(np.float32)
    got = np.empty_like(x)
    _exp32_all(x, got)
    assert got.dtype == np.float32
    expected = np.exp(x.astype(np.float64))
    ulps = np.abs(got - expected) / np.spacing(expected.astype(np.float32)).astype(np.float64)
    assert ulps.max() <= 2
    assert np.isclose(exp_nonpositive32(np.float32(-1.0)), np.exp(-1.0), rtol=2.4e-7)
    assert exp_nonpositive32(np.float32(0.0)) == 1.0
    assert exp_nonpositive32(np.float32(-200.0)) < 1e-37  # clamped at -87: tiny, not garbage
    assert np.isnan(exp_nonpositive32(np.float32(np.nan)))
