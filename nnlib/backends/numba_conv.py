"""The Numba CPU conv kernels behind the reference's signatures (notebook 08).

Each function has the signature of its twin in ``nnlib.functional.conv``
(``conv2d_forward(x, W, b, stride=1, padding=0) -> (out, cache)``,
``conv2d_backward(dout, cache) -> (dx, dW, db)``, ...) and runs the compiled
kernel of ``nnlib.kernels.conv_cpu``: it allocates the buffers the kernel
writes into and hands it C-contiguous arrays. Callers (the layers) have
checked shapes and dtypes, as for ``numba_ops``.
"""
import numpy as np

from nnlib.kernels import conv_cpu


def _out_size(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


def conv2d_forward(x, W, b, stride=1, padding=0):
    """out = conv(x, W) + b by ``conv_cpu.conv2d_forward``. x: (N, C, H, W) -> (N, F, H_out, W_out)."""
    x = np.ascontiguousarray(x, dtype=W.dtype)
    W, b = np.ascontiguousarray(W), np.ascontiguousarray(b, dtype=W.dtype)
    F, C, KH, KW = W.shape
    N, _, H, Wd = x.shape
    H_out, W_out = _out_size(H, KH, stride, padding), _out_size(Wd, KW, stride, padding)
    cols = np.empty((C * KH * KW, N * H_out * W_out), dtype=W.dtype)
    out_cols = np.empty((F, N * H_out * W_out), dtype=W.dtype)
    out = np.empty((N, F, H_out, W_out), dtype=W.dtype)
    conv_cpu.conv2d_forward(x, W, b, stride, padding, cols, out_cols, out)
    return out, (x.shape, cols, W, stride, padding)


def conv2d_backward(dout, cache):
    """(dx, dW, db) of the convolution by ``conv_cpu.conv2d_backward``."""
    x_shape, cols, W, stride, padding = cache
    dout = np.ascontiguousarray(dout, dtype=W.dtype)
    dout_cols = np.empty((W.shape[0], cols.shape[1]), dtype=W.dtype)
    dcols = np.empty_like(cols)
    dx, dW = np.empty(x_shape, dtype=W.dtype), np.empty_like(W)
    db = np.empty(W.shape[0], dtype=W.dtype)
    conv_cpu.conv2d_backward(dout, cols, W, stride, padding, dout_cols, dcols, dx, dW, db, True)
    return dx, dW, db


def conv2d_param_gradients(dout, cache):
    """(dW, db) alone: ``conv2d_backward`` without dx, for a first layer (its input is data)."""
    _, cols, W, stride, padding = cache
    dout = np.ascontiguousarray(dout, dtype=W.dtype)
    dout_cols = np.empty((W.shape[0], cols.shape[1]), dtype=W.dtype)
    dW, db = np.empty_like(W), np.empty(W.shape[0], dtype=W.dtype)
    no_dcols, no_dx = np.empty((0, 0), dtype=W.dtype), np.empty((0, 0, 0, 0), dtype=W.dtype)
    conv_cpu.conv2d_backward(dout, cols, W, stride, padding, dout_cols, no_dcols, no_dx, dW, db, False)
    return dW, db


def maxpool2d_forward(x, size=2, stride=2):
    """Max of each size x size window by ``conv_cpu.maxpool2d_forward``. (N, C, H, W) -> (N, C, H_out, W_out)."""
    stride = size if stride is None else stride
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    shape = (N, C, _out_size(H, size, stride, 0), _out_size(W, size, stride, 0))
    out, argmax = np.empty(shape, dtype=x.dtype), np.empty(shape, dtype=np.int64)
    conv_cpu.maxpool2d_forward(x, size, stride, out, argmax)
    return out, (x.shape, argmax)


def maxpool2d_backward(dout, cache):
    """dx: each window's dout to its max (the first, on ties), by ``conv_cpu.maxpool2d_backward``."""
    x_shape, argmax = cache
    dout = np.ascontiguousarray(dout)
    dx = np.empty(x_shape, dtype=dout.dtype)
    conv_cpu.maxpool2d_backward(dout, argmax, dx)
    return dx


def flatten_forward(x):
    """x: (N, ...) -> (N, prod(...)): a reshape, no kernel needed."""
    x = np.ascontiguousarray(x)
    return x.reshape(x.shape[0], -1), x.shape  # (N, C*H*W)


def flatten_backward(dout, cache):
    """dout (N, prod(...)) reshaped back to the input's shape (N, ...)."""
    return np.ascontiguousarray(dout).reshape(cache)  # (N, ...)
