"""Checks for chapter 7, speedups (``solutions/07_speedups.ipynb``).

7.1 ``build_relu_kernel() -> kernel``: a numba.cuda kernel ``relu_kernel(z, a)``
    with a[i] = max(z[i], 0), one thread per element, launched as
    ``relu_kernel[blocks, threads](z, a)`` with blocks * threads >= len(z).
7.2 ``build_tiled_matmul(tile) -> kernel``: ``matmul_kernel(A, B, C)`` computing
    C = A @ B with tile x tile shared-memory tiles; launched with blocks of
    (tile, tile) threads, thread (ty, tx) of block (by, bx) owning
    C[by * tile + ty, bx * tile + tx].
7.3 ``speedup(times_before, times_after, n_workers) -> (speedup, efficiency)``
    from repeated timings: best (minimum) before / best after, and that
    speedup divided by the number of workers.

The kernels are built by a function so that the exercise notebook, where
that function only raises NotImplementedError, still runs: a ``raise``
inside a CUDA kernel is not reported on a real GPU. The checks launch the
kernels themselves, in the CUDA simulator when there is no GPU.
"""
import inspect
import re

import numpy as np
from numba import cuda

from nncourse.checks import CheckFailed, call, exercise, expect_scalar, expect_tuple, rng, show

SENTINEL = -12345.0  # marks memory a kernel must not touch


# ------------------------------------------------------------------ 7.1
def launch_relu(kernel, z, threads):
    """Run relu_kernel on z with `threads` per block and just enough blocks.

    Returns (a, spill): a is the output (NaN where never written), spill the
    values just past the end of a, which a correct kernel leaves alone.
    """
    n, pad = z.size, 8
    blocks = (n + threads - 1) // threads
    a_full = np.concatenate([np.full(n, np.nan), np.full(pad, SENTINEL)])
    d_z = cuda.to_device(np.concatenate([z, np.full(pad, 1.0)]))
    d_a = cuda.to_device(a_full)
    try:
        kernel[blocks, threads](d_z[:n], d_a[:n])
    except NotImplementedError:
        raise
    except Exception as exc:  # e.g. IndexError in the simulator: no bounds guard
        raise CheckFailed(
            f"launching your kernel with {blocks} blocks of {threads} threads on {n} elements "
            f"raised {type(exc).__name__}: {exc}. The last block has threads past the end: "
            f"guard the write with `if i < z.size:`.") from None
    out = d_a.copy_to_host()
    return out[:n], out[n:]


def expect_relu(kernel, z, threads):
    """Fail with the first wrong element and a hint about the likely indexing slip."""
    a, spill = launch_relu(kernel, z, threads)
    blocks = (z.size + threads - 1) // threads
    setup = f"with {blocks} blocks of {threads} threads on {z.size} elements"
    if not np.all(spill == SENTINEL):
        raise CheckFailed(f"{setup} your kernel wrote past the end of a: guard with `if i < z.size:`.")
    expected = np.maximum(z, 0.0)
    for i in range(z.size):
        if np.isnan(a[i]):
            hint = (" Every block's threads start again at threadIdx.x = 0: the global index is "
                    "i = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x (or cuda.grid(1))."
                    if i >= threads else "")
            raise CheckFailed(f"{setup} a[{i}] was never written.{hint}")
        if a[i] != expected[i]:
            raise CheckFailed(f"{setup} a[{i}] should be max(z[{i}], 0) = {show(expected[i])}, "
                              f"yours is {show(a[i])}.")


def get_kernel(build, *args):
    kernel = call(build, *args)
    if kernel is None:
        raise CheckFailed("your function returned None; return the kernel (the @cuda.jit function).")
    if not hasattr(kernel, "__getitem__"):
        raise CheckFailed(f"expected a @cuda.jit kernel, got {type(kernel).__name__}; "
                          f"decorate your kernel with @cuda.jit and return it.")
    return kernel


@exercise("7.1", "an elementwise kernel: one thread per element")
def check_relu_kernel(build_relu_kernel):
    kernel = get_kernel(build_relu_kernel)
    z = np.round(rng(61).normal(size=70), 2)  # (70,): not a multiple of the block size
    for threads in (32, 64, 128):
        expect_relu(kernel, z, threads)
    return "correct for 1, 2 and 3 blocks, with idle threads in the last block."


# ------------------------------------------------------------------ 7.2
def kernel_source(kernel):
    """The Python source of a numba.cuda kernel (GPU dispatcher or simulator)."""
    fn = getattr(kernel, "py_func", None) or getattr(kernel, "fn", None)
    try:
        return inspect.getsource(fn)
    except (TypeError, OSError):
        return ""


def expect_tiling(kernel):
    """The kernel must stage tiles in shared memory and synchronise twice per tile."""
    source = kernel_source(kernel)
    if not source:
        return  # no source to read (e.g. a kernel built from a string): judge by results only
    if "shared.array" not in source:
        raise CheckFailed("your kernel never allocates cuda.shared.array: load tiles of A and B "
                          "into shared memory, so each thread reads global memory once per tile.")
    if len(re.findall(r"syncthreads\s*\(", source)) < 2:
        raise CheckFailed(
            "your kernel needs cuda.syncthreads() twice per tile: after loading the tiles (so no "
            "thread reads a tile before it is complete) and after using them (so no thread "
            "overwrites a tile another thread is still reading).")


def expect_matmul(kernel, tile, n, k, m, seed=62):
    A = np.round(rng(seed).normal(size=(n, k)), 2)
    B = np.round(rng(seed + 1).normal(size=(k, m)), 2)
    grid = ((m + tile - 1) // tile, (n + tile - 1) // tile)
    d_C = cuda.to_device(np.full((n, m), np.nan))
    setup = f"for A {A.shape} @ B {B.shape} with tile={tile} (grid {grid}, blocks ({tile}, {tile}))"
    try:
        kernel[grid, (tile, tile)](cuda.to_device(A), cuda.to_device(B), d_C)
    except NotImplementedError:
        raise
    except Exception as exc:
        raise CheckFailed(f"{setup} your kernel raised {type(exc).__name__}: {exc}. Threads "
                          f"outside A or B must load 0 into the tile instead.") from None
    C, expected = d_C.copy_to_host(), A @ B
    bad = np.argwhere(~np.isclose(C, expected, rtol=1e-10, atol=1e-10) | np.isnan(C))
    if bad.size:
        i, j = (int(v) for v in bad[0])
        hint = (" It was never written: check the bounds test before writing C."
                if np.isnan(C[i, j]) else
                " Check that the tile loop covers all of k, including a last partial tile "
                "(range((k + tile - 1) // tile)), and that out-of-range loads are 0.")
        raise CheckFailed(f"{setup} C[{i}, {j}] should be {show(expected[i, j])}, "
                          f"yours is {show(C[i, j])}.{hint}")


@exercise("7.2", "a tiled matmul with shared memory")
def check_tiled_matmul(build_tiled_matmul):
    kernel = get_kernel(build_tiled_matmul, 4)
    expect_tiling(kernel)
    expect_matmul(kernel, 4, 4, 4, 4)  # one tile
    expect_matmul(kernel, 4, 5, 7, 6)  # partial tiles in every direction
    return "C = A @ B with 4 x 4 tiles, also when the sizes are not multiples of the tile."


# ------------------------------------------------------------------ 7.3
def reference_speedup(times_before, times_after, n_workers):
    s = min(times_before) / min(times_after)
    return s, s / n_workers


def expect_speedup(speedup, before, after, n_workers):
    what = f"for times_before={before}, times_after={after}, n_workers={n_workers}"
    got = expect_tuple(call(speedup, list(before), list(after), n_workers), 2, what)
    s, eff = reference_speedup(before, after, n_workers)
    mean_s = np.mean(before) / np.mean(after)
    try:
        expect_scalar(got[0], s, f"{what}: the speedup")
    except CheckFailed as failure:
        hint = ""
        if np.isclose(float(np.asarray(got[0]).reshape(-1)[0]), mean_s):
            hint = (" You used the mean; take the best (minimum) of the repeats: noise from "
                    "other programs only ever adds time.")
        elif np.isclose(float(np.asarray(got[0]).reshape(-1)[0]), 1 / s):
            hint = " That is after / before; the speedup is before / after (> 1 when faster)."
        raise failure.with_advice(hint) from None
    expect_scalar(got[1], eff, f"{what}: the efficiency (speedup / n_workers)")


@exercise("7.3", "speedup and efficiency from timings")
def check_speedup(speedup):
    expect_speedup(speedup, (2.0, 1.9, 2.4), (0.55, 0.5, 0.62), 4)
    expect_speedup(speedup, (0.9, 0.8), (1.1, 1.6), 2)  # a slow-down: speedup < 1
    return "best-of-repeats speedup and its efficiency per worker."
