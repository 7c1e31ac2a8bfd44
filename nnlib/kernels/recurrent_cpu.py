"""Numba CPU kernels for the vanilla RNN and the LSTM (notebook 09, recurrence).

Same maths as ``nnlib.functional.recurrent``, laid out for speed: the
wrappers (``nnlib.backends.numba_recurrent``) pass sequences TIME-MAJOR,
so that each step's arrays are contiguous 2-D blocks that BLAS takes as
they are:
- x2: (T * N, D), the rows of step t are x2[t * N:(t + 1) * N];
- h, c: (T + 1, N, H), h[0] = h_0 and c[0] = 0 (the initial state), h[t + 1] = h_t;
- the input's contribution x_t Wx is one matrix product for all the steps
  (before the time loop; for the LSTM the wrapper makes it with ``matmul``,
  outside the loop's one-BLAS-thread limit); inside the loop only
  h_{t-1} Wh is left (np.dot into a buffer), then short loops add the bias
  and apply the gates' nonlinearities and the cell update;
- backward: the loop only carries dL/dh (and dL/dc) back one step; the
  weight gradients and dx are then single products over all the steps
  (for the LSTM again made by the wrapper, and dx only when asked for);
- the gates' sigmoid and tanh compute in the arrays' precision (the
  float32 exp of ``fast_exp`` for float32).
"""
import numpy as np
from numba import njit

from nnlib.kernels.fast_exp import exp_nonpositive_like

# 1 and 2 as float32: exact in either precision, so float32 * ONE stays float32
# (a float64 literal would turn every float32 gate computation into float64)
ONE, TWO = np.float32(1.0), np.float32(2.0)


@njit(cache=True, error_model="numpy")
def gate_sigmoid(z):
    """``cpu.stable_sigmoid`` in z's own precision: float32 gates use the float32 exp.

    In float32, twice as many numbers fit a SIMD register and the exp's
    polynomial is half as long: the LSTM's gate loops ran about 3x faster
    than with the float64 sigmoid (results within a few float32 ulp).
    """
    e = exp_nonpositive_like(-abs(z))  # in [0, 1]
    return (ONE if z >= 0 else e) / (ONE + e)


@njit(cache=True, error_model="numpy")
def fast_tanh(z):
    """tanh(z) = 2 sigmoid(2z) - 1, with the vectorisable ``gate_sigmoid``.

    math.tanh is a call into the C maths library, one number per call,
    which keeps a loop from using SIMD; this form made the LSTM's gate loop
    about 3x faster. Absolute error < 4e-16 in float64 (the relative error
    near 0 is larger, which the products and sums it feeds do not notice).
    """
    return TWO * gate_sigmoid(TWO * z) - ONE


# ------------------------------------------------------------------ RNN
@njit(cache=True, error_model="numpy")
def rnn_forward(x2, Wx, Wh, b, h, tmp):
    """h[t + 1] = tanh(x_t Wx + h[t] Wh + b). x2 (T*N, D); h (T+1, N, H), h[0] given; tmp (N, H)."""
    T, N, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    np.dot(x2, Wx, h[1:].reshape(T * N, H))  # x_t Wx for every step, (T*N, H)
    for t in range(T):
        np.dot(h[t], Wh, tmp)
        ht = h[t + 1]
        for n in range(N):
            for k in range(H):
                ht[n, k] = fast_tanh(ht[n, k] + tmp[n, k] + b[k])


@njit(cache=True, error_model="numpy")
def rnn_backward(dh, x2, Wx, Wh, h, dz, dh_next, dx2, dWx, dWh, db, need_dx=True):
    """Backpropagation through time.

    dh (T, N, H): dL/dh_t from the output; h (T+1, N, H) from the forward.
    Buffers dz (T, N, H), dh_next (N, H): it ends holding dL/dh_0.
    Writes dx2 (T*N, D) (left untouched when ``need_dx`` is False: nothing
    before a first layer needs it), dWx (D, H), dWh (H, H), db (H,).
    """
    T, N, H = dh.shape
    dh_next[:] = 0.0
    for t in range(T - 1, -1, -1):
        ht, dzt = h[t + 1], dz[t]
        for n in range(N):
            for k in range(H):
                dzt[n, k] = (dh[t, n, k] + dh_next[n, k]) * (ONE - ht[n, k] * ht[n, k])
        np.dot(dzt, Wh.T, dh_next)
    dz2 = dz.reshape(T * N, H)  # (T*N, H), rows in x2's order
    np.dot(x2.T, dz2, dWx)
    np.dot(h[:T].reshape(T * N, H).T, dz2, dWh)  # sum_t h_{t-1}.T dz_t
    if need_dx:
        np.dot(dz2, Wx.T, dx2)
    _column_sums(dz2, db)


@njit(cache=True)
def _column_sums(a, out):
    """out[k] = sum_r a[r, k], accumulated in out's dtype."""
    out[:] = 0.0
    for r in range(a.shape[0]):
        for k in range(a.shape[1]):
            out[k] += a[r, k]


# ----------------------------------------------------------------- LSTM
@njit(cache=True, error_model="numpy")
def lstm_forward(Wh, b, gates, c, h, tmp):
    """One LSTM over T steps, gate blocks i, f, o, g.

    gates (T, N, 4H) holds x_t Wx on entry (the caller's one product over
    all steps, ``matmul``) and receives i, f, o, g after their
    nonlinearities; c, h (T+1, N, H) with c[0], h[0] given; tmp (N, 4H).
    c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t). Per row, a chain of
    simple loops (add, sigmoid of i, f, o side by side, tanh of g, the cell,
    tanh of the cell, h) rather than one: a loop with one formula over one or
    two arrays is what the compiler vectorises. Merging them cost 2x here
    (chapter 9's model: 5.5 ms -> 2.4 ms of gate loops per batch of 32).
    """
    T, N, H = h.shape[0] - 1, h.shape[1], h.shape[2]
    tc = np.empty(H, dtype=h.dtype)  # tanh(c_t) of one row
    for t in range(T):
        np.dot(h[t], Wh, tmp)
        for n in range(N):
            a, a_h = gates[t, n], tmp[n]  # (4H,) rows
            for k in range(4 * H):  # pre-activations
                a[k] = a[k] + a_h[k] + b[k]  # in the order of the reference
            ifo, g = a[:3 * H], a[3 * H:]
            for k in range(3 * H):  # i, f, o
                ifo[k] = gate_sigmoid(ifo[k])
            for k in range(H):
                g[k] = fast_tanh(g[k])
            c_prev, ct, ht = c[t, n], c[t + 1, n], h[t + 1, n]  # (H,) rows
            for k in range(H):
                ct[k] = a[H + k] * c_prev[k] + a[k] * g[k]
            for k in range(H):
                tc[k] = fast_tanh(ct[k])
            for k in range(H):
                ht[k] = a[2 * H + k] * tc[k]


@njit(cache=True, error_model="numpy")
def lstm_backward(dh, Wh, gates, c, da, dh_next, dc_next, db):
    """Backpropagation through time for the LSTM (formulas: ``functional.lstm_backward``).

    dh (T, N, H); gates (T, N, 4H), c (T+1, N, H) from the forward.
    Writes da (T, N, 4H) = dL/d(pre-activations) and db (4H,); buffers
    dh_next, dc_next (N, H): dh_next ends holding dL/dh_0. The caller then
    gets dWx = x.T da, dWh = h_{t-1}.T da and dx = da Wx.T as single
    products over all steps (``matmul``).
    Per row, tanh(c_t) first in a loop of its own, then the gate gradients
    on (H,) row views: with tanh inside and 3-D indexing, the loop was not
    vectorised (7.2 ms -> 1.7 ms per batch of chapter 9's model).
    """
    T, N, H = dh.shape
    dh_next[:] = 0.0
    dc_next[:] = 0.0
    tc = np.empty(H, dtype=c.dtype)  # tanh(c_t) of one row
    for t in range(T - 1, -1, -1):
        dat = da[t]
        for n in range(N):
            g4, d4 = gates[t, n], dat[n]  # (4H,) rows
            c_t, c_prev, dh_t, dh_n, dc_n = c[t + 1, n], c[t, n], dh[t, n], dh_next[n], dc_next[n]
            for k in range(H):
                tc[k] = fast_tanh(c_t[k])
            for k in range(H):
                i, f, o, g = g4[k], g4[H + k], g4[2 * H + k], g4[3 * H + k]
                dht = dh_t[k] + dh_n[k]
                dc = dc_n[k] + dht * o * (ONE - tc[k] * tc[k])
                d4[k] = dc * g * i * (ONE - i)
                d4[H + k] = dc * c_prev[k] * f * (ONE - f)
                d4[2 * H + k] = dht * tc[k] * o * (ONE - o)
                d4[3 * H + k] = dc * i * (ONE - g * g)
                dc_n[k] = dc * f
        np.dot(dat, Wh.T, dh_next)
    da2 = da.reshape(T * N, 4 * H)  # (T*N, 4H)
    _column_sums(da2, db)


@njit(cache=True)
def matmul(a, b, out):
    """out = a @ b with the BLAS the kernels use (SciPy's, through Numba's np.dot).

    The LSTM's products over all T steps at once (x Wx, x.T da, h.T da,
    da Wx.T): (T*N, .) rows, big enough to share between BLAS threads, so
    the wrapper calls them outside the one-thread limit of the time loops.
    """
    np.dot(a, b, out)
