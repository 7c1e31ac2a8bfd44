"""The chapter 7 checks discriminate: stubs and plausible wrong answers fail, solutions pass.

The kernels are launched by the checks, in the CUDA simulator without a GPU.
"""
import numpy as np
import pytest
from numba import cuda

from nncourse.checks import CheckFailed, check


def stub(*args):
    raise NotImplementedError("Exercise 6.x: stub")


# ------------------------------------------------------------------ 7.1
def relu_right():
    @cuda.jit
    def relu_kernel(z, a):
        i = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
        if i < z.size:
            a[i] = max(z[i], 0.0)
    return relu_kernel


def relu_thread_index_only():
    @cuda.jit
    def relu_kernel(z, a):
        i = cuda.threadIdx.x  # forgets the block offset
        if i < z.size:
            a[i] = max(z[i], 0.0)
    return relu_kernel


def relu_no_guard():
    @cuda.jit
    def relu_kernel(z, a):
        i = cuda.grid(1)
        a[i] = max(z[i], 0.0)
    return relu_kernel


def relu_wrong_maths():
    @cuda.jit
    def relu_kernel(z, a):
        i = cuda.grid(1)
        if i < z.size:
            a[i] = abs(z[i])
    return relu_kernel


def test_relu_check_passes_the_solution(capsys):
    check("7.1", relu_right)  # raises CheckFailed on a wrong answer


@pytest.mark.parametrize("wrong,message", [
    (relu_thread_index_only, r"a\[32\] was never written.*blockIdx.x \* cuda.blockDim.x"),
    (relu_no_guard, r"if i < z.size"),
    (relu_wrong_maths, r"a\[\d+\] should be max\(z\[\d+\], 0\) = 0, yours is"),
    (lambda: None, "returned None"),
    (lambda: (lambda z, a: None), "expected a @cuda.jit kernel"),
])
def test_relu_check_rejects_wrong_kernels(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check("7.1", wrong)


def test_relu_check_lets_the_stub_error_through():
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


def test_tiled_check_passes_the_solution(capsys):
    check("7.2", tiled_right)  # raises CheckFailed on a wrong answer


@pytest.mark.parametrize("wrong,message", [
    (tiled_drops_last_partial_tile, r"C\[0, 0\] should be .* last partial tile"),
    (tiled_naive, "never allocates cuda.shared.array"),
    (tiled_one_sync, "syncthreads\\(\\) twice per tile"),
    (tiled_no_bounds_on_load, "must load 0 into the tile"),
])
def test_tiled_check_rejects_wrong_kernels(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check("7.2", wrong)


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
