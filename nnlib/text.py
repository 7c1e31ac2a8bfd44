"""A small public-domain text for character-level models (notebook 09).

``load_constitution()`` returns the Constitution of the United States
(45,345 ASCII characters), bundled in ``nnlib/datasets/us-constitution.txt.gz``
with its source and public-domain statement in
``nnlib/datasets/US_CONSTITUTION_LICENSE.txt``; its SHA-256 is checked on
every first load, as ``nnlib.data`` checks the digits. No download.

``Vocabulary`` maps characters to symbol numbers 0..V-1 and back.
"""
import functools
import gzip
import importlib.resources

import numpy as np

from nnlib.data import read_packaged

TEXT_FILE = "datasets/us-constitution.txt.gz"
TEXT_SHA256 = "4c3725d4be3f4be622d32f359fb3b0ac4e610f6342e13240f047be8118979935"


@functools.lru_cache(maxsize=1)
def load_constitution():
    """The Constitution of the United States as one str (public domain; see the licence file)."""
    source = importlib.resources.files(__package__).joinpath(TEXT_FILE)
    raw = read_packaged(source, TEXT_SHA256, "text file")
    return gzip.decompress(raw).decode("ascii")


class Vocabulary:
    """The sorted set of characters of a text: ``encode`` str -> ints, ``decode`` ints -> str."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.index = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        """(len(text),) int64 symbol numbers; a clear error for a character not in the vocabulary."""
        missing = sorted(set(text) - set(self.index))
        if missing:
            raise ValueError(
                f"characters {''.join(missing)!r} are not in the vocabulary of {len(self)} "
                f"characters; use only characters of the training text.")
        return np.array([self.index[ch] for ch in text], dtype=np.int64)

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in ids)


def next_char_windows(ids, T, stride=None):
    """(inputs, targets), each (n, T) ints: windows of ``ids`` and the same shifted by one.

    Window k starts at k * stride (default: T, not overlapping); the target
    at step t is the character after input t.
    """
    stride = T if stride is None else stride
    starts = np.arange(0, len(ids) - T - 1, stride)
    idx = starts[:, None] + np.arange(T)  # (n, T)
    return ids[idx], ids[idx + 1]
