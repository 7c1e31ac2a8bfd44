"""nnlib: the small, readable neural-network library behind the course.

NumPy reference in ``nnlib.functional``; layers in ``nnlib.layers``;
``Sequential`` in ``nnlib.model``; where the maths runs (NumPy, Numba,
CUDA) is chosen once by ``nnlib.backends``; compiled kernels in
``nnlib.kernels``.
"""
from nnlib import functional
from nnlib.history import History
from nnlib.layers import (
    LSTM, RNN, BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sigmoid, Tanh,
)
from nnlib.layers import TimeDense
from nnlib.model import Sequential
from nnlib.optim import SGD, Adam
from nnlib.perceptron import Perceptron

__version__ = "0.1.0"
__all__ = [
    "LSTM", "RNN", "SGD", "Adam", "BatchNorm", "Conv2D", "Dense", "Dropout", "Flatten", "History",
    "MaxPool2D", "Perceptron", "ReLU", "Sequential", "Sigmoid", "Tanh", "functional",
    "__version__",
]
__all__ += ["TimeDense"]  # notebook 09

# The public submodules as attributes, imported on first use (PEP 562), so
# `import nnlib; nnlib.data.load_digits()` works while `import nnlib` itself
# loads neither the data loaders nor Matplotlib (tests/test_lazy_imports.py).
_LAZY_SUBMODULES = ("data", "functional", "gradcheck", "history", "layers", "mnist", "model",
                    "optim", "perceptron", "viz")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f"nnlib.{name}")  # also binds it here: no second call
    raise AttributeError(f"module 'nnlib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
