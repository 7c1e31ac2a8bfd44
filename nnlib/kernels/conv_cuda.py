"""numba.cuda kernels for convolution and max pooling: ``backend="cuda"`` (notebook 08).

Each operation means the same as its NumPy reference in
``nnlib.functional.conv``. This is the direct form, one GPU thread per
output element (a grid-stride loop, so any size fits one launch):

- conv forward: thread (n, f, oh, ow) sums W[f, c, i, j] * x_pad[n, c, oh*s + i, ow*s + j];
- conv backward: one kernel per gradient, each thread owning one entry, so
  no two threads write the same address (no atomics): dx (n, c, h, w) sums
  over the outputs its pixel fed, dW (f, c, i, j) over all positions, db (f);
- max pool forward: thread (n, c, oh, ow) scans its window (ties: the first
  max, as the reference); backward: thread (n, c, h, w) collects the dout of
  the windows whose max it was.

The wrappers at the bottom take *device* arrays and write into buffers the
caller preallocated, as those of ``nnlib.kernels.cuda`` do. Sums start from
a Python float, so they accumulate in float64 for float32 data too (a
shortcut: exact enough, and the GPU's float64 is fast enough here).
Without a GPU, ``NUMBA_ENABLE_CUDASIM=1`` runs them in the simulator.
"""
from numba import cuda

from nnlib.kernels.cuda import launch_1d  # importing it also quiets the low-occupancy hint


@cuda.jit(device=True, inline=True)
def unravel4(e, shape):
    """The 4-D index (a, b, c, d) of flat C-order position e in an array of ``shape``."""
    d = e % shape[3]
    e //= shape[3]
    c = e % shape[2]
    e //= shape[2]
    return e // shape[1], e % shape[1], c, d


@cuda.jit(cache=True)
def conv2d_forward_kernel(x, W, b, stride, padding, out):
    """out[n, f, oh, ow] = b[f] + sum_{c, i, j} W[f, c, i, j] x_pad[n, c, oh*stride + i, ow*stride + j]."""
    C, H, Wd = x.shape[1], x.shape[2], x.shape[3]
    KH, KW = W.shape[2], W.shape[3]
    for e in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        n, f, oh, ow = unravel4(e, out.shape)
        acc = 0.0
        for c in range(C):
            for i in range(KH):
                h = oh * stride + i - padding
                for j in range(KW):
                    w = ow * stride + j - padding
                    if 0 <= h < H and 0 <= w < Wd:
                        acc += W[f, c, i, j] * x[n, c, h, w]
        out[n, f, oh, ow] = acc + b[f]


@cuda.jit(cache=True)
def conv2d_dx_kernel(dout, W, stride, padding, dx):
    """dx[n, c, h, w] = sum over (f, i, j) with h + padding - i = oh*stride (likewise w) of W[f, c, i, j] dout[n, f, oh, ow]."""
    F, H_out, W_out = dout.shape[1], dout.shape[2], dout.shape[3]
    KH, KW = W.shape[2], W.shape[3]
    for e in range(cuda.grid(1), dx.size, cuda.gridsize(1)):
        n, c, h, w = unravel4(e, dx.shape)
        acc = 0.0
        for i in range(KH):
            th = h + padding - i  # = oh * stride if output row oh saw this pixel through row i
            if th < 0 or th % stride != 0 or th // stride >= H_out:
                continue
            for j in range(KW):
                tw = w + padding - j
                if tw < 0 or tw % stride != 0 or tw // stride >= W_out:
                    continue
                for f in range(F):
                    acc += W[f, c, i, j] * dout[n, f, th // stride, tw // stride]
        dx[n, c, h, w] = acc


@cuda.jit(cache=True)
def conv2d_dW_kernel(dout, x, stride, padding, dW):
    """dW[f, c, i, j] = sum_{n, oh, ow} dout[n, f, oh, ow] x_pad[n, c, oh*stride + i, ow*stride + j]."""
    N, H_out, W_out = dout.shape[0], dout.shape[2], dout.shape[3]
    H, Wd = x.shape[2], x.shape[3]
    for e in range(cuda.grid(1), dW.size, cuda.gridsize(1)):
        f, c, i, j = unravel4(e, dW.shape)
        acc = 0.0
        for n in range(N):
            for oh in range(H_out):
                h = oh * stride + i - padding
                for ow in range(W_out):
                    w = ow * stride + j - padding
                    if 0 <= h < H and 0 <= w < Wd:
                        acc += dout[n, f, oh, ow] * x[n, c, h, w]
        dW[f, c, i, j] = acc


@cuda.jit(cache=True)
def conv2d_db_kernel(dout, db):
    """db[f] = sum_{n, oh, ow} dout[n, f, oh, ow]."""
    N, H_out, W_out = dout.shape[0], dout.shape[2], dout.shape[3]
    for f in range(cuda.grid(1), db.size, cuda.gridsize(1)):
        acc = 0.0
        for n in range(N):
            for oh in range(H_out):
                for ow in range(W_out):
                    acc += dout[n, f, oh, ow]
        db[f] = acc


@cuda.jit(cache=True)
def maxpool2d_forward_kernel(x, size, stride, out, argmax):
    """out = max of the window at (oh*stride, ow*stride); argmax = h*W + w of the first max."""
    Wd = x.shape[3]
    for e in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        n, c, oh, ow = unravel4(e, out.shape)
        h0, w0 = oh * stride, ow * stride
        best, where = x[n, c, h0, w0], h0 * Wd + w0
        for i in range(size):
            for j in range(size):
                if x[n, c, h0 + i, w0 + j] > best:
                    best, where = x[n, c, h0 + i, w0 + j], (h0 + i) * Wd + w0 + j
        out[n, c, oh, ow] = best
        argmax[n, c, oh, ow] = where


@cuda.jit(cache=True)
def maxpool2d_backward_kernel(dout, argmax, size, stride, dx):
    """dx[n, c, h, w] = sum of dout over the windows that contain (h, w) and had their max there."""
    H_out, W_out, Wd = dout.shape[2], dout.shape[3], dx.shape[3]
    for e in range(cuda.grid(1), dx.size, cuda.gridsize(1)):
        n, c, h, w = unravel4(e, dx.shape)
        # windows oh with oh*stride <= h < oh*stride + size (likewise ow)
        oh_lo = 0 if h < size else (h - size + stride) // stride
        ow_lo = 0 if w < size else (w - size + stride) // stride
        acc = 0.0
        for oh in range(oh_lo, min(h // stride + 1, H_out)):
            for ow in range(ow_lo, min(w // stride + 1, W_out)):
                if argmax[n, c, oh, ow] == h * Wd + w:
                    acc += dout[n, c, oh, ow]
        dx[n, c, h, w] = acc


# ------------------------------------------------------ launches (device arrays)
def conv2d_forward(x, W, b, stride, padding, out):
    """out (N, F, H_out, W_out) = conv(x, W) + b; x (N, C, H, W), W (F, C, KH, KW), b (F,)."""
    conv2d_forward_kernel[launch_1d(out.size, grid_stride=True)](x, W, b, stride, padding, out)


def conv2d_backward(dout, x, W, stride, padding, dx, dW, db):
    """dx (N, C, H, W), dW (F, C, KH, KW), db (F,) of the convolution: three launches."""
    conv2d_dx_kernel[launch_1d(dx.size, grid_stride=True)](dout, W, stride, padding, dx)
    conv2d_dW_kernel[launch_1d(dW.size, grid_stride=True)](dout, x, stride, padding, dW)
    conv2d_db_kernel[launch_1d(db.size, grid_stride=True)](dout, db)


def maxpool2d_forward(x, size, stride, out, argmax):
    """out, argmax (int64): (N, C, H_out, W_out), the max of each window and where it was."""
    maxpool2d_forward_kernel[launch_1d(out.size, grid_stride=True)](x, size, stride, out, argmax)


def maxpool2d_backward(dout, argmax, size, stride, dx):
    """dx (N, C, H, W): each window's dout at its max."""
    maxpool2d_backward_kernel[launch_1d(dx.size, grid_stride=True)](dout, argmax, size, stride, dx)
