"""Compiled kernels: ``cpu`` (Numba ``@njit``) and ``cuda`` (``numba.cuda``).

Every kernel here has a NumPy reference in ``nnlib.functional`` with the
same meaning, and the tests compare the two on random inputs.
"""
