"""RNN and LSTM: reference vs Numba kernels, gradients, layers, Sequential, a memory task.

Gradients against centred finite differences in float64 (backpropagation
through time, both output kinds), the compiled time loop against the
reference, training in Sequential on both CPU backends, and an LSTM that
must remember the first element of a sequence for ten steps.
"""
import numpy as np
import pytest

from nnlib import SGD, Adam, Dense, Sequential
from nnlib.backends import numba_recurrent
from nnlib.functional import recurrent as F
from nnlib.gradcheck import check_layer, numerical_gradient, rel_error
from nnlib.layers.recurrent import LSTM, RNN

LAYERS = {"rnn": RNN, "lstm": LSTM}


def with_random_bias(layer, rng):
    layer.b = rng.normal(size=layer.b.shape)  # the forget bias of 1 is tested on its own
    return layer


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_gradients_match_finite_differences(backend, rng, name, return_sequences):
    layer = with_random_bias(LAYERS[name](3, 4, return_sequences, init=0.5, seed=1), rng)
    # Three steps: the difference quotients' absolute error is ~1e-11, so an entry of the
    # gradient below ~1e-4 (dWh's, which gradients from far steps feed) can exceed 1e-7
    # relative with a correct backward; a wrong one is off by far more than 1e-3.
    errors = check_layer(layer, rng.normal(size=(2, 3, 3)), backend=backend)
    assert set(errors) == {"x", "Wx", "Wh", "b"}
    assert max(errors.values()) < 1e-7, errors


PAIRS = {"rnn": (F.rnn_forward, F.rnn_backward, 1), "lstm": (F.lstm_forward, F.lstm_backward, 4)}


def random_args(rng, name, N, T, D, H, dtype=np.float64):
    """x, h0, Wx, Wh, b for the pair ``name``, weights of scale 0.5."""
    G = PAIRS[name][2]
    x = rng.normal(size=(N, T, D)).astype(dtype)
    h0 = rng.normal(size=(N, H)).astype(dtype)
    Wx, Wh = (0.5 * rng.normal(size=(n, G * H)).astype(dtype) for n in (D, H))
    b = rng.normal(size=G * H).astype(dtype)
    return x, h0, Wx, Wh, b


@pytest.mark.parametrize("module", [F, numba_recurrent], ids=["numpy", "numba"])
@pytest.mark.parametrize("name", PAIRS)
def test_pair_gradients_match_finite_differences_float64(rng, module, name):
    """Every output of backward, dh0 included, against centred differences of L = sum(dh * h)."""
    forward = getattr(module, f"{name}_forward")
    backward = getattr(module, f"{name}_backward")
    args = random_args(rng, name, N=2, T=4, D=3, H=3)
    h, cache = forward(*args)
    dh = rng.normal(size=h.shape)
    grads = backward(dh, cache)
    assert len(grads) == 5
    for arg, grad, label in zip(args, grads, ("x", "h0", "Wx", "Wh", "b")):
        num = numerical_gradient(lambda: float(np.sum(forward(*args)[0] * dh)), arg)
        assert grad.shape == arg.shape, label
        assert rel_error(grad, num) < 1e-6, (label, rel_error(grad, num))


@pytest.mark.parametrize("name", PAIRS)
def test_initial_state_matters_and_cell_starts_at_zero(rng, name):
    forward = PAIRS[name][0]
    x, h0, Wx, Wh, b = random_args(rng, name, N=2, T=3, D=2, H=3)
    h_rest, _ = forward(x, np.zeros_like(h0), Wx, Wh, b)
    h_given, _ = forward(x, h0, Wx, Wh, b)
    assert h_rest.shape == (2, 3, 3) and not np.allclose(h_rest[:, 0], h_given[:, 0])
    H = h0.shape[1]
    if name == "lstm":  # step 1 by hand: c_1 = i g (c_0 = 0), h_1 = o tanh(c_1)
        a = x[:, 0] @ Wx + h0 @ Wh + b
        sig = lambda z: 1 / (1 + np.exp(-z))
        i, o, g = sig(a[:, :H]), sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
        np.testing.assert_allclose(h_given[:, 0], o * np.tanh(i * g), rtol=1e-12)
    else:
        np.testing.assert_allclose(h_given[:, 0], np.tanh(x[:, 0] @ Wx + h0 @ Wh + b), rtol=1e-12)


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numba_matches_reference_on_random_shapes(rng, name, dtype):
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    for _ in range(6):
        N, T, D, H = rng.integers(1, 7, size=4)
        args = random_args(rng, name, N, T, D, H, dtype)
        results = []
        for module in (F, numba_recurrent):
            h, cache = getattr(module, f"{name}_forward")(*args)
            dh = np.random.default_rng(0).normal(size=h.shape).astype(dtype)
            results.append((h, *getattr(module, f"{name}_backward")(dh, cache)))
        for ref, got in zip(*results):
            assert got.dtype == dtype and got.shape == ref.shape
            np.testing.assert_allclose(got, ref, **tol)


@pytest.mark.parametrize("name", PAIRS)
def test_numba_backward_without_dx_gives_the_reference_weight_gradients(rng, name):
    """need_dx=False (a first layer in training) skips dx only: the rest still match F."""
    args = random_args(rng, name, 3, 5, 4, 6, np.float64)
    h, cache = getattr(F, f"{name}_forward")(*args)
    dh = rng.normal(size=h.shape)
    ref = getattr(F, f"{name}_backward")(dh, cache)
    _, cache = getattr(numba_recurrent, f"{name}_forward")(*args)
    got = getattr(numba_recurrent, f"{name}_backward")(dh, cache, need_dx=False)
    assert got[0] is None
    for a, b in zip(got[1:], ref[1:]):  # dh0, dWx, dWh, db
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("flops", [0.0, np.inf], ids=["shared", "one-thread"])
def test_lstm_products_match_reference_on_either_thread_path(rng, monkeypatch, flops):
    """Both branches of ``_product`` (big products at BLAS's threads, small ones at one)."""
    monkeypatch.setattr(numba_recurrent, "SHARED_PRODUCT_FLOPS", flops)
    args = random_args(rng, "lstm", 4, 6, 5, 3, np.float64)
    dh = rng.normal(size=(4, 6, 3))
    ref = F.lstm_backward(dh, F.lstm_forward(*args)[1])
    h, cache = numba_recurrent.lstm_forward(*args)
    np.testing.assert_allclose(h, F.lstm_forward(*args)[0], rtol=1e-10, atol=1e-12)
    for a, b in zip(numba_recurrent.lstm_backward(dh, cache), ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_backward_skips_dx_only_when_asked(rng, name):
    layer = with_random_bias(LAYERS[name](3, 4, return_sequences=True, seed=1), rng)
    x, dout = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 4))
    layer.forward(x, backend="numba", training=True)
    dx = layer.backward(dout)
    grads = [g.copy() for g in layer.gradients()]
    assert dx.shape == x.shape
    assert layer.backward(dout, need_dx=False) is None
    for a, b in zip(layer.gradients(), grads):
        np.testing.assert_array_equal(a, b)
    model = Sequential([LAYERS[name](3, 4), Dense(4, 2)], seed=0)  # Model.backward: dx for a GAN
    model.forward(x)
    assert model.backward(rng.normal(size=(2, 2))).shape == x.shape


def test_lstm_forget_gate_bias_starts_at_one():
    b = LSTM(3, 4, seed=0).b
    np.testing.assert_array_equal(b[4:8], 1.0)
    np.testing.assert_array_equal(np.r_[b[:4], b[8:]], 0.0)
    assert not RNN(3, 4, seed=0).b.any()


def sequences(n=9, T=4, D=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, T, D)), rng.integers(0, 2, n)


STACKS = {
    "lstm": lambda: [LSTM(3, 5), Dense(5, 2)],
    "rnn": lambda: [RNN(3, 5), Dense(5, 2)],
    "stacked": lambda: [LSTM(3, 4, return_sequences=True), RNN(4, 5), Dense(5, 2)],
}


@pytest.mark.parametrize("stack", STACKS)
def test_sequential_trains_the_same_on_numpy_and_numba(stack):
    X, y = sequences()
    models = []
    for backend in ("numpy", "numba"):
        model = Sequential(STACKS[stack](), seed=2, backend=backend)
        model.fit(X, y, epochs=2, batch_size=4, optimizer=SGD(0.1, momentum=0.9), verbose=False)
        models.append(model)
    ref, got = models
    assert not np.allclose(ref.layers[0].Wx, Sequential(STACKS[stack](), seed=2).layers[0].Wx)
    for a, b in zip(got.parameters(), ref.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.predict_proba(X), ref.predict_proba(X), rtol=1e-9)


def test_float32_sequences_train_in_float32():
    X, y = sequences()
    model = Sequential(STACKS["lstm"](), backend="numba")
    model.fit(X.astype(np.float32), y, epochs=1, verbose=False)
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}


def test_lstm_remembers_the_first_element_for_ten_steps():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1200, 10, 1))
    y = (X[:, 0, 0] > 0).astype(np.int64)  # the sign of the first step, 9 steps back
    model = Sequential([LSTM(1, 12), Dense(12, 2)], seed=0, backend="numba")
    model.fit(X[:1000], y[:1000], epochs=12, batch_size=32, optimizer=Adam(0.01), verbose=False)
    assert model.evaluate(X[1000:], y[1000:])["accuracy"] > 0.9


def test_save_and_from_file_round_trip(tmp_path):
    X, y = sequences()
    model = Sequential(STACKS["stacked"](), seed=1, backend="numpy")
    model.fit(X, y, epochs=1, verbose=False)
    loaded = Sequential.from_file(model.save(tmp_path / "rnn"), backend="numba")
    assert loaded.layers[0].return_sequences and not loaded.layers[1].return_sequences
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), rtol=1e-12)


def test_a_layer_given_a_seed_keeps_its_weights():
    layer = LSTM(3, 5, seed=4)
    Wx = layer.Wx.copy()
    Sequential([layer, Dense(5, 2)], seed=0)
    np.testing.assert_array_equal(layer.Wx, Wx)


def test_cuda_backend_is_refused_by_name(clear_error):
    message = clear_error(lambda: Sequential(STACKS["lstm"](), backend="cuda"), "cuda", "LSTM")
    assert "backend='numba'" in message


def test_clear_errors(clear_error):
    clear_error(lambda: LSTM(3, 5).forward(np.ones((4, 3))), "(batch, T, 3)", "reshape(N, T, 1)")
    clear_error(lambda: RNN(3, 5).forward(np.ones((4, 2, 2))), "(batch, T, 3)", "(4, 2, 2)")
    clear_error(lambda: Sequential([LSTM(3, 5), Dense(4, 2)]), "Dense(5, 2)")
    clear_error(lambda: Sequential([LSTM(2, 5), Dense(5, 2)]).fit(*sequences(), verbose=False),
                "(T, 2)", "(4, 3)")
    clear_error(lambda: LSTM(3, 0), "n_hidden")
    clear_error(lambda: RNN(3, 4, init="orthogonal"), "init")
    clear_error(lambda: RNN(3, 4, return_sequences="yes"), "return_sequences")
    clear_error(lambda: setattr(LSTM(3, 5), "Wh", np.ones((5, 5))), "Wh", "(5, 20)")
    clear_error(lambda: F.lstm_forward(np.ones((2, 3, 4)), np.zeros((2, 2)), np.ones((3, 8)),
                                       np.ones((2, 8)), np.ones(8)), "(N, T, 3)")
    clear_error(lambda: F.rnn_forward(np.ones((2, 3, 3)), np.zeros((3, 2)), np.ones((3, 2)),
                                      np.ones((2, 2)), np.ones(2)), "h0", "(2, 2)")
