"""nnlib: the small, readable neural-network library behind the course.

NumPy reference in ``nnlib.functional``; Numba kernels in ``nnlib.kernels``.
"""
from nnlib import functional
from nnlib.history import History
from nnlib.layers import Dense, ReLU, Sigmoid, Tanh
from nnlib.model import Sequential
from nnlib.optim import SGD, Adam
from nnlib.perceptron import Perceptron

__version__ = "0.1.0"
__all__ = [
    "Adam", "Dense", "History", "Perceptron", "ReLU", "SGD", "Sequential",
    "Sigmoid", "Tanh", "functional", "__version__",
]
