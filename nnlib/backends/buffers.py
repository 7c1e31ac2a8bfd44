"""The one buffer rule of the compiled trainers.

Work buffers (a layer's outputs A[l] and gradients D[l], shape (batch_size,
width_l)) are made once per (batch size, dtype) and kept, at most
``MAX_SIZES`` of them (fit's batch, predict's batch, ...), the oldest
dropped first. A last batch smaller than batch_size uses the first rows.
"""
import numpy as np

MAX_SIZES = 4


class BufferCache:
    """buffers(batch_size, dtype) -> (A, D), made by ``make(batch_size, dtype)`` on first use."""

    def __init__(self, make):
        self._make = make
        self._kept = {}

    def __call__(self, batch_size, dtype):
        key = (batch_size, np.dtype(dtype).str)
        if key not in self._kept:
            if len(self._kept) >= MAX_SIZES:
                del self._kept[next(iter(self._kept))]  # the oldest size
            self._kept[key] = self._make(batch_size, np.dtype(dtype))
        return self._kept[key]
