"""What a sequence model needs around its recurrent layer (notebook 09, recurrence).

- ``one_hot``: integer symbols (N, T) -> one-hot vectors (N, T, V), the
  input of a character-level model;
- ``time_dense_forward`` / ``time_dense_backward``: the same Dense layer
  applied at every time step, (N, T, D) -> (N, T, n_out) (Keras calls this
  ``TimeDistributed(Dense)``; PyTorch's ``nn.Linear`` does it for any
  leading dimensions);
The loss, softmax cross-entropy at every step, is
``losses.sequence_cross_entropy``.
"""
import numpy as np



def one_hot(ids, n_symbols, dtype=np.float64):
    """ids (...,) ints in 0..n_symbols-1 -> (..., n_symbols) with a 1 at each id."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise ValueError(f"ids must be integers (symbol numbers), got dtype {ids.dtype}.")
    if ids.size and (ids.min() < 0 or ids.max() >= n_symbols):
        raise ValueError(
            f"ids must be in 0..{n_symbols - 1} for n_symbols={n_symbols}; got values in "
            f"[{ids.min()}, {ids.max()}].")
    out = np.zeros(ids.shape + (n_symbols,), dtype=dtype)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)  # (..., n_symbols)
    return out


def time_dense_forward(x, W, b):
    """z_t = x_t W + b at every step: x (N, T, D), W (D, n_out), b (n_out,) -> (N, T, n_out).

    One matrix product for all N * T rows: the steps share W as they share
    the recurrent weights.
    """
    N, T, D = x.shape
    z = x.reshape(N * T, D) @ W + b  # (N*T, n_out)
    return z.reshape(N, T, W.shape[1]), (x, W)


def time_dense_backward(dz, cache):
    """(dx, dW, db): dW = sum over steps and batch of x_t.T dz_t, db likewise, dx_t = dz_t W.T."""
    x, W = cache
    N, T, D = x.shape
    dz2 = dz.reshape(N * T, W.shape[1])  # (N*T, n_out)
    dx = (dz2 @ W.T).reshape(N, T, D)
    return dx, x.reshape(N * T, D).T @ dz2, dz2.sum(axis=0)
