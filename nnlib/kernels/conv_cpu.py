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
from numba import njit, uintp


@njit(cache=True)
def _valid_range(n_out, offset, stride, size):
    """[lo, hi): the output positions o whose input o*stride + offset lies in [0, size)."""
    lo = 0 if offset >= 0 else (-offset + stride - 1) // stride
    hi = 0 if size - offset <= 0 else (size - offset + stride - 1) // stride
    return lo, max(lo, min(hi, n_out))


@njit(cache=True)
def im2col(x, KH, KW, stride, padding, cols):
    """cols[(c, i, j), (n, oh, ow)] = x_pad[n, c, oh*stride + i, ow*stride + j].

    x: (N, C, H, W); cols: (C*KH*KW, N*H_out*W_out). Padding is not copied:
    entries outside x are written as 0. The ranges of oh and ow that read
    inside x are worked out once per kernel offset (i, j), so the inner loop
    is a plain strided copy without a test per entry; the arrays are read
    through flat views with the offsets computed here (cheaper in Numba than
    a view per row), as unsigned ints (uintp): they are never negative, and
    a signed index makes Numba test each one for Python's negative
    indexing (that test alone doubled the time).
    """
    N, C, H, W = x.shape
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    P = H_out * W_out  # output positions per image
    xf, cf = x.reshape(-1), cols.reshape(-1)  # flat views: x (N*C*H*W,), cols (C*KH*KW*N*P,)
    cf[:] = 0.0
    for c in range(C):
        for i in range(KH):
            oh_lo, oh_hi = _valid_range(H_out, i - padding, stride, H)
            for j in range(KW):
                ow_lo, ow_hi = _valid_range(W_out, j - padding, stride, W)
                row = ((c * KH + i) * KW + j) * N * P  # where cols' row (c, i, j) starts
                for n in range(N):
                    plane = (n * C + c) * H * W  # where x[n, c] starts
                    for oh in range(oh_lo, oh_hi):
                        src = plane + (oh * stride + i - padding) * W + j - padding
                        dst = row + n * P + oh * W_out
                        for ow in range(ow_lo, ow_hi):
                            cf[uintp(dst + ow)] = xf[uintp(src + ow * stride)]


@njit(cache=True)
def col2im(dcols, KH, KW, stride, padding, dx):
    """The adjoint of im2col: dx[n, c, h, w] = sum of the dcols entries copied from x[n, c, h, w].

    dcols: (C*KH*KW, N*H_out*W_out); dx: (N, C, H, W), overwritten. The
    loops of im2col, adding where it copies.
    """
    N, C, H, W = dx.shape
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    P = H_out * W_out
    df, cf = dx.reshape(-1), dcols.reshape(-1)  # flat views
    df[:] = 0.0
    for c in range(C):
        for i in range(KH):
            oh_lo, oh_hi = _valid_range(H_out, i - padding, stride, H)
            for j in range(KW):
                ow_lo, ow_hi = _valid_range(W_out, j - padding, stride, W)
                row = ((c * KH + i) * KW + j) * N * P
                for n in range(N):
                    plane = (n * C + c) * H * W
                    for oh in range(oh_lo, oh_hi):
                        dst = plane + (oh * stride + i - padding) * W + j - padding
                        src = row + n * P + oh * W_out
                        for ow in range(ow_lo, ow_hi):
                            df[uintp(dst + ow * stride)] += cf[uintp(src + ow)]


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
def conv2d_backward(dout, cols, W, stride, padding, dout_cols, dcols, dx, dW, db, need_dx=True):
    """(dx, dW, db) of the convolution, given dout = dL/d(out) (N, F, H_out, W_out).

    cols: forward's im2col of x; buffers dout_cols (F, N*H_out*W_out), dcols
    (C*KH*KW, N*H_out*W_out); outputs dx (N, C, H, W), dW (F, C, KH, KW), db (F,):
    db = dout_cols @ ones (the sums of dout), dW = dout_cols @ cols.T,
    dx = col2im(W2.T @ dout_cols).
    need_dx=False skips dx (and dcols, dx are not touched): the first layer
    of a network, whose input is the data, needs no dx.
    """
    F, C, KH, KW = W.shape
    N, _, H_out, W_out = dout.shape
    P = H_out * W_out
    dout3 = dout.reshape(N, F, P)  # (N, F, H_out*W_out), a view
    for n in range(N):
        for f in range(F):
            for p in range(P):
                dout_cols[f, n * P + p] = dout3[n, f, p]
    # db = dout_cols @ ones: BLAS's matrix-vector product (a loop adding one
    # entry at a time waits on each addition, and took 6x as long)
    np.dot(dout_cols, np.ones(N * P, dtype=dout_cols.dtype), db)
    np.dot(dout_cols, cols.T, dW.reshape(F, C * KH * KW))
    if need_dx:
        np.dot(W.reshape(F, C * KH * KW).T, dout_cols, dcols)
        col2im(dcols, KH, KW, stride, padding, dx)


@njit(cache=True)
def maxpool2d_forward(x, size, stride, out, argmax):
    """out = max of each size x size window; argmax = where it was, as h*W + w in x's plane.

    x: (N, C, H, W); out, argmax (int64): (N, C, H_out, W_out). The window is
    scanned row by row and only a strictly larger value replaces the max, so
    ties go to the first max, as in the reference. Flat views and unsigned
    offsets as in im2col; the common 2x2 window with stride 2 has its own
    loop (``_maxpool_2x2``).
    """
    N, C, H, W = x.shape
    _, _, H_out, W_out = out.shape
    xf, of, af = x.reshape(-1), out.reshape(-1), argmax.reshape(-1)  # flat views
    if size == 2 and stride == 2:
        _maxpool_2x2(xf, N * C, H, W, H_out, W_out, of, af)
        return
    for plane in range(N * C):
        base, obase = plane * H * W, plane * H_out * W_out
        for oh in range(H_out):
            for ow in range(W_out):
                h0, w0 = oh * stride, ow * stride
                where = h0 * W + w0  # in the plane
                best = xf[uintp(base + where)]
                for i in range(size):
                    for j in range(size):
                        k = (h0 + i) * W + w0 + j
                        v = xf[uintp(base + k)]
                        if v > best:
                            best, where = v, k
                of[uintp(obase + oh * W_out + ow)] = best
                af[uintp(obase + oh * W_out + ow)] = where


@njit(cache=True)
def _maxpool_2x2(xf, planes, H, W, H_out, W_out, of, af):
    """maxpool2d_forward for 2x2 windows, stride 2, on flat views: the window
    (a b / c d) as max(max(a, b), max(c, d)), each by a strict > so ties go
    to the first in a, b, c, d order; selects rather than branches (where the
    max sits is a branch the CPU mispredicts)."""
    for plane in range(planes):
        base, obase = plane * H * W, plane * H_out * W_out
        for oh in range(H_out):
            for ow in range(W_out):
                k = 2 * oh * W + 2 * ow  # a, in the plane
                a, b = xf[uintp(base + k)], xf[uintp(base + k + 1)]
                c, d = xf[uintp(base + k + W)], xf[uintp(base + k + W + 1)]
                m1 = b if b > a else a
                i1 = k + 1 if b > a else k
                m2 = d if d > c else c
                i2 = k + W + 1 if d > c else k + W
                q = uintp(obase + oh * W_out + ow)
                of[q] = m2 if m2 > m1 else m1
                af[q] = i2 if m2 > m1 else i1


@njit(cache=True)
def maxpool2d_backward(dout, argmax, dx):
    """dx: each dout entry added to the input entry that was its window's max.

    dout, argmax: (N, C, H_out, W_out); dx: (N, C, H, W), overwritten.
    """
    N, C, H_out, W_out = dout.shape
    H, W = dx.shape[2], dx.shape[3]
    df, gf, af = dx.reshape(-1), dout.reshape(-1), argmax.reshape(-1)  # flat views
    df[:] = 0.0
    for plane in range(N * C):
        base, obase = plane * H * W, plane * H_out * W_out
        for q in range(H_out * W_out):
            df[uintp(base + af[uintp(obase + q)])] += gf[uintp(obase + q)]
