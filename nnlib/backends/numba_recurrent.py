"""RNN and LSTM on the Numba kernels, with the reference's signatures.

The twins of ``nnlib.functional.recurrent`` for ``backend="numba"``:
``rnn_forward(x, h0, Wx, Wh, b) -> (h, cache)``,
``rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)``, and the same for
the LSTM. They turn batch-first x (N, T, D) into the time-major layout of
``nnlib.kernels.recurrent_cpu`` (one transposing copy each way), allocate
what the kernels write into and return batch-first results. Callers (the
layers) have checked shapes and dtypes.

The recurrent kernels run with ONE BLAS thread (``threadpoolctl``): their
time loop calls BLAS once per step on products as small as (N, H) @ (H, 4H),
which are too small to split across threads; the threads' hand-offs cost
more than they save, and on a busy machine far more. Measured for chapter
9's character model (2 cores, other jobs running): one epoch 4.5 s with one
BLAS thread, 49 s with OpenBLAS's default two. The LSTM's products over all
steps at once (x Wx before the loop; dWx, dWh and dx after it; rows T*N =
2048 there) are big enough to share, and run at BLAS's default threads
when they are (``_product``: at least 50 MFLOP):
chapter 9's epoch took 0.81 s instead of 0.96 s with them on two threads
(2 cores, load about 2.7, same process, alternating rounds).
"""
import numpy as np

from nnlib.backends import numba_ops
from nnlib.backends.blas_threads import one_blas_thread
from nnlib.kernels import recurrent_cpu


SHARED_PRODUCT_FLOPS = 50e6  # products at least this big run at BLAS's default threads


def _product(a, b, out):
    """out = a @ b over all steps: at BLAS's default threads if big enough, else one thread.

    A small product (the notebooks' toy tasks) is not worth the hand-off, and
    on a busy machine threads wait for each other: chapter 9's notebooks ran
    5x slower with every product shared.
    """
    if 2.0 * a.shape[0] * a.shape[1] * b.shape[1] >= SHARED_PRODUCT_FLOPS:
        recurrent_cpu.matmul(a, b, out)
    else:
        with one_blas_thread():
            recurrent_cpu.matmul(a, b, out)


def _time_major(x):
    """x (N, T, D) as C-contiguous rows (T * N, D): step t is rows t*N .. (t+1)*N - 1."""
    N, T, D = x.shape
    return np.ascontiguousarray(np.swapaxes(x, 0, 1)).reshape(T * N, D)  # (T*N, D)


def _batch_first(h):
    """Batch-first (N, T, H) from time-major h (T+1, N, H) without h_0."""
    return np.ascontiguousarray(np.swapaxes(h[1:], 0, 1))  # (N, T, H)


def _upstream(dh, dtype):
    """dL/dh_t for every step, time-major (T, N, H)."""
    return np.ascontiguousarray(np.swapaxes(dh, 0, 1), dtype=dtype)  # (T, N, H)


def _grads(x2, Wx, Wh):
    """Empty dx2 (T*N, D), dWx, dWh, db to be written by a kernel."""
    return (np.empty_like(x2), np.empty_like(Wx), np.empty_like(Wh),
            np.empty(Wh.shape[1], dtype=Wh.dtype))


def _dx(dx2, T, N):
    return np.ascontiguousarray(np.swapaxes(dx2.reshape(T, N, -1), 0, 1))  # (N, T, D)


def rnn_forward(x, h0, Wx, Wh, b):
    """As ``functional.rnn_forward``: h (N, T, H)."""
    N, T, _ = x.shape
    H = Wh.shape[0]
    x2 = _time_major(np.asarray(x, dtype=Wx.dtype))  # (T*N, D)
    h = np.empty((T + 1, N, H), dtype=Wx.dtype)
    h[0] = h0
    with one_blas_thread():
        recurrent_cpu.rnn_forward(x2, Wx, Wh, b, h, np.empty((N, H), dtype=Wx.dtype))
    return _batch_first(h), (x2, Wx, Wh, h)


def rnn_backward(dh, cache, need_dx=True):
    """(dx, dh0, dWx, dWh, db) by ``recurrent_cpu.rnn_backward``; dx is None unless ``need_dx``."""
    x2, Wx, Wh, h = cache
    T, N, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    dx2, dWx, dWh, db = _grads(x2, Wx, Wh)
    dz, dh0 = np.empty((T, N, H), dtype=Wx.dtype), np.empty((N, H), dtype=Wx.dtype)
    with one_blas_thread():
        recurrent_cpu.rnn_backward(_upstream(dh, Wx.dtype), x2, Wx, Wh, h, dz, dh0,
                                   dx2, dWx, dWh, db, need_dx)
    return _dx(dx2, T, N) if need_dx else None, dh0, dWx, dWh, db  # the kernel leaves dL/dh_0 in dh0


def lstm_forward(x, h0, Wx, Wh, b):
    """As ``functional.lstm_forward`` (gate blocks i, f, o, g): h (N, T, H)."""
    N, T, _ = x.shape
    H = Wh.shape[0]
    x2 = _time_major(np.asarray(x, dtype=Wx.dtype))  # (T*N, D)
    gates = np.empty((T, N, 4 * H), dtype=Wx.dtype)
    c, h = np.empty((T + 1, N, H), dtype=Wx.dtype), np.empty((T + 1, N, H), dtype=Wx.dtype)
    c[0], h[0] = 0.0, h0  # c_0, h_0
    _product(x2, Wx, gates.reshape(T * N, 4 * H))  # x_t Wx for all steps
    with one_blas_thread():
        recurrent_cpu.lstm_forward(Wh, b, gates, c, h, np.empty((N, 4 * H), dtype=Wx.dtype))
    return _batch_first(h), (x2, Wx, Wh, gates, c, h)


def lstm_backward(dh, cache, need_dx=True):
    """(dx, dh0, dWx, dWh, db) by ``recurrent_cpu.lstm_backward``; dx is None unless ``need_dx``."""
    x2, Wx, Wh, gates, c, h = cache
    T, N, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    dx2, dWx, dWh, db = _grads(x2, Wx, Wh)
    da = np.empty((T, N, 4 * H), dtype=Wx.dtype)
    dh0, dc_next = np.empty((N, H), dtype=Wx.dtype), np.empty((N, H), dtype=Wx.dtype)
    with one_blas_thread():
        recurrent_cpu.lstm_backward(_upstream(dh, Wx.dtype), Wh, gates, c, da, dh0, dc_next, db)
    da2 = da.reshape(T * N, 4 * H)  # the products over all steps
    _product(x2.T, da2, dWx)
    _product(h[:T].reshape(T * N, H).T, da2, dWh)  # sum_t h_{t-1}.T da_t
    if need_dx:  # not for a first layer: 1/3 of the input's products saved
        _product(da2, Wx.T, dx2)
    return _dx(dx2, T, N) if need_dx else None, dh0, dWx, dWh, db  # the kernel leaves dL/dh_0 in dh0


def time_dense_forward(x, W, b):
    """As ``functional.time_dense_forward``: the Numba dense kernel on the (N*T, D) rows."""
    N, T, D = x.shape
    with one_blas_thread():  # products of (N*T, D) x (D, n_out) are small too
        z, cache = numba_ops.dense_forward(np.ascontiguousarray(x).reshape(N * T, D), W, b)
    return z.reshape(N, T, W.shape[1]), (cache, x.shape)  # (N, T, n_out)


def time_dense_backward(dz, cache):
    """(dx, dW, db) by the Numba dense kernel on the (N*T, n_out) rows."""
    inner, x_shape = cache
    N, T, D = x_shape
    with one_blas_thread():
        dx, dW, db = numba_ops.dense_backward(np.ascontiguousarray(dz).reshape(N * T, -1), inner)
    return dx.reshape(N, T, D), dW, db
