"""Recurrent layers, vanilla RNN and LSTM: the reference pairs (notebook 09, recurrence).

Sequences are batch-first, x (N, T, D): N sequences of T steps of D
features, as PyTorch's ``batch_first=True``. The initial state is zero
(h_0 = 0, and c_0 = 0 for the LSTM). ``return_sequences`` chooses the
output: every hidden state (N, T, H), or only the last one (N, H).
"""
import numpy as np

from nnlib.functional.activations import sigmoid


def _check(x, Wx, Wh, b, n_gates):
    """x as a float (N, T, D) array; a clear error when the weights do not fit it."""
    x = np.asarray(x, dtype=Wx.dtype)
    H = Wh.shape[0]
    if x.ndim != 3 or x.shape[2] != Wx.shape[0]:
        raise ValueError(
            f"x must be sequences of shape (N, T, {Wx.shape[0]}) (batch, time, features) to fit "
            f"Wx of shape {Wx.shape}, got shape {x.shape}.")
    if Wx.shape[1] != n_gates * H or Wh.shape != (H, n_gates * H) or b.shape != (n_gates * H,):
        raise ValueError(
            f"for {H} hidden units the weights must be Wx (D, {n_gates * H}), Wh ({H}, "
            f"{n_gates * H}), b ({n_gates * H},); got {Wx.shape}, {Wh.shape}, {b.shape}.")
    return x


def _upstream(dout, h_shape, return_sequences):
    """dL/dh_t for every step, (N, T, H): the last step's only, when only h_T was output."""
    if return_sequences:
        return np.asarray(dout)
    dh = np.zeros(h_shape, dtype=np.result_type(dout))  # (N, T, H)
    dh[:, -1] = dout
    return dh


# --------------------------------------------------------------------------
# Vanilla RNN -- notebook 09 (recurrence)
# --------------------------------------------------------------------------
def rnn_forward(x, Wx, Wh, b, return_sequences):
    """h_t = tanh(x_t Wx + h_{t-1} Wh + b), t = 1..T, h_0 = 0.

    x: (N, T, D), Wx: (D, H), Wh: (H, H), b: (H,). The same weights at every
    step. out: h (N, T, H) if return_sequences, else h_T (N, H).
    """
    x = _check(x, Wx, Wh, b, 1)
    N, T, _ = x.shape
    h = np.zeros((N, T, Wh.shape[0]), dtype=Wx.dtype)  # every h_t
    h_prev = np.zeros((N, Wh.shape[0]), dtype=Wx.dtype)  # h_0
    for t in range(T):
        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh + b)  # (N, H)
        h[:, t] = h_prev
    out = h if return_sequences else h[:, -1]
    return out, (x, Wx, Wh, h, return_sequences)


def rnn_backward(dout, cache):
    """Backpropagation through time: (dx, dWx, dWh, db).

    Going back from t = T: dh_t = dout_t + dz_{t+1} Wh.T (the gradient from
    the output at t and from the next step), dz_t = dh_t * (1 - h_t**2)
    (tanh'), and each weight's gradient is a sum over the steps:
    dWx = sum_t x_t.T dz_t, dWh = sum_t h_{t-1}.T dz_t, db = sum_t sum_n dz_t;
    dx_t = dz_t Wx.T. Shapes as in rnn_forward.
    """
    x, Wx, Wh, h, return_sequences = cache
    dh = _upstream(dout, h.shape, return_sequences)  # (N, T, H)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[1], dtype=Wx.dtype)
    dh_next = np.zeros_like(h[:, 0])  # (N, H): nothing flows back from step T + 1
    for t in reversed(range(x.shape[1])):
        dz = (dh[:, t] + dh_next) * (1.0 - h[:, t] ** 2)  # (N, H)
        h_prev = h[:, t - 1] if t > 0 else np.zeros_like(dz)
        dWx += x[:, t].T @ dz
        dWh += h_prev.T @ dz
        db += dz.sum(axis=0)
        dx[:, t] = dz @ Wx.T
        dh_next = dz @ Wh.T
    return dx, dWx, dWh, db


# --------------------------------------------------------------------------
# LSTM -- notebook 09 (recurrence); Hochreiter & Schmidhuber (1997)
# --------------------------------------------------------------------------
def lstm_forward(x, Wx, Wh, b, return_sequences):
    """Long short-term memory, t = 1..T, h_0 = c_0 = 0.

    a_t = x_t Wx + h_{t-1} Wh + b, split into four blocks of H columns, in
    the order i, f, o, g (PyTorch orders its blocks i, f, g, o):
        i = sigmoid(a_i)  input gate      f = sigmoid(a_f)  forget gate
        o = sigmoid(a_o)  output gate     g = tanh(a_g)     candidate
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t).
    x: (N, T, D), Wx: (D, 4H), Wh: (H, 4H), b: (4H,).
    out: h (N, T, H) if return_sequences, else h_T (N, H).
    """
    x = _check(x, Wx, Wh, b, 4)
    N, T, _ = x.shape
    H = Wh.shape[0]
    gates = np.zeros((N, T, 4 * H), dtype=Wx.dtype)  # i, f, o, g after their nonlinearities
    c = np.zeros((N, T, H), dtype=Wx.dtype)
    h = np.zeros((N, T, H), dtype=Wx.dtype)
    h_prev = np.zeros((N, H), dtype=Wx.dtype)
    c_prev = np.zeros((N, H), dtype=Wx.dtype)
    for t in range(T):
        a = x[:, t] @ Wx + h_prev @ Wh + b  # (N, 4H)
        i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        c_prev = f * c_prev + i * g  # (N, H)
        h_prev = o * np.tanh(c_prev)  # (N, H)
        gates[:, t] = np.concatenate([i, f, o, g], axis=1)
        c[:, t], h[:, t] = c_prev, h_prev
    out = h if return_sequences else h[:, -1]
    return out, (x, Wx, Wh, gates, c, h, return_sequences)


def lstm_backward(dout, cache):
    """Backpropagation through time for the LSTM: (dx, dWx, dWh, db).

    Going back from t = T, with dh_t = dout_t + da_{t+1} Wh.T and
    dc_t = dc_{t+1} * f_{t+1} + dh_t * o * (1 - tanh(c_t)**2):
        do = dh_t * tanh(c_t),  di = dc_t * g,  df = dc_t * c_{t-1},  dg = dc_t * i;
    through the nonlinearities, da = [di i(1-i), df f(1-f), do o(1-o), dg (1-g**2)]
    (N, 4H); then dWx = sum_t x_t.T da_t, dWh = sum_t h_{t-1}.T da_t,
    db = sum over steps and batch of da_t, dx_t = da_t Wx.T.
    """
    x, Wx, Wh, gates, c, h, return_sequences = cache
    H = Wh.shape[0]
    dh = _upstream(dout, h.shape, return_sequences)  # (N, T, H)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=Wx.dtype)
    dh_next = np.zeros_like(h[:, 0])  # (N, H)
    dc_next = np.zeros_like(h[:, 0])  # (N, H): dL/dc_t through c_{t+1}
    for t in reversed(range(x.shape[1])):
        i, f, o, g = (gates[:, t, k * H:(k + 1) * H] for k in range(4))
        c_prev = c[:, t - 1] if t > 0 else np.zeros_like(dh_next)
        h_prev = h[:, t - 1] if t > 0 else np.zeros_like(dh_next)
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
    return dx, dWx, dWh, db
