"""The bridge from a Sequential model to the GPU trainer (``backend="cuda"``).

``CudaPlan`` is the GPU twin of ``nnlib.fused.FusedPlan``, with the same
``train_epoch`` and ``predict``, so ``Sequential`` drives both alike. What
crosses between host and device, and when:

- the training data X, y: once per ``fit`` (``start_fit``);
- per epoch, to the device: the shuffled row order (N ints), the
  parameters and the optimizer state; from the device: the summed loss, the
  correct count, the parameters and the optimizer state. That keeps the
  layers' W, b and the optimizer current on the host after every epoch
  (about 0.4 MB of weights for 784-128-10) while every step stays on the GPU;
- ``predict``: the parameters and X up, the outputs down.

Without a GPU, numba.cuda runs in its simulator when NUMBA_ENABLE_CUDASIM=1
was set before Numba was imported (correctness only: it is very slow).
"""
import numpy as np

from nnlib.fused import FusedPlan

try:  # numba-cuda is optional (the "gpu" extra); say so clearly when it is missing
    from numba import cuda
    from nnlib.kernels import mlp_cuda
    _IMPORT_ERROR = None
except ImportError as exc:
    cuda = mlp_cuda = None
    _IMPORT_ERROR = exc


def cuda_problem():
    """None when numba.cuda can run here (a GPU, or the simulator); else what is wrong and what to do."""
    if _IMPORT_ERROR is not None:
        return (f"backend='cuda' needs the numba-cuda package ({_IMPORT_ERROR}). Install it with "
                f"pip install 'numba-cuda>=0.30,<0.31' (or pip install -e '.[gpu]'), or use backend='numba'.")
    if not cuda.is_available():
        return ("backend='cuda' found no usable NVIDIA GPU (numba.cuda.is_available() is False). "
                "Use backend='numba' on this machine, or run the CUDA code in Numba's simulator "
                "(slow, for correctness checks only) by setting NUMBA_ENABLE_CUDASIM=1 before "
                "Numba is imported.")
    return None


class CudaPlan:
    """Dense layers and the activation code after each, trained on the device."""

    def __init__(self, dense, acts):
        self.dense = dense
        self.acts = [int(a) for a in acts]
        self._data = None  # (host X it came from, device X, device targets)
        self._net = None  # device parameters, gradients, optimizer state (flat + views)
        self._buffers = {}

    @classmethod
    def build(cls, layers):
        problem = cuda_problem()
        if problem:
            raise RuntimeError(problem)
        plan = FusedPlan.build(layers)
        if plan is None:
            names = ", ".join(repr(layer) for layer in layers)
            raise ValueError(
                f"backend='cuda' trains Dense layers, each optionally followed by one activation "
                f"(e.g. [Dense(784, 128), ReLU(), Dense(128, 10)]); got [{names}]. "
                f"Use backend='numba' for other stacks.")
        return cls(plan.dense, plan.acts)

    # ---- host <-> device
    def start_fit(self, X, y_int, y_float):
        """Copy the training data to the device: the one large transfer of a fit."""
        targets = y_int if y_int.size else y_float
        self._data = (X, cuda.to_device(X), cuda.to_device(targets))

    def _params(self):
        """Host arrays in the device's flat order: every W, then every b."""
        return [d.W for d in self.dense] + [d.b for d in self.dense]

    def _device_net(self):
        params = self._params()
        dtype = params[0].dtype
        if self._net is None or self._net["theta"].dtype != dtype:
            bounds = np.cumsum([0] + [p.size for p in params])
            theta = cuda.device_array(int(bounds[-1]), dtype=dtype)
            grad = cuda.device_array_like(theta)
            views = [(theta[a:z].reshape(p.shape), grad[a:z].reshape(p.shape))
                     for p, a, z in zip(params, bounds[:-1], bounds[1:])]
            L = len(self.dense)
            self._net = {
                "theta": theta, "grad": grad, "bounds": bounds, "acts": self.acts,
                "S1": cuda.device_array_like(theta), "S2": cuda.device_array_like(theta),
                "W": [v[0] for v in views[:L]], "b": [v[0] for v in views[L:]],
                "dW": [v[1] for v in views[:L]], "db": [v[1] for v in views[L:]],
                "n_weights": int(bounds[L]),
            }
        return self._net

    def _upload(self, optimizer=None):
        """Parameters (and the optimizer's state) from the host into the device's flat vectors."""
        net = self._device_net()
        net["theta"].copy_to_device(self._gather(self._params()))
        if optimizer is not None:
            state = optimizer.init_state([p for d in self.dense for p in (d.W, d.b)],
                                         optimizer.n_slots)
            for slot, name in ((0, "S1"), (-1, "S2")):  # SGD has one slot: S2 then unused
                net[name].copy_to_device(self._gather(self._state_slot(state, slot)))
        return net

    def _download(self, optimizer):
        """Parameters and optimizer state from the device back into the host's own arrays."""
        net = self._net
        self._scatter(net["theta"].copy_to_host(), self._params())
        for slot, name in enumerate(("S1", "S2")[:optimizer.n_slots]):
            self._scatter(net[name].copy_to_host(), self._state_slot(optimizer.state, slot))

    def _state_slot(self, state, slot):
        """One state slot per parameter, in the flat order (state is in the order W0, b0, W1, ...)."""
        L = len(self.dense)
        return [state[2 * l][slot] for l in range(L)] + [state[2 * l + 1][slot] for l in range(L)]

    @staticmethod
    def _gather(arrays):
        return np.concatenate([a.ravel() for a in arrays])

    def _scatter(self, flat, targets):
        bounds = self._net["bounds"]
        for dest, a, z in zip(targets, bounds[:-1], bounds[1:]):
            dest[...] = flat[a:z].reshape(dest.shape)

    def buffers(self, batch_size, dtype):
        """A[l], D[l]: (batch_size, width_l) device buffers (D[0] unused), made once per size."""
        key = (batch_size, np.dtype(dtype).str)
        if key not in self._buffers:
            widths = [self.dense[0].n_in] + [d.n_out for d in self.dense]
            A = [cuda.device_array((batch_size, w), dtype=dtype) for w in widths]
            D = [None] + [cuda.device_array((batch_size, w), dtype=dtype) for w in widths[1:]]
            self._buffers = {key: (A, D)}  # keep only the latest size
        return self._buffers[key]

    # ---- the two calls Sequential makes
    def train_epoch(self, X, y_int, y_float, order, batch_size, optimizer, loss_code):
        """One epoch on the device; returns (mean loss, correct count) like FusedPlan."""
        if self._data is None or self._data[0] is not X:
            self.start_fit(X, y_int, y_float)
        _, X_dev, Y_dev = self._data
        net = self._upload(optimizer)
        A, D = self.buffers(batch_size, X.dtype)
        views = {batch_size: (A, D)}

        def batch_buffers(m):  # the last batch may be smaller: views, made once
            if m not in views:
                views[m] = ([a[:m] for a in A], [None] + [d[:m] for d in D[1:]])
            return views[m]

        stats = cuda.to_device(np.zeros(2))
        hyper = tuple(float(h) for h in optimizer.hyper())
        optimizer.t = mlp_cuda.train_epoch(
            X_dev, Y_dev, cuda.to_device(order), batch_size, net, batch_buffers,
            loss_code, optimizer.code, hyper, optimizer.t, stats)
        loss_sum, correct = stats.copy_to_host()
        self._download(optimizer)
        return loss_sum / X.shape[0], int(round(correct))

    def predict(self, X, batch_size=1024):
        """The network's output for X (host array), computed on the device."""
        net = self._upload()
        A, _ = self.buffers(min(batch_size, X.shape[0]), X.dtype)
        out = cuda.device_array((X.shape[0], self.dense[-1].n_out), dtype=X.dtype)
        mlp_cuda.predict(cuda.to_device(X), net, A, out)
        return out.copy_to_host()
