"""The numba.cuda conv kernels behind the reference's signatures (notebook 08).

The twin of ``numba_conv`` for ``backend="cuda"``: same functions, same
signatures as ``nnlib.functional.conv``, host NumPy arrays in and out, as
``cuda_ops`` does. Each call copies its inputs to the device, launches the
kernels of ``nnlib.kernels.conv_cuda`` and copies the results back.
Callers (the layers) have checked shapes and dtypes.
"""
import numpy as np
from numba import cuda

from nnlib.kernels import conv_cuda


def _out_size(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


def conv2d_forward(x, W, b, stride=1, padding=0):
    """out = conv(x, W) + b on the device. x: (N, C, H, W) -> out: (N, F, H_out, W_out)."""
    x = np.ascontiguousarray(x, dtype=W.dtype)
    W, b = np.ascontiguousarray(W), np.ascontiguousarray(b, dtype=W.dtype)
    N, _, H, Wd = x.shape
    F, _, KH, KW = W.shape
    out = cuda.device_array((N, F, _out_size(H, KH, stride, padding),
                             _out_size(Wd, KW, stride, padding)), dtype=W.dtype)
    conv_cuda.conv2d_forward(cuda.to_device(x), cuda.to_device(W), cuda.to_device(b),
                             stride, padding, out)
    return out.copy_to_host(), (x, W, stride, padding)


def conv2d_backward(dout, cache):
    """(dx, dW, db) of the convolution, on the device."""
    x, W, stride, padding = cache
    dx = cuda.device_array(x.shape, dtype=W.dtype)
    dW = cuda.device_array(W.shape, dtype=W.dtype)
    db = cuda.device_array(W.shape[0], dtype=W.dtype)
    dout = np.ascontiguousarray(dout, dtype=W.dtype)
    conv_cuda.conv2d_backward(cuda.to_device(dout), cuda.to_device(x), cuda.to_device(W),
                              stride, padding, dx, dW, db)
    return dx.copy_to_host(), dW.copy_to_host(), db.copy_to_host()


def maxpool2d_forward(x, size=2, stride=2):
    """Max of each size x size window, on the device. (N, C, H, W) -> (N, C, H_out, W_out)."""
    stride = size if stride is None else stride
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    shape = (N, C, _out_size(H, size, stride, 0), _out_size(W, size, stride, 0))
    out = cuda.device_array(shape, dtype=x.dtype)
    argmax = cuda.device_array(shape, dtype=np.int64)
    conv_cuda.maxpool2d_forward(cuda.to_device(x), size, stride, out, argmax)
    return out.copy_to_host(), (x.shape, argmax, size, stride)


def maxpool2d_backward(dout, cache):
    """dx: each window's dout to its max (the first, on ties), on the device.

    argmax stays on the device between forward and backward.
    """
    x_shape, argmax, size, stride = cache
    dout = np.ascontiguousarray(dout)
    dx = cuda.device_array(x_shape, dtype=dout.dtype)
    conv_cuda.maxpool2d_backward(cuda.to_device(dout), argmax, size, stride, dx)
    return dx.copy_to_host()


def flatten_forward(x):
    """x: (N, ...) -> (N, prod(...)): a reshape of the host array, no kernel needed."""
    x = np.ascontiguousarray(x)
    return x.reshape(x.shape[0], -1), x.shape  # (N, C*H*W)


def flatten_backward(dout, cache):
    """dout (N, prod(...)) reshaped back to the input's shape (N, ...)."""
    return np.ascontiguousarray(dout).reshape(cache)  # (N, ...)
