"""numba.cuda kernels for batch normalisation and dropout (notebook 06, depth).

Same maths and layout as ``nnlib.kernels.norm_cpu``: x is (N, C, S)
(S = 1 for (N, D) features, H * W for NCHW images). The statistics of a
channel are sums over its M = N * S values, so each is computed by one
block of threads (one block per channel): every thread sums a strided share,
then the block adds the partial sums in shared memory (a tree reduction,
halving the active threads each round). The elementwise steps (normalise,
the dx formula, dropout's x * mask) are grid-stride loops, one thread per
entry. Sums are accumulated in float64, as the CPU kernels do. The wrappers
at the bottom take device arrays (``nnlib.backends.cuda_norm`` moves the
host arrays).
"""
from numba import cuda, float64

from nnlib.kernels.cuda import SIMULATOR, launch_1d

# Threads per channel block: a power of two (the tree halves it). The
# simulator runs each thread as a Python thread, so it gets a small block.
REDUCE_THREADS = 32 if SIMULATOR else 256


@cuda.jit(device=True, inline=True)
def block_sum(value, partial):
    """The sum of ``value`` over the block's threads, returned to every thread.

    partial: a shared float64 array of REDUCE_THREADS entries. Every thread
    of the block must call this (it synchronises the block).
    """
    t = cuda.threadIdx.x
    partial[t] = value
    cuda.syncthreads()
    step = REDUCE_THREADS // 2
    while step > 0:
        if t < step:
            partial[t] += partial[t + step]
        cuda.syncthreads()
        step //= 2
    total = partial[0]
    cuda.syncthreads()  # all have read partial[0] before it is reused
    return total


@cuda.jit(cache=True)
def batchnorm_stats_kernel(x, running_mean, running_var, momentum, eps, training, mu, inv_std):
    """Block k: channel k's mu and inv_std = 1 / sqrt(var + eps); updates the running stats.

    training: batch mean and biased variance (two passes), running
    statistics updated with the unbiased variance; else the running ones.
    """
    partial = cuda.shared.array(REDUCE_THREADS, dtype=float64)
    k = cuda.blockIdx.x
    n, s = x.shape[0], x.shape[2]
    m = n * s
    if training:
        acc = 0.0
        for e in range(cuda.threadIdx.x, m, REDUCE_THREADS):
            acc += x[e // s, k, e % s]
        mean = block_sum(acc, partial) / m
        acc = 0.0
        for e in range(cuda.threadIdx.x, m, REDUCE_THREADS):
            d = x[e // s, k, e % s] - mean
            acc += d * d
        sq = block_sum(acc, partial)
        var = sq / m
        if cuda.threadIdx.x == 0:
            running_mean[k] = (1.0 - momentum) * running_mean[k] + momentum * mean
            running_var[k] = (1.0 - momentum) * running_var[k] + momentum * sq / (m - 1)
    else:
        mean = float64(running_mean[k])
        var = float64(running_var[k])
    if cuda.threadIdx.x == 0:
        mu[k] = mean
        inv_std[k] = 1.0 / (var + eps) ** 0.5


@cuda.jit(cache=True)
def batchnorm_apply_kernel(x, gamma, beta, mu, inv_std, out, x_hat):
    """x_hat = (x - mu) * inv_std, out = gamma * x_hat + beta, one thread per entry (N, C, S)."""
    c, s = x.shape[1], x.shape[2]
    for e in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        i, k, j = e // (c * s), (e // s) % c, e % s
        xh = (x[i, k, j] - mu[k]) * inv_std[k]
        x_hat[i, k, j] = xh
        out[i, k, j] = gamma[k] * xh + beta[k]


@cuda.jit(cache=True)
def batchnorm_grad_kernel(dout, x_hat, dgamma, dbeta):
    """Block k: dbeta[k] = sum of dout, dgamma[k] = sum of dout * x_hat over channel k."""
    partial = cuda.shared.array(REDUCE_THREADS, dtype=float64)
    k = cuda.blockIdx.x
    s = dout.shape[2]
    sb = 0.0
    sg = 0.0
    for e in range(cuda.threadIdx.x, dout.shape[0] * s, REDUCE_THREADS):
        d = dout[e // s, k, e % s]
        sb += d
        sg += d * x_hat[e // s, k, e % s]
    sb = block_sum(sb, partial)
    sg = block_sum(sg, partial)
    if cuda.threadIdx.x == 0:
        dbeta[k] = sb
        dgamma[k] = sg


@cuda.jit(cache=True)
def batchnorm_dx_kernel(dout, x_hat, gamma, inv_std, dgamma, dbeta, training, dx):
    """dx = gamma inv_std / M (M dout - dbeta - x_hat dgamma) (training), else gamma inv_std dout."""
    n, c, s = dout.shape
    m = n * s
    for e in range(cuda.grid(1), dout.size, cuda.gridsize(1)):
        i, k, j = e // (c * s), (e // s) % c, e % s
        scale = gamma[k] * inv_std[k]
        if training:
            dx[i, k, j] = scale / m * (m * dout[i, k, j] - dbeta[k] - x_hat[i, k, j] * dgamma[k])
        else:
            dx[i, k, j] = scale * dout[i, k, j]


@cuda.jit(cache=True)
def multiply_kernel(a, mask, out):
    """out = a * mask on 1-D arrays: dropout's forward (a = x) and backward (a = dout)."""
    for e in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[e] = a[e] * mask[e]


# ------------------------------------- wrappers with the norm_cpu signatures
def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training,
                      out, x_hat, inv_std):
    """As ``norm_cpu.batchnorm_forward``, on device arrays: two launches."""
    mu = cuda.device_array_like(inv_std)
    batchnorm_stats_kernel[x.shape[1], REDUCE_THREADS](x, running_mean, running_var, momentum,
                                                       eps, training, mu, inv_std)
    batchnorm_apply_kernel[launch_1d(x.size, grid_stride=True)](x, gamma, beta, mu, inv_std,
                                                                out, x_hat)


def batchnorm_backward(dout, x_hat, gamma, inv_std, training, dx, dgamma, dbeta):
    """As ``norm_cpu.batchnorm_backward``, on device arrays: two launches."""
    batchnorm_grad_kernel[dout.shape[1], REDUCE_THREADS](dout, x_hat, dgamma, dbeta)
    batchnorm_dx_kernel[launch_1d(dout.size, grid_stride=True)](dout, x_hat, gamma, inv_std,
                                                                dgamma, dbeta, training, dx)


def multiply(a, mask, out):
    """out = a * mask, 1-D device arrays of one size."""
    multiply_kernel[launch_1d(out.size, grid_stride=True)](a, mask, out)
