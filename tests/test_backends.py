"""The shape of nnlib: one place chooses the backend, layers keep their own weights, dtype follows the data.

Also the Numba cache key: the Makefile keys the on-disk cache by a hash of
nnlib/kernels/*.py, so every compiled function must live there and import
only from there.
"""
import ast
import pathlib

import numpy as np
import pytest

from nnlib import SGD, Adam, Dense, ReLU, Sequential, Sigmoid, Tanh
from nnlib.backends import BACKENDS, trainer_for
from nnlib.backends.layerwise import LayerwiseTrainer
from nnlib.backends.numba_fused import NumbaFusedMLP

NNLIB = pathlib.Path(__file__).resolve().parents[1] / "nnlib"
ALL_BACKENDS = ("numpy", "numba", "cuda")


def _tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def _decorator_names(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                yield ast.unparse(dec.func if isinstance(dec, ast.Call) else dec)


def test_every_compiled_function_lives_in_nnlib_kernels():
    outside = {}
    for path in NNLIB.rglob("*.py"):
        if "kernels" in path.relative_to(NNLIB).parts:
            continue
        jitted = [d for d in _decorator_names(_tree(path)) if d.endswith("jit")]
        if jitted:
            outside[str(path.relative_to(NNLIB))] = jitted
    assert outside == {}, "compiled code outside nnlib/kernels escapes the cache key"


def test_kernels_import_only_kernels_so_the_cache_key_covers_them():
    for path in (NNLIB / "kernels").glob("*.py"):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nnlib"):
                assert node.module.startswith("nnlib.kernels"), (path.name, node.module)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("nnlib") or alias.name.startswith(
                        "nnlib.kernels"), (path.name, alias.name)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_the_backend_is_never_stored_on_a_layer(backend):
    layers = [Dense(3, 4), ReLU(), Dense(4, 2)]
    model = Sequential(layers, backend=backend)
    X = np.random.default_rng(0).standard_normal((6, 3))
    model.fit(X, np.array([0, 1, 0, 1, 1, 0]), epochs=1, batch_size=4, verbose=False)
    model.predict(X)
    model.backward(np.ones_like(model.forward(X)))
    for layer in layers:
        stored = {k for k, v in vars(layer).items() if isinstance(v, str) and v in BACKENDS}
        assert stored == set() and not hasattr(layer, "backend"), (layer, stored)


def test_trainer_for_chooses_fused_or_layer_by_layer():
    assert isinstance(trainer_for("numba", [Dense(2, 3), ReLU(), Dense(3, 2)]), NumbaFusedMLP)
    assert isinstance(trainer_for("numba", [ReLU(), Dense(2, 2)]), LayerwiseTrainer)
    assert isinstance(trainer_for("numpy", [Dense(2, 3), ReLU(), Dense(3, 2)]), LayerwiseTrainer)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_a_layers_own_seed_and_weights_are_kept(backend):
    W_seeded = Dense(3, 4, seed=5).W.copy()
    assigned = Dense(4, 2)
    assigned.W = np.full((4, 2), 0.25)
    drawn = Dense(2, 2)
    before = drawn.W.copy()
    Sequential([Dense(3, 4, seed=5), ReLU(), assigned], seed=0, backend=backend)
    model = Sequential([Dense(3, 4, seed=5), ReLU(), Dense(4, 2)], seed=0, backend=backend)
    np.testing.assert_array_equal(model.layers[0].W, W_seeded)  # seed=5 kept, not re-drawn
    np.testing.assert_array_equal(assigned.W, 0.25)  # assigned weights kept
    Sequential([drawn], seed=0, backend=backend)
    assert not np.array_equal(drawn.W, before)  # no seed of its own: the model's seed draws it
    a = Sequential([Dense(2, 2)], seed=7, backend=backend).layers[0].W
    b = Sequential([Dense(2, 2)], seed=7, backend=backend).layers[0].W
    np.testing.assert_array_equal(a, b)


def _data(dtype, n=12):
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, 3)).astype(dtype), rng.integers(0, 2, n)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("data_dtype, expected", [
    (np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64), (np.uint8, np.float64)])
def test_dtype_follows_the_data_at_the_first_fit(backend, data_dtype, expected):
    X, y = _data(data_dtype)
    model = Sequential([Dense(3, 4), Tanh(), Dense(4, 2)], backend=backend)
    assert model.dtype is None and model.parameters()[0].dtype == np.float64
    model.fit(X, y, epochs=1, batch_size=4, optimizer=Adam(0.01), verbose=False)
    assert model.dtype == expected
    assert {p.dtype for p in model.parameters()} == {np.dtype(expected)}
    assert model.predict_proba(X).dtype == expected
    model.fit(X.astype(np.float64), y, epochs=1, verbose=False)  # fixed at the first fit
    assert model.dtype == expected and model.parameters()[0].dtype == expected


def test_a_given_dtype_wins_over_the_data():
    X, y = _data(np.float32)
    model = Sequential([Dense(3, 2)], dtype="float64")
    model.fit(X, y, epochs=1, verbose=False)
    assert model.dtype == np.float64 and model.parameters()[0].dtype == np.float64


def test_float32_training_matches_float64_training_closely():
    X, y = _data(np.float64, n=40)
    runs = []
    for dtype in (np.float32, np.float64):
        model = Sequential([Dense(3, 5), Sigmoid(), Dense(5, 2)], seed=3)
        model.fit(X.astype(dtype), y, epochs=3, batch_size=8, optimizer=SGD(0.5), verbose=False)
        runs.append(model.parameters())
    for p32, p64 in zip(*runs):
        assert p32.dtype == np.float32
        np.testing.assert_allclose(p32, p64, rtol=1e-4, atol=1e-5)


def test_a_refused_first_fit_does_not_fix_the_dtype(clear_error):
    X, y = _data(np.float32)
    model = Sequential([Dense(3, 2)])
    clear_error(lambda: model.fit(X, np.full(12, 7), verbose=False), "label")
    assert model.dtype is None and model.parameters()[0].dtype == np.float64
