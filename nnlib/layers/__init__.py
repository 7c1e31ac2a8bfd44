"""Layer objects: each wraps one forward/backward pair of ``nnlib.functional``.

The contract is in ``nnlib.layers.base``. A layer remembers what its
backward needs (the cache) and its parameters (Dense: ``W``, ``b``) and
their gradients (``dW``, ``db``). The backend is chosen by the caller, per
call: ``layer.forward(x, backend="numpy")`` runs the reference,
``backend="numba"`` (the default) the compiled kernels.

Taught in notebooks 03 (forward) and 04 (backward).
"""
from nnlib.backends import BACKENDS
from nnlib.layers.activations import Activation, ReLU, Sigmoid, Tanh
from nnlib.layers.base import Layer
from nnlib.layers.conv import Conv2D, Flatten, MaxPool2D
from nnlib.layers.norm import BatchNorm, Dropout
from nnlib.layers.recurrent import LSTM, RNN
from nnlib.layers.dense import INITS, Dense
from nnlib.layers.sequence import TimeDense

__all__ = ["BACKENDS", "INITS", "LSTM", "RNN", "Activation", "BatchNorm", "Conv2D", "Dense",
           "Dropout", "Flatten", "Layer", "MaxPool2D", "ReLU", "Sigmoid", "Tanh"]
__all__ += ["TimeDense"]  # notebook 09
