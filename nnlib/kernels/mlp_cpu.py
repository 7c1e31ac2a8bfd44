"""One compiled call per epoch: the fused MLP training loop behind backend="numba".

A Sequential of Dense layers, each optionally followed by an activation, is
trained here entirely inside Numba: gather a shuffled mini-batch, forward
(fused matmul + bias + activation), loss and its gradient (fused), backward,
and the optimizer update in place, for every batch of the epoch. No Python
runs between batches, which is what makes small batches fast (the NumPy
reference pays the interpreter's overhead ~10 times per layer per batch).

The per-layer arrays travel as tuples (Ws[l] is layer l's W), built by
``nnlib.fused`` from the layers' own arrays, so updates land in the layers.
Numba compiles one version per network depth and caches it on disk.
Mathematically this is exactly the layer-by-layer loop in ``nnlib.model``,
which is the reference it is tested against.
"""
import numpy as np
from numba import njit

from nnlib.kernels.cpu import (
    BCE,
    CROSS_ENTROPY,
    MSE,
    activation_backward,
    adam_update,
    binary_cross_entropy,
    dense_backward,
    dense_forward,
    mse,
    sgd_update,
    softmax_cross_entropy,
)

SGD, ADAM = 0, 1


@njit(cache=True)
def gather_rows(X, rows, out):
    """out[i] = X[rows[i]] for i < len(rows): the rows of a shuffled mini-batch.

    X: (N, k), rows: (m,) row indices, out: (>= m, k). Written as a loop over
    1-D row views, which Numba compiles to a vectorised copy: about 3x faster
    than the 2-D slice assignment out[i, :] = X[r, :] (measured on MNIST rows).
    """
    for i in range(rows.size):
        src = X[rows[i]]
        dst = out[i]
        for k in range(src.size):
            dst[k] = src[k]


@njit(cache=True)
def forward(Ws, bs, acts, A, m):
    """A[l+1][:m] = act_l(A[l][:m] @ W_l + b_l) for every layer; A[0][:m] is the input."""
    for l in range(len(Ws)):
        dense_forward(A[l][:m], Ws[l], bs[l], acts[l], A[l + 1][:m])


@njit(cache=True)
def loss_and_grad(out, y_int, y_float, loss_code, dout):
    """Mean loss of the output batch and dL/d(out) written into dout."""
    if loss_code == CROSS_ENTROPY:
        return softmax_cross_entropy(out, y_int, dout)
    if loss_code == MSE:
        return mse(out, y_float, dout)
    return binary_cross_entropy(out, y_float, dout)


@njit(cache=True)
def backward(Ws, acts, A, D, dWs, dbs, m):
    """Backpropagation: D[L][:m] holds dL/dA[L]; fills dWs, dbs (D is overwritten)."""
    for l in range(len(Ws) - 1, -1, -1):
        dz = D[l + 1][:m]
        activation_backward(dz, A[l + 1][:m], acts[l], dz)  # dL/dz_l, in place
        dense_backward(dz, A[l][:m], Ws[l], D[l][:m], dWs[l], dbs[l], l > 0)


@njit(cache=True)
def update(Ws, bs, dWs, dbs, S1W, S1b, S2W, S2b, opt_code, hyper, t):
    """Optimizer step on every parameter. hyper = (lr, momentum|beta1, beta2, eps, weight_decay).

    SGD keeps its velocity in S1; Adam its first moment in S1, second in S2.
    Weight decay is applied to W only, not to the biases.
    """
    lr, h1, h2, eps, wd = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4]
    for l in range(len(Ws)):
        W, b = Ws[l].reshape(Ws[l].size), bs[l]
        dW = dWs[l].reshape(dWs[l].size)
        if opt_code == SGD:
            sgd_update(W, dW, S1W[l].reshape(W.size), lr, h1, wd)
            sgd_update(b, dbs[l], S1b[l], lr, h1, 0.0)
        else:
            adam_update(W, dW, S1W[l].reshape(W.size), S2W[l].reshape(W.size),
                        lr, h1, h2, eps, t, wd)
            adam_update(b, dbs[l], S1b[l], S2b[l], lr, h1, h2, eps, t, 0.0)


@njit(cache=True)
def train_epoch(X, y_int, y_float, order, batch_size, Ws, bs, acts, A, D,
                dWs, dbs, S1W, S1b, S2W, S2b, loss_code, opt_code, hyper, t):
    """One epoch of mini-batch training over the rows of X in the given order.

    X: (N, n_in); y_int: (N,) labels (cross-entropy) or empty; y_float:
    (N, n_out) targets (mse, bce) or empty; order: (N,) row permutation.
    A[l], D[l]: (batch_size, width_l) activation and gradient buffers.
    Returns (sum of per-batch mean loss x batch size, number of correct
    argmax predictions (cross-entropy only), optimizer step count t).
    """
    n = X.shape[0]
    L = len(Ws)
    n_out = A[L].shape[1]
    yb_int = np.empty(batch_size, dtype=np.int64)
    yb_float = np.empty((batch_size, n_out), dtype=X.dtype)
    loss_sum = 0.0
    correct = 0
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        rows = order[start:start + m]
        gather_rows(X, rows, A[0])
        if loss_code == CROSS_ENTROPY:
            for i in range(m):
                yb_int[i] = y_int[rows[i]]
        else:
            gather_rows(y_float, rows, yb_float)
        forward(Ws, bs, acts, A, m)
        out = A[L][:m]
        if loss_code == CROSS_ENTROPY:
            for i in range(m):
                if np.argmax(out[i]) == yb_int[i]:
                    correct += 1
        loss_sum += m * loss_and_grad(out, yb_int[:m], yb_float[:m], loss_code, D[L][:m])
        backward(Ws, acts, A, D, dWs, dbs, m)
        t += 1
        update(Ws, bs, dWs, dbs, S1W, S1b, S2W, S2b, opt_code, hyper, t)
    return loss_sum, correct, t


@njit(cache=True)
def predict(X, Ws, bs, acts, A, out):
    """out = the network's output for every row of X, batch by batch through A."""
    n = X.shape[0]
    batch_size = A[0].shape[0]
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        A[0][:m] = X[start:start + m]
        forward(Ws, bs, acts, A, m)
        out[start:start + m] = A[len(Ws)][:m]
