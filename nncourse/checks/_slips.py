"""Recognise a plausible slip by what it returns (used by the checks of chapters 3-5).

A check knows the classic mistakes of its exercise (a transposed W, a
forgotten bias, a mean instead of a sum) and what each would return on the
check's input. When the learner's answer is wrong and equals one of them,
the failure message gets that slip's one-sentence advice.
"""
import numpy as np

from nncourse.checks import CheckFailed, expect_array, expect_scalar


def diagnose(got, slips):
    """The advice of the first slip whose result equals ``got``, else "".

    slips: [(what that slip returns, advice)]; results that cannot be
    computed for this input (e.g. a shape that does not chain) are None.
    """
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    for value, advice in slips:
        if value is None:
            continue
        value = np.asarray(value, dtype=np.float64)
        if value.shape == arr.shape and np.allclose(arr, value, rtol=1e-6, atol=1e-9):
            return f" {advice}"
    return ""


def expect_array_explained(got, expected, what, slips, **tolerances):
    """``expect_array``, plus the advice of a recognised slip when it fails."""
    try:
        return expect_array(got, expected, what, **tolerances)
    except CheckFailed as failure:
        raise failure.with_advice(diagnose(got, slips)) from None


def expect_scalar_explained(got, expected, what, slips, **tolerances):
    """``expect_scalar``, plus the advice of a recognised slip when it fails."""
    try:
        return expect_scalar(got, expected, what, **tolerances)
    except CheckFailed as failure:
        raise failure.with_advice(diagnose(got, slips)) from None
