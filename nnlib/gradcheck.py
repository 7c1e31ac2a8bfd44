"""Gradient checking: compare an analytic gradient with centred finite differences.

df/dx_i ~= (f(x + h e_i) - f(x - h e_i)) / (2 h), error O(h**2).
Used by the tests for every backward and by notebook 04, where learners
check their own backprop. Work in float64: in float32 the rounding error of
f swamps the O(h**2) truncation error.
"""
import numpy as np


def rel_error(a, b, eps=1e-12):
    """max |a - b| / max(|a| + |b|, eps), elementwise; 0 means identical.

    Below ~1e-7 the gradients agree; above ~1e-3 one of them is wrong.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}.")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))


def numerical_gradient(f, x, h=1e-5, df=None):
    """Centred-difference gradient of f at x (x is perturbed in place, then restored).

    f: a function of no arguments that reads x. If f returns a scalar the
    result is df/dx; if it returns an array, ``df`` (same shape) is the
    upstream gradient and the result is sum(df * d f / dx).
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError("x must be a float NumPy array that f reads (it is perturbed in place).")
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.array(f(), dtype=np.float64)
        x[i] = old - h
        minus = np.array(f(), dtype=np.float64)
        x[i] = old
        diff = (plus - minus) / (2 * h)
        grad[i] = diff if df is None else np.sum(diff * df)
    return grad


def check_layer(layer_or_pair, x, seed=0, h=1e-5, backend="numpy", training=False):
    """Finite-difference check of a layer's backward; returns {name: rel_error}.

    layer_or_pair: an nnlib layer (forward/backward methods, optional
    parameters()/gradients()) or a (forward, backward) pair of functions in
    the nnlib.functional style (forward(x) -> (out, cache)). x: float64
    input. A random upstream gradient dout is used, so every output matters.
    backend, training: passed to a layer's forward. Keys: "x" and the
    layer's parameter names (Dense: "W" and "b").
    """
    x = np.array(x, dtype=np.float64)
    forward, backward, params = _as_functions(layer_or_pair, backend, training)
    out = forward(x)
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    dx, grads = backward(dout)
    errors = {"x": rel_error(dx, numerical_gradient(lambda: forward(x), x, h, dout))}
    for name, p in params.items():
        num = numerical_gradient(lambda: forward(x), p, h, dout)
        errors[name] = rel_error(grads[name], num)
    return errors


def _as_functions(layer_or_pair, backend, training):
    """(forward(x) -> out, backward(dout) -> (dx, {name: grad}), {name: param})."""
    if isinstance(layer_or_pair, tuple):
        fwd, bwd = layer_or_pair
        cache = {}

        def forward(x):
            out, cache["c"] = fwd(x)
            return out

        return forward, lambda dout: (bwd(dout, cache["c"]), {}), {}
    layer = layer_or_pair
    names = list(getattr(layer, "param_names", ()))
    params = dict(zip(names, layer.parameters()))

    def forward(x):
        return layer.forward(x, backend=backend, training=training)

    def backward(dout):
        dx = layer.backward(dout)
        return dx, dict(zip(names, [g.copy() for g in layer.gradients()]))

    return forward, backward, params
