"""Batch norm and dropout on numba.cuda, with the reference's signatures.

The twin of ``numba_norm`` for ``backend="cuda"``: host NumPy arrays in and
out; each call copies its inputs to the device, launches the kernels of
``nnlib.kernels.norm_cuda`` and copies the results back (the running
statistics back into the caller's arrays, in place).
"""
import numpy as np
from numba import cuda

from nnlib.kernels import norm_cuda


def _per_channel(x):
    """x as a C-contiguous (N, C, S) array: S = 1 for (N, D), H * W for (N, C, H, W)."""
    x = np.ascontiguousarray(x)
    s = 1 if x.ndim == 2 else x.shape[2] * x.shape[3]
    return x.reshape(x.shape[0], x.shape[1], s)  # (N, C, S)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    """As ``functional.batchnorm_forward``: running statistics updated in place when training."""
    x3 = _per_channel(x)  # (N, C, S)
    d_mean, d_var = cuda.to_device(running_mean), cuda.to_device(running_var)
    out, x_hat = cuda.device_array_like(x3), cuda.device_array_like(x3)
    inv_std = cuda.device_array(x3.shape[1], dtype=x3.dtype)
    norm_cuda.batchnorm_forward(cuda.to_device(x3), cuda.to_device(gamma), cuda.to_device(beta),
                                d_mean, d_var, float(momentum), float(eps), bool(training),
                                out, x_hat, inv_std)
    if training:
        d_mean.copy_to_host(running_mean)
        d_var.copy_to_host(running_var)
    cache = (x_hat.copy_to_host(), gamma, inv_std.copy_to_host(), bool(training))
    return out.copy_to_host().reshape(np.shape(x)), cache


def batchnorm_backward(dout, cache):
    """(dx, dgamma, dbeta) on the device."""
    x_hat, gamma, inv_std, training = cache
    dout3 = _per_channel(np.asarray(dout, dtype=x_hat.dtype))  # (N, C, S)
    dx = cuda.device_array_like(dout3)
    dgamma, dbeta = cuda.device_array_like(gamma), cuda.device_array_like(gamma)
    norm_cuda.batchnorm_backward(cuda.to_device(dout3), cuda.to_device(x_hat),
                                 cuda.to_device(gamma), cuda.to_device(inv_std), training,
                                 dx, dgamma, dbeta)
    return dx.copy_to_host().reshape(np.shape(dout)), dgamma.copy_to_host(), dbeta.copy_to_host()


def _multiply(a, mask):
    """a * mask on the device, for arrays of any (one) shape."""
    flat = np.ascontiguousarray(a).reshape(-1)  # (size,)
    out = cuda.device_array_like(flat)
    norm_cuda.multiply(cuda.to_device(flat),
                       cuda.to_device(np.ascontiguousarray(mask, dtype=flat.dtype).reshape(-1)), out)
    return out.copy_to_host().reshape(np.shape(a))


def dropout_forward(x, mask):
    """out = x * mask (mask None: out is x), as ``functional.dropout_forward``."""
    if mask is None:
        return x, None
    return _multiply(x, mask), mask


def dropout_backward(dout, cache):
    """dx = dout * mask (dout itself without a mask)."""
    mask = cache
    return dout if mask is None else _multiply(np.asarray(dout, dtype=mask.dtype), mask)
