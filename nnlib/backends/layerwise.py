"""The layer-by-layer trainer: any stack of nnlib layers, on any backend its layers have kernels for.

This is the loop notebook 04 derives, and the reference the fused trainers
are tested against: for each mini-batch, forward through every layer, the
loss and its gradient, backward through every layer in reverse, one
optimizer step. The backend is passed to every call: each layer runs its
own kernels for it (``Layer.kernels``), the loss and the optimizer those of
``nnlib.backends.ops(backend)``.
"""
import numpy as np

from nnlib.backends import ops


def forward(layers, x, backend, training):
    """The stack's output for x: each layer's forward on ``backend``."""
    for layer in layers:
        x = layer.forward(x, backend=backend, training=training)
    return x


def backward(layers, dout, need_dx=True):
    """Backpropagate dL/d(output) through the stack; fills every layer's gradients.

    Returns dL/d(input); with need_dx=False (training: nothing uses it) the
    first layer may skip computing it and None comes back.
    """
    for k in range(len(layers) - 1, -1, -1):
        dout = layers[k].backward(dout, need_dx=need_dx or k > 0)
    return dout


def optimizer_step(layers, optimizer, backend):
    """One optimizer step on every layer's (param, grad) pairs, weight decay where the layer says."""
    pairs = [(p, g) for layer in layers for p, g in zip(layer.parameters(), layer.gradients())]
    decay = [name in layer.decayed for layer in layers for name in layer.param_names]
    optimizer.step(pairs, backend=backend, decay=decay)


class LayerwiseTrainer:
    """Runs ``layers`` one at a time on ``backend``; refuses a layer without kernels for it."""

    def __init__(self, layers, backend):
        for layer in layers:
            layer.kernel_pair(backend)  # a clear error now, not in the middle of a fit
        self.layers = layers
        self.backend = backend
        self.losses = ops(backend).LOSSES

    def start_fit(self, X, y_int, y_float):
        """Nothing to prepare: the data is already where this backend computes."""

    def train_epoch(self, X, y_int, y_float, order, batch_size, optimizer, loss):
        """One epoch over the rows of X in the given order; returns (mean loss, correct count)."""
        loss_fn = self.losses[loss]
        loss_sum, correct = 0.0, 0
        for start in range(0, X.shape[0], batch_size):
            idx = order[start:start + batch_size]
            y_b = y_int[idx] if loss == "cross_entropy" else y_float[idx]
            out = forward(self.layers, X[idx], self.backend, training=True)
            loss_value, dout = loss_fn(out, y_b)
            backward(self.layers, dout, need_dx=False)
            optimizer_step(self.layers, optimizer, self.backend)
            loss_sum += loss_value * len(idx)
            if loss == "cross_entropy":
                correct += int((out.argmax(axis=1) == y_b).sum())
        return loss_sum / X.shape[0], correct

    def predict(self, X, batch_size=1024):
        """The stack's output for X in evaluation mode, batch by batch."""
        outs = [forward(self.layers, X[s:s + batch_size], self.backend, training=False)
                for s in range(0, X.shape[0], batch_size)]
        return np.concatenate(outs) if len(outs) > 1 else outs[0]
