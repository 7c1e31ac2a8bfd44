"""Elementwise non-linearities a = sigma(z) as layers (notebooks 02 and 03).

Each wraps the pair ``nnlib.functional.<name>_forward`` / ``_backward``;
z may have any shape (a scalar, one sample, a batch, an image batch).
"""
from nnlib._validate import as_float_array
from nnlib.layers.base import CUDA, NUMBA, REFERENCE, Layer


class Activation(Layer):
    """An elementwise non-linearity; ``op`` names its pair."""

    op = "identity"
    kernels = {"numpy": REFERENCE, "numba": NUMBA, "cuda": CUDA}
    keeps_shape = True

    def _check_input(self, z):
        return as_float_array(z, "z")

    def __repr__(self):
        return f"{type(self).__name__}()"


class Sigmoid(Activation):
    """a = 1 / (1 + exp(-z)) (stable two-branch form). Notebook 02."""

    op = "sigmoid"


class ReLU(Activation):
    """a = max(0, z). Notebook 03."""

    op = "relu"


class Tanh(Activation):
    """a = tanh(z). Notebook 03."""

    op = "tanh"
