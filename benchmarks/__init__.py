"""``make bench`` (``python -m benchmarks``): nnlib's Numba path against its peers.

One process, one architecture, one data set per case; every peer starts from
the same initial weights, and after one epoch on the same batch order their
losses and weights must agree (``benchmarks.check``) before anything is timed.
Then each peer trains epoch after epoch, the peers interleaved, and the
median epoch time is reported next to the BLAS bound (the epoch's FLOPs at
NumPy's measured GEMM rate). Results go to a table and to JSON.

Modules: ``cases`` (what is trained), ``peers`` (nnlib numba, nnlib numpy,
PyTorch eager), ``check`` (answers first), ``timing`` (interleaved medians,
the BLAS rate), ``startup`` (import and first-fit time in fresh processes),
``report`` (table, JSON), ``run`` (all of it). The GPU benchmark is separate:
``python -m benchmarks.gpu`` (``benchmarks/gpu.py``).
"""
