"""Numba CPU kernels: the fast path behind ``backend="numba"``.

Each kernel computes the same thing as its NumPy reference in
``nnlib.functional`` but writes into buffers the caller preallocates, fuses
steps that the reference does one by one (matmul + bias + activation;
softmax + cross-entropy + its gradient) and updates parameters in place.
Inputs must already be checked and C-contiguous: the public wrappers in
``nnlib.layers``, ``nnlib.optim`` and ``nnlib.model`` do that, so a learner
never sees a Numba typing error.

Activation and loss codes come from ``kernels.codes`` (shared with the
CUDA kernels).
"""
import math

import numpy as np
from numba import njit

from nnlib.kernels.codes import (  # noqa: F401 (ACT_CODES, LOSS_CODES: re-exported for callers)
    ACT_CODES, BCE, CROSS_ENTROPY, IDENTITY, LOSS_CODES, MSE, RELU, SIGMOID, TANH,
)
from nnlib.kernels.fast_exp import exp_nonpositive


@njit(cache=True, error_model="numpy")
def stable_sigmoid(z):
    """Two-branch sigmoid: only ever exponentiates -|z|, so never overflows.

    With e = exp(-|z|): 1 / (1 + e) for z >= 0, e / (1 + e) for z < 0, as in
    ``nnlib.functional.sigmoid``. Written for speed in a loop: one division
    with the numerator chosen by the sign (a select, not a jump that the CPU
    mispredicts on random signs), the vectorisable exp of ``fast_exp``, and
    error_model="numpy" so the division carries no divide-by-zero test
    (1 + e >= 1), which would stop the loop from being vectorised.
    """
    e = exp_nonpositive(-abs(z))  # in [0, 1]
    return (1.0 if z >= 0 else e) / (1.0 + e)


@njit(cache=True)
def activate(z, act):
    """a = act(z) in place. z: (batch, n) C-contiguous.

    One loop per activation, the choice made once outside: a loop whose body
    is a single formula is what the compiler turns into SIMD code (testing
    act inside the loop made the sigmoid several times slower).
    """
    flat = z.reshape(z.size)
    if act == SIGMOID:
        for i in range(flat.size):
            flat[i] = stable_sigmoid(flat[i])
    elif act == RELU:
        for i in range(flat.size):
            flat[i] = flat[i] if flat[i] > 0 else 0.0
    elif act == TANH:
        for i in range(flat.size):
            flat[i] = math.tanh(flat[i])


@njit(cache=True)
def activation_backward(dout, a, act, dz):
    """dz = dout * act'(z), written with the activation's output a.

    sigmoid: a (1 - a); relu: 1 where a > 0 (a > 0 exactly when z > 0);
    tanh: 1 - a**2; identity: 1. All arrays (batch, n); dz may be dout.
    One loop per activation, the choice made once outside (as in
    ``activate``): a loop whose body is one formula vectorises.
    """
    fo = dout.reshape(dout.size)
    fa = a.reshape(a.size)
    fz = dz.reshape(dz.size)
    if act == SIGMOID:
        for i in range(fz.size):
            fz[i] = fo[i] * fa[i] * (1.0 - fa[i])
    elif act == RELU:
        for i in range(fz.size):
            fz[i] = fo[i] if fa[i] > 0 else 0.0
    elif act == TANH:
        for i in range(fz.size):
            fz[i] = fo[i] * (1.0 - fa[i] * fa[i])
    else:
        for i in range(fz.size):
            fz[i] = fo[i]


@njit(cache=True)
def bias_activate(out, b, act):
    """out = act(out + b) in one pass (the matrix product's epilogue). out: (batch, n), b: (n,).

    One pass over out instead of two (bias, then activation): out is read and
    written once. The activation's choice is made outside the loops, as in ``activate``.
    """
    n, m = out.shape
    if act == SIGMOID:
        for i in range(n):
            row = out[i]
            for j in range(m):
                row[j] = stable_sigmoid(row[j] + b[j])
    elif act == RELU:
        for i in range(n):
            row = out[i]
            for j in range(m):
                v = row[j] + b[j]
                row[j] = v if v > 0 else 0.0
    elif act == TANH:
        for i in range(n):
            row = out[i]
            for j in range(m):
                row[j] = math.tanh(row[j] + b[j])
    else:
        for i in range(n):
            row = out[i]
            for j in range(m):
                row[j] += b[j]


@njit(cache=True)
def dense_forward(x, W, b, act, out):
    """Fused out = act(x @ W + b): one BLAS call, then one pass for bias and activation together.

    x: (batch, n_in), W: (n_in, n_out), b: (n_out,), out: (batch, n_out).
    """
    np.dot(x, W, out)
    bias_activate(out, b, act)


@njit(cache=True)
def dense_backward(dz, x, W, dx, dW, db, need_dx):
    """Gradients of z = x @ W + b given dz = dL/dz.

    dW = x.T @ dz (n_in, n_out); db = column sums of dz (n_out,);
    dx = dz @ W.T (batch, n_in), skipped when need_dx is False (first layer).
    """
    np.dot(x.T, dz, dW)
    db[:] = 0.0
    n, m = dz.shape
    for i in range(n):
        for j in range(m):
            db[j] += dz[i, j]
    if need_dx:
        np.dot(dz, W.T, dx)


@njit(cache=True)
def softmax_cross_entropy(logits, y, dlogits):
    """Fused softmax + mean cross-entropy + gradient, one pass per row.

    Returns L = -(1/N) sum_i log softmax(logits)_{i, y_i} and writes
    dlogits = (softmax(logits) - onehot(y)) / N. Max-shift for stability.
    logits, dlogits: (N, C); y: (N,) int64.
    """
    n, c = logits.shape
    loss = 0.0
    for i in range(n):
        mx = logits[i, 0]
        for k in range(1, c):
            if logits[i, k] > mx:
                mx = logits[i, k]
        s = 0.0
        for k in range(c):
            e = math.exp(logits[i, k] - mx)
            dlogits[i, k] = e
            s += e
        loss += math.log(s) - (logits[i, y[i]] - mx)
        scale = 1.0 / (s * n)  # one division per row, not one per entry
        for k in range(c):
            dlogits[i, k] *= scale
        dlogits[i, y[i]] -= 1.0 / n
    return loss / n


@njit(cache=True)
def mse(y_hat, y, dy_hat):
    """L = mean((y_hat - y)**2); dy_hat = 2 (y_hat - y) / size. Arrays (N, k)."""
    fh = y_hat.reshape(y_hat.size)
    fy = y.reshape(y.size)
    fd = dy_hat.reshape(dy_hat.size)
    total = 0.0
    for i in range(fh.size):
        d = fh[i] - fy[i]
        total += d * d
        fd[i] = 2.0 * d / fh.size
    return total / fh.size


@njit(cache=True)
def binary_cross_entropy(p, y, dp):
    """L = -mean(y log p + (1-y) log(1-p)) with p clipped to [eps, 1-eps].

    dp = (p - y) / (p (1 - p)) / size. Arrays (N, k).
    """
    fp = p.reshape(p.size)
    fy = y.reshape(y.size)
    fd = dp.reshape(dp.size)
    eps = np.finfo(p.dtype).eps
    total = 0.0
    for i in range(fp.size):
        q = min(max(fp[i], eps), 1.0 - eps)
        total -= fy[i] * math.log(q) + (1.0 - fy[i]) * math.log1p(-q)
        fd[i] = (q - fy[i]) / (q * (1.0 - q)) / fp.size
    return total / fp.size


@njit(cache=True)
def sgd_update(param, grad, velocity, lr, momentum, weight_decay):
    """In place: v = momentum v - lr (g + wd p); p = p + v. 1-D views.

    With momentum 0 this is p -= lr (g + wd p) (the same numbers); v is then
    neither read nor written, which saves a third of the memory traffic.
    """
    if momentum == 0.0:
        for i in range(param.size):
            param[i] -= lr * (grad[i] + weight_decay * param[i])
        return
    for i in range(param.size):
        g = grad[i] + weight_decay * param[i]
        velocity[i] = momentum * velocity[i] - lr * g
        param[i] += velocity[i]


@njit(cache=True)
def adam_update(param, grad, m, v, lr, beta1, beta2, eps, t, weight_decay):
    """In place Adam step t (t >= 1) on 1-D views, bias-corrected:

    m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g**2;
    p -= lr * (m / (1-b1**t)) / (sqrt(v / (1-b2**t)) + eps).
    """
    c1 = 1.0 - beta1 ** t
    c2 = 1.0 - beta2 ** t
    for i in range(param.size):
        g = grad[i] + weight_decay * param[i]
        m[i] = beta1 * m[i] + (1.0 - beta1) * g
        v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
        param[i] -= lr * (m[i] / c1) / (math.sqrt(v[i] / c2) + eps)
