"""Numba CPU kernels for batch normalisation and dropout (notebook 06, depth).

Same maths as ``nnlib.functional.norm``; the kernels write into buffers the
caller allocates (``nnlib.backends.numba_norm``) and take x as (N, C, S),
C-contiguous: features of an (N, D) batch are channels with S = 1, an NCHW
batch has S = H * W. Sums are accumulated in float64 whatever the arrays'
dtype (a float32 batch of thousands of values keeps its digits).
"""
import math

from numba import njit


@njit(cache=True)
def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training,
                      out, x_hat, inv_std):
    """out = gamma * x_hat + beta per channel; x, out, x_hat: (N, C, S); the rest (C,).

    training: batch mean and biased variance (two passes: mean first, then
    the squared deviations, which loses no digits to cancellation), and the
    running statistics updated in place with the unbiased variance, as
    ``functional.batchnorm_forward``. Otherwise the running statistics.
    Writes out, x_hat and inv_std = 1 / sqrt(var + eps).
    """
    n, c, s = x.shape
    m = n * s
    for k in range(c):
        if training:
            total = 0.0
            for i in range(n):
                for j in range(s):
                    total += x[i, k, j]
            mu = total / m
            sq = 0.0
            for i in range(n):
                for j in range(s):
                    d = x[i, k, j] - mu
                    sq += d * d
            var = sq / m
            running_mean[k] = (1.0 - momentum) * running_mean[k] + momentum * mu
            running_var[k] = (1.0 - momentum) * running_var[k] + momentum * sq / (m - 1)
        else:
            mu = running_mean[k]
            var = running_var[k]
        r = 1.0 / math.sqrt(var + eps)
        inv_std[k] = r
        for i in range(n):
            for j in range(s):
                xh = (x[i, k, j] - mu) * r
                x_hat[i, k, j] = xh
                out[i, k, j] = gamma[k] * xh + beta[k]


@njit(cache=True)
def batchnorm_backward(dout, x_hat, gamma, inv_std, training, dx, dgamma, dbeta):
    """dx (N, C, S), dgamma and dbeta (C,) as ``functional.batchnorm_backward``.

    training: dx = gamma * inv_std / M * (M * dout - dbeta - x_hat * dgamma);
    evaluation: dx = gamma * inv_std * dout.
    """
    n, c, s = dout.shape
    m = n * s
    for k in range(c):
        sb = 0.0
        sg = 0.0
        for i in range(n):
            for j in range(s):
                sb += dout[i, k, j]
                sg += dout[i, k, j] * x_hat[i, k, j]
        dbeta[k] = sb
        dgamma[k] = sg
        scale = gamma[k] * inv_std[k]
        for i in range(n):
            for j in range(s):
                if training:
                    dx[i, k, j] = scale / m * (m * dout[i, k, j] - sb - x_hat[i, k, j] * sg)
                else:
                    dx[i, k, j] = scale * dout[i, k, j]


@njit(cache=True)
def multiply(a, mask, out):
    """out = a * mask elementwise: dropout's forward (a = x) and backward (a = dout).

    All three C-contiguous of one shape (flattened here).
    """
    fa = a.reshape(a.size)
    fm = mask.reshape(mask.size)
    fo = out.reshape(out.size)
    for i in range(fo.size):
        fo[i] = fa[i] * fm[i]


@njit(cache=True)
def batchnorm_rows_forward(x, gamma, beta, running_mean, running_var, momentum, eps, out, x_hat,
                           inv_std, mean, r):
    """``batchnorm_forward`` in training mode for features x (N, C): the same numbers, faster.

    The same sums in the same order (over i = 0..N-1 for each feature, in
    float64), but walked row by row, along memory: the per-feature sums
    sit side by side in ``mean`` and ``r`` (float64 (C,) scratch), so the
    compiler vectorises across features instead of striding down columns
    (about 4x faster at digits sizes). Running statistics are updated in
    place; out, x_hat (N, C) and inv_std (C,) are written.
    """
    n, c = x.shape
    mean[:] = 0.0
    r[:] = 0.0
    for i in range(n):
        for k in range(c):
            mean[k] += x[i, k]
    for k in range(c):
        mean[k] = mean[k] / n
    for i in range(n):
        for k in range(c):
            d = x[i, k] - mean[k]
            r[k] += d * d  # the sum of squared deviations, for now
    for k in range(c):
        running_mean[k] = (1.0 - momentum) * running_mean[k] + momentum * mean[k]
        running_var[k] = (1.0 - momentum) * running_var[k] + momentum * r[k] / (n - 1)
        r[k] = 1.0 / math.sqrt(r[k] / n + eps)  # unrounded: x_hat uses it, as batchnorm_forward
        inv_std[k] = r[k]
    for i in range(n):
        for k in range(c):
            xh = (x[i, k] - mean[k]) * r[k]
            x_hat[i, k] = xh
            out[i, k] = gamma[k] * xh + beta[k]


@njit(cache=True)
def batchnorm_rows_backward(dout, x_hat, gamma, inv_std, dx, dgamma, dbeta, sb, sg):
    """``batchnorm_backward`` in training mode for features (N, C), row by row: the same numbers.

    sb, sg: float64 (C,) scratch for the sums dbeta and dgamma (over i in
    order, as there). dx = gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma).
    """
    n, c = dout.shape
    sb[:] = 0.0
    sg[:] = 0.0
    for i in range(n):
        for k in range(c):
            sb[k] += dout[i, k]
            sg[k] += dout[i, k] * x_hat[i, k]
    for k in range(c):
        dbeta[k] = sb[k]
        dgamma[k] = sg[k]
    for i in range(n):
        for k in range(c):
            scale = gamma[k] * inv_std[k]
            dx[i, k] = scale / n * (n * dout[i, k] - sb[k] - x_hat[i, k] * sg[k])
