"""The fused Numba trainer: one compiled call per epoch for Dense [activation] ... stacks.

``NumbaFusedMLP.build(layers)`` takes the stacks of ``fusable.dense_stack``
and returns None for anything else (the model then runs layer by layer).
It hands ``kernels.mlp_cpu`` tuples of the layers' own W, b, dW, db and the
optimizer's state arrays, so nothing is copied back after training; the
work buffers follow ``buffers.BufferCache``.

Why tuples, not ``numba.typed.List``: making a typed list from Python
compiles Numba's list machinery in every new process (about 0.15 s per
array type, 0.3 s before the first epoch even with a warm cache), and
building the lists on every call cost 0.1 ms, a sixth of a digits epoch. A
tuple costs a microsecond to build, so the tuples are made afresh on every
call and always point at the current arrays (after ``layer.W = ...`` too).
The price: the epoch is compiled once per network depth (then cached on disk).
"""
import numpy as np

from nnlib.backends.buffers import BufferCache
from nnlib.backends.fusable import dense_stack
from nnlib.kernels import mlp_cpu
from nnlib.kernels.codes import LOSS_CODES, MLPArrays


class NumbaFusedMLP:
    """Dense layers with the activation code that follows each one, trained by ``mlp_cpu``."""

    def __init__(self, dense, acts):
        self.dense = dense
        self.acts = np.array(acts, dtype=np.int64)
        widths = [dense[0].n_in] + [d.n_out for d in dense]
        self.buffers = BufferCache(lambda n, dtype: (
            tuple(np.zeros((n, w), dtype=dtype) for w in widths),  # A
            tuple(np.zeros((n, w), dtype=dtype) for w in widths),  # D
        ))

    @classmethod
    def build(cls, layers):
        stack = dense_stack(layers)
        return None if stack is None else cls(*stack)

    def arrays(self, optimizer=None):
        """The kernels' ``MLPArrays``: the layers' current arrays and the optimizer's state.

        SGD has one state slot per parameter: it is passed as state1 and
        state2, state2 unused. Without an optimizer (predict) the state
        fields are the gradients, never read.
        """
        W = tuple(d.W for d in self.dense)
        b = tuple(d.b for d in self.dense)
        dW = tuple(d.dW for d in self.dense)
        db = tuple(d.db for d in self.dense)
        if optimizer is None:
            return MLPArrays(W, b, dW, db, self.acts, dW, db, dW, db)
        state = optimizer.init_state([p for d in self.dense for p in (d.W, d.b)])
        s1 = [s[0] for s in state]
        s2 = [s[-1] for s in state]
        return MLPArrays(W, b, dW, db, self.acts, tuple(s1[0::2]), tuple(s1[1::2]),
                         tuple(s2[0::2]), tuple(s2[1::2]))

    def start_fit(self, X, y_int, y_float):
        """Nothing to prepare: the data is already where this backend computes."""

    def train_epoch(self, X, y_int, y_float, order, batch_size, optimizer, loss):
        """One fused epoch; returns (mean loss, correct count)."""
        A, D = self.buffers(batch_size, X.dtype)
        loss_sum, correct, optimizer.t = mlp_cpu.train_epoch(
            X, y_int, y_float, order, batch_size, self.arrays(optimizer), A, D,
            LOSS_CODES[loss], optimizer.code, optimizer.hyper(), optimizer.t,
        )
        return loss_sum / X.shape[0], correct

    def predict(self, X, batch_size=1024):
        """The network's output for X (batch, n_in), batch by batch."""
        A, _ = self.buffers(min(batch_size, X.shape[0]), X.dtype)
        out = np.empty((X.shape[0], self.dense[-1].n_out), dtype=X.dtype)
        mlp_cpu.predict(X, self.arrays(), A, out)
        return out
