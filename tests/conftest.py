"""Test-suite set-up that must happen before Numba is imported.

Without an NVIDIA GPU, numba.cuda runs kernels in its CUDA simulator, so the
CUDA backend is tested everywhere; with a GPU the same tests run for real.
The simulator is chosen by an environment variable that Numba reads at
import time, hence this file sets it before anything imports nnlib.
"""
import glob
import os


def _has_nvidia_gpu():
    return bool(glob.glob("/dev/nvidia[0-9]*"))


if "NUMBA_ENABLE_CUDASIM" not in os.environ and not _has_nvidia_gpu():
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
