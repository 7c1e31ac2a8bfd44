"""Device-resident mini-batch training of an MLP: the loop behind backend="cuda".

The GPU twin of ``kernels.mlp_cpu``, step for step: gather the shuffled
mini-batch, forward (fused matmul + bias + activation per layer), fused
loss + gradient, backward (dW and db in one launch per layer; dx fused with
the previous layer's activation derivative), and one optimizer launch for
all parameters. Everything lives on the device; the host only launches.

Launches per step for n_layers layers: 1 gather + n_layers forward + 1 loss +
n_layers grad + (n_layers - 1) dx + 1 update = 3 n_layers + 2 (8 for 784-128-10),
each with few arguments:
on a GPU a launch from Python costs tens of microseconds, so at batch 128
the launch count, not the arithmetic, sets the speed.

The contract is that of ``kernels.mlp_cpu.train_epoch`` (same arguments,
same return value), on device arrays. ``net`` is a ``FlatMLP``: the
``codes.MLPArrays`` fields W[l] (n_l, n_{l+1}), b[l] (n_{l+1},) and their
gradients are views into flat device vectors (every W, then every b), so
the optimizer is one launch over one vector. ``A[l]`` and ``D[l]`` are
(batch, n_l) buffers: layer outputs and dL/dz (D[0] unused).
"""
from typing import NamedTuple

import numpy as np
from numba import cuda

from nnlib.kernels import cuda as cuda_kernels
from nnlib.kernels.codes import CROSS_ENTROPY, OPT_SGD


class FlatMLP(NamedTuple):
    """The device arrays of a fused MLP: per-layer views W, b, dW, db, the
    activation codes act, and the flat vectors they view.

    theta = every W then every b; grad likewise; state1 and state2 are the
    optimizer's two slots (see ``codes.MLPArrays``); weight decay applies to
    theta[:n_weights], the weights, never to the biases.
    """

    W: list
    b: list
    dW: list
    db: list
    act: list
    theta: object
    grad: object
    state1: object
    state2: object
    n_weights: int


@cuda.jit(cache=True)
def gather_rows_kernel(X, order, start, xb):
    """xb[i, :] = X[order[start + i], :] for the rows of xb: the mini-batch."""
    n_cols = xb.shape[1]
    for e in range(cuda.grid(1), xb.size, cuda.gridsize(1)):
        i, j = e // n_cols, e % n_cols
        xb[i, j] = X[order[start + i], j]


def forward(net, A):
    """A[l+1] = act_l(A[l] @ W_l + b_l) for every layer; A[0] holds the input."""
    for l in range(len(net.W)):
        cuda_kernels.dense_forward(A[l], net.W[l], net.b[l], net.act[l], A[l + 1])


def loss_and_grad(out, Y, order, start, loss_code, out_act, dz, stats):
    """dz = dL/dz of the output layer (loss gradient times out_act'), one launch.

    Adds the batch's summed per-row loss to stats[0] and, for cross-entropy,
    the number of correct argmax predictions to stats[1].
    """
    grid = cuda_kernels.launch_1d(out.shape[0])
    if loss_code == CROSS_ENTROPY:
        cuda_kernels.softmax_ce_kernel[grid](out, Y, order, start, dz, out_act, stats)
    else:
        eps = float(np.finfo(out.dtype).eps)
        cuda_kernels.regression_loss_kernel[grid](out, Y, order, start, loss_code, eps,
                                                  dz, out_act, stats)


def backward(net, A, D):
    """Backpropagation from D[n_layers] = dL/dz: fills net.dW, net.db and D[l] = dL/dz_l for l >= 1."""
    for l in range(len(net.W) - 1, -1, -1):
        grid, block = cuda_kernels.matmul_grid(*net.dW[l].shape)
        cuda_kernels.dense_grad_kernel[grid, block](A[l], D[l + 1], net.dW[l], net.db[l])
        if l > 0:  # dL/dz of the layer below = (D[l+1] @ W_l.T) * act_{l-1}'(A[l])
            grid, block = cuda_kernels.matmul_grid(*D[l].shape)
            cuda_kernels.dense_dx_kernel[grid, block](D[l + 1], net.W[l], A[l], net.act[l - 1], D[l])


def update(net, opt_code, hyper, t):
    """One launch updates every parameter; hyper is a ``codes.Hyper``.

    Weight decay applies to theta[:n_weights] (the weights), not to the biases.
    """
    grid = cuda_kernels.launch_1d(net.theta.size, grid_stride=True)
    if opt_code == OPT_SGD:
        cuda_kernels.sgd_kernel[grid](net.theta, net.grad, net.state1, hyper.lr, hyper.momentum,
                                      hyper.weight_decay, net.n_weights)
    else:
        cuda_kernels.adam_kernel[grid](net.theta, net.grad, net.state1, net.state2, hyper.lr,
                                       hyper.beta1, hyper.beta2, hyper.eps, t,
                                       hyper.weight_decay, net.n_weights)


def train_step(X, Y, order, start, net, A, D, loss_code, opt_code, hyper, t, stats):
    """One mini-batch step on the rows order[start : start + len(A[0])] of X."""
    xb = A[0]
    gather_rows_kernel[cuda_kernels.launch_1d(xb.size, grid_stride=True)](X, order, start, xb)
    forward(net, A)
    loss_and_grad(A[-1], Y, order, start, loss_code, net.act[-1], D[-1], stats)
    backward(net, A, D)
    update(net, opt_code, hyper, t)


def batch_views(A, D, m, cache):
    """(A, D) cut to the first m rows (the last batch may be smaller); made once per m."""
    if m not in cache:
        cache[m] = ([a[:m] for a in A], [None] + [d[:m] for d in D[1:]])
    return cache[m]


def train_epoch(X, y_int, y_float, order, batch_size, net, A, D, loss_code, opt_code, hyper, t):
    """One epoch over the rows of X in the given order; returns (loss sum, correct count, t).

    As ``kernels.mlp_cpu.train_epoch``, on device arrays (X, y_int or
    y_float, order, net, A, D). The summed loss and correct count are
    accumulated on the device and copied back once, at the end.
    """
    n = X.shape[0]
    Y = y_int if loss_code == CROSS_ENTROPY else y_float
    stats = cuda.to_device(np.zeros(2))
    views = {}
    for start in range(0, n, batch_size):
        A_m, D_m = batch_views(A, D, min(batch_size, n - start), views)
        t += 1
        train_step(X, Y, order, start, net, A_m, D_m, loss_code, opt_code, hyper, t, stats)
    loss_sum, correct = stats.copy_to_host()
    return float(loss_sum), int(round(correct)), t


def predict(X, net, A, out):
    """out = the network's output for every row of the device array X, batch by batch through A."""
    n, batch_size = X.shape[0], A[1].shape[0]
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        views = [X[start:start + m]] + [a[:m] for a in A[1:-1]] + [out[start:start + m]]
        forward(net, views)
