"""The bridge from a Sequential model to the fused kernels of ``kernels.mlp_cpu``.

``FusedPlan.build(layers)`` recognises the pattern Dense [activation] Dense
[activation] ... and returns None for anything else (the model then runs
layer by layer). A plan owns the typed lists the compiled epoch reads; they
point at the layers' own W, b, dW, db and the optimizer's state arrays, so
nothing is copied back after training.
"""
import numpy as np
from numba.typed import List

from nnlib.kernels import cpu, mlp_cpu
from nnlib.layers import Activation, Dense


def _typed(arrays):
    out = List()
    for a in arrays:
        out.append(a)
    return out


class FusedPlan:
    """Dense layers with the activation code that follows each one."""

    def __init__(self, dense, acts):
        self.dense = dense
        self.acts = np.array(acts, dtype=np.int64)
        self._buffers = {}

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
        return (_typed([d.W for d in self.dense]), _typed([d.b for d in self.dense]))

    def buffers(self, batch_size, dtype):
        """A[l], D[l]: (batch_size, width_l) for l = 0..L, made once per size."""
        key = (batch_size, np.dtype(dtype).str)
        if key not in self._buffers:
            widths = [self.dense[0].n_in] + [d.n_out for d in self.dense]
            A = _typed([np.zeros((batch_size, w), dtype=dtype) for w in widths])
            D = _typed([np.zeros((batch_size, w), dtype=dtype) for w in widths])
            self._buffers = {key: (A, D)}  # keep only the latest size
        return self._buffers[key]

    def train_epoch(self, X, y_int, y_float, order, batch_size, optimizer, loss_code):
        """One fused epoch; returns (mean loss, correct count)."""
        Ws, bs = self._lists()
        A, D = self.buffers(batch_size, X.dtype)
        params = [p for d in self.dense for p in (d.W, d.b)]
        state = optimizer.init_state(params, optimizer.n_slots)
        s1 = [s[0] for s in state]
        s2 = [s[-1] for s in state]  # SGD has one slot: passed twice, unused
        loss_sum, correct, optimizer.t = mlp_cpu.train_epoch(
            X, y_int, y_float, order, batch_size, Ws, bs, self.acts, A, D,
            _typed([d.dW for d in self.dense]), _typed([d.db for d in self.dense]),
            _typed(s1[0::2]), _typed(s1[1::2]), _typed(s2[0::2]), _typed(s2[1::2]),
            loss_code, optimizer.code, optimizer.hyper().astype(np.float64), optimizer.t,
        )
        return loss_sum / X.shape[0], correct

    def predict(self, X, batch_size=1024):
        Ws, bs = self._lists()
        A, _ = self.buffers(min(batch_size, X.shape[0]), X.dtype)
        out = np.empty((X.shape[0], self.dense[-1].n_out), dtype=X.dtype)
        mlp_cpu.predict(X, Ws, bs, self.acts, A, out)
        return out
