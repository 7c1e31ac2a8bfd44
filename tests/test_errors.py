"""Bad input gets a ValueError/TypeError that names the problem, on both backends.

``clear_error`` (tests/conftest.py) also checks that the error is nnlib's
own: never a Numba typing error, never a message that mentions Numba.
"""
import numpy as np
import pytest

from nnlib import functional as F
from nnlib.layers import Dense, ReLU, Sigmoid, Tanh
from nnlib.model import Sequential
from nnlib.optim import SGD, Adam

X = np.random.default_rng(0).standard_normal((6, 2))
Y = np.array([0, 1, 0, 1, 1, 0])


@pytest.fixture
def model(backend):
    return Sequential([Dense(2, 3), Tanh(), Dense(3, 2)], backend=backend)


@pytest.fixture
def binary(backend):
    return Sequential([Dense(2, 3), Tanh(), Dense(3, 1), Sigmoid()], backend=backend)


def with_value(x, index, value):
    x = np.array(x, dtype=float)
    x[index] = value
    return x


# ------------------------------------------------------------ X
@pytest.mark.parametrize("method", ["fit", "predict", "predict_proba", "evaluate", "forward"])
def test_wrong_number_of_features_names_both_shapes(model, clear_error, method):
    bad = np.ones((6, 3))
    args = {"fit": (bad, Y), "evaluate": (bad, Y)}.get(method, (bad,))
    kwargs = {"verbose": False} if method == "fit" else {}
    clear_error(lambda: getattr(model, method)(*args, **kwargs), "(6, 3)", "(n_samples, 2)")


@pytest.mark.parametrize("bad, words", [
    (np.ones(2), ["2-D", "(2,)", "reshape(1, -1)"]),
    (np.ones((2, 2, 2)), ["2-D", "(2, 2, 2)", "flatten"]),
    (np.empty((0, 2)), ["empty", "(0, 2)"]),
    ([], ["empty"]),
    ([[1.0, 2.0], [3.0]], ["could not be turned into an array", "rectangular"]),
    (with_value(X, (2, 1), np.nan), ["NaN", "(2, 1)"]),
    (with_value(X, (0, 0), np.inf), ["infinite", "(0, 0)"]),
])
def test_bad_X_values_and_shapes(model, clear_error, bad, words):
    clear_error(lambda: model.predict(bad), *words)
    clear_error(lambda: model.fit(bad, Y, verbose=False), *words)


@pytest.mark.parametrize("bad", [
    np.array([["a", "b"]] * 6), np.full((6, 2), None), np.ones((6, 2)) * 1j,
])
def test_X_of_strings_objects_or_complex_is_a_type_error(model, clear_error, bad):
    clear_error(lambda: model.fit(bad, Y, verbose=False), "real numbers", str(bad.dtype),
                kinds=TypeError)


def test_integer_and_float32_X_are_accepted(model):
    assert model.predict(np.ones((2, 2), dtype=int)).shape == (2,)
    assert model.predict(np.ones((2, 2), dtype=np.float32)).shape == (2,)


# ------------------------------------------------------------ y
@pytest.mark.parametrize("bad_y, words", [
    (np.array([0, 1, 2, 0, 1, 0]), ["label 2", "out of range", "0..1"]),
    (np.array([0, 1, -1, 0, 1, 0]), ["label -1", "out of range"]),
    (np.array([0, 1, 0.5, 0, 1, 0]), ["whole-number", "0.5", "loss='mse'"]),
    (np.array([0, 1, 1]), ["3 labels", "6 samples"]),
    (np.eye(2)[Y], ["argmax(axis=1)"]),
    (np.array(list("abaabb")), ["integer class labels", "<U1"]),
    (with_value(Y, 1, np.nan), ["NaN"]),
])
def test_bad_class_labels(model, clear_error, bad_y, words):
    clear_error(lambda: model.fit(X, bad_y, verbose=False), *words)
    clear_error(lambda: model.evaluate(X, bad_y), *words)


def test_bad_regression_and_bce_targets(model, binary, clear_error):
    clear_error(lambda: model.fit(X, np.ones((6, 3)), loss="mse", verbose=False),
                "(6, 3)", "(6, 2)")
    clear_error(lambda: model.fit(X, np.ones(5), loss="mse", verbose=False), "(5, 1)", "(6, 2)")
    clear_error(lambda: binary.fit(X, Y * 2, loss="bce", verbose=False), "[0, 1]", "[0, 2]")
    clear_error(lambda: model.fit(X, np.ones((6, 2)), loss="bce", verbose=False),
                "Sigmoid()", "loss='bce'")


def test_a_refused_fit_leaves_the_model_unchanged(model, clear_error):
    model.fit(X, Y, epochs=1, verbose=False)
    before = [p.copy() for p in model.parameters()]
    clear_error(lambda: model.fit(X, Y[:3], loss="mse", verbose=False), "shape")
    assert model.loss == "cross_entropy"
    for p, q in zip(before, model.parameters()):
        np.testing.assert_array_equal(p, q)


# ------------------------------------------------------------ fit arguments
@pytest.mark.parametrize("kwargs, words", [
    ({"epochs": 0}, ["epochs", "positive integer", "epochs=10"]),
    ({"epochs": -3}, ["epochs", "positive integer"]),
    ({"epochs": 2.5}, ["epochs", "positive integer"]),
    ({"batch_size": 0}, ["batch_size", "positive integer"]),
    ({"batch_size": -1}, ["batch_size", "positive integer"]),
    ({"batch_size": True}, ["batch_size", "positive integer"]),
    ({"loss": "hinge"}, ["unknown loss 'hinge'", "'cross_entropy', 'mse', 'bce'"]),
    ({"optimizer": "adam"}, ["optimizer", "nnlib.SGD", "Adam"]),
    ({"optimizer": 0.1}, ["optimizer", "nnlib.SGD"]),
    ({"validation_data": X}, ["validation_data", "pair (X_val, y_val)"]),
    ({"validation_data": (X[:, :1], Y)}, ["X_val", "(6, 1)", "(n_samples, 2)"]),
    ({"validation_data": (X, Y[:4])}, ["y_val", "4 labels", "6 samples"]),
])
def test_bad_fit_arguments(model, clear_error, kwargs, words):
    clear_error(lambda: model.fit(X, Y, verbose=False, **kwargs), *words)


# ------------------------------------------------------------ construction
@pytest.mark.parametrize("make, words", [
    (lambda: Sequential([]), ["at least one layer"]),
    (lambda: Sequential([Tanh()]), ["at least one Dense"]),
    (lambda: Sequential([Dense(2, 3), Dense(4, 1)]), ["do not chain", "Dense(3, 1)", "outputs 3"]),
    (lambda: Sequential([Dense(2, 3), "relu"]), ["layer 1", "not an nnlib layer"]),
    (lambda: Sequential([Dense(2, 3)], backend="gpu"), ["unknown backend 'gpu'", "'numba', 'numpy'"]),
    (lambda: Sequential([Dense(2, 3)], dtype="float16"), ["unknown dtype", "'float64', 'float32'"]),
    (lambda: Sequential([Dense(2, 3)], dtype="banana"), ["unknown dtype 'banana'"]),
    (lambda: Dense(0, 3), ["n_in", "positive integer"]),
    (lambda: Dense(2, 3.0), ["n_out", "positive integer"]),
    (lambda: Dense(2, 3, init="glorot"), ["unknown init 'glorot'", "'xavier', 'he', 'zeros'"]),
    (lambda: Dense(2, 3, init=-1.0), ["init", "standard deviation > 0"]),
    (lambda: Dense(2, 3, init=None), ["init", "standard deviation > 0"]),
    (lambda: SGD(lr=0), ["lr", "> 0", "lr=0.1"]),
    (lambda: SGD(lr="fast"), ["lr", "> 0"]),
    (lambda: SGD(lr=np.nan), ["lr", "finite"]),
    (lambda: SGD(momentum=1.0), ["momentum", "[0, 1)"]),
    (lambda: SGD(weight_decay=-1), ["weight_decay", ">= 0"]),
    (lambda: Adam(betas=(0.9, 1.0)), ["betas[1]", "[0, 1)"]),
    (lambda: Adam(betas=0.9), ["betas", "pair"]),
    (lambda: Adam(eps=0), ["eps", "> 0"]),
])
def test_bad_constructor_arguments(clear_error, make, words):
    clear_error(make, *words)


# ------------------------------------------------------------ layers and functions
def test_layer_errors(backend, clear_error):
    dense = Dense(2, 3)
    clear_error(lambda: dense.forward(np.ones((4, 3)), backend=backend),
                "(4, 3)", "W has shape (2, 3)", "(batch, 2)")
    clear_error(lambda: dense.backward(np.ones((4, 3))), "before forward", kinds=RuntimeError)
    dense.forward(np.ones((4, 2)), backend=backend)
    clear_error(lambda: dense.backward(np.ones((3, 4))), "(3, 4)", "(4, 3)")
    clear_error(lambda: setattr(dense, "W", np.ones((3, 2))), "(2, 3)", "(3, 2)")
    clear_error(lambda: setattr(dense, "b", np.ones(2)), "(3,)", "(2,)")
    relu = ReLU()
    clear_error(lambda: relu.backward(np.ones(3)), "before forward", kinds=RuntimeError)
    relu.forward(np.ones((2, 3)), backend=backend)
    clear_error(lambda: relu.backward(np.ones((3, 2))), "(3, 2)", "(2, 3)")
    clear_error(lambda: relu.forward(np.array(["x"]), backend=backend), "real numbers", kinds=TypeError)
    clear_error(lambda: dense.forward(np.ones((4, 2)), backend="gpu"), "unknown backend 'gpu'")


def test_model_backward_with_the_wrong_shape(model, clear_error):
    model.forward(X)
    clear_error(lambda: model.backward(np.ones((6, 3))), "(6, 3)", "(6, 2)")


def test_functional_errors(clear_error):
    clear_error(lambda: F.dense_forward(np.ones((4, 3)), np.ones((2, 3)), np.ones(3)),
                "(4, 3)", "(2, 3)", "W.T")
    clear_error(lambda: F.dense_forward(np.ones((4, 2)), np.ones((2, 3)), np.ones(2)),
                "b has shape (2,)", "(3,)")
    _, cache = F.dense_forward(np.ones((4, 2)), np.ones((2, 3)), np.ones(3))
    clear_error(lambda: F.dense_backward(np.ones((4, 2)), cache), "(4, 2)", "(4, 3)")
    clear_error(lambda: F.softmax_cross_entropy(np.ones((2, 3)), [0, 3]), "label 3", "0..2")
    clear_error(lambda: F.softmax(np.ones(3)), "2-D", "reshape")
    clear_error(lambda: F.mse(np.ones((2, 2)), np.ones((2, 3))), "(2, 2)", "(2, 3)")
    clear_error(lambda: F.binary_cross_entropy(np.array([[1.5]]), [[1.0]]), "[0, 1]", "Sigmoid")


def test_optimizer_step_errors(clear_error):
    p, g = np.ones((3, 2)), np.ones((3, 2))
    clear_error(lambda: SGD().step([(p, np.ones((2, 3)))]), "(2, 3)", "(3, 2)")
    clear_error(lambda: SGD().step([(p, g)], backend="fast"), "unknown backend 'fast'")
    clear_error(lambda: SGD().step([(np.ones((2, 3)).T, g)], backend="numba"),
                "C-contiguous", "np.ascontiguousarray", kinds=TypeError)
    clear_error(lambda: SGD().step([(np.ones(3, dtype=int), np.ones(3))]), "float", kinds=TypeError)
    with pytest.raises(FloatingPointError, match="NaN or inf.*lower the learning rate"):
        SGD().step([(p, with_value(g, (0, 0), np.inf))])


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # it does diverge
def test_a_diverging_fit_stops_with_advice(backend):
    model = Sequential([Dense(2, 1)], backend=backend)
    big_y = np.full(6, 1e200)
    with pytest.raises(FloatingPointError, match="Lower the learning rate|lower the learning rate"):
        model.fit(X * 1e100, big_y, epochs=5, loss="mse", optimizer=SGD(10.0), verbose=False)


def test_finite_data_whose_sum_overflows_is_accepted_and_inf_minus_inf_is_refused():
    """check_finite first tests the sum (one pass): an overflowing sum must not refuse finite data."""
    import warnings

    from nnlib._validate import check_finite

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid warning reaches the user
        check_finite(np.full((4, 4), 3e38, dtype=np.float32), "X")
        with pytest.raises(ValueError, match=r"X contains 2 NaN or infinite value\(s\) \(first at index \(1,\)\)"):
            check_finite(np.array([1.0, np.inf, -np.inf]), "X")
