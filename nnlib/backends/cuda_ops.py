"""The numba.cuda kernels behind the reference's signatures, for layer-by-layer runs.

The twin of ``numba_ops`` for ``backend="cuda"``: same functions, same
signatures as ``nnlib.functional``, host NumPy arrays in and out. Each call
copies its inputs to the device, launches the kernels of
``nnlib.kernels.cuda`` and copies the results back: correct on any stack,
but the transfers cost more than the maths, so Dense stacks train through
``cuda_fused`` instead, where everything stays on the device.
"""
import functools

import numpy as np
from numba import cuda

from nnlib.functional.losses import sequence_cross_entropy
from nnlib.kernels import cuda as cuda_kernels
from nnlib.kernels.codes import ACT_CODES, IDENTITY


def dense_forward(x, W, b):
    """z = x @ W + b on the device. x: (batch, n_in) -> z: (batch, n_out)."""
    x = np.ascontiguousarray(x)
    z = cuda.device_array((x.shape[0], W.shape[1]), dtype=W.dtype)
    cuda_kernels.dense_forward(cuda.to_device(x), cuda.to_device(W), cuda.to_device(b), IDENTITY, z)
    return z.copy_to_host(), (x, W)


def dense_backward(dout, cache):
    """(dx, dW, db) of z = x @ W + b, on the device."""
    x, W = cache
    dx = cuda.device_array(x.shape, dtype=x.dtype)
    dW = cuda.device_array(W.shape, dtype=W.dtype)
    db = cuda.device_array(W.shape[1], dtype=W.dtype)
    cuda_kernels.dense_backward(cuda.to_device(np.ascontiguousarray(dout, dtype=W.dtype)),
                                cuda.to_device(x), cuda.to_device(W), dx, dW, db, True)
    return dx.copy_to_host(), dW.copy_to_host(), db.copy_to_host()


def _activation_pair(name):
    """(forward, backward) of an elementwise activation, for z of any shape."""
    code = ACT_CODES[name]

    def forward(z):
        shape = np.shape(z)
        d = cuda.to_device(np.array(z, order="C", copy=True).reshape(1, -1))  # (1, z.size)
        cuda_kernels.activate(d, code)
        a = d.copy_to_host().reshape(shape)
        return a, a

    def backward(dout, a):
        d_a = cuda.to_device(a.reshape(1, -1))
        dz = cuda.device_array_like(d_a)
        dout = np.ascontiguousarray(dout, dtype=a.dtype).reshape(1, -1)
        cuda_kernels.activation_backward(cuda.to_device(dout), d_a, code, dz)
        return dz.copy_to_host().reshape(a.shape)

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
        d = cuda.device_array(y_hat.shape, dtype=y_hat.dtype)
        value = kernel(cuda.to_device(y_hat), cuda.to_device(y), d)
        return float(value), d.copy_to_host()
    loss.__name__ = kernel.__name__
    return loss


_CROSS_ENTROPY = _loss(cuda_kernels.softmax_cross_entropy, labels=True)
LOSSES = {
    "cross_entropy": _CROSS_ENTROPY,
    # every step of (N, T, V) logits as one (N*T, V) batch for the kernel above
    "sequence_cross_entropy": functools.partial(sequence_cross_entropy, cross_entropy=_CROSS_ENTROPY),
    "mse": _loss(cuda_kernels.mse),
    "bce": _loss(cuda_kernels.binary_cross_entropy),
}


def _in_place(update):
    """An update that takes host arrays: they go to the device and come back updated."""
    def run(param, grad, *state_and_settings):
        n_state = sum(isinstance(a, np.ndarray) for a in state_and_settings)
        arrays = [param, grad, *state_and_settings[:n_state]]
        dev = [cuda.to_device(a) for a in arrays]
        update(*dev, *state_and_settings[n_state:])
        for host, d in zip(arrays, dev):
            if host is not grad:
                d.copy_to_host(host)
    run.__name__ = update.__name__
    return run


sgd_update = _in_place(cuda_kernels.sgd_update)
adam_update = _in_place(cuda_kernels.adam_update)
