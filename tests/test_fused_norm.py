"""The fused Numba trainer for stacks with BatchNorm and Dropout (``numba_fused_norm``).

Against the layer-by-layer trainer on the same backend (the same kernels
one layer at a time: the numbers agree to the last bit in practice; asserted
with a tight tolerance) and against the NumPy reference: weights, running
statistics, gradients, losses, the optimizer's state and the Dropout
generators' state after training, evaluation-mode outputs. Dropout draws
its masks from each layer's own Generator in both paths (see
``kernels.mlp_norm_cpu``), so they drop the same entries.
"""
import numpy as np
import pytest

from nnlib import SGD, Adam, Dense, ReLU, Sequential, Sigmoid, Tanh
from nnlib.backends import trainer_for
from nnlib.backends.cuda_fused import CudaFusedMLP
from nnlib.backends.layerwise import LayerwiseTrainer
from nnlib.backends.numba_fused import NumbaFusedMLP
from nnlib.backends.numba_fused_norm import NumbaFusedNormMLP
from nnlib.layers import Flatten
from nnlib.layers.norm import BatchNorm, Dropout

STACKS = {
    # the chapter's pattern: Dense -> BatchNorm -> activation -> Dropout
    "chapter": lambda: [Dense(5, 8), BatchNorm(8), ReLU(), Dropout(0.3), Dense(8, 3)],
    # BatchNorm after an activation, an activation after Dropout, two Dropouts
    "mixed": lambda: [Dense(5, 6), Tanh(), BatchNorm(6), Dropout(0.2), Sigmoid(), Dense(6, 4),
                      Dropout(0.5), Dense(4, 3)],
    # two activations in a row, BatchNorm straight into Dense, Dropout(0) (left out)
    "odd": lambda: [Dense(5, 7), Sigmoid(), ReLU(), BatchNorm(7), Dense(7, 3), Dropout(0.0)],
    # five Dropouts: more than one tuple of four generators
    "many dropouts": lambda: [Dense(5, 6)] + [Dropout(p) for p in (0.1, 0.2, 0.1, 0.3, 0.2)]
                             + [Dense(6, 3)],
}
OPTIMIZERS = {
    "sgd": lambda: SGD(0.1, momentum=0.9, weight_decay=1e-2),
    "adam": lambda: Adam(1e-2, weight_decay=1e-3),
}
TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=1e-5, atol=1e-6)}


def data(dtype, loss="cross_entropy", n=23, n_out=3):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 5)).astype(dtype)
    if loss == "cross_entropy":
        return X, rng.integers(0, n_out, n)
    return X, rng.random((n, n_out))


def fitted(layers, trainer, X, y, optimizer, loss="cross_entropy", epochs=3, backend="numba"):
    """(model, losses, optimizer) after ``epochs`` epochs on ``trainer`` ("fused", "layerwise")."""
    model = Sequential(layers, seed=3, backend=backend)
    if trainer == "layerwise":
        model._trainer = LayerwiseTrainer(model.layers, backend)  # the path to compare against
    history = model.fit(X, y, epochs=epochs, batch_size=4, optimizer=optimizer, loss=loss,
                        verbose=False)
    return model, history["loss"], optimizer


def assert_same_training(a, b, tol, check_grads=True):
    """Two (model, losses, optimizer) triples trained alike: every array and the streams agree."""
    (ma, la, oa), (mb, lb, ob) = a, b
    np.testing.assert_allclose(la, lb, **tol)
    pairs = list(zip(ma.parameters() + ma.buffers(), mb.parameters() + mb.buffers()))
    if check_grads:
        pairs += list(zip(ma.gradients(), mb.gradients()))
    pairs += [(x, y) for sa, sb in zip(oa.state, ob.state) for x, y in zip(sa, sb)]
    for x, y in pairs:
        assert x.dtype == y.dtype
        np.testing.assert_allclose(x, y, **tol)
    assert oa.t == ob.t
    for la_, lb_ in zip(ma.layers, mb.layers):  # the generators drew as many numbers
        if isinstance(la_, Dropout):
            assert la_._rng.random() == lb_._rng.random()


def test_trainer_for_takes_stacks_with_batchnorm_and_dropout():
    assert isinstance(trainer_for("numba", STACKS["chapter"]()), NumbaFusedNormMLP)
    dropout_only = [Dense(2, 3), Dropout(0.5), Dense(3, 2)]
    assert isinstance(trainer_for("numba", dropout_only), NumbaFusedNormMLP)
    assert isinstance(trainer_for("numba", [Dense(2, 3), ReLU(), Dense(3, 2)]), NumbaFusedMLP)
    for layers in ([BatchNorm(2), Dense(2, 2)], [Dropout(0.5), Dense(2, 2)],
                   [Dense(2, 3), BatchNorm(3), Flatten(), Dense(3, 2)]):
        assert isinstance(trainer_for("numba", layers), LayerwiseTrainer)
    assert isinstance(trainer_for("numpy", STACKS["chapter"]()), LayerwiseTrainer)
    assert CudaFusedMLP.build(STACKS["chapter"]()) is None  # CUDA: layer by layer for these


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
@pytest.mark.parametrize("name", sorted(STACKS))
def test_fused_trains_like_the_layer_by_layer_path(name, opt, dtype):
    X, y = data(dtype)
    runs = [fitted(STACKS[name](), trainer, X, y, OPTIMIZERS[opt]())
            for trainer in ("fused", "layerwise")]
    assert isinstance(runs[0][0]._trainer, NumbaFusedNormMLP)
    assert runs[0][0].layers_dtype() == np.dtype(dtype)
    assert_same_training(*runs, TOL[dtype])
    fused, layerwise = runs[0][0], runs[1][0]
    np.testing.assert_allclose(fused.predict_proba(X), layerwise.predict_proba(X), **TOL[dtype])


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_fused_trains_like_the_layer_by_layer_path_on_the_other_losses(loss):
    X, y = data("float64", loss, n_out=2)
    runs = [fitted([Dense(5, 6), BatchNorm(6), Tanh(), Dropout(0.25), Dense(6, 2), Sigmoid()],
                   t, X, y, SGD(0.1), loss=loss) for t in ("fused", "layerwise")]
    assert_same_training(*runs, TOL["float64"])


def test_fused_matches_the_numpy_reference():
    """The independent check: the reference functions, layer by layer, in NumPy."""
    X, y = data("float64")
    fused = fitted(STACKS["mixed"](), "fused", X, y, Adam(1e-2))
    reference = fitted(STACKS["mixed"](), "layerwise", X, y, Adam(1e-2), backend="numpy")
    assert_same_training(fused, reference, dict(rtol=1e-8, atol=1e-10))
    np.testing.assert_allclose(fused[0].evaluate(X, y)["loss"], reference[0].evaluate(X, y)["loss"],
                               rtol=1e-9)


@pytest.mark.parametrize("first, second", [("fused", "layerwise"), ("layerwise", "fused")])
def test_switching_paths_between_epochs_changes_nothing(first, second):
    """What one path leaves (optimizer state and step count, running statistics, the
    generators' state) is what the other takes up: epoch 1 on one, epoch 2 on the other
    equals both epochs layer by layer."""
    X, y = data("float64")
    reference = Sequential(STACKS["mixed"](), seed=3)
    reference._trainer = LayerwiseTrainer(reference.layers, "numba")
    ref_opt = SGD(0.1, momentum=0.9)
    ref_losses = reference.fit(X, y, epochs=2, batch_size=4, optimizer=ref_opt, shuffle=False,
                               verbose=False)["loss"]
    model, opt, losses = Sequential(STACKS["mixed"](), seed=3), SGD(0.1, momentum=0.9), []
    for trainer in (first, second):
        if trainer == "layerwise":
            model._trainer = LayerwiseTrainer(model.layers, "numba")
        else:
            model._trainer = NumbaFusedNormMLP.build(model.layers)
        losses += model.fit(X, y, epochs=1, batch_size=4, optimizer=opt, shuffle=False,
                            verbose=False)["loss"]
    assert_same_training((model, losses, opt), (reference, ref_losses, ref_opt), TOL["float64"])


def test_the_layers_arrays_are_updated_in_place():
    X, y = data("float64")
    model = Sequential(STACKS["chapter"](), seed=3)
    model.fit(X, y, epochs=1, batch_size=4, verbose=False)  # the first fit fixes the dtype (a cast)
    arrays = model.parameters() + model.buffers()
    before = [a.copy() for a in arrays]
    model.fit(X, y, epochs=1, batch_size=4, verbose=False)
    after = model.parameters() + model.buffers()
    assert all(a is b for a, b in zip(arrays, after))
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))


def test_evaluation_mode_uses_running_statistics_and_no_dropout():
    X, y = data("float64")
    model = fitted(STACKS["chapter"](), "fused", X, y, SGD(0.1))[0]
    dense, bn, dense2 = model.layers[0], model.layers[1], model.layers[4]
    h = (X @ dense.W + dense.b - bn.running_mean) / np.sqrt(bn.running_var + bn.eps)
    expected = np.maximum(bn.gamma * h + bn.beta, 0) @ dense2.W + dense2.b  # Dropout: identity
    np.testing.assert_allclose(model._output(X), expected, rtol=1e-10)
    np.testing.assert_allclose(model._output(X), model.forward(X), rtol=1e-12)  # layer by layer
    assert not np.allclose(model.train().forward(X), expected)  # training mode differs
    model.eval()


def test_predict_and_evaluate_draw_nothing_and_update_nothing():
    X, y = data("float64")
    model = fitted(STACKS["mixed"](), "fused", X, y, SGD(0.1))[0]
    states = [l._rng.bit_generator.state for l in model.layers if isinstance(l, Dropout)]
    stats = [b.copy() for b in model.buffers()]
    model.predict(X)
    model.evaluate(X, y)
    assert [l._rng.bit_generator.state for l in model.layers if isinstance(l, Dropout)] == states
    for a, b in zip(model.buffers(), stats):
        np.testing.assert_array_equal(a, b)


def test_save_and_from_file_after_fused_training(tmp_path):
    X, y = data("float32")
    model = fitted(STACKS["chapter"](), "fused", X, y, SGD(0.1))[0]
    loaded = Sequential.from_file(model.save(tmp_path / "bn"))
    assert isinstance(loaded._trainer, NumbaFusedNormMLP)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.layers[1].running_var, model.layers[1].running_var)


def test_a_batch_of_one_is_refused_before_anything_changes(clear_error):
    X, y = data("float64", n=9)
    model = Sequential(STACKS["chapter"](), seed=3)
    before = [a.copy() for a in model.parameters() + model.buffers()]
    clear_error(lambda: model.fit(X, y, epochs=1, batch_size=4, verbose=False),
                "BatchNorm", "batch_size >= 2")
    for a, b in zip(model.parameters() + model.buffers(), before):
        np.testing.assert_array_equal(a, b)
    model.fit(X, y, epochs=1, batch_size=3, verbose=False)  # 9 = 3 x 3: fine
