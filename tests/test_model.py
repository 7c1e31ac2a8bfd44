"""nnlib.model.Sequential: gradients, fused vs reference training, inference, persistence."""
import numpy as np
import pytest

from nnlib import functional as F
from nnlib.backends.layerwise import LayerwiseTrainer
from nnlib.backends.numba_fused import NumbaFusedMLP
from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.layers import Dense, ReLU, Sigmoid, Tanh
from nnlib.model import Sequential
from nnlib.optim import SGD, Adam

STACKS = {  # loss -> a small network that suits it
    "cross_entropy": lambda: [Dense(3, 5), ReLU(), Dense(5, 4), Tanh(), Dense(4, 3)],
    "mse": lambda: [Dense(3, 4), Tanh(), Dense(4, 2)],
    "bce": lambda: [Dense(3, 4), Sigmoid(), Dense(4, 2), Sigmoid()],
}


def data_for(loss, rng, n=23):
    X = rng.standard_normal((n, 3))
    if loss == "cross_entropy":
        return X, rng.integers(0, 3, n)
    if loss == "bce":
        return X, rng.integers(0, 2, (n, 2)).astype(float)
    return X, rng.standard_normal((n, 2))


# ------------------------------------------------------------ gradients
@pytest.mark.parametrize("loss", STACKS)
def test_model_backward_matches_finite_differences_of_the_loss(backend, rng, loss):
    model = Sequential(STACKS[loss](), seed=3, backend=backend)
    for b in model.parameters()[1::2]:
        b[...] = 0.1 * rng.standard_normal(b.shape)  # non-zero biases
    X, y = data_for(loss, rng, n=4)

    def loss_value():
        return F.LOSSES[loss](model.forward(X), y)[0]

    _, dout = F.LOSSES[loss](model.forward(X), y)
    model.backward(dout)
    grads = [g.copy() for g in model.gradients()]
    n_dense = sum(isinstance(layer, Dense) for layer in model.layers)
    assert len(grads) == len(model.parameters()) == 2 * n_dense
    for p, g in zip(model.parameters(), grads):
        assert rel_error(g, numerical_gradient(loss_value, p)) < 1e-7


# ------------------------------------------------------------ fused == reference
def train(backend, loss, optimizer, dtype, rng_seed=0, epochs=3):
    X, y = data_for(loss, np.random.default_rng(rng_seed))
    model = Sequential(STACKS[loss](), seed=11, backend=backend, dtype=dtype)
    history = model.fit(X, y, epochs=epochs, batch_size=5, optimizer=optimizer, loss=loss,
                        shuffle=True, verbose=False)
    return model, history


OPTIMIZERS = {
    "sgd-momentum": lambda: SGD(0.1, momentum=0.9, weight_decay=1e-3),
    "adam": lambda: Adam(0.01, weight_decay=1e-3),
}


@pytest.mark.parametrize("dtype, rtol, atol", [("float64", 1e-10, 1e-12), ("float32", 1e-4, 1e-5)])
@pytest.mark.parametrize("opt", OPTIMIZERS)
@pytest.mark.parametrize("loss", STACKS)
def test_fused_numba_training_gives_the_reference_weights(loss, opt, dtype, rtol, atol):
    ref, ref_history = train("numpy", loss, OPTIMIZERS[opt](), dtype)
    fused, fused_history = train("numba", loss, OPTIMIZERS[opt](), dtype)
    assert isinstance(fused._trainer, NumbaFusedMLP)  # this really is the one-call-per-epoch path
    for p_ref, p_fused in zip(ref.parameters(), fused.parameters()):
        assert p_fused.dtype == np.dtype(dtype)
        np.testing.assert_allclose(p_fused, p_ref, rtol=rtol, atol=atol)
    np.testing.assert_allclose(fused_history["loss"], ref_history["loss"], rtol=rtol)
    if loss == "cross_entropy":
        assert fused_history["accuracy"] == ref_history["accuracy"]
    assert not np.allclose(ref.parameters()[0], Sequential(STACKS[loss](), seed=11).parameters()[0])


def test_layer_by_layer_numba_training_gives_the_reference_weights(rng):
    X, y = data_for("cross_entropy", rng)
    results = []
    for backend in ("numpy", "numba"):
        model = Sequential([Tanh(), Dense(3, 4), ReLU(), Dense(4, 3)], seed=2, backend=backend)
        assert isinstance(model._trainer, LayerwiseTrainer)  # an activation first: no fused plan
        model.fit(X, y, epochs=2, batch_size=4, optimizer=Adam(0.01), verbose=False)
        results.append(model.parameters())
    for p_ref, p_numba in zip(*results):
        np.testing.assert_allclose(p_numba, p_ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("layout", ["strided", "fortran", "transposed view"])
def test_fit_and_predict_accept_any_memory_layout(backend, rng, layout):
    X, y = data_for("cross_entropy", rng, n=12)
    big_X, big_y = np.repeat(X, 2, axis=0), np.repeat(y, 2)
    X_other, y_other = {
        "strided": (big_X[::2], big_y[::2]),
        "fortran": (np.asfortranarray(X), y),
        "transposed view": (np.ascontiguousarray(X.T).T, y.reshape(-1, 1)[:, 0]),
    }[layout]
    weights, outputs = [], []
    for X_in, y_in in ((X, y), (X_other, y_other)):
        model = Sequential(STACKS["cross_entropy"](), backend=backend)
        model.fit(X_in, y_in, epochs=2, batch_size=1, optimizer=Adam(0.01), verbose=False)
        weights.append(model.parameters())
        outputs.append(model.predict_proba(X_in))
    for p, q in zip(*weights):
        np.testing.assert_array_equal(q, p)
    np.testing.assert_array_equal(outputs[1], outputs[0])


# ------------------------------------------------------------ inference
def test_cross_entropy_predict_proba_predict_evaluate(backend, rng):
    X, y = data_for("cross_entropy", rng)
    model = Sequential(STACKS["cross_entropy"](), backend=backend)
    model.fit(X, y, epochs=2, batch_size=8, verbose=False)
    out = model.forward(X)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba, F.softmax(out), rtol=1e-12)
    pred = model.predict(X)
    assert pred.shape == (len(X),) and pred.dtype.kind == "i"
    np.testing.assert_array_equal(pred, out.argmax(axis=1))
    result = model.evaluate(X, y)
    assert result["accuracy"] == pytest.approx(np.mean(pred == y))
    assert result["loss"] == pytest.approx(F.softmax_cross_entropy(out, y)[0], rel=1e-12)


def test_bce_predict_and_evaluate_with_one_sigmoid_output(backend, rng):
    X = rng.standard_normal((30, 3))
    y_soft = rng.uniform(0, 1, 30)  # soft targets: the class is y > 0.5
    model = Sequential([Dense(3, 4), Tanh(), Dense(4, 1), Sigmoid()], backend=backend)
    model.fit(X, y_soft, epochs=2, batch_size=8, loss="bce", verbose=False)
    p = model.predict_proba(X)
    assert p.shape == (30, 1) and ((p > 0) & (p < 1)).all()
    pred = model.predict(X)
    np.testing.assert_array_equal(pred, (p[:, 0] > 0.5).astype(int))
    result = model.evaluate(X, y_soft)
    assert result["accuracy"] == pytest.approx(np.mean(pred == (y_soft > 0.5)))
    assert result["loss"] == pytest.approx(F.binary_cross_entropy(p, y_soft)[0])


def test_mse_predict_is_the_raw_output_and_has_no_accuracy(backend, rng):
    X, y = data_for("mse", rng)
    model = Sequential(STACKS["mse"](), backend=backend)
    history = model.fit(X, y, epochs=2, batch_size=8, loss="mse",
                        validation_data=(X[:5], y[:5]), verbose=False)
    np.testing.assert_allclose(model.predict(X), model.forward(X), rtol=1e-12)
    result = model.evaluate(X, y)
    assert result["accuracy"] is None
    assert result["loss"] == pytest.approx(np.mean((model.forward(X) - y) ** 2))
    assert "val_loss" in history and "val_accuracy" not in history
    assert "None" not in repr(history)


def test_validation_metrics_are_those_of_evaluate_after_each_epoch(backend, rng):
    X, y = data_for("cross_entropy", rng, n=40)
    model = Sequential(STACKS["cross_entropy"](), backend=backend)
    history = model.fit(X[:30], y[:30], epochs=3, batch_size=8, verbose=False,
                        validation_data=(X[30:], y[30:]))
    assert len(history) == 3 and len(history["val_loss"]) == len(history["val_accuracy"]) == 3
    final = model.evaluate(X[30:], y[30:])
    assert history.last()["val_loss"] == final["loss"]
    assert history.last()["val_accuracy"] == final["accuracy"]
    assert history["loss"][-1] < history["loss"][0]


def test_predictions_agree_between_backends(rng):
    X = rng.standard_normal((50, 3))
    outs = [Sequential(STACKS["cross_entropy"](), seed=4, backend=b).predict_proba(X)
            for b in ("numpy", "numba")]
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-12)


def test_loss_before_fit_is_guessed_from_the_last_layer(rng):
    X = rng.standard_normal((6, 3))
    binary = Sequential([Dense(3, 1), Sigmoid()])
    assert binary.predict(X).shape == (6,)
    assert binary.evaluate(X, np.ones(6))["accuracy"] == np.mean(binary.predict(X) == 1)
    multi = Sequential([Dense(3, 4)])
    np.testing.assert_allclose(multi.predict_proba(X).sum(axis=1), 1.0)


# ------------------------------------------------------------ determinism
def test_same_seed_same_weights_different_seed_different(backend):
    a, _ = train(backend, "cross_entropy", SGD(0.1, momentum=0.9), "float64")
    b, _ = train(backend, "cross_entropy", SGD(0.1, momentum=0.9), "float64")
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)
    X, y = data_for("cross_entropy", np.random.default_rng(0))
    c = Sequential(STACKS["cross_entropy"](), seed=12, backend=backend)
    c.fit(X, y, epochs=3, batch_size=5, optimizer=SGD(0.1, momentum=0.9), verbose=False)
    assert not np.allclose(a.parameters()[0], c.parameters()[0])


def test_shuffle_changes_the_result(backend, rng):
    X, y = data_for("cross_entropy", rng)
    ws = []
    for shuffle in (True, False):
        model = Sequential(STACKS["cross_entropy"](), backend=backend)
        model.fit(X, y, epochs=2, batch_size=4, shuffle=shuffle, verbose=False)
        ws.append(model.parameters()[0])
    assert not np.allclose(*ws)


# ------------------------------------------------------------ persistence
def test_save_load_round_trip(backend, rng, tmp_path):
    X, y = data_for("cross_entropy", rng)
    model = Sequential(STACKS["cross_entropy"](), backend=backend, dtype="float32")
    model.fit(X, y, epochs=2, verbose=False)
    written = model.save(tmp_path / "model")  # np.savez adds .npz; load must find it
    assert str(written).endswith("model.npz")
    copy = Sequential(STACKS["cross_entropy"](), seed=99, backend=backend).load(tmp_path / "model")
    for p, q in zip(model.parameters(), copy.parameters()):
        np.testing.assert_allclose(q, p)
    rebuilt = Sequential.from_file(written, backend=backend)
    assert rebuilt.dtype == np.float32
    assert [type(l) for l in rebuilt.layers] == [type(l) for l in model.layers]
    np.testing.assert_array_equal(rebuilt.predict_proba(X), model.predict_proba(X))


def test_load_into_a_different_architecture_is_refused(tmp_path, clear_error):
    path = Sequential([Dense(3, 4), ReLU(), Dense(4, 2)]).save(tmp_path / "m.npz")
    other_sizes = Sequential([Dense(3, 5), ReLU(), Dense(5, 2)])
    other_kinds = Sequential([Dense(3, 4), Tanh(), Dense(4, 2)])
    before = [[p.copy() for p in m.parameters()] for m in (other_sizes, other_kinds)]  # before the calls
    clear_error(lambda: other_sizes.load(path), "different architecture", "Dense(3, 4)",
                "Dense(3, 5)", "from_file")
    clear_error(lambda: other_kinds.load(path), "ReLU()", "Tanh()")
    for model, saved in zip((other_sizes, other_kinds), before):  # refused: untouched
        for p, q in zip(model.parameters(), saved):
            np.testing.assert_array_equal(p, q)


def test_loading_a_file_that_is_not_a_saved_model_is_refused(tmp_path, clear_error):
    np.savez(tmp_path / "weights.npz", W=np.ones(3))
    clear_error(lambda: Sequential.from_file(tmp_path / "weights.npz"), "not a model", "save")
    with pytest.raises(FileNotFoundError):
        Sequential.from_file(tmp_path / "missing.npz")


def test_history_has_one_entry_per_epoch_and_names_missing_metrics(rng):
    X, y = data_for("mse", rng)
    history = Sequential(STACKS["mse"]()).fit(X, y, epochs=4, loss="mse", verbose=False)
    assert len(history) == 4 and len(history["loss"]) == 4
    assert history.last() == {"loss": history["loss"][-1]}
    assert "loss" in history and "accuracy" not in history
    with pytest.raises(KeyError, match="no 'accuracy'.*'loss'"):
        history["accuracy"]
    assert repr(history).startswith("History(4 epochs; last: loss=")
