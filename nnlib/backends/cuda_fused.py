"""The fused CUDA trainer (``backend="cuda"``) for Dense [activation] ... stacks.

``CudaFusedMLP`` stands beside ``numba_fused.NumbaFusedMLP`` with the same
``train_epoch`` and ``predict``. What crosses between host and device, and
when:

- the training data X, y: once per ``fit`` (``start_fit``);
- per epoch, to the device: the shuffled row order (N ints), the
  parameters and the optimizer state; from the device: the summed loss, the
  correct count, the parameters and the optimizer state. That keeps the
  layers' W, b and the optimizer current on the host after every epoch
  (about 0.4 MB of weights for 784-128-10) while every step stays on the GPU;
- ``predict``: the parameters and X up, the outputs down.

Without a GPU, numba.cuda runs in its simulator when NUMBA_ENABLE_CUDASIM=1
was set before Numba is imported (correctness only: it is very slow).
"""
import numpy as np
from numba import cuda

from nnlib.backends.buffers import BufferCache
from nnlib.backends.fusable import dense_stack
from nnlib.kernels import mlp_cuda
from nnlib.kernels.codes import LOSS_CODES


class CudaFusedMLP:
    """Dense layers and the activation code after each, trained on the device by ``mlp_cuda``."""

    def __init__(self, dense, acts):
        self.dense = dense
        self.acts = [int(a) for a in acts]
        self._data = None  # (host X it came from, device X, device y_int, device y_float)
        self._net = None  # a mlp_cuda.FlatMLP
        self._bounds = None  # where each parameter starts in the flat vectors
        widths = [dense[0].n_in] + [d.n_out for d in dense]
        self.buffers = BufferCache(lambda n, dtype: (
            [cuda.device_array((n, w), dtype=dtype) for w in widths],  # A
            [None] + [cuda.device_array((n, w), dtype=dtype) for w in widths[1:]],  # D (D[0] unused)
        ))

    @classmethod
    def build(cls, layers):
        stack = dense_stack(layers)
        return None if stack is None else cls(*stack)

    # ---- host <-> device
    def start_fit(self, X, y_int, y_float):
        """The training data to the device: the one large transfer of a fit."""
        # only the targets the loss reads travel (the other array is empty)
        up = [cuda.to_device(a) if a.size else a for a in (X, y_int, y_float)]
        self._data = (X, *up)

    def _device_data(self, X, y_int, y_float):
        if self._data is None or self._data[0] is not X:  # train_epoch called without start_fit
            self.start_fit(X, y_int, y_float)
        return self._data[1:]

    def _params(self):
        """Host arrays in the device's flat order: every W, then every b."""
        return [d.W for d in self.dense] + [d.b for d in self.dense]

    def _device_net(self):
        params = self._params()
        dtype = params[0].dtype
        if self._net is None or self._net.theta.dtype != dtype:
            bounds = np.cumsum([0] + [p.size for p in params])
            theta = cuda.device_array(int(bounds[-1]), dtype=dtype)
            grad = cuda.device_array_like(theta)
            views = [(theta[a:z].reshape(p.shape), grad[a:z].reshape(p.shape))
                     for p, a, z in zip(params, bounds[:-1], bounds[1:])]
            n_layers = len(self.dense)
            self._bounds = bounds
            self._net = mlp_cuda.FlatMLP(
                W=[v[0] for v in views[:n_layers]], b=[v[0] for v in views[n_layers:]],
                dW=[v[1] for v in views[:n_layers]], db=[v[1] for v in views[n_layers:]],
                act=self.acts, theta=theta, grad=grad,
                state1=cuda.device_array_like(theta), state2=cuda.device_array_like(theta),
                n_weights=int(bounds[n_layers]),
            )
        return self._net

    def _upload(self, optimizer=None):
        """Parameters (and the optimizer's state) from the host into the device's flat vectors."""
        net = self._device_net()
        net.theta.copy_to_device(self._gather(self._params()))
        if optimizer is not None:
            state = optimizer.init_state([p for d in self.dense for p in (d.W, d.b)])
            for slot, dest in ((0, net.state1), (-1, net.state2)):  # SGD has one slot: state2 unused
                dest.copy_to_device(self._gather(self._state_slot(state, slot)))
        return net

    def _download(self, optimizer):
        """Parameters and optimizer state from the device back into the host's own arrays."""
        net = self._net
        self._scatter(net.theta.copy_to_host(), self._params())
        for slot, src in enumerate((net.state1, net.state2)[:optimizer.n_slots]):
            self._scatter(src.copy_to_host(), self._state_slot(optimizer.state, slot))

    def _state_slot(self, state, slot):
        """One state slot per parameter, in the flat order (state is in the order W0, b0, W1, ...)."""
        n_layers = len(self.dense)
        return ([state[2 * l][slot] for l in range(n_layers)]
                + [state[2 * l + 1][slot] for l in range(n_layers)])

    @staticmethod
    def _gather(arrays):
        return np.concatenate([a.ravel() for a in arrays])

    def _scatter(self, flat, targets):
        for dest, a, z in zip(targets, self._bounds[:-1], self._bounds[1:]):
            dest[...] = flat[a:z].reshape(dest.shape)

    # ---- the trainer's two calls
    def train_epoch(self, X, y_int, y_float, order, batch_size, optimizer, loss):
        """One epoch on the device; returns (mean loss, correct count) like NumbaFusedMLP."""
        X_dev, y_int_dev, y_float_dev = self._device_data(X, y_int, y_float)
        net = self._upload(optimizer)
        A, D = self.buffers(batch_size, X.dtype)
        loss_sum, correct, optimizer.t = mlp_cuda.train_epoch(
            X_dev, y_int_dev, y_float_dev, cuda.to_device(order), batch_size, net, A, D,
            LOSS_CODES[loss], optimizer.code, optimizer.hyper(), optimizer.t)
        self._download(optimizer)
        return loss_sum / X.shape[0], correct

    def predict(self, X, batch_size=1024):
        """The network's output for X (host array), computed on the device."""
        net = self._upload()
        A, _ = self.buffers(min(batch_size, X.shape[0]), X.dtype)
        out = cuda.device_array((X.shape[0], self.dense[-1].n_out), dtype=X.dtype)
        mlp_cuda.predict(cuda.to_device(X), net, A, out)
        return out.copy_to_host()
