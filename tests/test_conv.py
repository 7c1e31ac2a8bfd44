"""Conv2D, MaxPool2D, Flatten: the reference, the Numba and CUDA kernels, the layers, Sequential.

Every backward is checked against centred finite differences in float64;
the Numba wrappers against the reference on random shapes; the CUDA
wrappers (the simulator without a GPU: tiny shapes) likewise; and a CNN
trained by Sequential gives the same weights on every backend.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from nnlib.backends import numba_conv
from nnlib.data import load_digits, train_test_split
from nnlib.functional import conv as F
from nnlib.gradcheck import check_layer, numerical_gradient, rel_error
from nnlib.layers import Dense, ReLU
from nnlib.layers.conv import Conv2D, Flatten, MaxPool2D
from nnlib.model import Sequential
from nnlib.optim import SGD, Adam

# (N, C, H, W, F, KH, KW, stride, padding): square and not, stride 1-3, padding 0-2
CONV_CASES = [
    (2, 3, 5, 5, 2, 3, 3, 1, 1),
    (1, 2, 6, 5, 3, 2, 3, 2, 0),
    (2, 1, 7, 6, 2, 3, 2, 2, 2),
    (3, 2, 4, 4, 1, 4, 4, 1, 0),
    (1, 1, 5, 7, 2, 1, 3, 3, 1),
]
POOL_CASES = [(2, None), (3, 2), (2, 1), (3, 1), (1, 2)]  # (size, stride); None: stride = size
TINY_CONV = [(2, 2, 5, 4, 3, 3, 2, 1, 1), (1, 1, 5, 5, 2, 3, 3, 2, 0), (2, 1, 4, 6, 2, 2, 2, 2, 1)]


def conv_data(rng, case, dtype=np.float64):
    N, C, H, W, F_, KH, KW, stride, padding = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    Wt = rng.standard_normal((F_, C, KH, KW)).astype(dtype)
    b = rng.standard_normal(F_).astype(dtype)
    return x, Wt, b, stride, padding


def distinct(rng, shape):
    """Values 0.1 apart in random order: no ties, and a step of 1e-5 never moves a max."""
    return 0.1 * rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)


def run_conv(module, x, Wt, b, stride, padding, dout_seed=7):
    out, cache = module.conv2d_forward(x, Wt, b, stride, padding)
    dout = np.random.default_rng(dout_seed).standard_normal(out.shape).astype(x.dtype)
    return (out, *module.conv2d_backward(dout, cache))


def run_pool(module, x, size, stride, dout_seed=7):
    out, cache = module.maxpool2d_forward(x, size, stride)
    dout = np.random.default_rng(dout_seed).standard_normal(out.shape).astype(x.dtype)
    return out, module.maxpool2d_backward(dout, cache)


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_gradients_match_finite_differences(backend, rng, case):
    x, Wt, b, stride, padding = conv_data(rng, case)
    N, C, H, W, F_, KH, KW, _, _ = case
    layer = Conv2D(C, F_, (KH, KW), stride=stride, padding=padding, seed=1)
    layer.b = b
    errors = check_layer(layer, x, backend=backend)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("size, stride", POOL_CASES)
def test_maxpool2d_gradient_matches_finite_differences(backend, rng, size, stride):
    step = size if stride is None else stride
    x = distinct(rng, (2, 2, size + 2 * step, size + 3 * step))  # windows tile x exactly
    assert check_layer(MaxPool2D(size, stride), x, backend=backend)["x"] < 1e-7


def test_flatten_gradient_matches_finite_differences(backend, rng):
    assert check_layer(Flatten(), rng.standard_normal((2, 3, 2, 4)), backend=backend)["x"] < 1e-7


def test_reference_pair_gradient_of_the_weights_directly(rng):
    """numerical_gradient on the functional pair itself, as notebook 08 does."""
    x, Wt, b, stride, padding = conv_data(rng, CONV_CASES[2])
    out, cache = F.conv2d_forward(x, Wt, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    _, dW, db = F.conv2d_backward(dout, cache)
    f = lambda: F.conv2d_forward(x, Wt, b, stride, padding)[0]  # noqa: E731
    assert rel_error(dW, numerical_gradient(f, Wt, df=dout)) < 1e-7
    assert rel_error(db, numerical_gradient(f, b, df=dout)) < 1e-7


def test_conv2d_is_cross_correlation_with_the_output_size_formula():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    Wt = np.zeros((1, 1, 3, 3))
    Wt[0, 0, 0, 0] = 1.0  # picks the top-left entry of each window (a flip would pick bottom-right)
    out, _ = F.conv2d_forward(x, Wt, np.array([0.5]), stride=2, padding=1)
    assert out.shape == (1, 1, (5 + 2 - 3) // 2 + 1, 3)
    np.testing.assert_array_equal(out[0, 0], [[0.5, 0.5, 0.5], [0.5, 6.5, 8.5], [0.5, 16.5, 18.5]])


@pytest.mark.parametrize("module", ["numpy", "numba", "cuda"])
def test_maxpool_ties_send_the_gradient_to_the_first_max(module):
    mod = {"numpy": F, "numba": numba_conv}.get(module)
    if mod is None:
        from nnlib.backends import cuda_conv as mod
    x = np.ones((1, 1, 2, 4))
    x[0, 0, 1, 3] = 0.0
    out, cache = mod.maxpool2d_forward(x, 2, 2)
    dx = mod.maxpool2d_backward(np.array([[[[2.0, 3.0]]]]), cache)
    np.testing.assert_array_equal(out, [[[[1.0, 1.0]]]])
    np.testing.assert_array_equal(dx, [[[[2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])


# ---------------------------------------------------------------- kernels vs the reference
def tiled(kernel, stride, padding, n_out):
    """An input size whose windows tile the padded input exactly: n_out outputs (at least 1 pixel)."""
    while (n_out - 1) * stride + kernel - 2 * padding < 1:
        n_out += 1
    return (n_out - 1) * stride + kernel - 2 * padding


def random_conv_case(rng):
    KH, KW, stride, padding = *rng.integers(1, 5, size=2), int(rng.integers(1, 4)), int(rng.integers(0, 3))
    H = tiled(int(KH), stride, padding, int(rng.integers(1, 5)))
    W = tiled(int(KW), stride, padding, int(rng.integers(1, 5)))
    return (int(rng.integers(1, 5)), int(rng.integers(1, 4)), H, W, int(rng.integers(1, 5)),
            int(KH), int(KW), stride, padding)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_numba_conv_matches_reference_on_random_shapes(rng, dtype, tol):
    for _ in range(12):
        data = conv_data(rng, random_conv_case(rng), dtype)
        for ref, got in zip(run_conv(F, *data), run_conv(numba_conv, *data)):
            assert got.dtype == dtype and got.shape == ref.shape
            np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_numba_param_gradients_without_dx_match_reference(rng, dtype, tol):
    # the first layer's backward in NumbaConvTrainer: dW, db alone
    for _ in range(6):
        x, Wt, b, stride, padding = conv_data(rng, random_conv_case(rng), dtype)
        out, cache = F.conv2d_forward(x, Wt, b, stride, padding)
        dout = rng.standard_normal(out.shape).astype(dtype)
        _, dW, db = F.conv2d_backward(dout, cache)
        _, numba_cache = numba_conv.conv2d_forward(x, Wt, b, stride, padding)
        got = numba_conv.conv2d_param_gradients(dout, numba_cache)
        for ref, mine in zip((dW, db), got):
            assert mine.dtype == dtype
            np.testing.assert_allclose(mine, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_numba_maxpool_matches_reference_on_random_shapes(rng, dtype, tol):
    for k in range(12):
        size, stride = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        size, stride = (2, 2) if k < 2 else (size, stride)  # the kernel's 2x2 fast path, surely
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                 size + stride * int(rng.integers(0, 3)), size + stride * int(rng.integers(0, 3)))
        x = rng.standard_normal(shape).astype(dtype)
        for ref, got in zip(run_pool(F, x, size, stride), run_pool(numba_conv, x, size, stride)):
            assert got.dtype == dtype  # overlapping windows add dout in another order: tol
            np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", TINY_CONV)
def test_cuda_conv_matches_reference(rng, case):
    from nnlib.backends import cuda_conv

    data = conv_data(rng, case)
    for ref, got in zip(run_conv(F, *data), run_conv(cuda_conv, *data)):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("size, stride", [(2, None), (3, 2), (2, 1)])
def test_cuda_maxpool_matches_reference(rng, size, stride):
    from nnlib.backends import cuda_conv

    step = size if stride is None else stride
    x = rng.standard_normal((2, 2, size + 2 * step, size + step))
    for ref, got in zip(run_pool(F, x, size, stride), run_pool(cuda_conv, x, size, stride)):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_cuda_conv_float32_stays_float32(rng):
    from nnlib.backends import cuda_conv

    data = conv_data(rng, TINY_CONV[1], np.float32)
    for ref, got in zip(run_conv(F, *data), run_conv(cuda_conv, *data)):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- Sequential, every backend
def tiny_cnn(seed=None):
    return [Conv2D(1, 2, 3, padding=1, seed=seed), ReLU(), MaxPool2D(2), Flatten(),
            Dense(2 * 2 * 2, 3, seed=seed)]


def tiny_data(dtype=np.float64):
    rng = np.random.default_rng(3)
    return rng.standard_normal((8, 1, 4, 4)).astype(dtype), rng.integers(0, 3, size=8)


def trained(backend, dtype=np.float64, make_opt=lambda: SGD(lr=0.1, momentum=0.9)):
    X, y = tiny_data(dtype)
    model = Sequential(tiny_cnn(), backend=backend, seed=5)
    start = [p.copy() for p in model.parameters()]
    history = model.fit(X, y, epochs=2, batch_size=4, optimizer=make_opt(), verbose=False)
    return model, start, history


@pytest.mark.parametrize("backend", ["numba", "cuda"])
def test_cnn_trains_to_the_same_weights_on_every_backend(backend):
    ref, start, ref_hist = trained("numpy")
    got, _, hist = trained(backend)
    for p0, p_ref, p in zip(start, ref.parameters(), got.parameters()):
        assert not np.allclose(p_ref, p0)  # training moved every parameter
        np.testing.assert_allclose(p, p_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hist["loss"], ref_hist["loss"], rtol=1e-9)
    X, _ = tiny_data()
    np.testing.assert_allclose(got.predict_proba(X), ref.predict_proba(X), rtol=1e-9)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_float32_data_trains_in_float32(backend):
    ref, _, _ = trained("numpy", np.float64, Adam)
    model, _, history = trained(backend, np.float32, Adam)
    assert model.dtype == np.float32
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model.forward(tiny_data(np.float32)[0]).dtype == np.float32
    for p, p_ref in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p, p_ref, rtol=1e-3, atol=1e-4)


def test_small_cnn_reads_the_digits_with_numba():
    X, y = load_digits()
    X = X.reshape(-1, 1, 8, 8) / 16  # (1797, 1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(X, y, seed=0)
    model = Sequential([Conv2D(1, 8, 3, padding=1), ReLU(), MaxPool2D(2),
                        Conv2D(8, 16, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(),
                        Dense(16 * 2 * 2, 10, init="he")], backend="numba", seed=0)
    model.fit(X_train, y_train, epochs=8, batch_size=32, optimizer=Adam(lr=0.01), verbose=False)
    assert model.evaluate(X_test, y_test)["accuracy"] > 0.95


def test_save_and_from_file_round_trip(tmp_path, rng):
    layers = [Conv2D(2, 3, (3, 2), stride=2, padding=1, init="xavier"), ReLU(), MaxPool2D(2, 1),
              Flatten(), Dense(3 * 2 * 3, 4)]
    model = Sequential(layers, backend="numba", seed=2)
    X = rng.standard_normal((5, 2, 5, 6))
    model.fit(X, rng.integers(0, 4, size=5), epochs=1, verbose=False)
    path = model.save(tmp_path / "cnn")
    spec = json.loads(str(np.load(path)["__spec__"]))
    assert spec["layers"][0]["config"]["kernel_size"] == [3, 2]  # JSON has lists, not tuples
    loaded = Sequential.from_file(path, backend="numpy")
    assert [repr(l) for l in loaded.layers] == [repr(l) for l in model.layers]
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), rtol=1e-12)
    fresh = Sequential([Conv2D(2, 3, (3, 2), stride=2, padding=1), ReLU(), MaxPool2D(2, 1),
                        Flatten(), Dense(18, 4)], backend="numba", seed=9)
    fresh.load(path)  # the same architecture: tuple and list kernel sizes agree
    np.testing.assert_array_equal(fresh.layers[0].W, model.layers[0].W)


def test_a_seeded_or_assigned_conv_layer_keeps_its_weights():
    seeded = Conv2D(1, 2, 3, seed=4)
    W_seeded = seeded.W.copy()
    assigned = Conv2D(2, 1, 2)
    assigned.W = np.full((1, 2, 2, 2), 0.5)
    Sequential([seeded, ReLU(), Conv2D(2, 2, 1), Flatten(), Dense(2, 2)], seed=0)
    Sequential([assigned, Flatten(), Dense(1, 2)], seed=0)
    np.testing.assert_array_equal(seeded.W, W_seeded)
    np.testing.assert_array_equal(assigned.W, np.full((1, 2, 2, 2), 0.5))
    np.testing.assert_array_equal(Conv2D(1, 2, 3, seed=4).W, W_seeded)


def test_he_and_xavier_initialisation_scales():
    he = Conv2D(16, 64, 3, seed=0)  # fan_in = 16*3*3 = 144
    assert abs(he.W.std() - np.sqrt(2 / 144)) < 0.05 * np.sqrt(2 / 144)
    xavier = Conv2D(16, 64, 3, init="xavier", seed=0)  # fan_out = 64*3*3 = 576
    assert abs(np.abs(xavier.W).max() - np.sqrt(6 / (144 + 576))) < 0.01
    assert not he.b.any() and he.W.shape == (64, 16, 3, 3)


# ---------------------------------------------------------------- the issue's signatures
@pytest.mark.parametrize("module", ["nnlib.functional.conv", "nnlib.backends.numba_conv",
                                    "nnlib.backends.cuda_conv"])
def test_the_functional_pairs_have_the_signatures_of_issue_15(module):
    import importlib
    import inspect

    mod = importlib.import_module(module)
    assert str(inspect.signature(mod.conv2d_forward)) == "(x, W, b, stride=1, padding=0)"
    assert str(inspect.signature(mod.conv2d_backward)) == "(dout, cache)"
    assert str(inspect.signature(mod.maxpool2d_forward)) == "(x, size=2, stride=2)"
    assert str(inspect.signature(mod.maxpool2d_backward)) == "(dout, cache)"
    assert str(inspect.signature(MaxPool2D)) == "(size=2, stride=2)"


# ---------------------------------------------------------------- clear errors
def test_sequential_shape_errors_are_clear(clear_error):
    X = np.zeros((2, 1, 8, 8))
    y = np.zeros(2, int)
    fit = lambda layers, X=X: Sequential(layers).fit(X, y, verbose=False)  # noqa: E731
    clear_error(lambda: fit([Conv2D(1, 2, 3), Dense(72, 3)]), "Flatten", "(2, 6, 6)")
    clear_error(lambda: fit([Conv2D(3, 2, 3), Flatten(), Dense(72, 3)]), "3 input channel",
                "Conv2D(1, 2")
    clear_error(lambda: fit([Conv2D(1, 2, 9), Flatten(), Dense(2, 3)]), "9x9", "padding")
    clear_error(lambda: fit([Conv2D(1, 2, 3, padding=1), MaxPool2D(4, 4), MaxPool2D(2),
                             MaxPool2D(2), Flatten(), Dense(2, 3)]), "2x2 window", "1x1")
    clear_error(lambda: fit([Conv2D(1, 2, 3), MaxPool2D(3), Flatten(), Dense(2, 3)]),
                "does not tile", "(6 + 0 - 3) / 2 + 1 = 2.5")
    clear_error(lambda: fit([Conv2D(1, 2, 3), Flatten(), Dense(7, 3)]), "Dense(72, 3)")
    clear_error(lambda: fit([Conv2D(1, 2, 3), Flatten(), Dense(72, 3)], X.reshape(2, 64)),
                "(C, H, W)", "reshape(-1, 1, 8, 8)")
    clear_error(lambda: fit([Flatten(), Dense(64, 3), Conv2D(1, 2, 3)]), "cannot follow")


def test_layer_and_reference_errors_are_clear(clear_error, rng):
    clear_error(lambda: Conv2D(1, 2, 3).forward(np.zeros((2, 8, 8))), "4-D", "x[:, None]")
    clear_error(lambda: Conv2D(3, 2, 3).forward(np.zeros((2, 1, 8, 8))), "(2, 1, 8, 8)",
                "3 input channel")
    clear_error(lambda: MaxPool2D(3).forward(np.zeros((1, 1, 2, 2))), "3x3 window")
    clear_error(lambda: F.conv2d_forward(np.zeros((1, 2, 5, 5)), np.zeros((4, 3, 3, 3)),
                                         np.zeros(4)), "(1, 2, 5, 5)", "(4, 3, 3, 3)", "channels")
    clear_error(lambda: F.conv2d_forward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)),
                                         np.zeros(1)), "3x3", "2x2", "H_out")
    clear_error(lambda: F.conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((2, 1, 3, 3)),
                                         np.zeros(3)), "one entry per filter")
    clear_error(lambda: F.maxpool2d_forward(np.zeros((4, 16)), 2), "4-D", "reshape")
    clear_error(lambda: F.conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)),
                                         np.zeros(1), stride=0), "stride", ">= 1")
    clear_error(lambda: F.conv2d_forward(np.zeros((1, 1, 8, 8)), np.zeros((1, 1, 3, 3)),
                                         np.zeros(1), stride=2), "(8 + 0 - 3) / 2 + 1 = 3.5",
                "not a whole number", "padding")
    clear_error(lambda: F.maxpool2d_forward(np.zeros((1, 1, 5, 4))), "size=2", "along H",
                "(5 + 0 - 2) / 2 + 1 = 2.5")
    clear_error(lambda: MaxPool2D(2).forward(np.zeros((1, 1, 4, 7))), "along W", "3.5")
    clear_error(lambda: Conv2D(1, 2, (3, 0)), "kernel_size[1]")
    clear_error(lambda: Conv2D(1, 2, 3, init="zeros"), "init", "'he'")
    layer = Conv2D(1, 2, 3)
    clear_error(lambda: setattr(layer, "W", np.zeros((2, 1, 2, 2))), "(2, 1, 3, 3)")
    layer.forward(rng.standard_normal((1, 1, 4, 4)))
    clear_error(lambda: layer.backward(np.zeros((1, 2, 3, 3))), "(1, 2, 2, 2)")


def test_importing_the_layers_and_numba_kernels_does_not_import_numba_cuda():
    code = ("import sys, nnlib.layers.conv, nnlib.backends.numba_conv, nnlib.functional.conv\n"
            "print(any(m.startswith('numba.cuda') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- the numba trainer of conv stacks
def test_numba_conv_stacks_train_with_blas_on_one_thread_and_restore_it(monkeypatch):
    from threadpoolctl import threadpool_info

    from nnlib.backends import layerwise, numba_conv_trainer
    from nnlib.backends.numba_conv_trainer import NumbaConvTrainer

    def blas_threads():
        return sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})

    before = blas_threads()
    seen = []
    for module, name in ((layerwise, "forward"), (numba_conv_trainer, "train_step")):  # predict, fit
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _f=original, **k: (seen.append(blas_threads()), _f(*a, **k))[1])
    X, y = tiny_data()
    model = Sequential(tiny_cnn(), backend="numba", seed=5)
    model.fit(X, y, epochs=1, batch_size=4, verbose=False)
    model.predict_proba(X)
    assert isinstance(model._trainer, NumbaConvTrainer)
    assert len(seen) == 2 + 1  # 2 mini-batches in fit, 1 in predict
    assert all(threads == [1] for threads in seen)  # every forward, in fit and predict
    assert blas_threads() == before  # the user's setting is back
    assert NumbaConvTrainer.build([Dense(4, 2)]) is None
    assert not isinstance(Sequential(tiny_cnn(), backend="numpy")._trainer, NumbaConvTrainer)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numba_conv_trainer_step_matches_the_layer_by_layer_loop(dtype):
    # NumbaConvTrainer calls the kernel pairs without Layer.forward/backward and skips the
    # first layer's dx: the same weights as LayerwiseTrainer's loop, BatchNorm and Dropout included
    from nnlib.backends.layerwise import LayerwiseTrainer
    from nnlib.backends.numba_conv_trainer import NumbaConvTrainer
    from nnlib.layers import BatchNorm, Dropout

    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((24, 2, 6, 6)).astype(dtype), rng.integers(0, 3, size=24)

    def model(trainer):
        layers = [Conv2D(2, 3, 3, padding=1), BatchNorm(3), ReLU(), MaxPool2D(2),
                  Conv2D(3, 4, 3, stride=1, padding=1), ReLU(), Flatten(), Dropout(0.25),
                  Dense(4 * 3 * 3, 3)]
        net = Sequential(layers, backend="numba", seed=2)
        if trainer is LayerwiseTrainer:
            net._trainer = LayerwiseTrainer(net.layers, "numba")
        return net

    lean, reference = model(NumbaConvTrainer), model(LayerwiseTrainer)
    assert isinstance(lean._trainer, NumbaConvTrainer)
    for net in (lean, reference):
        net.fit(X, y, epochs=2, batch_size=8, optimizer=SGD(lr=0.1, momentum=0.9), verbose=False)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for mine, ref in zip(lean.parameters() + lean.layers[1].buffers(),
                         reference.parameters() + reference.layers[1].buffers()):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, ref, rtol=tol, atol=tol)


def test_the_digits_come_as_nchw_images_too():
    from nnlib.data import load_digit_images

    images, y = load_digit_images()
    X, y_flat = load_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float64
    np.testing.assert_array_equal(images.reshape(1797, 64), X)  # row by row, as the flat pixels
    np.testing.assert_array_equal(y, y_flat)
    assert Conv2D(1, 2, 3).output_shape(images.shape[1:]) == (2, 6, 6)  # a conv layer takes them as they are
