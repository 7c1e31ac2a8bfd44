"""Timing: interleaved epochs, medians, and NumPy's GEMM rate (the BLAS bound).

Other work on the machine slows whichever peer happens to run at that
moment, so the peers take turns (the order rotates each round) and the
median is reported. The garbage collector is paused while a timed block
runs, for every peer alike (as ``timeit`` does).
"""
import functools
import gc
import time

import numpy as np


def time_call(fn):
    """Seconds that fn() takes, with the garbage collector paused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def interleaved(runs, repeats, warmup=2, min_block_s=0.5):
    """{name: [seconds per epoch, ...]} for ``runs`` = {name: run(n) training n epochs}.

    Each peer first trains ``warmup`` single epochs untimed (compilation,
    caches); the fastest of them sets its block size n, the number of
    epochs that take about ``min_block_s``. Then come ``repeats`` rounds; in
    each, every peer (round r starts with peer r mod n_peers) trains one
    untimed epoch, which lets the previous peer's BLAS / OpenMP worker
    threads (they busy-wait for a while after their last task) go quiet and
    warms the caches, then a timed block of n epochs; the sample is the
    block's time divided by n. Short epochs (digits: under a millisecond)
    are thus never timed one by one right after another library ran.
    """
    names = list(runs)
    block = {}
    for name in names:
        seconds = [time_call(functools.partial(runs[name], 1)) for _ in range(max(1, warmup))]
        block[name] = max(1, int(min_block_s / max(min(seconds), 1e-9)))
    samples = {name: [] for name in names}
    for r in range(repeats):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            runs[name](1)
            seconds = time_call(functools.partial(runs[name], block[name]))
            samples[name].append(seconds / block[name])
    return samples


def summarize(seconds):
    """{"median_s", "min_s", "max_s", "n"} of a list of timings."""
    arr = np.asarray(seconds)
    return {"median_s": float(np.median(arr)), "min_s": float(arr.min()),
            "max_s": float(arr.max()), "n": int(arr.size)}


def gemm_rate(dtype, n=1024, repeats=5):
    """NumPy's matrix-product rate in FLOP/s for (n x n) @ (n x n), median of repeats.

    This is the machine's BLAS speed (sgemm for float32, dgemm for float64)
    with the current thread and OPENBLAS_* settings: the best a network made
    of matrix products could do on this machine.
    """
    rng = np.random.default_rng(0)
    a = rng.random((n, n)).astype(dtype)
    b = rng.random((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    np.matmul(a, b, out=out)  # warm-up: threads started, pages touched
    times = [time_call(lambda: np.matmul(a, b, out=out)) for _ in range(repeats)]
    return 2.0 * n ** 3 / float(np.median(times))


def gemm_shapes_seconds(shapes, dtype, repeats=5):
    """Median seconds NumPy takes for one product of each (m, k, n) shape, summed.

    The epoch's products run back to back at their real (small) sizes: a
    tighter bound than the peak rate for small batches.
    """
    rng = np.random.default_rng(0)
    total = 0.0
    for m, k, n in shapes:
        a, b = rng.random((m, k)).astype(dtype), rng.random((k, n)).astype(dtype)
        out = np.empty((m, n), dtype=dtype)
        np.matmul(a, b, out=out)
        reps = max(1, int(2e7 // (m * k * n)))  # a few ms per sample
        times = [time_call(lambda: _matmul_n_times(a, b, out, reps)) / reps
                 for _ in range(repeats)]
        total += float(np.median(times))
    return total


def _matmul_n_times(a, b, out, reps):
    for _ in range(reps):
        np.matmul(a, b, out=out)
