"""The Numba kernels (nnlib.kernels.cpu, nnlib.kernels.mlp_cpu) against the NumPy reference.

Random shapes come from hypothesis (small, so compiled code is reused);
batch size 1 is always among them. The last tests check the contract the
kernels rely on: the public wrappers hand them C-contiguous arrays whatever
the caller passed, and compiling them emits no NumbaWarning.
"""
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib import functional as F
from nnlib.backends import numba_ops
from nnlib.backends.numba_fused import NumbaFusedMLP
from nnlib.kernels import cpu, mlp_cpu
from nnlib.layers import Activation, Dense, ReLU, Sigmoid, Tanh
from nnlib.model import Sequential
from nnlib.optim import SGD, Adam

ACT_NAMES = ["identity", "sigmoid", "relu", "tanh"]
FAST = settings(max_examples=25, deadline=None, database=None)  # no .hypothesis/ in the repo
dims = st.integers(1, 6)
seeds = st.integers(0, 2 ** 31)
dtypes = st.sampled_from([np.float64, np.float32])


def tol(dtype):
    return {"rtol": 1e-12, "atol": 1e-14} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}


# ------------------------------------------------------------ single kernels
@FAST
@given(batch=dims, n_in=dims, n_out=dims, act=st.sampled_from(ACT_NAMES), seed=seeds, dtype=dtypes)
def test_dense_forward_kernel_is_act_of_x_W_plus_b(batch, n_in, n_out, act, seed, dtype):
    rng = np.random.default_rng(seed)
    shapes = ((batch, n_in), (n_in, n_out), (n_out,))
    x, W, b = (rng.standard_normal(s).astype(dtype) for s in shapes)
    out = np.full((batch, n_out), np.nan, dtype=dtype)
    cpu.dense_forward(x, W, b, cpu.ACT_CODES[act], out)
    z, _ = F.dense_forward(x, W, b)
    np.testing.assert_allclose(out, F.ACTIVATIONS[act][0](z)[0], **tol(dtype))


@FAST
@given(batch=dims, n_in=dims, n_out=dims, seed=seeds, dtype=dtypes)
def test_dense_backward_kernel_matches_reference(batch, n_in, n_out, seed, dtype):
    rng = np.random.default_rng(seed)
    shapes = ((batch, n_in), (n_in, n_out), (batch, n_out))
    x, W, dz = (rng.standard_normal(s).astype(dtype) for s in shapes)
    dx, dW, db = np.empty_like(x), np.full_like(W, np.nan), np.full(n_out, np.nan, dtype)
    cpu.dense_backward(dz, x, W, dx, dW, db, True)
    for got, ref in zip((dx, dW, db), F.dense_backward(dz, (x, W))):
        np.testing.assert_allclose(got, ref, **tol(dtype))
    dx_untouched = np.full_like(x, 7.0)
    cpu.dense_backward(dz, x, W, dx_untouched, dW, db, False)  # first layer: no dx
    assert (dx_untouched == 7.0).all()


@FAST
@given(batch=dims, n=dims, act=st.sampled_from(ACT_NAMES), seed=seeds, dtype=dtypes)
def test_activation_kernels_match_reference(batch, n, act, seed, dtype):
    rng = np.random.default_rng(seed)
    z, dout = (rng.standard_normal((batch, n)).astype(dtype) for _ in range(2))
    fwd, bwd = F.ACTIVATIONS[act]
    a_ref, cache = fwd(z)
    a = z.copy()
    cpu.activate(a, cpu.ACT_CODES[act])
    np.testing.assert_allclose(a, a_ref, **tol(dtype))
    dz = np.empty_like(a)
    cpu.activation_backward(dout, a, cpu.ACT_CODES[act], dz)
    np.testing.assert_allclose(dz, bwd(dout, cache), **tol(dtype))
    cpu.activation_backward(dout, a, cpu.ACT_CODES[act], dout)  # in place, as mlp_cpu does
    np.testing.assert_allclose(dout, dz, rtol=0, atol=0)


@FAST
@given(n=dims, k=st.integers(2, 5), seed=seeds, dtype=dtypes)
def test_loss_kernels_match_reference(n, k, seed, dtype):
    rng = np.random.default_rng(seed)
    logits = (3 * rng.standard_normal((n, k))).astype(dtype)
    labels = rng.integers(0, k, n)
    targets = rng.random((n, k)).astype(dtype)
    probs = rng.uniform(0.01, 0.99, (n, k)).astype(dtype)
    cases = [
        (cpu.softmax_cross_entropy, F.softmax_cross_entropy, logits, labels),
        (cpu.mse, F.mse, logits, targets),
        (cpu.binary_cross_entropy, F.binary_cross_entropy, probs, targets),
    ]
    for kernel, reference, out, y in cases:
        d = np.empty_like(out)
        value = kernel(out, y, d)
        ref_value, ref_d = reference(out, y)
        np.testing.assert_allclose(value, ref_value, **tol(dtype))
        np.testing.assert_allclose(d, ref_d, **tol(dtype))


@FAST
@given(size=st.integers(1, 20), seed=seeds, steps=st.integers(1, 4))
def test_optimizer_kernels_match_numpy_optimizers(size, seed, steps):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(size)
    grads = rng.standard_normal((steps, size))
    for make in (lambda: SGD(0.1, momentum=0.8, weight_decay=0.01),
                 lambda: Adam(0.01, betas=(0.8, 0.9), weight_decay=0.01)):
        ref_opt, ker_opt = make(), make()
        p_ref, p_ker = p0.copy(), p0.copy()
        state_ref = [np.zeros(size) for _ in range(ref_opt.n_slots)]
        state_ker = [np.zeros(size) for _ in range(ker_opt.n_slots)]
        for t, g in enumerate(grads, start=1):
            ref_opt.t = ker_opt.t = t
            ref_opt._numpy(p_ref, g, *state_ref, 0.01)
            ker_opt._kernel(numba_ops, p_ker, g, *state_ker, 0.01)
        np.testing.assert_allclose(p_ker, p_ref, rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------ the fused MLP
def reference_epoch(layers, X, y, order, batch_size, lr, loss):
    """One epoch of plain SGD with nnlib.functional only: the spec of mlp_cpu.train_epoch."""
    dense = [l for l in layers if isinstance(l, Dense)]
    acts = [after.op if isinstance(after, Activation) else "identity"
            for l, after in zip(layers, layers[1:] + [None])
            if isinstance(l, Dense)]  # the activation after each Dense, if any
    Ws, bs = [d.W.copy() for d in dense], [d.b.copy() for d in dense]
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        a, caches = X[idx], []
        for W, b, act in zip(Ws, bs, acts):
            z, dense_cache = F.dense_forward(a, W, b)
            a, act_cache = F.ACTIVATIONS[act][0](z)
            caches.append((dense_cache, act_cache, act))
        value, d = F.LOSSES[loss](a, y[idx])
        total += value * len(idx)
        for i in reversed(range(len(Ws))):
            dense_cache, act_cache, act = caches[i]
            dz = F.ACTIVATIONS[act][1](d, act_cache)
            d, dW, db = F.dense_backward(dz, dense_cache)
            Ws[i] -= lr * dW
            bs[i] -= lr * db
    return total, Ws, bs


def random_mlp(rng, n_in, n_out, last_act):
    """Dense layers of random widths, each followed by a random activation or none."""
    widths = [n_in] + [int(w) for w in rng.integers(1, 6, size=rng.integers(0, 3))] + [n_out]
    kinds = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid, "identity": None}
    layers = []
    for i in range(len(widths) - 1):
        layers.append(Dense(widths[i], widths[i + 1]))
        act = last_act if i == len(widths) - 2 else rng.choice(list(kinds))
        if kinds[act] is not None:
            layers.append(kinds[act]())
    return layers


@pytest.mark.parametrize("loss", ["cross_entropy", "mse", "bce"])
@pytest.mark.parametrize("seed", range(4))
def test_fused_train_epoch_matches_reference_epoch(loss, seed):
    rng = np.random.default_rng(seed)
    n, n_in, n_out = int(rng.integers(1, 12)), int(rng.integers(1, 5)), int(rng.integers(2, 4))
    batch_size = int(rng.integers(1, n + 1))  # includes 1 and a ragged last batch
    last = {"cross_entropy": "identity", "mse": "tanh", "bce": "sigmoid"}[loss]
    layers = random_mlp(rng, n_in, n_out, last)
    X = rng.standard_normal((n, n_in))
    y_int = rng.integers(0, n_out, n)
    y_float = rng.random((n, n_out))
    y = y_int if loss == "cross_entropy" else y_float
    order = rng.permutation(n)
    ref_loss, ref_Ws, ref_bs = reference_epoch(layers, X, y, order, batch_size, 0.1, loss)
    plan = NumbaFusedMLP.build(layers)
    y_int_arg = y_int if loss == "cross_entropy" else np.empty(0, np.int64)
    y_float_arg = y_float if loss != "cross_entropy" else np.empty((0, n_out))
    mean_loss, _ = plan.train_epoch(X, y_int_arg, y_float_arg, order, batch_size, SGD(0.1), loss)
    assert mean_loss == pytest.approx(ref_loss / n, rel=1e-12)
    for d, W, b in zip(plan.dense, ref_Ws, ref_bs):
        np.testing.assert_allclose(d.W, W, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(d.b, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n", [1, 3, 1500])  # 1500 > the 1024-row predict buffer
def test_fused_predict_matches_the_numpy_reference(rng, n):
    """Against nnlib.functional (not the layers' own Numba kernels), with non-zero biases."""
    layers = [Dense(3, 4), Tanh(), Dense(4, 2)]
    Sequential(layers, seed=1, backend="numba")
    for d in layers[0::2]:
        d.b = rng.standard_normal(d.n_out)
    X = rng.standard_normal((n, 3))
    out = np.empty((n, 2))
    plan = NumbaFusedMLP.build(layers)
    A, _ = plan.buffers(min(1024, n), X.dtype)
    mlp_cpu.predict(X, plan.arrays(), A, out)
    z, _ = F.dense_forward(X, layers[0].W, layers[0].b)
    a, _ = F.tanh_forward(z)
    expected, _ = F.dense_forward(a, layers[2].W, layers[2].b)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)


def test_fused_plan_only_for_dense_activation_stacks():
    assert NumbaFusedMLP.build([Dense(2, 2), ReLU(), Dense(2, 1)]) is not None
    assert NumbaFusedMLP.build([Sigmoid(), Dense(2, 1)]) is None  # activation first
    assert NumbaFusedMLP.build([Dense(2, 2), ReLU(), Tanh()]) is None  # two in a row


# ------------------------------------------------------------ the wrappers' contract
def _arrays_in(args):
    for a in args:
        if isinstance(a, np.ndarray):
            yield a
        elif isinstance(a, tuple):
            yield from _arrays_in(a)


def _contiguity_spy(monkeypatch, module, names, seen):
    """Replace kernels by wrappers that record whether every array argument is C-contiguous."""
    for name in names:
        kernel = getattr(module, name)

        def spy(*args, _kernel=kernel, _name=name):
            arrays = list(_arrays_in(args))  # per-layer W, b, ... inside (named) tuples too
            seen.append((_name, all(a.flags.c_contiguous for a in arrays)))
            return _kernel(*args)

        monkeypatch.setattr(module, name, spy)


def _strided_workload(rng):
    """Train and run a fusable and a layer-by-layer model on strided, Fortran-order input."""
    X = np.asfortranarray(rng.standard_normal((20, 3)))[::2]  # strided and Fortran
    y = np.repeat(np.arange(2), 10)[::2]
    fusable = Sequential([Dense(3, 4), ReLU(), Dense(4, 2)], backend="numba")
    fusable.layers[0].W = np.asfortranarray(fusable.layers[0].W)
    fusable.fit(X, y, epochs=1, batch_size=4, optimizer=Adam(0.01), verbose=False)
    fusable.predict(X.T.T)
    layered = Sequential([Tanh(), Dense(3, 2)], backend="numba")  # not fusable
    layered.fit(X, y, epochs=1, batch_size=3, optimizer=SGD(0.1, momentum=0.5), verbose=False)
    layered.forward(X)
    layered.backward(np.asfortranarray(np.ones((10, 2))))


def test_wrappers_hand_kernels_contiguous_arrays(monkeypatch, rng):
    # Compile everything first: the spies replace module globals that other
    # kernels (dense_forward calls activate) would otherwise resolve at compile time.
    _strided_workload(np.random.default_rng(1))
    seen = []
    _contiguity_spy(monkeypatch, cpu, ["dense_forward", "dense_backward", "activate",
                                       "activation_backward", "sgd_update", "adam_update"], seen)
    _contiguity_spy(monkeypatch, mlp_cpu, ["train_epoch", "predict"], seen)
    _strided_workload(rng)
    names = {name for name, _ in seen}
    assert {"train_epoch", "predict", "dense_forward", "dense_backward", "activate",
            "activation_backward", "sgd_update"} <= names
    assert all(ok for _, ok in seen), [name for name, ok in seen if not ok]


NO_WARNING_SCRIPT = textwrap.dedent("""
    import warnings
    import numpy as np
    from numba.core.errors import NumbaWarning
    warnings.simplefilter("error", NumbaWarning)
    from nnlib import Adam, Dense, ReLU, SGD, Sequential, Sigmoid, Tanh
    X = np.asfortranarray(np.random.default_rng(0).standard_normal((12, 3)))[::2]
    y = np.array([0, 1, 0, 1, 1, 0])
    for dtype in ("float64", "float32"):
        for loss, last, target in (("cross_entropy", [Dense(4, 2)], y),
                                   ("mse", [Dense(4, 1)], y * 1.0),
                                   ("bce", [Dense(4, 1), Sigmoid()], y)):
            for opt in (SGD(0.1, momentum=0.9), Adam(0.01)):
                for layers in ([Dense(3, 4), Tanh()] + last, [ReLU(), Dense(3, 4), Tanh()] + last):
                    m = Sequential(layers, backend="numba", dtype=dtype)
                    m.fit(X, target, epochs=1, batch_size=4, optimizer=opt, loss=loss,
                          verbose=False)
                    m.evaluate(X, target)
                    m.backward(np.ones_like(m.forward(X)))
    print("compiled without NumbaWarning")
""")


def test_fresh_compilation_emits_no_numba_warning(tmp_path):
    """A cold cache (as on a fresh checkout) compiles every kernel signature the API uses."""
    root = str(pathlib.Path(__file__).resolve().parents[1])
    python_path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"), PYTHONPATH=python_path)
    result = subprocess.run([sys.executable, "-c", NO_WARNING_SCRIPT], env=env, cwd=str(tmp_path),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "compiled without NumbaWarning" in result.stdout
    assert "NumbaWarning" not in result.stderr and "NumbaPerformanceWarning" not in result.stderr
