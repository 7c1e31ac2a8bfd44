"""The numbers every backend agrees on: operation codes and the optimizer's hyper-parameters.

Compiled kernels cannot take a Python string or an object, so an activation,
a loss or an optimizer travels into them as a small integer code, and the
optimizer's settings as one named tuple. Both are defined here, once, and
imported by the NumPy-facing code (``nnlib.layers``, ``nnlib.optim``), the
Numba kernels (``kernels.cpu``, ``kernels.mlp_cpu``) and the CUDA kernels
(``kernels.cuda``, ``kernels.mlp_cuda``).
"""
from typing import NamedTuple

# Activations a = sigma(z) (notebooks 02 and 03).
IDENTITY, SIGMOID, RELU, TANH = 0, 1, 2, 3
ACT_CODES = {"identity": IDENTITY, "sigmoid": SIGMOID, "relu": RELU, "tanh": TANH}

# Losses L(y_hat, y) (notebooks 02, 04 and 05).
CROSS_ENTROPY, MSE, BCE = 0, 1, 2
LOSS_CODES = {"cross_entropy": CROSS_ENTROPY, "mse": MSE, "bce": BCE}

# Optimizers (notebook 05).
OPT_SGD, OPT_ADAM = 0, 1


class Hyper(NamedTuple):
    """An optimizer's settings, by name, as the kernels read them.

    SGD reads lr, momentum, weight_decay; Adam reads lr, beta1, beta2, eps,
    weight_decay. Numba compiles a named tuple of floats like a struct, so
    the kernels say ``hyper.lr``, never ``hyper[0]``.
    """

    lr: float
    momentum: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float


class MLPArrays(NamedTuple):
    """The arrays of a fused MLP, as both fused trainers take them (one per layer l).

    W[l] (n_l, n_{l+1}) and b[l] (n_{l+1},) are the layer's own parameters
    (updated in place), dW[l] and db[l] their gradients, act[l] the code of
    the activation after layer l. The optimizer's state is two slots per
    parameter: state1 (SGD's velocity, Adam's first moment m) and state2
    (Adam's second moment v; SGD leaves it unused). Weight decay applies to
    W only, never to b (``nnlib.layers.Dense.decayed``).
    """

    W: tuple
    b: tuple
    dW: tuple
    db: tuple
    act: object
    state1_W: tuple
    state1_b: tuple
    state2_W: tuple
    state2_b: tuple
