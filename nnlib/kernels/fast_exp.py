"""exp(x) for x <= 0 in a form the compiler can vectorise: the sigmoid's hot spot.

Numba compiles ``math.exp`` to a call into the C maths library, one number
per call, so a loop over a sigmoid layer cannot use the CPU's SIMD units
(8 or 16 numbers per instruction); that call was most of the sigmoid's time.
``exp_nonpositive`` uses only multiplications, additions and integer bit
operations, which LLVM vectorises; NumPy's own ``np.exp`` uses the same kind
of polynomial inside. The sigmoid (``cpu.stable_sigmoid``) only needs exp of
numbers <= 0, which keeps the range reduction simple. (The softmax keeps
math.exp: its rows of 10 are too short to gain from vectors.)

How: write x = k ln2 + r with k an integer and |r| <= ln(2)/2. Then
exp(x) = 2**k exp(r); exp(r) is its Taylor polynomial (terms up to r**12 /
12!, relative error < 2e-16) and 2**k is assembled from its IEEE-754 bits.
Accuracy: within 3 units in the last place of float64 (tests compare it with
np.exp), so the float64 kernels still match the NumPy reference to 1e-12.
"""
import math

import numpy as np
from numba import njit, types
from numba.extending import overload

INV_LN2 = 1.4426950408889634  # 1 / ln 2
# ln 2 in two parts (Cody & Waite): k * LN2_HI is exact for |k| < 2**11, so
# r = x - k ln2 loses no digits.
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
# 1/n! for n = 12, 11, ..., 0: the Taylor coefficients, highest power first (Horner)
TAYLOR = tuple(1.0 / math.factorial(n) for n in range(12, -1, -1))
UNDERFLOW = -746.0  # exp(x) is 0.0 in float64 below about -745.13


@njit(cache=True)
def pow2(k):
    """2.0**k for an integer -1022 <= k <= 1023: exponent bits k + 1023, mantissa 0."""
    return np.int64((k + 1023) << 52).view(np.float64)


@njit(cache=True, error_model="numpy")
def exp_nonpositive(x):
    """exp(x) for x <= 0 (float64 result); NaN gives NaN. See the module docstring."""
    y = max(x, UNDERFLOW)  # also keeps k >= -1077 below
    k = np.int64(y * INV_LN2 - 0.5)  # int() truncates towards 0: rounds y / ln2 to nearest
    r = (y - k * LN2_HI) - k * LN2_LO  # |r| <= ln(2) / 2
    p = 0.0
    for c in TAYLOR:
        p = p * r + c  # exp(r)
    k1 = k >> 1  # 2**k = 2**k1 * 2**(k - k1): both factors normal floats even for k < -1022
    e = p * pow2(k1) * pow2(k - k1)
    return e if x == x else x  # NaN in, NaN out (max() above would hide it)


# ---- float32: half the work per number, twice the numbers per SIMD instruction
# Same scheme in single precision (for the LSTM's gates, ``recurrent_cpu``):
# ln 2 split so that k * LN2_HI_32 is exact for |k| < 2**15, Taylor terms up
# to r**7 / 7! (truncation < 6e-9 relative, below float32's 6e-8), and the
# clamp at -87 keeps 2**k a normal float32 (k >= -126).
LN2_HI_32 = np.float32(0.693359375)  # 355 / 512
LN2_LO_32 = np.float32(-2.12194440e-4)
TAYLOR_32 = tuple(np.float32(1.0 / math.factorial(n)) for n in range(7, -1, -1))


@njit(cache=True, error_model="numpy")
def exp_nonpositive32(x):
    """exp(x) for a float32 x <= 0 in float32 arithmetic (within 2 ulp of np.exp); NaN gives NaN."""
    y = max(x, np.float32(-87.0))
    k = np.int32(y * np.float32(INV_LN2) - np.float32(0.5))  # rounds y / ln2 to nearest
    kf = np.float32(k)
    r = (y - kf * LN2_HI_32) - kf * LN2_LO_32  # |r| <= ln(2) / 2
    p = np.float32(0.0)
    for c in TAYLOR_32:
        p = p * r + c
    e = p * np.int32((k + 127) << 23).view(np.float32)  # 2**k from its exponent bits
    return e if x == x else x


def exp_nonpositive_like(x):
    """exp(x) for x <= 0 in x's precision: ``exp_nonpositive32`` for float32, else ``exp_nonpositive``."""
    raise NotImplementedError("only callable from Numba-compiled code")


@overload(exp_nonpositive_like)
def _exp_nonpositive_like(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: exp_nonpositive32(x)
    return lambda x: exp_nonpositive(x)
