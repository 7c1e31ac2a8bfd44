"""BLAS on one thread, for the layers whose matrix products are too small to share.

On 2 cores, OpenBLAS's threads cost more than they give for the per-step
products of a recurrent layer ((32, 128) x (128, 512)) and the small conv
products of notebook 08; under load they made epochs several times slower
(see ``numba_recurrent`` and ``numba_conv_trainer``). ``one_blas_thread()``
is a context manager that limits every BLAS library in the process to one
thread and restores the previous settings on exit.
"""
import functools


@functools.lru_cache(maxsize=1)
def _controller():
    """The BLAS libraries loaded in this process (found once: ~1 ms; a limit then costs ~15 us).

    Numba's np.dot calls SciPy's BLAS (``scipy.linalg.cython_blas``), which is
    imported here first so that the controller sees it, not only NumPy's.
    """
    import scipy.linalg.cython_blas  # noqa: F401  (loads the library the kernels call)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """A context manager: every BLAS library (NumPy's and SciPy's OpenBLAS) on one thread inside it."""
    return _controller().limit(limits=1, user_api="blas")
