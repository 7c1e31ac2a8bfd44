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
BLAS libraries limited to one thread, through threadpoolctl, and restores
the previous setting afterwards; everything else is LayerwiseTrainer's.
"""
import scipy.linalg.cython_blas  # noqa: F401 - loads the BLAS that Numba's np.dot calls, for threadpoolctl to see

from nnlib.backends.layerwise import LayerwiseTrainer

_CONTROLLER = []  # one ThreadpoolController per process, made on first use (it scans the loaded libraries)


def one_blas_thread():
    """A context manager: the BLAS libraries (NumPy's and SciPy's OpenBLAS) on one thread inside it."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


class NumbaConvTrainer(LayerwiseTrainer):
    """LayerwiseTrainer for stacks with Conv2D layers, each epoch with single-threaded BLAS."""

    @classmethod
    def build(cls, layers, backend="numba"):
        """A trainer for ``layers`` if any is a Conv2D, else None."""
        from nnlib.layers.conv import Conv2D

        return cls(layers, backend) if any(isinstance(layer, Conv2D) for layer in layers) else None

    def train_epoch(self, X, y_int, y_float, order, batch_size, optimizer, loss):
        with one_blas_thread():
            return super().train_epoch(X, y_int, y_float, order, batch_size, optimizer, loss)

    def predict(self, X, batch_size=1024):
        with one_blas_thread():
            return super().predict(X, batch_size)
