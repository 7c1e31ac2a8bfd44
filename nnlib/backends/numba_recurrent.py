"""RNN and LSTM on the Numba kernels, with the reference's signatures.

The twins of ``nnlib.functional.recurrent`` for ``backend="numba"``. They
turn batch-first x (N, T, D) into the time-major layout of
``nnlib.kernels.recurrent_cpu`` (one transposing copy each way), allocate
what the kernels write into and return batch-first results. Callers (the
layers) have checked shapes and dtypes.
"""
import numpy as np

from nnlib.kernels import recurrent_cpu


def _time_major(x):
    """x (N, T, D) as C-contiguous rows (T * N, D): step t is rows t*N .. (t+1)*N - 1."""
    N, T, D = x.shape
    return np.ascontiguousarray(np.swapaxes(x, 0, 1)).reshape(T * N, D)  # (T*N, D)


def _output(h, return_sequences):
    """Batch-first output from time-major h (T+1, N, H): (N, T, H), or h_T (N, H)."""
    if return_sequences:
        return np.ascontiguousarray(np.swapaxes(h[1:], 0, 1))  # (N, T, H)
    return h[-1].copy()  # (N, H)


def _upstream(dout, shape, return_sequences, dtype):
    """dL/dh_t for every step, time-major (T, N, H)."""
    if return_sequences:
        return np.ascontiguousarray(np.swapaxes(dout, 0, 1), dtype=dtype)  # (T, N, H)
    dh = np.zeros(shape, dtype=dtype)  # (T, N, H)
    dh[-1] = dout
    return dh


def _grads(x2, Wx, Wh):
    """Empty dx2 (T*N, D), dWx, dWh, db to be written by a kernel."""
    return (np.empty_like(x2), np.empty_like(Wx), np.empty_like(Wh),
            np.empty(Wh.shape[1], dtype=Wh.dtype))


def rnn_forward(x, Wx, Wh, b, return_sequences):
    """As ``functional.rnn_forward``: out (N, T, H) or (N, H)."""
    N, T, _ = x.shape
    H = Wh.shape[0]
    x2 = _time_major(np.asarray(x, dtype=Wx.dtype))  # (T*N, D)
    h = np.empty((T + 1, N, H), dtype=Wx.dtype)
    h[0] = 0.0  # h_0
    recurrent_cpu.rnn_forward(x2, Wx, Wh, b, h, np.empty((N, H), dtype=Wx.dtype))
    return _output(h, return_sequences), (x2, Wx, Wh, h, return_sequences)


def rnn_backward(dout, cache):
    """(dx, dWx, dWh, db) by ``recurrent_cpu.rnn_backward``."""
    x2, Wx, Wh, h, return_sequences = cache
    T, N, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    dh = _upstream(dout, (T, N, H), return_sequences, Wx.dtype)
    dx2, dWx, dWh, db = _grads(x2, Wx, Wh)
    dz, dh_next = np.empty((T, N, H), dtype=Wx.dtype), np.empty((N, H), dtype=Wx.dtype)
    recurrent_cpu.rnn_backward(dh, x2, Wx, Wh, h, dz, dh_next, dx2, dWx, dWh, db)
    dx = np.ascontiguousarray(np.swapaxes(dx2.reshape(T, N, -1), 0, 1))  # (N, T, D)
    return dx, dWx, dWh, db


def lstm_forward(x, Wx, Wh, b, return_sequences):
    """As ``functional.lstm_forward`` (gate blocks i, f, o, g): out (N, T, H) or (N, H)."""
    N, T, _ = x.shape
    H = Wh.shape[0]
    x2 = _time_major(np.asarray(x, dtype=Wx.dtype))  # (T*N, D)
    gates = np.empty((T, N, 4 * H), dtype=Wx.dtype)
    c, h = np.empty((T + 1, N, H), dtype=Wx.dtype), np.empty((T + 1, N, H), dtype=Wx.dtype)
    c[0], h[0] = 0.0, 0.0  # c_0, h_0
    recurrent_cpu.lstm_forward(x2, Wx, Wh, b, gates, c, h, np.empty((N, 4 * H), dtype=Wx.dtype))
    return _output(h, return_sequences), (x2, Wx, Wh, gates, c, h, return_sequences)


def lstm_backward(dout, cache):
    """(dx, dWx, dWh, db) by ``recurrent_cpu.lstm_backward``."""
    x2, Wx, Wh, gates, c, h, return_sequences = cache
    T, N, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    dh = _upstream(dout, (T, N, H), return_sequences, Wx.dtype)
    dx2, dWx, dWh, db = _grads(x2, Wx, Wh)
    da = np.empty((T, N, 4 * H), dtype=Wx.dtype)
    dh_next, dc_next = np.empty((N, H), dtype=Wx.dtype), np.empty((N, H), dtype=Wx.dtype)
    recurrent_cpu.lstm_backward(dh, x2, Wx, Wh, gates, c, h, da, dh_next, dc_next,
                                dx2, dWx, dWh, db)
    dx = np.ascontiguousarray(np.swapaxes(dx2.reshape(T, N, -1), 0, 1))  # (N, T, D)
    return dx, dWx, dWh, db
