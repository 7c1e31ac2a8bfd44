"""The bridge from a Sequential model to the fused kernels of ``kernels.mlp_cpu``.

``FusedPlan.build(layers)`` recognises the pattern Dense [activation] Dense
[activation] ... and returns None for anything else (the model then runs
layer by layer). A plan hands the compiled epoch tuples of the layers' own
W, b, dW, db and the optimizer's state arrays, so nothing is copied back
after training; it keeps the work buffers (activations A, gradients D) from
one call to the next.

Why tuples, not ``numba.typed.List``: making a typed list from Python
compiles Numba's list machinery in every new process (about 0.15 s per
array type, 0.3 s before the first epoch even with a warm cache), and
building the lists on every call cost 0.1 ms, a sixth of a digits epoch. A tuple costs a microsecond to
build, so the tuples are made afresh on every call and always point at the
current arrays (after ``Dense.reset`` or ``layer.W = ...`` too). The price:
the epoch is compiled once per network depth (then cached on disk).
"""
import numpy as np

from nnlib.kernels import cpu, mlp_cpu
from nnlib.layers import Activation, Dense

MAX_BUFFER_SIZES = 4  # batch sizes whose work buffers are kept (fit, predict, ...)


class FusedPlan:
    """Dense layers with the activation code that follows each one."""

    def __init__(self, dense, acts):
        self.dense = dense
        self.acts = np.array(acts, dtype=np.int64)
        self._buffers = {}  # (batch_size, dtype) -> (A, D), at most MAX_BUFFER_SIZES

    @classmethod
    def build(cls, layers):
        dense, acts = [], []
        for layer in layers:
            if isinstance(layer, Dense):
                dense.append(layer)
                acts.append(cpu.IDENTITY)
            elif isinstance(layer, Activation) and dense and acts[-1] == cpu.IDENTITY:
                acts[-1] = cpu.ACT_CODES[layer.name]
            else:
                return None  # activation first, or two in a row: run layer by layer
        return cls(dense, acts) if dense else None

    def _lists(self):
        """(Ws, bs): tuples of the layers' current weights and biases."""
        return tuple(d.W for d in self.dense), tuple(d.b for d in self.dense)

    def _grads(self):
        """(dWs, dbs): tuples of the layers' gradient arrays."""
        return tuple(d.dW for d in self.dense), tuple(d.db for d in self.dense)

    def buffers(self, batch_size, dtype):
        """A[l], D[l]: (batch_size, width_l) for l = 0..L, made once per size and dtype."""
        key = (batch_size, np.dtype(dtype).str)
        if key not in self._buffers:
            if len(self._buffers) >= MAX_BUFFER_SIZES:
                del self._buffers[next(iter(self._buffers))]  # the oldest size
            widths = [self.dense[0].n_in] + [d.n_out for d in self.dense]
            A = tuple(np.zeros((batch_size, w), dtype=dtype) for w in widths)
            D = tuple(np.zeros((batch_size, w), dtype=dtype) for w in widths)
            self._buffers[key] = (A, D)
        return self._buffers[key]

    def _optimizer_state(self, optimizer):
        """(S1W, S1b, S2W, S2b): tuples of the optimizer's state arrays.

        SGD has one slot per parameter: it is passed as S1 and S2, S2 unused.
        """
        params = [p for d in self.dense for p in (d.W, d.b)]
        state = optimizer.init_state(params, optimizer.n_slots)
        s1 = [s[0] for s in state]
        s2 = [s[-1] for s in state]
        return tuple(s1[0::2]), tuple(s1[1::2]), tuple(s2[0::2]), tuple(s2[1::2])

    def train_epoch(self, X, y_int, y_float, order, batch_size, optimizer, loss_code):
        """One fused epoch; returns (mean loss, correct count)."""
        Ws, bs = self._lists()
        dWs, dbs = self._grads()
        A, D = self.buffers(batch_size, X.dtype)
        S1W, S1b, S2W, S2b = self._optimizer_state(optimizer)
        loss_sum, correct, optimizer.t = mlp_cpu.train_epoch(
            X, y_int, y_float, order, batch_size, Ws, bs, self.acts, A, D, dWs, dbs,
            S1W, S1b, S2W, S2b, loss_code, optimizer.code, optimizer.hyper().astype(np.float64),
            optimizer.t,
        )
        return loss_sum / X.shape[0], correct

    def predict(self, X, batch_size=1024):
        Ws, bs = self._lists()
        A, _ = self.buffers(min(batch_size, X.shape[0]), X.dtype)
        out = np.empty((X.shape[0], self.dense[-1].n_out), dtype=X.dtype)
        mlp_cpu.predict(X, Ws, bs, self.acts, A, out)
        return out
