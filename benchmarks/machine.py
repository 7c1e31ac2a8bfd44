"""The machine behind the timings: CPU, thread settings, which BLAS kernels, versions."""
import ctypes
import os
import platform

import numpy as np

from benchmarks.peers import torch_available


def environment():
    """What the timings depend on: CPU, thread settings, BLAS, versions."""
    import numba

    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "numba": numba.__version__}
    torch_threads = None
    if torch_available():
        import torch

        versions["torch"] = torch.__version__
        torch_threads = torch.get_num_threads()
    env = {"cpu": _cpu_name(), "cpus_usable": len(os.sched_getaffinity(0)),
           "torch_threads": torch_threads, "versions": versions,
           "numpy_blas": _numpy_blas(), "openblas_cores": openblas_cores()}
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        env[var] = os.environ.get(var, "unset")
    return env


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def openblas_cores():
    """{library: the CPU kernels OpenBLAS chose} for each OpenBLAS loaded in this process.

    NumPy and SciPy (whose BLAS Numba's np.dot calls) each bring one.
    OPENBLAS_CORETYPE overrides the choice, e.g. Haswell kernels (AVX2) on a
    CPU that would get SkylakeX (AVX-512) ones. Empty where unknown.
    """
    import scipy.linalg  # noqa: F401 (loads SciPy's OpenBLAS, as Numba's np.dot does)

    cores = {}
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return cores
    for path in sorted(p for p in paths if ".so" in p):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("openblas_get_corename", "scipy_openblas_get_corename",
                       "scipy_openblas_get_corename64_"):
            if hasattr(lib, symbol):
                getter = getattr(lib, symbol)
                getter.restype = ctypes.c_char_p
                cores[os.path.basename(path)] = getter().decode()
                break
    return cores


def _numpy_blas():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # the layout of show_config differs between NumPy versions
        return "unknown"
