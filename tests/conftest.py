"""Test-suite set-up that must happen before Numba is imported.

Without an NVIDIA GPU, numba.cuda runs kernels in its CUDA simulator, so the
CUDA backend is tested everywhere; with a GPU the same tests run for real.
The simulator is chosen by an environment variable that Numba reads at
import time, hence this file sets it before anything imports nnlib.
"""
import glob
import os
import sys


def _has_nvidia_gpu():
    return bool(glob.glob("/dev/nvidia[0-9]*"))


if "NUMBA_ENABLE_CUDASIM" not in os.environ and not _has_nvidia_gpu():
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    # pytest imports numba before any conftest when it resolves the
    # "error::numba.NumbaWarning" filter of pyproject.toml, and numba reads
    # its config at import: make it read the variable again (numba.cuda
    # itself is not imported yet, so it then starts in the simulator).
    if "numba" in sys.modules:
        from numba.core import config as numba_config
        numba_config.reload_config()


# --------------------------------------------------------------------------
# Shared fixtures of the core tests (nnlib is imported lazily, after the
# simulator choice above).
# --------------------------------------------------------------------------
import numpy as np  # noqa: E402
import pytest  # noqa: E402

BACKENDS = ("numpy", "numba")


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test once with the NumPy reference and once with the Numba kernels."""
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def clear_error():
    """Assert that calling fn raises a ValueError/TypeError naming the problem.

    Usage: clear_error(fn, "shape", "(3, 2)"): every key word must appear in
    the message (case-insensitive), and the error must be nnlib's own, never a
    Numba typing error or a message mentioning numba.
    """
    import numba.core.errors

    def check(fn, *keywords, kinds=(ValueError, TypeError)):
        with pytest.raises(kinds) as info:
            fn()
        exc = info.value
        message = str(exc)
        assert not isinstance(exc, numba.core.errors.NumbaError), message
        assert type(exc).__module__.split(".")[0] != "numba", message
        # 'numba' may only appear as the quoted name of the backend option.
        assert "numba" not in message.lower().replace("'numba'", ""), message
        for word in keywords:
            assert word.lower() in message.lower(), f"{word!r} not in: {message}"
        return message

    return check
