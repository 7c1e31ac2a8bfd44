"""Device-resident mini-batch training of an MLP: the loop behind backend="cuda".

The GPU twin of ``kernels.mlp_cpu``, step for step: gather the shuffled
mini-batch, forward (fused matmul + bias + activation per layer), fused
loss + gradient, backward (dW and db in one launch per layer; dx fused with
the previous layer's activation derivative), and one optimizer launch for
all parameters. Everything lives on the device; the host only launches.

Launches per step for L layers: 1 gather + L forward + 1 loss + L grad +
(L - 1) dx + 1 update = 3L + 2 (8 for 784-128-10), each with few arguments:
on a GPU a launch from Python costs tens of microseconds, so at batch 128
the launch count, not the arithmetic, sets the speed.

Arrays: ``Ws[l]`` (n_l, n_{l+1}), ``bs[l]`` (n_{l+1},) and their gradients
are views into flat device vectors (weights first, then biases) so the
optimizer is one launch over one vector. ``A[l]`` and ``D[l]`` are
(batch, n_l) buffers: layer outputs and dL/dz.
"""
import numpy as np
from numba import cuda

from nnlib.kernels import cuda as K
from nnlib.kernels.cpu import CROSS_ENTROPY

SGD, ADAM = 0, 1  # optimizer codes, as in mlp_cpu


@cuda.jit(cache=True)
def gather_rows_kernel(X, order, start, xb):
    """xb[i, :] = X[order[start + i], :] for the rows of xb: the mini-batch."""
    n_cols = xb.shape[1]
    for e in range(cuda.grid(1), xb.size, cuda.gridsize(1)):
        i, j = e // n_cols, e % n_cols
        xb[i, j] = X[order[start + i], j]


def forward(Ws, bs, acts, A):
    """A[l+1] = act_l(A[l] @ W_l + b_l) for every layer; A[0] holds the input."""
    for l in range(len(Ws)):
        K.dense_forward(A[l], Ws[l], bs[l], acts[l], A[l + 1])


def loss_and_grad(out, Y, order, start, loss_code, out_act, dz, stats):
    """dz = dL/dz of the output layer (loss gradient times out_act'), one launch.

    Adds the batch's summed per-row loss to stats[0] and, for cross-entropy,
    the number of correct argmax predictions to stats[1].
    """
    grid = K.launch_1d(out.shape[0])
    if loss_code == CROSS_ENTROPY:
        K.softmax_ce_kernel[grid](out, Y, order, start, dz, out_act, stats)
    else:
        eps = float(np.finfo(out.dtype).eps)
        K.regression_loss_kernel[grid](out, Y, order, start, loss_code, eps,
                                                  dz, out_act, stats)


def backward(Ws, acts, A, D, dWs, dbs):
    """Backpropagation from D[L] = dL/dz_L: fills dWs, dbs and D[l] = dL/dz_l for l >= 1."""
    for l in range(len(Ws) - 1, -1, -1):
        grid, block = K.matmul_grid(*dWs[l].shape)
        K.dense_grad_kernel[grid, block](A[l], D[l + 1], dWs[l], dbs[l])
        if l > 0:  # dL/dz of the layer below = (D[l+1] @ W_l.T) * act_{l-1}'(A[l])
            grid, block = K.matmul_grid(*D[l].shape)
            K.dense_dx_kernel[grid, block](D[l + 1], Ws[l], A[l], acts[l - 1], D[l])


def update(theta, grad, S1, S2, n_weights, opt_code, hyper, t):
    """One launch updates every parameter. hyper: floats (lr, momentum|beta1, beta2, eps, weight_decay).

    Weight decay applies to theta[:n_weights] (the weights), not to the biases.
    """
    lr, h1, h2, eps, wd = hyper
    grid = K.launch_1d(theta.size, grid_stride=True)
    if opt_code == SGD:
        K.sgd_kernel[grid](theta, grad, S1, lr, h1, wd, n_weights)
    else:
        K.adam_kernel[grid](theta, grad, S1, S2, lr, h1, h2, eps, t, wd, n_weights)


def train_step(X, Y, order, start, net, A, D, loss_code, opt_code, hyper, t, stats):
    """One mini-batch step on the rows order[start : start + len(A[0])] of X."""
    Ws, bs, dWs, dbs, acts = net["W"], net["b"], net["dW"], net["db"], net["acts"]
    xb = A[0]
    grid = K.launch_1d(xb.size, grid_stride=True)
    gather_rows_kernel[grid](X, order, start, xb)
    forward(Ws, bs, acts, A)
    loss_and_grad(A[-1], Y, order, start, loss_code, acts[-1], D[-1], stats)
    backward(Ws, acts, A, D, dWs, dbs)
    update(net["theta"], net["grad"], net["S1"], net["S2"], net["n_weights"], opt_code, hyper, t)


def train_epoch(X, Y, order, batch_size, net, buffers, loss_code, opt_code, hyper, t, stats):
    """One epoch over the rows of X (device arrays) in the given order; returns the step count t.

    buffers(m) gives the (A, D) lists of views for a batch of m rows (the
    last batch may be smaller). stats (2,) accumulates the summed loss and
    the correct count; nothing is copied back to the host here.
    """
    n = X.shape[0]
    for start in range(0, n, batch_size):
        A, D = buffers(min(batch_size, n - start))
        t += 1
        train_step(X, Y, order, start, net, A, D, loss_code, opt_code, hyper, t, stats)
    return t


def predict(X, net, A, out):
    """out = the network's output for every row of the device array X.

    Runs in batches of len(A[1]) rows; A[1:-1] are the hidden-layer buffers.
    """
    n, batch_size = X.shape[0], A[1].shape[0]
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        views = [X[start:start + m]] + [a[:m] for a in A[1:-1]] + [out[start:start + m]]
        forward(net["W"], net["b"], net["acts"], views)
