"""Numba CPU kernels for convolution and max pooling: ``backend="numba"`` (notebook 08).

Each kernel computes what its NumPy reference in ``nnlib.functional.conv``
computes and writes into buffers the caller preallocated (the wrappers in
``nnlib.backends.numba_conv`` do, after the layer checked shapes and dtypes;
every array is C-contiguous, float32 or float64).

The convolution is im2col + one matrix product (notebook 07's matmul): the
input entries that every output position sees are copied into the columns
of ``cols`` (C*KH*KW, N*H_out*W_out), so

    out_cols = W.reshape(F, C*KH*KW) @ cols            (F, N*H_out*W_out)

is the whole forward in one BLAS call. The backward is two more products
(dW = dout_cols @ cols.T, dcols = W2.T @ dout_cols) and col2im, which adds
each column back to the input entries it was copied from.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def im2col(x, KH, KW, stride, padding, cols):
    """cols[(c, i, j), (n, oh, ow)] = x_pad[n, c, oh*stride + i, ow*stride + j].

    x: (N, C, H, W); cols: (C*KH*KW, N*H_out*W_out). Padding is not copied:
    entries outside x are written as 0.
    """
    N, C, H, W = x.shape
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    for c in range(C):
        for i in range(KH):
            for j in range(KW):
                row = (c * KH + i) * KW + j
                for n in range(N):
                    for oh in range(H_out):
                        h = oh * stride + i - padding
                        col = (n * H_out + oh) * W_out
                        for ow in range(W_out):
                            w = ow * stride + j - padding
                            inside = 0 <= h < H and 0 <= w < W
                            cols[row, col + ow] = x[n, c, h, w] if inside else 0.0


@njit(cache=True)
def col2im(dcols, KH, KW, stride, padding, dx):
    """The adjoint of im2col: dx[n, c, h, w] = sum of the dcols entries copied from x[n, c, h, w].

    dcols: (C*KH*KW, N*H_out*W_out); dx: (N, C, H, W), overwritten.
    """
    N, C, H, W = dx.shape
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    dx[...] = 0.0
    for c in range(C):
        for i in range(KH):
            for j in range(KW):
                row = (c * KH + i) * KW + j
                for n in range(N):
                    for oh in range(H_out):
                        h = oh * stride + i - padding
                        if h < 0 or h >= H:
                            continue
                        col = (n * H_out + oh) * W_out
                        for ow in range(W_out):
                            w = ow * stride + j - padding
                            if 0 <= w < W:
                                dx[n, c, h, w] += dcols[row, col + ow]


@njit(cache=True)
def conv2d_forward(x, W, b, stride, padding, cols, out_cols, out):
    """out = conv(x, W) + b by im2col and one matrix product.

    x: (N, C, H, W), W: (F, C, KH, KW), b: (F,); buffers cols (C*KH*KW,
    N*H_out*W_out), out_cols (F, N*H_out*W_out); out: (N, F, H_out, W_out).
    cols is kept by the caller for the backward.
    """
    F, C, KH, KW = W.shape
    N, _, H_out, W_out = out.shape
    im2col(x, KH, KW, stride, padding, cols)
    np.dot(W.reshape(F, C * KH * KW), cols, out_cols)
    P = H_out * W_out  # output positions per image
    out3 = out.reshape(N, F, P)  # (N, F, H_out*W_out), a view
    for n in range(N):
        for f in range(F):
            for p in range(P):
                out3[n, f, p] = out_cols[f, n * P + p] + b[f]


@njit(cache=True)
def conv2d_backward(dout, cols, W, stride, padding, dout_cols, dcols, dx, dW, db):
    """(dx, dW, db) of the convolution, given dout = dL/d(out) (N, F, H_out, W_out).

    cols: forward's im2col of x; buffers dout_cols (F, N*H_out*W_out), dcols
    (C*KH*KW, N*H_out*W_out); outputs dx (N, C, H, W), dW (F, C, KH, KW), db (F,):
    db = sums of dout, dW = dout_cols @ cols.T, dx = col2im(W2.T @ dout_cols).
    """
    F, C, KH, KW = W.shape
    N, _, H_out, W_out = dout.shape
    P = H_out * W_out
    dout3 = dout.reshape(N, F, P)  # (N, F, H_out*W_out), a view
    db[:] = 0.0
    for n in range(N):
        for f in range(F):
            for p in range(P):
                v = dout3[n, f, p]
                dout_cols[f, n * P + p] = v
                db[f] += v
    np.dot(dout_cols, cols.T, dW.reshape(F, C * KH * KW))
    np.dot(W.reshape(F, C * KH * KW).T, dout_cols, dcols)
    col2im(dcols, KH, KW, stride, padding, dx)


@njit(cache=True)
def maxpool2d_forward(x, size, stride, out, argmax):
    """out = max of each size x size window; argmax = where it was, as h*W + w in x's plane.

    x: (N, C, H, W); out, argmax (int64): (N, C, H_out, W_out). The window is
    scanned row by row and only a strictly larger value replaces the max, so
    ties go to the first max, as in the reference.
    """
    N, C, H, W = x.shape
    _, _, H_out, W_out = out.shape
    for n in range(N):
        for c in range(C):
            for oh in range(H_out):
                for ow in range(W_out):
                    h0, w0 = oh * stride, ow * stride
                    best, where = x[n, c, h0, w0], h0 * W + w0
                    for i in range(size):
                        for j in range(size):
                            v = x[n, c, h0 + i, w0 + j]
                            if v > best:
                                best, where = v, (h0 + i) * W + w0 + j
                    out[n, c, oh, ow] = best
                    argmax[n, c, oh, ow] = where


@njit(cache=True)
def maxpool2d_backward(dout, argmax, dx):
    """dx: each dout entry added to the input entry that was its window's max.

    dout, argmax: (N, C, H_out, W_out); dx: (N, C, H, W), overwritten.
    """
    N, C, H_out, W_out = dout.shape
    W = dx.shape[3]
    dx[...] = 0.0
    for n in range(N):
        for c in range(C):
            for oh in range(H_out):
                for ow in range(W_out):
                    k = argmax[n, c, oh, ow]
                    dx[n, c, k // W, k % W] += dout[n, c, oh, ow]
