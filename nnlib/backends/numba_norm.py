"""Batch norm and dropout on the Numba kernels, with the reference's signatures.

The twins of ``nnlib.functional.norm`` for ``backend="numba"``: each
allocates what ``nnlib.kernels.norm_cpu`` writes into and hands it
C-contiguous arrays. Callers (the layers) have checked shapes and dtypes.
"""
import numpy as np

from nnlib.kernels import norm_cpu


def _per_channel(x):
    """x as a C-contiguous (N, C, S) array: S = 1 for (N, D), H * W for (N, C, H, W)."""
    x = np.ascontiguousarray(x)
    s = 1 if x.ndim == 2 else x.shape[2] * x.shape[3]
    return x.reshape(x.shape[0], x.shape[1], s)  # (N, C, S)


def batchnorm_running_forward(x, gamma, beta, running_mean, running_var, momentum, eps,
                              training):
    """As ``functional.batchnorm_running_forward``: running statistics updated in place when training."""
    x3 = _per_channel(x)  # (N, C, S)
    out, x_hat = np.empty_like(x3), np.empty_like(x3)
    inv_std = np.empty(x3.shape[1], dtype=x3.dtype)
    norm_cpu.batchnorm_forward(x3, gamma, beta, running_mean, running_var, float(momentum),
                               float(eps), bool(training), out, x_hat, inv_std)
    return out.reshape(np.shape(x)), (x_hat, gamma, inv_std, bool(training))


def batchnorm_running_backward(dout, cache):
    """(dx, dgamma, dbeta) by ``norm_cpu.batchnorm_backward``."""
    x_hat, gamma, inv_std, training = cache
    dout3 = _per_channel(np.asarray(dout, dtype=x_hat.dtype))  # (N, C, S)
    dx = np.empty_like(dout3)
    dgamma, dbeta = np.empty_like(gamma), np.empty_like(gamma)
    norm_cpu.batchnorm_backward(dout3, x_hat, gamma, inv_std, training, dx, dgamma, dbeta)
    return dx.reshape(np.shape(dout)), dgamma, dbeta


def dropout_mask_forward(x, mask):
    """out = x * mask (mask None: out is x), as ``functional.dropout_mask_forward``."""
    if mask is None:
        return x, None
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    norm_cpu.multiply(x, np.ascontiguousarray(mask, dtype=x.dtype), out)
    return out, mask


def dropout_mask_backward(dout, cache):
    """dx = dout * mask (dout itself without a mask)."""
    mask = cache
    if mask is None:
        return dout
    dout = np.ascontiguousarray(dout, dtype=mask.dtype)
    dx = np.empty_like(dout)
    norm_cpu.multiply(dout, np.ascontiguousarray(mask), dx)
    return dx
