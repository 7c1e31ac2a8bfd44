"""One compiled call per epoch: the fused MLP training loop behind backend="numba".

A Sequential of Dense layers, each optionally followed by an activation, is
trained here entirely inside Numba: gather a shuffled mini-batch, forward
(fused matmul + bias + activation), loss and its gradient (fused), backward,
and the optimizer update in place, for every batch of the epoch. No Python
runs between batches, which is what makes small batches fast (the NumPy
reference pays the interpreter's overhead ~10 times per layer per batch).

The per-layer arrays travel as one ``codes.MLPArrays`` of tuples (net.W[l]
is layer l's W), built by ``nnlib.backends.numba_fused`` from the layers'
own arrays, so updates land in the layers. The contract (arguments and
return value) is the same as ``kernels.mlp_cuda.train_epoch``.
Numba compiles one version per network depth and caches it on disk.
Mathematically this is exactly the layer-by-layer loop in ``nnlib.model``,
which is the reference it is tested against.
"""
import numpy as np
from numba import njit

from nnlib.kernels.codes import CROSS_ENTROPY, MSE, OPT_SGD
from nnlib.kernels.cpu import (
    activation_backward,
    adam_update,
    binary_cross_entropy,
    dense_backward,
    dense_forward,
    mse,
    sgd_update,
    softmax_cross_entropy,
)


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
def gather_batch(X, y_int, y_float, rows, loss_code, xb, yb_int, yb_float):
    """A shuffled mini-batch: xb[i] = X[rows[i]] and its targets, yb_int (cross-entropy
    labels) or yb_float (mse, bce targets), each for i < len(rows)."""
    gather_rows(X, rows, xb)
    if loss_code == CROSS_ENTROPY:
        for i in range(rows.size):
            yb_int[i] = y_int[rows[i]]
    else:
        gather_rows(y_float, rows, yb_float)


@njit(cache=True)
def forward(net, A, m):
    """A[l+1][:m] = act_l(A[l][:m] @ W_l + b_l) for every layer; A[0][:m] is the input."""
    for l in range(len(net.W)):
        dense_forward(A[l][:m], net.W[l], net.b[l], net.act[l], A[l + 1][:m])


@njit(cache=True)
def loss_and_grad(out, y_int, y_float, loss_code, dout):
    """Mean loss of the output batch and dL/d(out) written into dout."""
    if loss_code == CROSS_ENTROPY:
        return softmax_cross_entropy(out, y_int, dout)
    if loss_code == MSE:
        return mse(out, y_float, dout)
    return binary_cross_entropy(out, y_float, dout)


@njit(cache=True)
def backward(net, A, D, m):
    """Backpropagation: D[n_layers][:m] holds dL/dA[n_layers]; fills net.dW, net.db (D is overwritten)."""
    for l in range(len(net.W) - 1, -1, -1):
        dz = D[l + 1][:m]
        activation_backward(dz, A[l + 1][:m], net.act[l], dz)  # dL/dz_l, in place
        dense_backward(dz, A[l][:m], net.W[l], D[l][:m], net.dW[l], net.db[l], l > 0)


@njit(cache=True)
def update(net, opt_code, hyper, t):
    """Optimizer step t on every parameter; hyper is a ``codes.Hyper``.

    SGD keeps its velocity in state1; Adam its first moment in state1, its
    second in state2. Weight decay is applied to W only, not to the biases.
    """
    for l in range(len(net.W)):
        W, b = net.W[l].reshape(net.W[l].size), net.b[l]  # flat views: the updates land in the layer
        dW = net.dW[l].reshape(W.size)
        s1W, s2W = net.state1_W[l].reshape(W.size), net.state2_W[l].reshape(W.size)
        if opt_code == OPT_SGD:
            sgd_update(W, dW, s1W, hyper.lr, hyper.momentum, hyper.weight_decay)
            sgd_update(b, net.db[l], net.state1_b[l], hyper.lr, hyper.momentum, 0.0)
        else:
            adam_update(W, dW, s1W, s2W, hyper.lr, hyper.beta1, hyper.beta2, hyper.eps, t,
                        hyper.weight_decay)
            adam_update(b, net.db[l], net.state1_b[l], net.state2_b[l], hyper.lr, hyper.beta1,
                        hyper.beta2, hyper.eps, t, 0.0)


@njit(cache=True)
def train_epoch(X, y_int, y_float, order, batch_size, net, A, D, loss_code, opt_code, hyper, t):
    """One epoch of mini-batch training over the rows of X in the given order.

    X: (N, n_in); y_int: (N,) labels (cross-entropy) or empty; y_float:
    (N, n_out) targets (mse, bce) or empty; order: (N,) row permutation;
    net: a ``codes.MLPArrays``; A[l], D[l]: (batch_size, width_l) activation
    and gradient buffers; hyper: a ``codes.Hyper``; t: the optimizer's step
    count so far. Returns (sum over batches of mean loss x batch size,
    number of correct argmax predictions (cross-entropy only), new t).
    """
    n = X.shape[0]
    n_layers = len(net.W)
    n_out = A[n_layers].shape[1]
    yb_int = np.empty(batch_size, dtype=np.int64)
    yb_float = np.empty((batch_size, n_out), dtype=X.dtype)
    loss_sum = 0.0
    correct = 0
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        rows = order[start:start + m]
        gather_batch(X, y_int, y_float, rows, loss_code, A[0], yb_int, yb_float)
        forward(net, A, m)
        out = A[n_layers][:m]
        if loss_code == CROSS_ENTROPY:
            for i in range(m):
                if np.argmax(out[i]) == yb_int[i]:
                    correct += 1
        loss_sum += m * loss_and_grad(out, yb_int[:m], yb_float[:m], loss_code, D[n_layers][:m])
        backward(net, A, D, m)
        t += 1
        update(net, opt_code, hyper, t)
    return loss_sum, correct, t


@njit(cache=True)
def predict(X, net, A, out):
    """out = the network's output for every row of X, batch by batch through A."""
    n = X.shape[0]
    batch_size = A[0].shape[0]
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        A[0][:m] = X[start:start + m]
        forward(net, A, m)
        out[start:start + m] = A[len(net.W)][:m]
