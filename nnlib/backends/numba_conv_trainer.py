"""Conv stacks on ``backend="numba"``: the layer-by-layer trainer with BLAS on one thread (notebook 08).

A network with Conv2D layers is not one of the Dense stacks the fused
trainer compiles (``numba_fused``), so it runs layer by layer
(``layerwise.LayerwiseTrainer``): each conv layer is im2col + one matrix
product through SciPy's BLAS (``kernels/conv_cpu.py``). The products of the
chapter's CNN are small (at most 64 x 288 x 512 per mini-batch of 32), and
OpenBLAS splitting each of them over threads costs more than it gains: on
the 2-core course machine an epoch of chapter 8's CNN took 0.2 s with one
BLAS thread against 0.8-2.4 s with the default two (measured under load,
2026-12-01). So this trainer runs each epoch (and each predict) with the
BLAS libraries limited to one thread (``blas_threads.one_blas_thread``, shared
with the recurrent layers), and restores the previous setting afterwards.

Its epoch is LayerwiseTrainer's loop with two savings (``train_step``):
the layers' kernel pairs are called directly, without the checks of
``Layer.forward``/``backward`` on every mini-batch (``fit`` checked X
against every layer once, and each kernel's output is the next one's
valid input), and a first Conv2D layer computes no dx (its input is the
data, no layer needs that gradient).
"""
from nnlib.backends import numba_conv
from nnlib.backends.blas_threads import one_blas_thread
from nnlib.backends.layerwise import LayerwiseTrainer, optimizer_step

# op -> backward without dx, for the first layer: (dout, cache) -> the parameters' gradients
PARAM_GRADIENTS = {"conv2d": numba_conv.conv2d_param_gradients}


class NumbaConvTrainer(LayerwiseTrainer):
    """LayerwiseTrainer for stacks with Conv2D layers, each epoch with single-threaded BLAS."""

    @classmethod
    def build(cls, layers, backend="numba"):
        """A trainer for ``layers`` if any is a Conv2D, else None."""
        from nnlib.layers.conv import Conv2D

        return cls(layers, backend) if any(isinstance(layer, Conv2D) for layer in layers) else None

    def train_epoch(self, X, y_int, y_float, order, batch_size, optimizer, loss):
        """One epoch, as LayerwiseTrainer's, by ``train_step``, with BLAS on one thread."""
        steps = [(layer, *layer.kernel_pair(self.backend)) for layer in self.layers]
        loss_fn = self.losses[loss]
        loss_sum, correct = 0.0, 0
        with one_blas_thread():
            for start in range(0, X.shape[0], batch_size):
                idx = order[start:start + batch_size]
                y_b = y_int[idx] if loss == "cross_entropy" else y_float[idx]
                out, loss_value = train_step(steps, X[idx], y_b, loss_fn)
                optimizer_step(self.layers, optimizer, self.backend)
                loss_sum += loss_value * len(idx)
                if loss == "cross_entropy":
                    correct += int((out.argmax(axis=1) == y_b).sum())
        return loss_sum / X.shape[0], correct

    def predict(self, X, batch_size=1024):
        with one_blas_thread():
            return super().predict(X, batch_size)


def train_step(steps, x, y, loss_fn):
    """Forward and backward of one mini-batch; fills every layer's gradients, returns (output, loss).

    ``steps``: (layer, forward, backward) per layer, the layer's kernel pair
    (``Layer.kernel_pair``). The same computation as ``Layer.forward`` and
    ``Layer.backward`` in turn, without their per-call checks.
    """
    caches = []
    for layer, fwd, _ in steps:
        x, cache = fwd(x, *layer.forward_args(x, True))  # (batch, ...) of the next layer
        caches.append(cache)
    loss_value, dout = loss_fn(x, y)
    for k in range(len(steps) - 1, -1, -1):
        layer, _, bwd = steps[k]
        if k == 0 and layer.op in PARAM_GRADIENTS:
            grads = PARAM_GRADIENTS[layer.op](dout, caches[0])  # no dx: the input is data
        elif layer.param_names:
            dout, *grads = bwd(dout, caches[k])
        else:
            dout, grads = bwd(dout, caches[k]), ()
        for g, value in zip(layer.gradients(), grads):
            g[...] = value
    return x, loss_value
