"""The chapter 7 checks discriminate: stubs and plausible wrong answers fail, solutions pass.

The kernels are launched by the checks, in the CUDA simulator without a GPU.
The tiled product's barriers are judged by behaviour (the simulator shows a
missing or misplaced one as a wrong C) and by their positions in the
kernel's syntax tree (a GPU may hide the race), never by counting them.
"""
import linecache
import re

import numpy as np
import pytest
from numba import config as numba_config
from numba import cuda

from nncourse.checks import CheckFailed, check
from nncourse.checks.ch07 import barrier_problem, expect_matmul


def stub(*args):
    raise NotImplementedError("Exercise 6.x: stub")


# ------------------------------------------------------------------ 7.1
def sgd_right():
    @cuda.jit
    def sgd_step(p, g, lr):
        for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):
            p[i] -= lr * g[i]
    return sgd_step


def sgd_one_thread_per_element():  # the lecture's pattern: no loop
    @cuda.jit
    def sgd_step(p, g, lr):
        i = cuda.grid(1)
        if i < p.size:
            p[i] -= lr * g[i]
    return sgd_step


def sgd_block_stride():  # strides by one block: blocks overlap
    @cuda.jit
    def sgd_step(p, g, lr):
        for i in range(cuda.grid(1), p.size, cuda.blockDim.x):
            p[i] -= lr * g[i]
    return sgd_step


def sgd_wrong_sign():
    @cuda.jit
    def sgd_step(p, g, lr):
        for i in range(cuda.grid(1), p.size, cuda.gridsize(1)):
            p[i] += lr * g[i]
    return sgd_step


def sgd_no_bound():
    @cuda.jit
    def sgd_step(p, g, lr):
        i = cuda.grid(1)
        while i < p.size + 8:  # runs past the end
            p[i] -= lr * g[i]
            i += cuda.gridsize(1)
    return sgd_step


def test_sgd_check_passes_the_solution(capsys):
    check("7.1", sgd_right)  # raises CheckFailed on a wrong answer


@pytest.mark.parametrize("wrong,message", [
    (sgd_one_thread_per_element, r"p\[32\] was not updated\. The grid has only 32 threads.*gridsize\(1\)"),
    (sgd_block_stride, r"p\[16\] should be .* updated 2 times: the stride must be the whole grid"),
    (sgd_wrong_sign, r"p\[0\] should be p - lr \* g = .* moved up the gradient"),
    (sgd_no_bound, r"(wrote past the end of p|loop only while i < p.size)"),
    (lambda: None, "returned None"),
    (lambda: (lambda p, g, lr: None), "expected a @cuda.jit kernel"),
])
def test_sgd_check_rejects_wrong_kernels(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check("7.1", wrong)


def test_sgd_check_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError, match="Exercise 6.x"):
        check("7.1", stub)


# ------------------------------------------------------------------ 7.2
def tiled_right(tile):
    @cuda.jit
    def matmul_kernel(A, B, C):
        sA = cuda.shared.array((tile, tile), dtype=A.dtype)
        sB = cuda.shared.array((tile, tile), dtype=B.dtype)
        ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
        row, col = cuda.blockIdx.y * tile + ty, cuda.blockIdx.x * tile + tx
        n, k, m = A.shape[0], A.shape[1], B.shape[1]
        acc = 0.0
        for k0 in range(0, k, tile):
            sA[ty, tx] = A[row, k0 + tx] if row < n and k0 + tx < k else 0.0
            sB[ty, tx] = B[k0 + ty, col] if k0 + ty < k and col < m else 0.0
            cuda.syncthreads()
            for kk in range(tile):
                acc += sA[ty, kk] * sB[kk, tx]
            cuda.syncthreads()
        if row < n and col < m:
            C[row, col] = acc
    return matmul_kernel


def tiled_drops_last_partial_tile(tile):
    @cuda.jit
    def matmul_kernel(A, B, C):
        sA = cuda.shared.array((tile, tile), dtype=A.dtype)
        sB = cuda.shared.array((tile, tile), dtype=B.dtype)
        ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
        row, col = cuda.blockIdx.y * tile + ty, cuda.blockIdx.x * tile + tx
        n, k, m = A.shape[0], A.shape[1], B.shape[1]
        acc = 0.0
        for t in range(k // tile):  # forgets the last, partial tile
            k0 = t * tile
            sA[ty, tx] = A[row, k0 + tx] if row < n else 0.0
            sB[ty, tx] = B[k0 + ty, col] if col < m else 0.0
            cuda.syncthreads()
            for kk in range(tile):
                acc += sA[ty, kk] * sB[kk, tx]
            cuda.syncthreads()
        if row < n and col < m:
            C[row, col] = acc
    return matmul_kernel


def tiled_naive(tile):
    @cuda.jit
    def matmul_kernel(A, B, C):
        col, row = cuda.grid(2)
        if row < C.shape[0] and col < C.shape[1]:
            acc = 0.0
            for k in range(A.shape[1]):
                acc += A[row, k] * B[k, col]
            C[row, col] = acc
    return matmul_kernel


def tiled_one_sync(tile):
    @cuda.jit
    def matmul_kernel(A, B, C):
        sA = cuda.shared.array((tile, tile), dtype=A.dtype)
        sB = cuda.shared.array((tile, tile), dtype=B.dtype)
        ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
        row, col = cuda.blockIdx.y * tile + ty, cuda.blockIdx.x * tile + tx
        acc = 0.0
        for k0 in range(0, A.shape[1], tile):
            sA[ty, tx] = A[row, k0 + tx] if row < A.shape[0] and k0 + tx < A.shape[1] else 0.0
            sB[ty, tx] = B[k0 + ty, col] if k0 + ty < B.shape[0] and col < B.shape[1] else 0.0
            cuda.syncthreads()
            for kk in range(tile):
                acc += sA[ty, kk] * sB[kk, tx]
        if row < C.shape[0] and col < C.shape[1]:
            C[row, col] = acc
    return matmul_kernel


def tiled_no_bounds_on_load(tile):
    @cuda.jit
    def matmul_kernel(A, B, C):
        sA = cuda.shared.array((tile, tile), dtype=A.dtype)
        sB = cuda.shared.array((tile, tile), dtype=B.dtype)
        ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
        row, col = cuda.blockIdx.y * tile + ty, cuda.blockIdx.x * tile + tx
        acc = 0.0
        for k0 in range(0, A.shape[1], tile):
            sA[ty, tx] = A[row, k0 + tx]  # reads past the edge of A
            sB[ty, tx] = B[k0 + ty, col]
            cuda.syncthreads()
            for kk in range(tile):
                acc += sA[ty, kk] * sB[kk, tx]
            cuda.syncthreads()
        if row < C.shape[0] and col < C.shape[1]:
            C[row, col] = acc
    return matmul_kernel


def tiled_with(order):
    """A tiled kernel whose tile-loop body runs ``order``: "L" loads, "U" uses, "S" a barrier.

    "I" is a barrier inside ``if row < n and col < m`` (not every thread reaches it).
    Written out as source so that each variant has its own readable kernel.
    """
    step = {"L": ["sA[ty, tx] = A[row, k0 + tx] if row < n and k0 + tx < k else 0.0",
                  "sB[ty, tx] = B[k0 + ty, col] if k0 + ty < k and col < m else 0.0"],
            "U": ["for kk in range(tile):", "    acc += sA[ty, kk] * sB[kk, tx]"],
            "S": ["cuda.syncthreads()"],
            "I": ["if row < n and col < m:", "    cuda.syncthreads()"]}
    body = "\n".join("            " + line for part in order for line in step[part])
    source = f"""
def build(tile):
    @cuda.jit
    def matmul_kernel(A, B, C):
        sA = cuda.shared.array((tile, tile), dtype=A.dtype)
        sB = cuda.shared.array((tile, tile), dtype=B.dtype)
        ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
        row, col = cuda.blockIdx.y * tile + ty, cuda.blockIdx.x * tile + tx
        n, k, m = A.shape[0], A.shape[1], B.shape[1]
        acc = 0.0
        for k0 in range(0, k, tile):
{body}
        if row < n and col < m:
            C[row, col] = acc
    return matmul_kernel
"""
    filename = f"<tiled kernel {order}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace = {"cuda": cuda}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - a test fixture
    return namespace["build"]


def without_source(build):
    """The same kernels, with their source unreadable (as for a kernel built from a string)."""
    def build_hidden(tile):
        kernel = build(tile)
        for name in ("py_func", "fn"):
            if getattr(kernel, name, None) is not None:
                code = getattr(kernel, name).__code__
                getattr(kernel, name).__code__ = code.replace(co_filename="<no source>")
        return kernel
    return build_hidden


FIRST_MISSING = "no cuda.syncthreads\\(\\) between loading the tiles and using them"
SECOND_MISSING = "no cuda.syncthreads\\(\\) between using the tiles and loading the next"
# Missing or misplaced barriers: (tile-loop body, what the message must say).
WRONG_BARRIERS = [
    ("LU", FIRST_MISSING),
    ("LSU", SECOND_MISSING),  # one barrier
    ("LSSU", SECOND_MISSING),  # two barriers, both after the loads: a count would pass it
    ("SLUS", FIRST_MISSING),  # two barriers, before the loads and after the use
    ("LUSS", FIRST_MISSING),
    ("LIUS", "inside an `if`"),  # the first barrier in divergent code
]


def test_tiled_check_passes_the_solution(capsys):
    check("7.2", tiled_right)  # raises CheckFailed on a wrong answer


@pytest.mark.parametrize("order", ["LSUS", "SLSU", "SLSUS"])
def test_tiled_check_passes_barriers_wherever_they_are_right(order):
    check("7.2", tiled_with(order))  # a barrier at the top of the loop guards the next loads too


@pytest.mark.parametrize("wrong,message", [
    (tiled_drops_last_partial_tile, r"C\[0, 0\] should be .* last partial tile"),
    (tiled_naive, "never allocates cuda.shared.array"),
    (tiled_one_sync, SECOND_MISSING),
    (tiled_no_bounds_on_load, "must load 0 into the tile"),
])
def test_tiled_check_rejects_wrong_kernels(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check("7.2", wrong)


@pytest.mark.parametrize("order, message", WRONG_BARRIERS)
def test_tiled_check_names_a_missing_or_misplaced_barrier(order, message):
    with pytest.raises(CheckFailed, match=message):
        check("7.2", tiled_with(order))


@pytest.mark.parametrize("order, message", WRONG_BARRIERS)
def test_the_syntax_tree_alone_finds_the_barrier_problem(order, message):
    """What a real GPU may hide (its threads race only sometimes), the positions still show."""
    assert re.search(message, barrier_problem(tiled_with(order)(4)))
    assert barrier_problem(tiled_with("LSUS")(4)) == ""


@pytest.mark.skipif(not numba_config.ENABLE_CUDASIM, reason="a real GPU may hide a race")
@pytest.mark.parametrize("order", [order for order, message in WRONG_BARRIERS if order != "LIUS"])
def test_the_simulator_gives_a_wrong_result_without_the_barriers(order):
    """The simulator runs a block's threads as Python threads, each until it blocks: with
    several tiles along k, a thread reads a tile entry not loaded yet or already replaced."""
    with pytest.raises(CheckFailed, match=r"C\[\d+, \d+\] should be"):
        expect_matmul(tiled_with(order)(4), 4, 5, 7, 6)


@pytest.mark.skipif(not numba_config.ENABLE_CUDASIM, reason="a real GPU may hide a race")
def test_without_its_source_a_kernel_is_judged_by_its_results():
    assert barrier_problem(without_source(tiled_with("LSU"))(4)) == ""
    with pytest.raises(CheckFailed, match=r"C\[\d+, \d+\] should be"):
        check("7.2", without_source(tiled_with("LSU")))
    check("7.2", without_source(tiled_right))


def test_tiled_check_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check("7.2", stub)


# ------------------------------------------------------------------ 7.3
def speedup_right(before, after, n_workers):
    s = min(before) / min(after)
    return s, s / n_workers


@pytest.mark.parametrize("wrong,message", [
    (lambda b, a, p: (np.mean(b) / np.mean(a), np.mean(b) / np.mean(a) / p), "You used the mean"),
    (lambda b, a, p: (min(a) / min(b), min(a) / min(b) / p), "the speedup is before / after"),
    (lambda b, a, p: (min(b) / min(a), min(b) / min(a)), "the efficiency"),
    (lambda b, a, p: min(b) / min(a), r"expected 2 values"),
])
def test_speedup_check_discriminates(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check("7.3", wrong)


def test_speedup_check_passes_the_solution_and_not_the_stub():
    check("7.3", speedup_right)  # raises CheckFailed on a wrong answer
    with pytest.raises(NotImplementedError):
        check("7.3", stub)
