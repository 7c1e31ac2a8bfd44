"""One compiled call per epoch for stacks with BatchNorm and Dropout (notebook 06, depth).

The sibling of ``kernels.mlp_cpu`` for Dense / activation / BatchNorm /
Dropout stacks in any order that starts with Dense: gather a shuffled
mini-batch, forward through every stage, loss and its gradient, backward,
the optimizer update in place, for every batch of the epoch, with no Python
between batches. Each stage runs the same kernel as the layer-by-layer path
(``kernels.cpu``, ``kernels.norm_cpu``), so the two give the same numbers.

The network travels as a ``NormNet`` of flat arrays, not tuples of
per-layer arrays: every layer's parameters side by side in one vector
``theta`` (the order of ``Sequential.parameters()``), their gradients in
``grad``, the optimizer's state in ``state1``/``state2``, BatchNorm's
running statistics in ``stats``, and a ``plan`` (one row per stage) saying
what each stage is and where its arrays start. The argument types then do
not depend on the depth, so Numba compiles one version per dtype (the
Dropout generators come as a tuple padded to 4, 8, ... entries), not one per
architecture: a new depth never waits for the compiler.
``nnlib.backends.numba_fused_norm`` builds the plan and copies the layers'
arrays in and out.

Dropout draws its mask inside the loop from each Dropout layer's own NumPy
``Generator`` (Numba runs NumPy's algorithms on the generator's state): one
``random()`` per entry, row by row, kept when >= p, exactly what
``functional.dropout_mask`` draws in the layer-by-layer loop, so both paths
drop the same entries and leave the generators in the same state.
"""
from typing import NamedTuple

import numpy as np
from numba import njit

from nnlib.kernels.codes import CROSS_ENTROPY, IDENTITY, OPT_SGD
from nnlib.kernels.cpu import (
    activate,
    activation_backward,
    adam_update,
    dense_backward,
    dense_forward,
    sgd_update,
)
from nnlib.kernels.mlp_cpu import gather_batch, loss_and_grad
from nnlib.kernels.norm_cpu import (
    batchnorm_forward,
    batchnorm_rows_backward,
    batchnorm_rows_forward,
    multiply,
)

# What a stage computes (plan[s, KIND]); an activation after it is fused in (plan[s, ACT]).
DENSE, BATCHNORM, DROPOUT, ACTIVATION = 0, 1, 2, 3
# The columns of plan: kind, activation code, input and output width, where the stage's
# parameters start in theta, its running statistics in stats, its output in the work
# buffers (a column count: rows of the buffer are batch_size * width long), and which
# generator of ``rngs`` a Dropout stage draws from.
KIND, ACT, N_IN, N_OUT, PARAM, STAT, COL, RNG = range(8)
PLAN_COLUMNS = 8
# The columns of settings (float64): BatchNorm's momentum and eps, or Dropout's p and
# 1 / (1 - p) (rounded to the arrays' dtype, as the reference's mask holds it).
MOMENTUM, EPS = 0, 1
P, SCALE = 0, 1


class NormNet(NamedTuple):
    """The arrays of a fused Dense/BatchNorm/Dropout stack (flat, see the module docstring).

    plan (n_stages, PLAN_COLUMNS) int64; settings (n_stages, 2) float64;
    theta, grad, state1, state2 (n_params_total,); params (n_arrays, 3)
    int64: offset, size and 1 if weight decay applies, per parameter array;
    stats (2 * BatchNorm features,): running mean then variance per layer.
    """

    plan: np.ndarray
    settings: np.ndarray
    theta: np.ndarray
    grad: np.ndarray
    state1: np.ndarray
    state2: np.ndarray
    params: np.ndarray
    stats: np.ndarray


class NormWork(NamedTuple):
    """Work buffers for batches of up to ``batch_size`` rows (flat, laid out by plan[:, COL]).

    A: each stage's output (the input batch at column 0); D: dL/d(each
    output); aux: BatchNorm's x_hat or Dropout's mask; inv_std: BatchNorm's
    1 / sqrt(var + eps) per feature; scratch: (2, >= any width) float64, the
    per-feature sums of ``norm_cpu.batchnorm_rows_*``.
    """

    batch_size: int
    A: np.ndarray
    D: np.ndarray
    aux: np.ndarray
    inv_std: np.ndarray
    scratch: np.ndarray


@njit(cache=True)
def rows(flat, work, col, m, width):
    """The (m, width) block of a work buffer that starts at column ``col``: a C-contiguous view."""
    start = work.batch_size * col
    return flat[start:start + m * width].reshape((m, width))


@njit(cache=True)
def in_col(plan, s):
    """The column of stage s's input: the previous stage's output (the batch for s = 0)."""
    return plan[s - 1, COL] if s > 0 else 0


@njit(cache=True)
def draw_mask(rng, p, scale, mask):
    """mask = scale where rng.random() >= p, else 0; one draw per entry in row-major order."""
    flat = mask.reshape(mask.size)
    for i in range(flat.size):
        flat[i] = scale if rng.random() >= p else 0.0


@njit(cache=True)
def forward(net, rngs, work, m, training):
    """Every stage on the first m rows: work.A's input block -> the last stage's output.

    training: BatchNorm normalises by the batch and updates its running
    statistics, Dropout draws a mask; otherwise running statistics and no
    dropping.
    """
    plan, theta = net.plan, net.theta
    for s in range(plan.shape[0]):
        kind, n_in, n_out, p = plan[s, KIND], plan[s, N_IN], plan[s, N_OUT], plan[s, PARAM]
        x = rows(work.A, work, in_col(plan, s), m, n_in)
        out = rows(work.A, work, plan[s, COL], m, n_out)
        if kind == DENSE:
            W = theta[p:p + n_in * n_out].reshape((n_in, n_out))
            dense_forward(x, W, theta[p + n_in * n_out:p + n_in * n_out + n_out], plan[s, ACT], out)
            continue  # the activation is fused into dense_forward
        if kind == BATCHNORM:
            q, c = plan[s, STAT], plan[s, COL]
            gamma, beta = theta[p:p + n_out], theta[p + n_out:p + 2 * n_out]
            mean, var = net.stats[q:q + n_out], net.stats[q + n_out:q + 2 * n_out]
            x_hat, inv_std = rows(work.aux, work, c, m, n_out), work.inv_std[c:c + n_out]
            momentum, eps = net.settings[s, MOMENTUM], net.settings[s, EPS]
            if training:
                batchnorm_rows_forward(x, gamma, beta, mean, var, momentum, eps, out, x_hat,
                                       inv_std, work.scratch[0, :n_out], work.scratch[1, :n_out])
            else:
                batchnorm_forward(x.reshape((m, n_out, 1)), gamma, beta, mean, var, momentum, eps,
                                  False, out.reshape((m, n_out, 1)), x_hat.reshape((m, n_out, 1)),
                                  inv_std)
        elif kind == DROPOUT and training:
            mask = rows(work.aux, work, plan[s, COL], m, n_out)
            draw_mask(rngs[plan[s, RNG]], net.settings[s, P], net.settings[s, SCALE], mask)
            multiply(x, mask, out)
        else:  # an activation that follows a stage with one already, or Dropout in evaluation
            out[:] = x
        activate(out, plan[s, ACT])


@njit(cache=True)
def backward(net, work, m):
    """Given dL/d(last output) in work.D: every stage in reverse; fills net.grad."""
    plan, theta, grad = net.plan, net.theta, net.grad
    for s in range(plan.shape[0] - 1, -1, -1):
        kind, n_in, n_out, p = plan[s, KIND], plan[s, N_IN], plan[s, N_OUT], plan[s, PARAM]
        dz = rows(work.D, work, plan[s, COL], m, n_out)
        if plan[s, ACT] != IDENTITY:  # dL/d(before the activation), in place
            activation_backward(dz, rows(work.A, work, plan[s, COL], m, n_out), plan[s, ACT], dz)
        dx = rows(work.D, work, in_col(plan, s), m, n_in)
        if kind == DENSE:
            nW = n_in * n_out
            dense_backward(dz, rows(work.A, work, in_col(plan, s), m, n_in),
                           theta[p:p + nW].reshape((n_in, n_out)), dx,
                           grad[p:p + nW].reshape((n_in, n_out)), grad[p + nW:p + nW + n_out],
                           s > 0)  # no dx for the first Dense
        elif kind == BATCHNORM:
            c = plan[s, COL]
            batchnorm_rows_backward(dz, rows(work.aux, work, c, m, n_out), theta[p:p + n_out],
                                    work.inv_std[c:c + n_out], dx, grad[p:p + n_out],
                                    grad[p + n_out:p + 2 * n_out], work.scratch[0, :n_out],
                                    work.scratch[1, :n_out])
        elif kind == DROPOUT:
            multiply(dz, rows(work.aux, work, plan[s, COL], m, n_out), dx)
        else:
            dx[:] = dz


@njit(cache=True)
def update(net, opt_code, hyper, t):
    """Optimizer step t on every parameter array, weight decay where params[i, 2] says."""
    for i in range(net.params.shape[0]):
        o, n = net.params[i, 0], net.params[i, 1]
        wd = hyper.weight_decay if net.params[i, 2] else 0.0
        p, g, s1 = net.theta[o:o + n], net.grad[o:o + n], net.state1[o:o + n]
        if opt_code == OPT_SGD:
            sgd_update(p, g, s1, hyper.lr, hyper.momentum, wd)
        else:
            adam_update(p, g, s1, net.state2[o:o + n], hyper.lr, hyper.beta1, hyper.beta2,
                        hyper.eps, t, wd)


@njit(cache=True)
def train_epoch(X, y_int, y_float, order, net, rngs, work, loss_code, opt_code, hyper, t):
    """One epoch of mini-batches of work.batch_size rows, in the given order.

    X: (N, n_in); y_int: (N,) labels (cross-entropy) or empty; y_float:
    (N, n_out) targets (mse, bce) or empty; order: (N,) row permutation;
    net: a ``NormNet``; rngs: a tuple of the Dropout layers' Generators;
    work: a ``NormWork``; hyper: a ``codes.Hyper``; t: the optimizer's
    step count so far. Returns (sum over batches of mean loss x batch size,
    number of correct argmax predictions (cross-entropy only), new t), as
    ``mlp_cpu.train_epoch``.
    """
    n, batch_size = X.shape[0], work.batch_size
    last = net.plan.shape[0] - 1
    n_out, col = net.plan[last, N_OUT], net.plan[last, COL]
    yb_int = np.empty(batch_size, dtype=np.int64)
    yb_float = np.empty((batch_size, n_out), dtype=X.dtype)
    loss_sum = 0.0
    correct = 0
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        batch = order[start:start + m]
        gather_batch(X, y_int, y_float, batch, loss_code, rows(work.A, work, 0, m, X.shape[1]),
                     yb_int, yb_float)
        forward(net, rngs, work, m, True)
        out = rows(work.A, work, col, m, n_out)
        if loss_code == CROSS_ENTROPY:
            for i in range(m):
                if np.argmax(out[i]) == yb_int[i]:
                    correct += 1
        loss_sum += m * loss_and_grad(out, yb_int[:m], yb_float[:m], loss_code,
                                      rows(work.D, work, col, m, n_out))
        backward(net, work, m)
        t += 1
        update(net, opt_code, hyper, t)
    return loss_sum, correct, t


@njit(cache=True)
def predict(X, net, rngs, work, out):
    """out = the stack's output in evaluation mode for every row of X, batch by batch."""
    n = X.shape[0]
    last = net.plan.shape[0] - 1
    for start in range(0, n, work.batch_size):
        m = min(work.batch_size, n - start)
        rows(work.A, work, 0, m, X.shape[1])[:] = X[start:start + m]
        forward(net, rngs, work, m, False)
        out[start:start + m] = rows(work.A, work, net.plan[last, COL], m, net.plan[last, N_OUT])
