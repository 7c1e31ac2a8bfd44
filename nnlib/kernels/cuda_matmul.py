"""The matrix-product ladder of notebook 07: C = A @ B in numba.cuda, rung by rung.

A: (n, k), B: (k, m), C: (n, m), all C-contiguous device arrays of one
float dtype. ``matmul(A, B, C, method)`` launches one of:

1. ``naive``: one thread per C[i, j], reading its row of A and column of B
   straight from global memory (every input is read n or m times);
2. ``tiled``: 16 x 16 threads per block share 16 x 16 tiles of A and B in
   shared memory, so each input element is read from global memory once per
   tile instead of once per thread (``cuda.tile_dot``, also used by the
   dense-layer kernels);
3. ``blocked4`` / ``blocked8``: register blocking. A 16 x 16 block of
   threads computes a 64 x 64 (or 128 x 128) tile of C, each thread 4 x 4
   (or 8 x 8) results held in registers, so every value loaded from shared
   memory is used 4 (or 8) times. (In the simulator the blocks are 4 x 4
   threads, as ``cuda.TILE`` is smaller there: same code, cheaper to run.)

Reference figures for these rungs on a real GPU are in
``notebooks/data/gpu_reference.json``; ``benchmarks/gpu.py`` measures them.
"""
from numba import cuda

from nnlib.kernels.cuda import SIMULATOR, TILE, blocks_for, matmul_grid, tile_dot

BLOCK_THREADS = 4 if SIMULATOR else 16  # threads per side of a register-blocked block


@cuda.jit(cache=True)
def naive_kernel(A, B, C):
    """C[i, j] = sum_k A[i, k] B[k, j], one thread per (i, j), no data reuse."""
    j, i = cuda.grid(2)  # x (fastest-varying) indexes columns, so C's writes coalesce
    if i < C.shape[0] and j < C.shape[1]:
        acc = C.dtype.type(0)
        for k in range(A.shape[1]):
            acc += A[i, k] * B[k, j]
        C[i, j] = acc


@cuda.jit(cache=True)
def tiled_kernel(A, B, C):
    """C = A @ B with TILE x TILE shared-memory tiles (see ``cuda.tile_dot``)."""
    row = cuda.blockIdx.y * TILE + cuda.threadIdx.y
    col = cuda.blockIdx.x * TILE + cuda.threadIdx.x
    acc, _ = tile_dot(A, False, B, False, False)
    if row < C.shape[0] and col < C.shape[1]:
        C[row, col] = acc


def make_blocked_kernel(per_thread, depth=8):
    """A register-blocked matmul kernel: 16 x 16 threads, each per_thread x per_thread outputs.

    The block's C tile is (16 per_thread) squared (BLOCK_THREADS = 16); A and B are staged through
    shared memory ``depth`` columns / rows at a time. Thread (ty, tx) owns
    rows ty + 16 i and columns tx + 16 j of the tile (i, j < per_thread): a
    strided layout, so neighbouring threads touch neighbouring addresses in
    shared memory (no bank conflicts) and in C (coalesced stores).
    per_thread and depth are compile-time constants of the returned kernel.
    """
    side = BLOCK_THREADS * per_thread  # the C tile is side x side
    n_threads = BLOCK_THREADS * BLOCK_THREADS

    @cuda.jit(cache=True)
    def blocked_kernel(A, B, C):
        sA = cuda.shared.array((depth, side), dtype=A.dtype)  # A's tile, transposed
        sB = cuda.shared.array((depth, side), dtype=B.dtype)
        acc = cuda.local.array((per_thread, per_thread), dtype=C.dtype)  # registers
        a_reg = cuda.local.array(per_thread, dtype=A.dtype)
        b_reg = cuda.local.array(per_thread, dtype=B.dtype)
        ty, tx = cuda.threadIdx.y, cuda.threadIdx.x
        tid = ty * BLOCK_THREADS + tx
        row0, col0 = cuda.blockIdx.y * side, cuda.blockIdx.x * side
        n, k_total, m = A.shape[0], A.shape[1], B.shape[1]
        for i in range(per_thread):
            for j in range(per_thread):
                acc[i, j] = 0
        for k0 in range(0, k_total, depth):
            for e in range(tid, side * depth, n_threads):  # stage A and B, zero outside
                r, c = e // depth, e % depth  # A: consecutive threads along k
                sA[c, r] = 0
                if row0 + r < n and k0 + c < k_total:
                    sA[c, r] = A[row0 + r, k0 + c]
                r, c = e // side, e % side  # B: consecutive threads along a row
                sB[r, c] = 0
                if k0 + r < k_total and col0 + c < m:
                    sB[r, c] = B[k0 + r, col0 + c]
            cuda.syncthreads()
            for k in range(depth):
                for i in range(per_thread):
                    a_reg[i] = sA[k, ty + BLOCK_THREADS * i]
                for j in range(per_thread):
                    b_reg[j] = sB[k, tx + BLOCK_THREADS * j]
                for i in range(per_thread):
                    for j in range(per_thread):
                        acc[i, j] += a_reg[i] * b_reg[j]
            cuda.syncthreads()
        for i in range(per_thread):
            for j in range(per_thread):
                r, c = row0 + ty + BLOCK_THREADS * i, col0 + tx + BLOCK_THREADS * j
                if r < n and c < m:
                    C[r, c] = acc[i, j]

    return blocked_kernel, side


BLOCKED = {  # method name: (kernel, side of its C tile)
    "blocked4": make_blocked_kernel(per_thread=4),
    "blocked8": make_blocked_kernel(per_thread=8),
}
METHODS = ("naive", "tiled") + tuple(BLOCKED)


def matmul(A, B, C, method="tiled"):
    """C = A @ B on the device with the chosen rung of the ladder. Returns C.

    A: (n, k), B: (k, m), C: (n, m) device arrays (numba.cuda.to_device).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(map(repr, METHODS))}.")
    if A.shape[1] != B.shape[0] or C.shape != (A.shape[0], B.shape[1]):
        raise ValueError(
            f"shapes do not fit C = A @ B: A {A.shape}, B {B.shape}, C {C.shape}; "
            f"need A (n, k), B (k, m) and C (n, m).")
    n, m = C.shape
    if method == "naive":
        naive_kernel[(blocks_for(m, TILE), blocks_for(n, TILE)), (TILE, TILE)](A, B, C)
    elif method == "tiled":
        grid, block = matmul_grid(n, m)
        tiled_kernel[grid, block](A, B, C)
    else:
        kernel, side = BLOCKED[method]
        grid = (blocks_for(m, side), blocks_for(n, side))
        kernel[grid, (BLOCK_THREADS, BLOCK_THREADS)](A, B, C)
    return C
