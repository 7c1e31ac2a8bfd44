"""The Numba CPU kernels behind the reference's signatures, for layer-by-layer runs.

Each function here has the signature of its twin in ``nnlib.functional``
(``dense_forward(x, W, b) -> (z, cache)``, ``dense_backward(dout, cache) ->
(dx, dW, db)``, ``softmax_cross_entropy(logits, y) -> (loss, dlogits)``)
and runs the compiled kernel of ``nnlib.kernels.cpu``: it allocates the
output the kernel writes into and hands it C-contiguous arrays. Callers
(the layers, the layer-by-layer trainer) have checked shapes and dtypes.
The optimizer updates (``sgd_update``, ``adam_update``) are the kernels
themselves: in place, on flat views.
"""
import functools

import numpy as np

from nnlib.functional.losses import sequence_cross_entropy
from nnlib.kernels import cpu
from nnlib.kernels.codes import ACT_CODES, IDENTITY



def sgd_update(param, grad, velocity, lr, momentum, weight_decay):
    """In place SGD step on flat C-contiguous views (``cpu.sgd_update``)."""
    cpu.sgd_update(param, grad, velocity, lr, momentum, weight_decay)


def adam_update(param, grad, m, v, lr, beta1, beta2, eps, t, weight_decay):
    """In place Adam step t on flat C-contiguous views (``cpu.adam_update``)."""
    cpu.adam_update(param, grad, m, v, lr, beta1, beta2, eps, t, weight_decay)


def dense_forward(x, W, b):
    """z = x @ W + b by ``cpu.dense_forward``. x: (batch, n_in) -> z: (batch, n_out)."""
    x = np.ascontiguousarray(x)
    z = np.empty((x.shape[0], W.shape[1]), dtype=W.dtype)
    cpu.dense_forward(x, W, b, IDENTITY, z)
    return z, (x, W)


def dense_backward(dout, cache):
    """(dx, dW, db) of z = x @ W + b by ``cpu.dense_backward``."""
    x, W = cache
    dx, dW, db = np.empty_like(x), np.empty_like(W), np.empty(W.shape[1], dtype=W.dtype)
    cpu.dense_backward(np.ascontiguousarray(dout, dtype=W.dtype), x, W, dx, dW, db, True)
    return dx, dW, db


def _activation_pair(name):
    """(forward, backward) of an elementwise activation, for z of any shape."""
    code = ACT_CODES[name]

    def forward(z):
        # The kernel is elementwise: hand it one contiguous row, whatever z's shape.
        a = np.array(z, order="C", copy=True).reshape(1, -1)  # (1, z.size)
        cpu.activate(a, code)
        a = a.reshape(np.shape(z))
        return a, a

    def backward(dout, a):
        a2 = a.reshape(1, -1)  # (1, a.size), as in forward
        dz = np.empty_like(a2)
        cpu.activation_backward(np.ascontiguousarray(dout, dtype=a.dtype).reshape(a2.shape), a2,
                                code, dz)
        return dz.reshape(a.shape)

    forward.__name__, backward.__name__ = f"{name}_forward", f"{name}_backward"
    return forward, backward


sigmoid_forward, sigmoid_backward = _activation_pair("sigmoid")
relu_forward, relu_backward = _activation_pair("relu")
tanh_forward, tanh_backward = _activation_pair("tanh")
identity_forward, identity_backward = _activation_pair("identity")


def _loss(kernel, labels=False):
    """A loss with the reference's signature: (y_hat, y) -> (mean loss, dL/dy_hat)."""
    def loss(y_hat, y):
        y_hat = np.ascontiguousarray(y_hat)
        if labels:
            y = np.ascontiguousarray(y, dtype=np.int64)
        else:
            y = np.ascontiguousarray(y, dtype=y_hat.dtype).reshape(y_hat.shape)
        d = np.empty_like(y_hat)
        return float(kernel(y_hat, y, d)), d
    loss.__name__ = kernel.__name__
    return loss


_CROSS_ENTROPY = _loss(cpu.softmax_cross_entropy, labels=True)
LOSSES = {
    "cross_entropy": _CROSS_ENTROPY,
    # every step of (N, T, V) logits as one (N*T, V) batch for the kernel above
    "sequence_cross_entropy": functools.partial(sequence_cross_entropy, cross_entropy=_CROSS_ENTROPY),
    "mse": _loss(cpu.mse),
    "bce": _loss(cpu.binary_cross_entropy),
}
