"""Recurrent layers, vanilla RNN and LSTM: the reference pairs (notebook 09, recurrence).

Sequences are batch-first, x (N, T, D): N sequences of T steps of D
features, as PyTorch's ``batch_first=True``. Each forward takes the initial
hidden state h0 (N, H) and returns every hidden state h (N, T, H); each
backward takes the upstream gradient of every hidden state, dh (N, T, H)
(zeros where a step's state feeds no loss), and returns dL/dh0 as well, so
that a long sequence can be cut into pieces that pass their state on.
The LSTM's cell state starts at zero (c_0 = 0).
"""
import numpy as np

from nnlib.functional.activations import sigmoid


def _check(x, h0, Wx, Wh, b, n_gates):
    """x and h0 as float arrays; a clear error when the shapes do not fit the weights."""
    x = np.asarray(x, dtype=Wx.dtype)
    h0 = np.asarray(h0, dtype=Wx.dtype)
    H = Wh.shape[0]
    if x.ndim != 3 or x.shape[2] != Wx.shape[0]:
        raise ValueError(
            f"x must be sequences of shape (N, T, {Wx.shape[0]}) (batch, time, features) to fit "
            f"Wx of shape {Wx.shape}, got shape {x.shape}.")
    if Wx.shape[1] != n_gates * H or Wh.shape != (H, n_gates * H) or b.shape != (n_gates * H,):
        raise ValueError(
            f"for {H} hidden units the weights must be Wx (D, {n_gates * H}), Wh ({H}, "
            f"{n_gates * H}), b ({n_gates * H},); got {Wx.shape}, {Wh.shape}, {b.shape}.")
    if h0.shape != (x.shape[0], H):
        raise ValueError(
            f"h0 must have shape (N, H) = {(x.shape[0], H)} (one initial state per sequence), "
            f"got shape {h0.shape}; np.zeros((N, H)) starts from rest.")
    return x, h0


# --------------------------------------------------------------------------
# Vanilla RNN -- notebook 09 (recurrence); Elman (1990)
# --------------------------------------------------------------------------
def rnn_forward(x, h0, Wx, Wh, b):
    """h_t = tanh(x_t Wx + h_{t-1} Wh + b), t = 1..T, starting from h0.

    x: (N, T, D), h0: (N, H), Wx: (D, H), Wh: (H, H), b: (H,). The same
    weights at every step. Returns (h, cache) with h (N, T, H), every h_t.
    """
    x, h0 = _check(x, h0, Wx, Wh, b, 1)
    N, T, _ = x.shape
    h = np.zeros((N, T, Wh.shape[0]), dtype=Wx.dtype)  # every h_t
    h_prev = h0
    for t in range(T):
        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)  # (N, H)
        h[:, t] = h_prev
    return h, (x, h0, Wx, Wh, h)


def rnn_backward(dh, cache):
    """Backpropagation through time: (dx, dh0, dWx, dWh, db).

    dh (N, T, H): dL/dh_t from outside the recurrence (the loss at step t).
    Going back from t = T: the total gradient of h_t is dh_t plus what
    flows back from step t + 1, dz_{t+1} Wh.T; dz_t = that * (1 - h_t**2)
    (tanh'); each weight's gradient is a sum over the steps:
    dWx = sum_t x_t.T dz_t, dWh = sum_t h_{t-1}.T dz_t, db = sum_t sum_n dz_t;
    dx_t = dz_t Wx.T and dh0 = dz_1 Wh.T. Shapes as in rnn_forward.
    """
    x, h0, Wx, Wh, h = cache
    dh = np.asarray(dh, dtype=Wx.dtype)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[1], dtype=Wx.dtype)
    dh_next = np.zeros_like(h0)  # (N, H): nothing flows back from step T + 1
    for t in reversed(range(x.shape[1])):
        dz = (dh[:, t] + dh_next) * (1.0 - h[:, t] ** 2)  # (N, H)
        h_prev = h[:, t - 1] if t > 0 else h0
        dWx += x[:, t].T @ dz
        dWh += h_prev.T @ dz
        db += dz.sum(axis=0)
        dx[:, t] = dz @ Wx.T
        dh_next = dz @ Wh.T
    return dx, dh_next, dWx, dWh, db


# --------------------------------------------------------------------------
# LSTM -- notebook 09 (recurrence); Hochreiter & Schmidhuber (1997),
# the forget gate from Gers, Schmidhuber & Cummins (2000)
# --------------------------------------------------------------------------
def lstm_forward(x, h0, Wx, Wh, b):
    """Long short-term memory, t = 1..T, from h0 and c_0 = 0.

    a_t = x_t Wx + h_{t-1} Wh + b, split into four blocks of H columns, in
    the order i, f, o, g (PyTorch orders its blocks i, f, g, o):
        i = sigmoid(a_i)  input gate      f = sigmoid(a_f)  forget gate
        o = sigmoid(a_o)  output gate     g = tanh(a_g)     candidate
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t).
    x: (N, T, D), h0: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,).
    Returns (h, cache) with h (N, T, H), every h_t.
    """
    x, h0 = _check(x, h0, Wx, Wh, b, 4)
    N, T, _ = x.shape
    H = Wh.shape[0]
    gates = np.zeros((N, T, 4 * H), dtype=Wx.dtype)  # i, f, o, g after their nonlinearities
    c = np.zeros((N, T, H), dtype=Wx.dtype)
    h = np.zeros((N, T, H), dtype=Wx.dtype)
    h_prev = h0
    c_prev = np.zeros((N, H), dtype=Wx.dtype)  # c_0
    for t in range(T):
        a = x[:, t] @ Wx + h_prev @ Wh + b  # (N, 4H)
        i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        c_prev = f * c_prev + i * g  # (N, H)
        h_prev = o * np.tanh(c_prev)  # (N, H)
        gates[:, t] = np.concatenate([i, f, o, g], axis=1)
        c[:, t], h[:, t] = c_prev, h_prev
    return h, (x, h0, Wx, Wh, gates, c, h)


def lstm_backward(dh, cache):
    """Backpropagation through time for the LSTM: (dx, dh0, dWx, dWh, db).

    dh (N, T, H): dL/dh_t from outside the recurrence. Going back from
    t = T, with the total dh_t = dh[:, t] + da_{t+1} Wh.T and
    dc_t = dc_{t+1} * f_{t+1} + dh_t * o * (1 - tanh(c_t)**2):
        do = dh_t * tanh(c_t),  di = dc_t * g,  df = dc_t * c_{t-1},  dg = dc_t * i;
    through the nonlinearities, da = [di i(1-i), df f(1-f), do o(1-o), dg (1-g**2)]
    (N, 4H); then dWx = sum_t x_t.T da_t, dWh = sum_t h_{t-1}.T da_t,
    db = sum over steps and batch of da_t, dx_t = da_t Wx.T, dh0 = da_1 Wh.T.
    """
    x, h0, Wx, Wh, gates, c, h = cache
    H = Wh.shape[0]
    dh = np.asarray(dh, dtype=Wx.dtype)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=Wx.dtype)
    dh_next = np.zeros_like(h0)  # (N, H)
    dc_next = np.zeros_like(h0)  # (N, H): dL/dc_t through c_{t+1}
    for t in reversed(range(x.shape[1])):
        i, f, o, g = (gates[:, t, k * H:(k + 1) * H] for k in range(4))
        c_prev = c[:, t - 1] if t > 0 else np.zeros_like(h0)
        h_prev = h[:, t - 1] if t > 0 else h0
        tanh_c = np.tanh(c[:, t])
        dh_t = dh[:, t] + dh_next
        dc = dc_next + dh_t * o * (1.0 - tanh_c ** 2)  # (N, H)
        da = np.concatenate([dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f),
                             dh_t * tanh_c * o * (1.0 - o), dc * i * (1.0 - g ** 2)], axis=1)
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dx[:, t] = da @ Wx.T
        dh_next = da @ Wh.T
        dc_next = dc * f
    return dx, dh_next, dWx, dWh, db
