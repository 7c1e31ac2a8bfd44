"""The fused Numba trainer for stacks with BatchNorm and Dropout: one compiled call per epoch.

``NumbaFusedNormMLP.build(layers)`` takes the stacks of ``fusable.norm_stack``
(Dense first, then Dense, activations, BatchNorm, Dropout) and returns None
for anything else. It runs ``kernels.mlp_norm_cpu``, which takes the network
as flat arrays (see there why): at the start of every epoch the layers'
parameters, BatchNorm's running statistics and the optimizer's state are
copied into them (in the order of ``Sequential.parameters()``, the order the
layer-by-layer trainer gives the optimizer, so a model can switch paths),
and at the end copied back, gradients included. That copy is a few
microseconds per array, small next to an epoch; in exchange the compiled
epoch does not depend on the depth.

Dropout draws from each Dropout layer's own Generator inside the compiled
loop, entry by entry in the order ``functional.dropout_mask`` draws them, so
this trainer and the layer-by-layer one drop the same entries.
BatchNorm's batch-of-one error is raised before the epoch starts (the
layer-by-layer trainer raises it at the batch).
"""
import numpy as np

from nnlib.backends.buffers import BufferCache
from nnlib.backends.fusable import norm_stack
from nnlib.kernels import mlp_norm_cpu as K
from nnlib.kernels.codes import LOSS_CODES

_UNUSED_RNG = np.random.default_rng(0)  # pads rngs; never drawn from
RNG_SLOTS = 4  # rngs has a multiple of 4 entries: one compiled version serves 0 to 4 Dropouts


class NumbaFusedNormMLP:
    """Dense / activation / BatchNorm / Dropout stages, trained by ``mlp_norm_cpu``."""

    def __init__(self, layers, stages):
        self.layers = layers
        self.stages = stages
        self.batchnorms = [layer for kind, layer, _ in stages if kind == K.BATCHNORM]
        self.dropouts = [layer for kind, layer, _ in stages if kind == K.DROPOUT]
        # where each layer's parameters start in theta (Sequential.parameters() order)
        starts, offset = {}, 0
        self.params = []  # (offset, size, decayed) per parameter array
        for layer in layers:
            starts[id(layer)] = offset
            for name, p in zip(layer.param_names, layer.parameters()):
                self.params.append((offset, p.size, name in layer.decayed))
                offset += p.size
        self.params = np.array(self.params, dtype=np.int64).reshape(-1, 3)
        self.plan = np.zeros((len(stages), K.PLAN_COLUMNS), dtype=np.int64)
        self.settings = np.zeros((len(stages), 2))
        width, col = stages[0][1].n_in, 0
        for s, (kind, layer, act) in enumerate(stages):
            n_out = layer.n_out if kind == K.DENSE else width
            col += width  # this stage's output follows its input in the work buffers
            self.plan[s, [K.KIND, K.ACT, K.N_IN, K.N_OUT, K.PARAM, K.COL]] = (
                kind, act, width, n_out, starts[id(layer)], col)
            if kind == K.BATCHNORM:
                self.plan[s, K.STAT] = 2 * sum(bn.n_features for bn in self.batchnorms[
                    :self.batchnorms.index(layer)])
            elif kind == K.DROPOUT:
                self.plan[s, K.RNG] = self.dropouts.index(layer)
            width = n_out
        self.n_out = width
        n_cols = col + width  # the input's and every stage's output's
        self.buffers = BufferCache(lambda n, dtype: K.NormWork(
            batch_size=n, A=np.zeros(n * n_cols, dtype), D=np.zeros(n * n_cols, dtype),
            aux=np.zeros(n * n_cols, dtype), inv_std=np.zeros(n_cols, dtype),
            scratch=np.zeros((2, n_cols))))

    @classmethod
    def build(cls, layers):
        stages = norm_stack(layers)
        return None if stages is None else cls(layers, stages)

    # ---- the layers' arrays in and out of the flat vectors
    def _parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def _gradients(self):
        return [g for layer in self.layers for g in layer.gradients()]

    def _stats(self):
        return [s for bn in self.batchnorms for s in (bn.running_mean, bn.running_var)]

    def _net(self, dtype, optimizer=None):
        """A ``NormNet`` holding copies of the layers' arrays (and the optimizer's state)."""
        for s, (kind, layer, _) in enumerate(self.stages):  # read now: the layers' current values
            if kind == K.BATCHNORM:
                self.settings[s] = layer.momentum, layer.eps
            elif kind == K.DROPOUT:  # 1 / (1 - p) in the arrays' dtype, as functional.dropout_mask
                self.settings[s] = layer.p, np.dtype(dtype).type(1.0 / (1.0 - layer.p))
        params = self._parameters()
        theta = np.concatenate([p.reshape(-1) for p in params])
        stats = np.concatenate([s.reshape(-1) for s in self._stats()] or [np.zeros(0, dtype)])
        state1 = state2 = theta  # predict: never read
        if optimizer is not None:
            state = optimizer.init_state(params)
            state1 = np.concatenate([s[0].reshape(-1) for s in state])
            if optimizer.n_slots > 1:  # Adam's second moment; SGD has one slot
                state2 = np.concatenate([s[1].reshape(-1) for s in state])
            else:
                state2 = state1
        return K.NormNet(self.plan, self.settings, theta, np.empty_like(theta), state1, state2,
                         self.params, stats)

    def _copy_back(self, net, optimizer):
        """The epoch's results into the layers' own arrays (and the optimizer's state)."""
        targets = [(self._parameters(), net.theta), (self._gradients(), net.grad),
                   (self._stats(), net.stats)]
        state = optimizer.state
        targets.append(([s[0] for s in state], net.state1))
        if optimizer.n_slots > 1:
            targets.append(([s[1] for s in state], net.state2))
        for arrays, flat in targets:
            offset = 0
            for a in arrays:
                a.reshape(-1)[:] = flat[offset:offset + a.size]  # C-contiguous: reshape is a view
                offset += a.size

    def _rngs(self):
        """The Dropout layers' own Generators (drawn from in place), padded to RNG_SLOTS.

        Numba compiles one version per tuple length; padding keeps that to
        one for up to 4 Dropout layers.
        """
        rngs = [layer._rng for layer in self.dropouts]
        n_slots = RNG_SLOTS * max(1, -(-len(rngs) // RNG_SLOTS))  # 4, 8, ...
        return tuple(rngs + [_UNUSED_RNG] * (n_slots - len(rngs)))

    # ---- the trainer's three calls
    def start_fit(self, X, y_int, y_float):
        """Nothing to prepare: the data is already where this backend computes."""

    def train_epoch(self, X, y_int, y_float, order, batch_size, optimizer, loss):
        """One fused epoch; returns (mean loss, correct count)."""
        n = X.shape[0]
        if self.batchnorms and (batch_size == 1 or n % batch_size == 1):
            bn = self.batchnorms[0]  # its own error, as the layer-by-layer trainer raises it
            bn.forward_args(np.zeros((1, bn.n_features), X.dtype), training=True)
        net = self._net(X.dtype, optimizer)
        loss_sum, correct, t = K.train_epoch(
            X, y_int, y_float, order, net, self._rngs(), self.buffers(batch_size, X.dtype),
            LOSS_CODES[loss], optimizer.code, optimizer.hyper(), optimizer.t)
        optimizer.t = t
        self._copy_back(net, optimizer)
        return loss_sum / n, correct

    def predict(self, X, batch_size=1024):
        """The stack's output for X (batch, n_in) in evaluation mode, batch by batch."""
        out = np.empty((X.shape[0], self.n_out), dtype=X.dtype)
        K.predict(X, self._net(X.dtype), self._rngs(), self.buffers(min(batch_size, X.shape[0]),
                                                                    X.dtype), out)
        return out
