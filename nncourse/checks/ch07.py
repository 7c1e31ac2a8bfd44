"""Checks for chapter 7, speedups (``solutions/07_speedups.ipynb``).

7.1 ``build_sgd_step() -> kernel``: a numba.cuda kernel ``sgd_step(p, g, lr)``
    with p[i] -= lr * g[i] for every i, by a grid-stride loop: launched as
    ``sgd_step[blocks, threads](p, g, lr)`` with any grid, smaller or larger
    than p (the lecture's elementwise kernel has one thread per element).
7.2 ``build_tiled_matmul(tile) -> kernel``: ``matmul_kernel(A, B, C)`` computing
    C = A @ B with tile x tile shared-memory tiles; launched with blocks of
    (tile, tile) threads, thread (ty, tx) of block (by, bx) owning
    C[by * tile + ty, bx * tile + tx]. The barriers are judged by behaviour
    where it shows (in the simulator a missing or misplaced one gives a
    wrong C when k spans several tiles) and by their positions in the
    kernel's syntax tree (``barrier_problem``), never by counting them.
7.3 ``speedup(times_before, times_after, n_workers) -> (speedup, efficiency)``
    from repeated timings: best (minimum) before / best after, and that
    speedup divided by the number of workers.

The kernels are built by a function so that the exercise notebook, where
that function only raises NotImplementedError, still runs: a ``raise``
inside a CUDA kernel is not reported on a real GPU. The checks launch the
kernels themselves, in the CUDA simulator when there is no GPU.
"""
import ast
import inspect
import textwrap

import numpy as np
from numba import cuda

from nncourse.checks import CheckFailed, call, exercise, expect_scalar, expect_tuple, rng, show

SENTINEL = -12345.0  # fills memory a kernel must not touch, or has not written yet


# ------------------------------------------------------------------ 7.1
def launch_sgd(kernel, p, g, lr, blocks, threads):
    """Run sgd_step[blocks, threads](p, g, lr) on copies; returns (p after, spill).

    spill: the values just past the end of p, which a correct kernel leaves alone.
    """
    n, pad = p.size, 8
    d_p = cuda.to_device(np.concatenate([p, np.full(pad, SENTINEL)]))
    d_g = cuda.to_device(np.concatenate([g, np.full(pad, 1.0)]))
    try:
        kernel[blocks, threads](d_p[:n], d_g[:n], lr)
    except NotImplementedError:
        raise
    except Exception as exc:  # e.g. IndexError in the simulator: no bounds test
        raise CheckFailed(
            f"launching your kernel with {blocks} blocks of {threads} threads on {n} elements "
            f"raised {type(exc).__name__}: {exc}. A thread whose index is past the end must do "
            f"nothing: loop only while i < p.size.") from None
    out = d_p.copy_to_host()
    return out[:n], out[n:]


def expect_sgd(kernel, p, g, lr, blocks, threads):
    """Fail on the first wrong element, naming the likely slip (no loop, wrong stride, sign)."""
    after, spill = launch_sgd(kernel, p, g, lr, blocks, threads)
    setup = f"with {blocks} block(s) of {threads} threads on {p.size} elements (lr={lr})"
    if not np.all(spill == SENTINEL):
        raise CheckFailed(f"{setup} your kernel wrote past the end of p: loop only while i < p.size.")
    expected = p - lr * g
    for i in range(p.size):
        if np.isclose(after[i], expected[i], rtol=1e-12, atol=1e-12):
            continue
        if after[i] == p[i]:
            hint = ""
            if i >= blocks * threads:
                hint = (f" The grid has only {blocks * threads} threads: each thread must also take "
                        f"i + stride, i + 2 stride, ... with stride = cuda.gridDim.x * cuda.blockDim.x "
                        f"(cuda.gridsize(1)).")
            raise CheckFailed(f"{setup} p[{i}] was not updated.{hint}")
        steps = (p[i] - after[i]) / (lr * g[i]) if g[i] != 0 and np.isfinite(after[i]) else np.nan
        if not np.isfinite(steps):
            hint = ""
        elif np.isclose(steps, -1.0):
            hint = " It moved up the gradient: the step is p -= lr * g."
        elif np.isclose(steps, round(steps)) and steps > 1:
            hint = (f" It was updated {int(round(steps))} times: the stride must be the whole grid, "
                    f"cuda.gridDim.x * cuda.blockDim.x (cuda.gridsize(1)), so that no two threads "
                    f"take the same element.")
        else:
            hint = ""
        raise CheckFailed(f"{setup} p[{i}] should be p - lr * g = {show(expected[i])}, "
                          f"yours is {show(after[i])}.{hint}")


def get_kernel(build, *args):
    kernel = call(build, *args)
    if kernel is None:
        raise CheckFailed("your function returned None; return the kernel (the @cuda.jit function).")
    if not hasattr(kernel, "__getitem__"):
        raise CheckFailed(f"expected a @cuda.jit kernel, got {type(kernel).__name__}; "
                          f"decorate your kernel with @cuda.jit and return it.")
    return kernel


@exercise("7.1", "a grid-stride loop: the SGD step on a fixed grid", hints=(
    "The lecture's kernel gets one thread per element. Here the grid is fixed and may be smaller "
    "than p: after its first element, where does a thread find the next one that no other thread "
    "takes?",
    "The grid has cuda.gridDim.x * cuda.blockDim.x threads (cuda.gridsize(1)). Thread i takes "
    "elements i, i + stride, i + 2 stride, ... while they are < p.size, with stride that number.",
    "Each element is updated exactly once: p[e] = p[e] - lr * g[e] for e = i, i + stride, ...",
))
def check_sgd_step(build_sgd_step):
    kernel = get_kernel(build_sgd_step)
    r = rng(71)
    p, g = np.round(r.normal(size=70), 2), np.round(r.normal(size=70), 2)  # 70: no multiple of a block
    for blocks, threads in ((1, 32), (2, 16), (3, 8), (4, 32)):  # 32 .. 128 threads for 70 elements
        expect_sgd(kernel, p, g, 0.1, blocks, threads)
    return "each element updated once, whether the grid is smaller or larger than p."


# ------------------------------------------------------------------ 7.2
def kernel_source(kernel):
    """The Python source of a numba.cuda kernel (GPU dispatcher or simulator), or ""."""
    fn = getattr(kernel, "py_func", None) or getattr(kernel, "fn", None)
    try:
        return inspect.getsource(fn)
    except (TypeError, OSError):
        return ""


def _dotted(node):
    """'cuda.shared.array' for the expression cuda.shared.array, '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _calls(node, name):
    """Whether node is a call of ``name`` (cuda.syncthreads() or syncthreads(), ...)."""
    return isinstance(node, ast.Call) and ("." + _dotted(node.func)).endswith("." + name)


def _touches(statement, shared, context):
    """Whether statement stores to (ast.Store) or loads from (ast.Load) a shared array."""
    return any(isinstance(n, ast.Subscript) and isinstance(n.ctx, context)
               and isinstance(n.value, ast.Name) and n.value.id in shared for n in ast.walk(statement))


def barrier_problem(kernel):
    """What is wrong with where the kernel synchronises, read from its syntax tree; "" if nothing.

    In the loop over tiles, a ``cuda.syncthreads()`` must stand between the
    last store to a shared tile and the first read of it (after the loads),
    and another one between the last read and the next iteration's stores
    (after the use, or at the top of the loop), directly in the loop body:
    a barrier inside an ``if`` is not reached by every thread. Positions,
    not a count: two barriers in a row after the loads are still wrong.
    Returns "" when the source cannot be read (the results judge alone).
    """
    try:
        tree = ast.parse(textwrap.dedent(kernel_source(kernel)))
    except SyntaxError:
        return ""
    function = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)), None)
    if function is None:
        return ""
    shared = {t.id for n in ast.walk(function) if isinstance(n, ast.Assign) and _calls(n.value, "shared.array")
              for t in n.targets if isinstance(t, ast.Name)}
    if not shared:
        return ("your kernel never allocates cuda.shared.array: load tiles of A and B into shared "
                "memory, so each thread reads global memory once per tile.")
    loop = next((n for n in ast.walk(function) if isinstance(n, ast.For)
                 and any(_touches(s, shared, ast.Store) for s in n.body)), None)
    if loop is None:
        return ("your kernel fills its shared tiles outside a loop: loop over the tiles along k, "
                "loading one tile of A and one of B per step.")
    parents = {child: node for node in ast.walk(function) for child in ast.iter_child_nodes(node)}
    node = loop
    while node is not function:
        node = parents[node]
        if isinstance(node, (ast.If, ast.While)):
            return (f"your tile loop (line {loop.lineno} of the kernel) runs inside an `if` or `while`: "
                    f"threads that skip it never reach its cuda.syncthreads(), and every thread of the "
                    f"block must. Let every thread run the loop, loading 0 where it is outside A or B.")
    body = loop.body
    barriers = [i for i, s in enumerate(body) if isinstance(s, ast.Expr) and _calls(s.value, "syncthreads")]
    nested = [s for i, s in enumerate(body) if i not in barriers
              and any(_calls(n, "syncthreads") for n in ast.walk(s))]
    if nested:
        return (f"your kernel calls cuda.syncthreads() inside an `if` or an inner loop (line "
                f"{nested[0].lineno} of the kernel): put each barrier directly in the tile loop, where "
                f"every thread of the block reaches it the same number of times.")
    stores = [i for i, s in enumerate(body) if _touches(s, shared, ast.Store)]
    reads = [i for i, s in enumerate(body) if _touches(s, shared, ast.Load)]
    first_read = min((i for i in reads if i > max(stores)), default=len(body))
    if any(i < max(stores) for i in reads) or not any(max(stores) < b < first_read for b in barriers):
        return ("your kernel has no cuda.syncthreads() between loading the tiles and using them: a "
                "thread may read a tile entry before the thread that loads it has written it. Put one "
                "right after the loads (so no thread reads a tile before it is complete).")
    if not any(b > max(reads, default=-1) or b < min(stores) for b in barriers):
        return ("your kernel has no cuda.syncthreads() between using the tiles and loading the next "
                "ones: a fast thread would overwrite a tile that another thread is still reading. Put "
                "one after the loop that uses the tiles.")
    return ""


def expect_matmul(kernel, tile, n, k, m, seed=62, advice="", draw=None):
    """Launch the kernel on random A (n, k), B (k, m); fail on the first wrong entry of C.

    ``advice``: what to say when C is wrong (e.g. a barrier problem), instead
    of the hint about partial tiles. ``draw``: a NumPy Generator to draw A and
    B from (the hidden tests pass ``hidden_rng(...)``); else seeds seed, seed + 1.
    """
    ra, rb = (draw, draw) if draw is not None else (rng(seed), rng(seed + 1))
    A = np.round(ra.normal(size=(n, k)), 2)
    B = np.round(rb.normal(size=(k, m)), 2)
    grid = ((m + tile - 1) // tile, (n + tile - 1) // tile)
    d_C = cuda.to_device(np.full((n, m), SENTINEL))
    setup = f"for A {A.shape} @ B {B.shape} with tile={tile} (grid {grid}, blocks ({tile}, {tile}))"
    try:
        kernel[grid, (tile, tile)](cuda.to_device(A), cuda.to_device(B), d_C)
    except NotImplementedError:
        raise
    except Exception as exc:
        raise CheckFailed(f"{setup} your kernel raised {type(exc).__name__}: {exc}. Threads "
                          f"outside A or B must load 0 into the tile instead.") from None
    C, expected = d_C.copy_to_host(), A @ B
    bad = np.argwhere(~np.isclose(C, expected, rtol=1e-10, atol=1e-10))
    if bad.size:
        i, j = (int(v) for v in bad[0])
        if C[i, j] == SENTINEL:
            hint = " It was never written: check the bounds test before writing C."
        elif advice:
            hint = f" Likely cause: {advice}"
        else:
            hint = (" Check that the tile loop covers all of k, including a last partial tile "
                    "(range((k + tile - 1) // tile)), and that out-of-range loads are 0.")
        raise CheckFailed(f"{setup} C[{i}, {j}] should be {show(expected[i, j])}, "
                          f"yours is {show(C[i, j])}.{hint}")


@exercise("7.2", "a tiled matmul with shared memory", hints=(
    "Start from the lecture's tiled transpose: a block stages a tile in shared memory, waits at a "
    "barrier, then reads it. Here each block walks along k, staging one tile of A and one of B per "
    "step, and adds their product to each thread's sum.",
    "Thread (ty, tx) loads A[row, k0 + tx] and B[k0 + ty, col] (0 outside the matrices), then adds "
    "sum over kk < tile of sA[ty, kk] * sB[kk, tx]. A barrier after the loads, another after the use.",
    "Loop k0 = 0, tile, 2 tile, ... while k0 < k (the last tile may be partial); every thread runs "
    "the loop and reaches both barriers, and only threads with row < n and col < m write C.",
))
def check_tiled_matmul(build_tiled_matmul):
    kernel = get_kernel(build_tiled_matmul, 4)
    barriers = barrier_problem(kernel)
    expect_matmul(kernel, 4, 4, 4, 4, advice=barriers)  # one tile
    # Two and three tiles along k: in the CUDA simulator, where a block's threads are
    # Python threads that run until they block, a missing or misplaced barrier gives a
    # wrong C here every time (tests/test_checks_ch06.py); on a GPU it may not show.
    expect_matmul(kernel, 4, 5, 7, 6, advice=barriers)  # partial tiles in every direction
    expect_matmul(kernel, 4, 3, 12, 5, advice=barriers)  # three tiles along k
    if barriers:
        raise CheckFailed(f"your kernel gives the right C on these inputs, but {barriers}")
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


@exercise("7.3", "speedup and efficiency from timings", hints=(
    "Noise (other programs, the garbage collector, a cold cache) only ever adds time to a run. "
    "Which of the repeated timings is closest to what the code itself costs?",
    "S = min(times_before) / min(times_after) (> 1 when the change made it faster), and the "
    "efficiency E = S / n_workers.",
))
def check_speedup(speedup):
    expect_speedup(speedup, (2.0, 1.9, 2.4), (0.55, 0.5, 0.62), 4)
    expect_speedup(speedup, (0.9, 0.8), (1.1, 1.6), 2)  # a slow-down: speedup < 1
    return "best-of-repeats speedup and its efficiency per worker."
