"""Convolution, max pooling and flatten: the reference pairs (notebook 08 (convolution)).

Layouts follow PyTorch: images x (N, C, H, W) ("NCHW": batch, channels,
height, width), conv weights W (F, C, KH, KW) (F filters, each C x KH x KW),
biases b (F,). The conv layer computes a cross-correlation, as PyTorch does
(the kernel is not flipped):

    out[n, f, oh, ow] = b[f] + sum_{c, i, j} W[f, c, i, j] * x_pad[n, c, oh*stride + i, ow*stride + j]

where x_pad is x with ``padding`` zeros on each side of H and W. One
output size formula serves convolution and pooling (pooling: padding 0,
KH = KW = size):

    H_out = (H + 2*padding - KH) // stride + 1      (likewise W_out)

The division must be exact: when the windows do not tile the padded input
(H + 2*padding - KH not a multiple of stride) the functions raise a
ValueError naming the shapes and the formula, rather than silently ignore
the last rows/columns as PyTorch's floor does (pad or crop the input instead).

The code loops over the KH*KW kernel offsets (i, j), not over pixels: for
one offset every output position reads a strided slice of x_pad, and the sum
over channels is one ``np.tensordot`` over all of them at once.
"""
import numbers

import numpy as np

from nnlib._validate import as_float_array


# --------------------------------------------------------------------------
# Shapes -- notebook 08 (the output-size formula)
# --------------------------------------------------------------------------
def check_int(value, name, minimum):
    """value as an int >= minimum, or a clear error (stride >= 1, padding >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"{name} must be a whole number >= {minimum}, got {value!r}; e.g. {name}={minimum + 1}."
        )
    return int(value)


def output_size(H, W, KH, KW, stride, padding, what="the kernel"):
    """(H_out, W_out) = ((H + 2*padding - KH) / stride + 1, same for W).

    Raises a ValueError naming the shapes and the formula when the window does
    not fit the padded input (H + 2*padding < KH) or when the windows do not
    tile it (H + 2*padding - KH not a multiple of stride: a non-integer size).
    """
    if H + 2 * padding < KH or W + 2 * padding < KW:
        raise ValueError(
            f"{what} ({KH}x{KW}) is larger than the padded input ({H}x{W} with padding="
            f"{padding}: {H + 2 * padding}x{W + 2 * padding}), so "
            f"H_out = (H + 2*padding - KH) // stride + 1 < 1. Use a smaller kernel, more "
            f"padding, or fewer pooling layers before it."
        )
    for axis, size, kernel in (("H", H, KH), ("W", W, KW)):
        span = size + 2 * padding - kernel
        if span % stride:
            raise ValueError(
                f"{what} ({KH}x{KW}, stride={stride}, padding={padding}) does not tile the "
                f"{H}x{W} input along {axis}: {axis}_out = ({axis} + 2*padding - K) / stride + 1 "
                f"= ({size} + {2 * padding} - {kernel}) / {stride} + 1 = {span / stride + 1:g} "
                f"is not a whole number. Change the padding or the stride, or crop the input."
            )
    return (H + 2 * padding - KH) // stride + 1, (W + 2 * padding - KW) // stride + 1


def check_images(x, name="x", dtype=None):
    """x as a float array (of ``dtype``, if given) of shape (N, C, H, W), or an error that says how to reshape it."""
    x = as_float_array(x, name, dtype=dtype)
    if x.ndim != 4:
        hints = {
            2: f"Flat images of shape (N, H*W) are reshaped with {name}.reshape(N, 1, H, W), "
               f"e.g. {name}.reshape(-1, 1, 8, 8) for the 8x8 digits.",
            3: f"For grayscale images (N, H, W) use {name}[:, None]; for one image (C, H, W) "
               f"use {name}[None].",
        }
        raise ValueError(
            f"{name} must be 4-D images of shape (N, C, H, W), got shape {x.shape}. "
            + hints.get(x.ndim, "Check which array you passed.")
        )
    return x


def _check_conv(x, W, b, stride, padding):
    """Checked (x, W, b, stride, padding) for conv2d_forward."""
    x = check_images(x)
    W = as_float_array(W, "W")
    b = as_float_array(b, "b", ndim=1)
    if W.ndim != 4:
        raise ValueError(
            f"W must be 4-D of shape (F, C, KH, KW) (filters, channels, kernel height, width), "
            f"got shape {W.shape}."
        )
    if W.shape[1] != x.shape[1]:
        raise ValueError(
            f"x has shape {x.shape} ({x.shape[1]} channels) but W has shape {W.shape} "
            f"({W.shape[1]} channels per filter); W must have shape "
            f"({W.shape[0]}, {x.shape[1]}, {W.shape[2]}, {W.shape[3]}), or x must be NCHW "
            f"with {W.shape[1]} channels (channels-last images: x.transpose(0, 3, 1, 2))."
        )
    if b.shape[0] != W.shape[0]:
        raise ValueError(
            f"b has shape {b.shape} but W has shape {W.shape}: b needs one entry per filter, "
            f"shape ({W.shape[0]},)."
        )
    return x, W, b, check_int(stride, "stride", 1), check_int(padding, "padding", 0)


def _window(x_pad, i, j, stride, H_out, W_out):
    """The entries of x_pad that kernel offset (i, j) meets: (N, C, H_out, W_out)."""
    return x_pad[:, :, i:i + stride * H_out:stride, j:j + stride * W_out:stride]


# --------------------------------------------------------------------------
# Convolution (cross-correlation) -- notebook 08
# --------------------------------------------------------------------------
def conv2d_forward(x, W, b, stride=1, padding=0):
    """out = b + sum over kernel offsets of W[:, :, i, j] applied to the shifted input.

    x: (N, C, H, W), W: (F, C, KH, KW), b: (F,) -> out: (N, F, H_out, W_out)
    with H_out = (H + 2*padding - KH) // stride + 1 (W_out likewise).
    """
    x, W, b, stride, padding = _check_conv(x, W, b, stride, padding)
    F, _, KH, KW = W.shape
    H_out, W_out = output_size(x.shape[2], x.shape[3], KH, KW, stride, padding)
    p = padding
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))  # (N, C, H + 2p, W + 2p)
    out = np.zeros((x.shape[0], H_out, W_out, F), dtype=np.result_type(x, W))
    for i in range(KH):
        for j in range(KW):
            patch = _window(x_pad, i, j, stride, H_out, W_out)
            out += np.tensordot(patch, W[:, :, i, j], axes=([1], [1]))  # (N, H_out, W_out, F)
    out = out.transpose(0, 3, 1, 2) + b[:, None, None]  # (N, F, H_out, W_out)
    return out, (x_pad, W, stride, padding)


def conv2d_backward(dout, cache):
    """Gradients of the convolution; each is again a sum over kernel offsets (i, j):

    db[f] = sum over n, oh, ow of dout[n, f, oh, ow]                     (F,)
    dW[:, :, i, j] = sum over n, oh, ow of dout * window(i, j) of x_pad  (F, C)
    dx_pad[window(i, j)] += sum over f of W[f, :, i, j] * dout           (N, C, H_out, W_out)
    dx is dx_pad without the padding: (N, C, H, W).
    """
    x_pad, W, stride, p = cache
    F, _, KH, KW = W.shape
    N, _, H_pad, W_pad = x_pad.shape
    H_out, W_out = output_size(H_pad, W_pad, KH, KW, stride, 0)
    dout = as_float_array(dout, "dout")
    if dout.shape != (N, F, H_out, W_out):
        raise ValueError(
            f"dout has shape {dout.shape} but the convolution's output has shape "
            f"{(N, F, H_out, W_out)}; dout must be dL/d(out), one entry per output."
        )
    db = dout.sum(axis=(0, 2, 3))  # (F,)
    dW = np.zeros_like(W, dtype=np.result_type(dout, W))
    dx_pad = np.zeros_like(x_pad, dtype=dW.dtype)
    dout_last = dout.transpose(0, 2, 3, 1)  # (N, H_out, W_out, F)
    for i in range(KH):
        for j in range(KW):
            patch = _window(x_pad, i, j, stride, H_out, W_out)
            dW[:, :, i, j] = np.tensordot(dout, patch, axes=([0, 2, 3], [0, 2, 3]))  # (F, C)
            dpatch = np.tensordot(dout_last, W[:, :, i, j], axes=([3], [0]))  # (N, H_out, W_out, C)
            _window(dx_pad, i, j, stride, H_out, W_out)[...] += dpatch.transpose(0, 3, 1, 2)
    dx = dx_pad[:, :, p:H_pad - p, p:W_pad - p]  # (N, C, H, W)
    return dx, dW, db


# --------------------------------------------------------------------------
# Max pooling -- notebook 08
# --------------------------------------------------------------------------
def maxpool2d_forward(x, size=2, stride=2):
    """out[n, c, oh, ow] = max of the size x size window at (oh*stride, ow*stride).

    x: (N, C, H, W) -> out: (N, C, H_out, W_out), H_out = (H - size) / stride + 1
    (a whole number, or a ValueError). stride None means stride = size.
    The cache keeps, for each output, which of the size*size window entries
    (row by row) was the max: on ties the first one (np.argmax's rule).
    """
    x = check_images(x)
    size = check_int(size, "size", 1)
    stride = size if stride is None else check_int(stride, "stride", 1)
    H_out, W_out = output_size(x.shape[2], x.shape[3], size, size, stride, 0,
                               what=f"the pooling window (size={size})")
    windows = np.stack([_window(x, i, j, stride, H_out, W_out)
                        for i in range(size) for j in range(size)])  # (size*size, N, C, H_out, W_out)
    arg = windows.argmax(axis=0)  # (N, C, H_out, W_out): 0 .. size*size - 1
    out = np.take_along_axis(windows, arg[None], axis=0)[0]  # (N, C, H_out, W_out)
    return out, (x.shape, arg, size, stride)


def maxpool2d_backward(dout, cache):
    """dx: each window's dout goes to the entry that was its max (the first, on ties).

    dout: (N, C, H_out, W_out) -> dx: (N, C, H, W); entries that were no
    window's max get 0; an entry that is the max of overlapping windows
    (stride < size) gets the sum of their dout.
    """
    shape, arg, size, stride = cache
    dout = as_float_array(dout, "dout")
    if dout.shape != arg.shape:
        raise ValueError(
            f"dout has shape {dout.shape} but the pooling output has shape {arg.shape}; "
            f"dout must be dL/d(out), one entry per output."
        )
    H_out, W_out = arg.shape[2:]
    dx = np.zeros(shape, dtype=dout.dtype)
    for i in range(size):
        for j in range(size):
            _window(dx, i, j, stride, H_out, W_out)[...] += np.where(arg == i * size + j, dout, 0)
    return dx


# --------------------------------------------------------------------------
# Flatten -- notebook 08 (from feature maps to the Dense layers)
# --------------------------------------------------------------------------
def flatten_forward(x):
    """x: (N, ...) -> out: (N, prod(...)), each sample's entries in C order."""
    x = as_float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have one row per sample (at least 2-D), got shape {x.shape}.")
    out = x.reshape(x.shape[0], -1)  # (N, C*H*W)
    return out, x.shape


def flatten_backward(dout, cache):
    """dx: dout (N, prod(...)) reshaped back to the input's shape (N, ...)."""
    shape = cache
    dout = as_float_array(dout, "dout")
    if dout.shape != (shape[0], int(np.prod(shape[1:]))):
        raise ValueError(
            f"dout has shape {dout.shape} but Flatten's output has shape "
            f"{(shape[0], int(np.prod(shape[1:])))}; dout must be dL/d(out)."
        )
    return dout.reshape(shape)  # (N, ...)
