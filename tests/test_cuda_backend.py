"""Sequential(backend="cuda") against the NumPy reference backend.

Same seed, same shuffling, same optimizer: after training, the weights, the
loss history and the predictions must agree, to float64 round-off in
float64 and within float32 tolerance in float32. N is never a multiple of
the batch size, so the smaller last batch is always exercised. Without a
GPU this runs in the CUDA simulator (tiny sizes), with a GPU for real.
"""
import glob
import os
import subprocess
import sys

import numpy as np
import pytest

from nnlib import SGD, Adam, Dense, ReLU, Sequential, Sigmoid, Tanh
from nnlib.backends.cuda_fused import CudaFusedMLP
from nnlib.backends.layerwise import LayerwiseTrainer
from nnlib.layers import Layer

TOL = {"float64": dict(rtol=1e-9, atol=1e-12), "float32": dict(rtol=2e-4, atol=2e-5)}


def data(loss, n=11, n_in=3, n_out=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    if loss == "cross_entropy":
        return X, rng.integers(0, n_out, n)
    if loss == "bce":
        return X, rng.integers(0, 2, (n, n_out)).astype(float)
    return X, rng.normal(size=(n, n_out))


def layers(act, n_out=2, last=None):
    stack = [Dense(3, 5), act(), Dense(5, n_out)]
    return stack + ([last()] if last else [])


def train_both(make_layers, loss, make_opt, dtype="float64", epochs=2, batch_size=4, **kw):
    X, y = data(loss)
    models = {}
    for backend in ("numpy", "cuda"):
        model = Sequential(make_layers(), seed=3, backend=backend, dtype=dtype)
        history = model.fit(X, y, epochs=epochs, batch_size=batch_size, optimizer=make_opt(),
                            loss=loss, verbose=False, **kw)
        models[backend] = (model, history)
    return models, X, y


def assert_same_training(models, dtype):
    (ref, ref_hist), (gpu, gpu_hist) = models["numpy"], models["cuda"]
    for p_ref, p_gpu in zip(ref.parameters(), gpu.parameters()):
        assert p_gpu.dtype == np.dtype(dtype)
        np.testing.assert_allclose(p_gpu, p_ref, **TOL[dtype])
    assert sorted(gpu_hist.history) == sorted(ref_hist.history)
    for key in ref_hist.history:  # loss, accuracy, val_* per epoch
        np.testing.assert_allclose(gpu_hist[key], ref_hist[key], **TOL[dtype])


CASES = [  # (activation, loss, last layer, optimizer)
    (Tanh, "cross_entropy", None, lambda: SGD(lr=0.1, momentum=0.9, weight_decay=0.01)),
    (ReLU, "cross_entropy", None, lambda: Adam(lr=0.01, weight_decay=0.01)),
    (Sigmoid, "mse", None, lambda: SGD(lr=0.1)),
    (ReLU, "mse", Tanh, lambda: Adam(lr=0.01)),
    (Tanh, "bce", Sigmoid, lambda: SGD(lr=0.5, momentum=0.5)),
]


@pytest.mark.parametrize("act,loss,last,make_opt", CASES,
                         ids=["tanh-ce-sgd", "relu-ce-adam", "sigmoid-mse-sgd", "relu-mse-tanh-adam",
                              "tanh-bce-sgd"])
def test_cuda_training_matches_numpy_float64(act, loss, last, make_opt):
    models, _, _ = train_both(lambda: layers(act, last=last), loss, make_opt)
    assert_same_training(models, "float64")
    if loss == "cross_entropy":
        assert models["cuda"][1]["accuracy"] == models["numpy"][1]["accuracy"]


@pytest.mark.parametrize("make_opt", [lambda: SGD(lr=0.1, momentum=0.9), lambda: Adam(lr=0.01)],
                         ids=["sgd", "adam"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_cuda_training_matches_numpy_float32(make_opt, loss):
    models, _, _ = train_both(lambda: layers(ReLU), loss, make_opt, dtype="float32")
    assert_same_training(models, "float32")


def test_three_layers_batch_one_and_predictions_match():
    def make():
        return [Dense(3, 6), Tanh(), Dense(6, 4), ReLU(), Dense(4, 2)]
    models, X, y = train_both(make, "cross_entropy", lambda: Adam(lr=0.01), epochs=1, batch_size=1)
    assert_same_training(models, "float64")
    ref, gpu = models["numpy"][0], models["cuda"][0]
    np.testing.assert_allclose(gpu.predict_proba(X), ref.predict_proba(X), rtol=1e-9)
    assert (gpu.predict(X) == ref.predict(X)).all()
    assert gpu.evaluate(X, y) == pytest.approx(ref.evaluate(X, y), rel=1e-9)


def test_validation_metrics_come_from_the_device_model():
    X, y = data("cross_entropy")
    kw = dict(validation_data=(X[:5], y[:5]))
    models, _, _ = train_both(lambda: layers(Tanh), "cross_entropy", lambda: SGD(lr=0.1), **kw)
    for key in ("val_loss", "val_accuracy"):
        np.testing.assert_allclose(models["cuda"][1][key], models["numpy"][1][key], rtol=1e-9)


def test_second_fit_continues_the_optimizer_and_sees_changed_data():
    """State (Adam's moments, step t) carries across fits; new data is uploaded, not reused."""
    X, y = data("cross_entropy")
    results = {}
    for backend in ("numpy", "cuda"):
        Xb = X.copy()
        model = Sequential(layers(Tanh), seed=3, backend=backend)
        opt = Adam(lr=0.01)
        model.fit(Xb, y, epochs=1, batch_size=4, optimizer=opt, verbose=False)
        Xb *= 2.0  # in place: the same array object, new values
        model.fit(Xb, y, epochs=1, batch_size=4, optimizer=opt, verbose=False)
        results[backend] = (model.parameters(), opt.t, [s.copy() for st in opt.state for s in st])
    assert results["cuda"][1] == results["numpy"][1] == 2 * 3
    for a, b in zip(results["cuda"][0] + results["cuda"][2], results["numpy"][0] + results["numpy"][2]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_weights_changed_on_the_host_are_used_by_predict():
    X, _ = data("cross_entropy")
    model = Sequential(layers(Tanh), backend="cuda")
    model.layers[0].W[...] = 0.0  # e.g. after load(); the device must not keep stale weights
    expected = np.tanh(X @ model.layers[0].W + model.layers[0].b) @ model.layers[2].W + model.layers[2].b
    np.testing.assert_allclose(model._output(X), expected, rtol=1e-12)


def test_a_stack_the_fused_path_cannot_take_trains_layer_by_layer_on_the_device():
    """Two activations in a row: not fusable, so each layer runs its own CUDA kernels."""
    make = lambda: [Dense(3, 4), ReLU(), Tanh(), Dense(4, 2)]  # noqa: E731
    assert CudaFusedMLP.build(make()) is None
    models, _, _ = train_both(make, "cross_entropy", lambda: Adam(lr=0.01, weight_decay=0.01))
    assert isinstance(models["cuda"][0]._trainer, LayerwiseTrainer)
    assert_same_training(models, "float64")


def test_a_layer_without_cuda_kernels_is_refused_naming_the_backend():
    class NumpyOnly(Layer):
        op = "identity"  # the reference pair only: no "numba" or "cuda" entry

    with pytest.raises(ValueError, match=r"NumpyOnly\(\) has no kernels for backend='cuda'"):
        Sequential([Dense(3, 2), NumpyOnly()], backend="cuda")


def test_without_gpu_or_simulator_the_error_says_what_to_do():
    """A fresh interpreter with the simulator off: on a GPU machine it works, elsewhere it explains."""
    code = ("from nnlib import Sequential, Dense\n"
            "try:\n    Sequential([Dense(2, 1)], backend='cuda')\n    print('OK')\n"
            "except RuntimeError as e:\n    print('ERR', e)\n")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120).stdout
    if glob.glob("/dev/nvidia[0-9]*"):
        assert out.strip() == "OK"
    else:
        assert out.startswith("ERR backend='cuda' found no usable NVIDIA GPU")
        assert "backend='numba'" in out and "NUMBA_ENABLE_CUDASIM=1" in out
