"""numba.cuda kernels: the GPU path behind ``backend="cuda"`` (notebook 07).

Each operation means the same as its NumPy reference in ``nnlib.functional``
and has the signature of its Numba CPU kernel in ``nnlib.kernels.cpu``: the
wrappers at the bottom of this file (``dense_forward(x, W, b, act, out)``,
``softmax_cross_entropy(logits, y, dlogits)``, ...) take *device* arrays
(``numba.cuda.to_device``, ``numba.cuda.device_array``), write into the
buffers the caller preallocated and launch one kernel each (two for
``dense_backward``). What is fused, and why:

- dense forward: ``out = act(x @ W + b)`` in one launch; the bias and the
  activation are the epilogue of the shared-memory tiled matmul;
- dense backward: ``dW = x.T @ dz`` and ``db = column sums of dz`` in one
  launch (the first row of blocks sums the dz tiles it already loaded);
  ``dx = (dz @ W.T) * act'(a)`` in another, with the previous layer's
  activation derivative as its epilogue;
- softmax + cross-entropy + its gradient in one launch, one thread per row;
- the SGD / Adam update of every parameter in one launch.

Matrix products use TILE x TILE blocks of threads, one output each; the
teaching ladder (naive, tiled, register-blocked) is ``nnlib.kernels.cuda_matmul``.
Activation and loss codes come from ``kernels.codes``, as the CPU kernels' do.
Without an NVIDIA GPU, set ``NUMBA_ENABLE_CUDASIM=1`` *before* Numba is
imported and these run in Numba's CUDA simulator: slow, for correctness only.
"""
import math

import numpy as np
from numba import cuda
from numba.cuda.core import config as cuda_config

from nnlib.kernels.codes import BCE, IDENTITY, MSE, RELU, SIGMOID, TANH

# Small grids are the normal case here (mini-batches, the simulator's tiny
# test sizes), so Numba's "low occupancy" performance warning would fire on
# almost every launch; it is a hint for beginners' kernels, not an error.
cuda_config.CUDA_LOW_OCCUPANCY_WARNINGS = 0

SIMULATOR = bool(cuda_config.ENABLE_CUDASIM)  # NUMBA_ENABLE_CUDASIM=1: no GPU, Python threads
# Threads per side of a matmul block: 16 x 16 = 256 on a GPU. The simulator
# runs every CUDA thread as a Python thread, so there 8 x 8 tiles keep the
# tests fast and let their small matrices span several tiles.
TILE = 8 if SIMULATOR else 16
TILE_PAD = TILE + 1  # shared tiles get one spare column (see load_tile)
THREADS = 256  # threads per block of the 1-D kernels


def blocks_for(n, per_block):
    """Number of blocks of ``per_block`` threads that cover n items (at least 1)."""
    return max(1, (n + per_block - 1) // per_block)


def launch_1d(n, grid_stride=False):
    """(grid, block) for n items: blocks of at most THREADS, a whole number of
    32-thread warps (so a 4-row batch gets 32 threads, not 256). With
    grid_stride the kernel loops, so the grid is capped at 1024 blocks."""
    block = min(THREADS, 32 * blocks_for(n, 32))
    grid = blocks_for(n, block)
    return (min(grid, 1024) if grid_stride else grid), block


def matmul_grid(n_rows, n_cols):
    """(grid, block) for a TILE x TILE launch over an (n_rows, n_cols) output."""
    return (blocks_for(n_cols, TILE), blocks_for(n_rows, TILE)), (TILE, TILE)


# --------------------------------------------------------------- device code
@cuda.jit(device=True, inline=True)
def activation(z, act):
    """a = act(z) for one number; sigmoid in the two-branch stable form."""
    if act == SIGMOID:
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
    if act == RELU:
        return z if z > 0 else 0.0
    if act == TANH:
        return math.tanh(z)
    return z


@cuda.jit(device=True, inline=True)
def activation_grad(a, act):
    """act'(z) written with the output a = act(z), as in ``cpu.activation_backward``."""
    if act == SIGMOID:
        return a * (1.0 - a)
    if act == RELU:
        return 1.0 if a > 0 else 0.0
    if act == TANH:
        return 1.0 - a * a
    return 1.0


@cuda.jit(device=True, inline=True)
def load_tile(M, trans, r0, c0, tile):
    """tile[i, j] = op(M)[r0 + i, c0 + j], zero outside; op(M) is M, or M.T if trans.

    Each thread (ty, tx) loads one element. For M.T the thread roles swap so
    that neighbouring threads (consecutive tx) still read neighbouring
    addresses of M: a coalesced load. The tile is padded to TILE + 1 columns
    so the transposed writes do not collide in the same shared-memory bank.
    """
    ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
    i, j = (tx, ty) if trans else (ty, tx)
    r, c = (c0 + j, r0 + i) if trans else (r0 + i, c0 + j)  # index into M itself
    tile[i, j] = 0
    if r < M.shape[0] and c < M.shape[1]:
        tile[i, j] = M[r, c]


@cuda.jit(device=True, inline=True)
def tile_dot(P, p_trans, Q, q_trans, want_colsum):
    """This thread's entry (row, col) of op(P) @ op(Q), one shared tile at a time.

    row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx. Returns
    (acc, colsum) with colsum = sum_k op(Q)[k, col] when want_colsum (0
    otherwise): the bias gradient comes for free from the loaded tiles.
    Every thread of the block must call this (it synchronises the block).
    """
    sP = cuda.shared.array((TILE, TILE_PAD), dtype=P.dtype)
    sQ = cuda.shared.array((TILE, TILE_PAD), dtype=Q.dtype)
    ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
    row0, col0 = cuda.blockIdx.y * TILE, cuda.blockIdx.x * TILE
    n_inner = P.shape[0] if p_trans else P.shape[1]
    acc = P.dtype.type(0)  # accumulate in the array's precision (float32 on GPUs)
    colsum = Q.dtype.type(0)
    for k0 in range(0, n_inner, TILE):
        load_tile(P, p_trans, row0, k0, sP)
        load_tile(Q, q_trans, k0, col0, sQ)
        cuda.syncthreads()  # the tiles are complete
        for k in range(TILE):
            acc += sP[ty, k] * sQ[k, tx]
        if want_colsum:
            for k in range(TILE):
                colsum += sQ[k, tx]
        cuda.syncthreads()  # everyone is done reading before the next load
    return acc, colsum


# ------------------------------------------------------------------ kernels
@cuda.jit(cache=True)
def activate_kernel(z, act):
    """z = act(z) in place; z: (batch, n). Grid-stride loop over the elements."""
    n_cols = z.shape[1]
    for e in range(cuda.grid(1), z.size, cuda.gridsize(1)):
        i, j = e // n_cols, e % n_cols
        z[i, j] = activation(z[i, j], act)


@cuda.jit(cache=True)
def activation_backward_kernel(dout, a, act, dz):
    """dz = dout * act'(z), from the output a; all (batch, n); dz may be dout."""
    n_cols = a.shape[1]
    for e in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        i, j = e // n_cols, e % n_cols
        dz[i, j] = dout[i, j] * activation_grad(a[i, j], act)


@cuda.jit(cache=True)
def dense_forward_kernel(x, W, b, act, out):
    """out = act(x @ W + b): tiled matmul with the bias and activation as epilogue.

    x: (batch, n_in), W: (n_in, n_out), b: (n_out,), out: (batch, n_out).
    """
    row = cuda.blockIdx.y * TILE + cuda.threadIdx.y
    col = cuda.blockIdx.x * TILE + cuda.threadIdx.x
    z, _ = tile_dot(x, False, W, False, False)
    if row < out.shape[0] and col < out.shape[1]:
        out[row, col] = activation(z + b[col], act)


@cuda.jit(cache=True)
def dense_grad_kernel(x, dz, dW, db):
    """dW = x.T @ dz (n_in, n_out) and db = column sums of dz (n_out,), one launch.

    The blocks of the first block row (blockIdx.y == 0) also sum the dz
    tiles they load anyway (threads with ty == 0), which gives db.
    """
    row = cuda.blockIdx.y * TILE + cuda.threadIdx.y
    col = cuda.blockIdx.x * TILE + cuda.threadIdx.x
    want_db = cuda.blockIdx.y == 0 and cuda.threadIdx.y == 0
    g, colsum = tile_dot(x, True, dz, False, want_db)
    if row < dW.shape[0] and col < dW.shape[1]:
        dW[row, col] = g
    if want_db and col < db.shape[0]:
        db[col] = colsum


@cuda.jit(cache=True)
def dense_dx_kernel(dz, W, a, act, dx):
    """dx = (dz @ W.T) * act'(a): the gradient that flows to the previous layer.

    With act = the previous layer's activation and a = its output, dx is
    already that layer's dz (backprop's delta recursion, fused). With
    act = IDENTITY this is the plain dL/dx (a is then ignored; pass dx).
    dz: (batch, n_out), W: (n_in, n_out), a and dx: (batch, n_in).
    """
    row = cuda.blockIdx.y * TILE + cuda.threadIdx.y
    col = cuda.blockIdx.x * TILE + cuda.threadIdx.x
    g, _ = tile_dot(dz, False, W, True, False)
    if row < dx.shape[0] and col < dx.shape[1]:
        dx[row, col] = g * activation_grad(a[row, col], act)


@cuda.jit(cache=True)
def softmax_ce_kernel(logits, y, order, start, dlogits, act, stats):
    """Fused softmax + cross-entropy + gradient, one thread per row i.

    The label of row i is y[order[start + i]] (the trainer's shuffled
    mini-batch; pass order = arange and start = 0 for plain use).
    dlogits = (softmax(logits) - onehot) / N * act'(logits) (act: the output
    layer's activation, usually IDENTITY). Adds sum_i loss_i to stats[0] and
    the number of rows whose argmax is the label to stats[1]. Max-shift for
    stability. logits, dlogits: (N, C); y: (n_samples,) int; stats: (2,) float64.
    """
    i = cuda.grid(1)
    n, c = logits.shape
    if i >= n:
        return
    label = y[order[start + i]]
    best = 0
    for k in range(1, c):
        if logits[i, k] > logits[i, best]:
            best = k
    mx = logits[i, best]
    s = 0.0
    for k in range(c):
        s += math.exp(logits[i, k] - mx)
    for k in range(c):
        p = math.exp(logits[i, k] - mx) / s
        onehot = 1.0 if k == label else 0.0
        dlogits[i, k] = (p - onehot) / n * activation_grad(logits[i, k], act)
    cuda.atomic.add(stats, 0, math.log(s) - (logits[i, label] - mx))
    if best == label:
        cuda.atomic.add(stats, 1, 1.0)


@cuda.jit(cache=True)
def regression_loss_kernel(y_hat, y, order, start, loss_code, eps, dy_hat, act, stats):
    """Fused mse or bce + gradient (+ act'), one thread per row i; targets y[order[start + i]].

    mse: sum (y_hat - y)^2, gradient 2 (y_hat - y) / size; bce: p clipped to
    [eps, 1 - eps], -(y log p + (1-y) log(1-p)), gradient (p - y) / (p (1-p)) / size.
    size = N * k. Adds sum_i (row loss / k) to stats[0]. y_hat, dy_hat: (N, k).
    """
    i = cuda.grid(1)
    n, k_out = y_hat.shape
    if i >= n:
        return
    r = order[start + i]
    size = n * k_out
    row_loss = 0.0
    for k in range(k_out):
        a, t = y_hat[i, k], y[r, k]
        if loss_code == MSE:
            d = a - t
            row_loss += d * d
            g = 2.0 * d / size
        else:
            q = min(max(a, eps), 1.0 - eps)
            row_loss -= t * math.log(q) + (1.0 - t) * math.log1p(-q)
            g = (q - t) / (q * (1.0 - q)) / size
        dy_hat[i, k] = g * activation_grad(a, act)
    cuda.atomic.add(stats, 0, row_loss / k_out)


@cuda.jit(cache=True)
def sgd_kernel(param, grad, velocity, lr, momentum, weight_decay, n_decay):
    """v = momentum v - lr (g + wd p); p += v, on 1-D arrays; wd only for i < n_decay."""
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        wd = weight_decay if i < n_decay else 0.0
        g = grad[i] + wd * param[i]
        velocity[i] = momentum * velocity[i] - lr * g
        param[i] += velocity[i]


@cuda.jit(cache=True)
def adam_kernel(param, grad, m, v, lr, beta1, beta2, eps, t, weight_decay, n_decay):
    """Adam step t (t >= 1) on 1-D arrays, bias-corrected as ``cpu.adam_update``; wd only for i < n_decay."""
    c1 = 1.0 - beta1 ** t
    c2 = 1.0 - beta2 ** t
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        wd = weight_decay if i < n_decay else 0.0
        g = grad[i] + wd * param[i]
        m[i] = beta1 * m[i] + (1.0 - beta1) * g
        v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
        param[i] -= lr * (m[i] / c1) / (math.sqrt(v[i] / c2) + eps)


# ------------------------------------------ wrappers with the cpu signatures
def activate(z, act):
    """In place a = act(z); z: (batch, n) device array."""
    if act != IDENTITY:
        activate_kernel[launch_1d(z.size, grid_stride=True)](z, act)


def activation_backward(dout, a, act, dz):
    """dz = dout * act'(z) from the output a; (batch, n) device arrays."""
    activation_backward_kernel[launch_1d(a.size, grid_stride=True)](dout, a, act, dz)


def dense_forward(x, W, b, act, out):
    """Fused out = act(x @ W + b), one launch. Shapes as ``cpu.dense_forward``."""
    grid, block = matmul_grid(out.shape[0], out.shape[1])
    dense_forward_kernel[grid, block](x, W, b, act, out)


def dense_backward(dz, x, W, dx, dW, db, need_dx):
    """dW = x.T @ dz and db (one launch); dx = dz @ W.T if need_dx (another)."""
    grid, block = matmul_grid(dW.shape[0], dW.shape[1])
    dense_grad_kernel[grid, block](x, dz, dW, db)
    if need_dx:
        grid, block = matmul_grid(dx.shape[0], dx.shape[1])
        dense_dx_kernel[grid, block](dz, W, dx, IDENTITY, dx)


def _run_loss(kernel, y_hat, args, n):
    stats = cuda.to_device(np.zeros(2))
    order = cuda.to_device(np.arange(n, dtype=np.int64))
    kernel[launch_1d(n)](y_hat, args[0], order, 0, *args[1:], stats)
    return float(stats.copy_to_host()[0]) / n


def softmax_cross_entropy(logits, y, dlogits):
    """Mean softmax cross-entropy of (N, C) logits vs (N,) int labels; writes dlogits."""
    return _run_loss(softmax_ce_kernel, logits, (y, dlogits, IDENTITY), logits.shape[0])


def mse(y_hat, y, dy_hat):
    """L = mean((y_hat - y)**2); writes dy_hat. Arrays (N, k)."""
    return _run_loss(regression_loss_kernel, y_hat, (y, MSE, 0.0, dy_hat, IDENTITY), y_hat.shape[0])


def binary_cross_entropy(p, y, dp):
    """Mean log-loss with p clipped to [eps, 1 - eps] (eps of p's dtype); writes dp."""
    eps = float(np.finfo(p.dtype).eps)
    return _run_loss(regression_loss_kernel, p, (y, BCE, eps, dp, IDENTITY), p.shape[0])


def sgd_update(param, grad, velocity, lr, momentum, weight_decay):
    """In place SGD (momentum) step on 1-D device arrays; as ``cpu.sgd_update``."""
    sgd_kernel[launch_1d(param.size, grid_stride=True)](param, grad, velocity, lr, momentum,
                                                        weight_decay, param.size)


def adam_update(param, grad, m, v, lr, beta1, beta2, eps, t, weight_decay):
    """In place Adam step t on 1-D device arrays; as ``cpu.adam_update``."""
    adam_kernel[launch_1d(param.size, grid_stride=True)](param, grad, m, v, lr, beta1, beta2, eps, t,
                                        weight_decay, param.size)
