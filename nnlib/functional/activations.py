"""Elementwise activations a = sigma(z): the reference pairs (notebooks 02, 03 and 04)."""
import numpy as np


# --------------------------------------------------------------------------
# Activations -- notebooks 02 (sigmoid), 03 (relu, tanh), 04 (backward)
# --------------------------------------------------------------------------
def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), computed without overflow.

    Stability trick (two branches): for z >= 0 use 1 / (1 + exp(-z)); for
    z < 0 use exp(z) / (1 + exp(z)). Both only ever exponentiate a
    non-positive number, so |z| = 1000 gives 0 or 1, never a warning.
    """
    z = np.asarray(z, dtype=np.result_type(z, np.float32))
    with np.errstate(under="ignore"):  # exp(-1000) = 0 is the right answer
        e = np.exp(-np.abs(z))  # in [0, 1], never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_forward(z):
    """a = sigma(z), any shape. Cache: a (the derivative needs only a)."""
    a = sigmoid(z)
    return a, a


def sigmoid_backward(dout, cache):
    """dz = dout * a * (1 - a), since sigma'(z) = sigma(z) (1 - sigma(z))."""
    a = cache
    return dout * a * (1.0 - a)


def relu_forward(z):
    """a = max(0, z), any shape. Cache: z."""
    z = np.asarray(z)
    return np.maximum(z, 0.0).astype(z.dtype, copy=False), z


def relu_backward(dout, cache):
    """dz = dout where z > 0, else 0 (we take the subgradient 0 at z = 0)."""
    z = cache
    return dout * (z > 0)


def tanh_forward(z):
    """a = tanh(z), any shape (np.tanh saturates cleanly). Cache: a."""
    a = np.tanh(z)
    return a, a


def tanh_backward(dout, cache):
    """dz = dout * (1 - a**2), since tanh'(z) = 1 - tanh(z)**2."""
    a = cache
    return dout * (1.0 - a * a)


def identity_forward(z):
    """a = z (a layer with no activation). Cache: None."""
    return z, None


def identity_backward(dout, cache):
    """dz = dout."""
    return dout


ACTIVATIONS = {
    "identity": (identity_forward, identity_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "relu": (relu_forward, relu_backward),
    "tanh": (tanh_forward, tanh_backward),
}
