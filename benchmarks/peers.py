"""The peers: one case's network trained by nnlib (numba, numpy) and PyTorch eager.

Every peer has the same interface:
``epochs(X, y, n=1, shuffle=True) -> mean loss of the last epoch`` trains n
epochs the peer's ordinary way (nnlib: one ``fit(epochs=n)`` call, input
checks once as in real use; PyTorch: the usual loop, n times).
``shuffle=False`` keeps the rows in the given order, for the answer check.
``weights() -> [W1, b1, W2, b2]`` as float64 arrays in nnlib's layout
(W: (n_in, n_out)). ``prepare(X, y)`` converts the data once, outside the
timing, into what ``epochs`` takes.
"""
import numpy as np

from nnlib import SGD, Dense, Sequential, Sigmoid

NNLIB_NUMBA, NNLIB_NUMPY, TORCH = "nnlib numba", "nnlib numpy", "torch eager"


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def initial_weights(case):
    """[W1, b1, W2, b2] of a fresh nnlib model with the case's seed (Xavier, zero biases)."""
    model = _nnlib_model(case, "numpy")
    return [p.copy() for p in model.parameters()]


def _nnlib_model(case, backend):
    """Default arguments, as a user builds it: no dtype, so the first fit takes the data's."""
    n_in, n_hidden, n_out = case.sizes
    return Sequential([Dense(n_in, n_hidden), Sigmoid(), Dense(n_hidden, n_out)],
                      seed=case.seed, backend=backend)


class NnlibPeer:
    """nnlib's public API: Sequential.fit for one epoch, as a learner calls it."""

    def __init__(self, case, backend, weights, lr=None):
        self.name = {"numba": NNLIB_NUMBA, "numpy": NNLIB_NUMPY}[backend]
        self.case = case
        self.model = _nnlib_model(case, backend)
        for p, w in zip(self.model.parameters(), weights):
            p[...] = w
        self.optimizer = SGD(lr=case.lr if lr is None else lr)

    def prepare(self, X, y):
        return X, y

    def epochs(self, X, y, n=1, shuffle=True):
        history = self.model.fit(X, y, epochs=n, batch_size=self.case.batch_size,
                                 optimizer=self.optimizer, shuffle=shuffle, verbose=False)
        return history["loss"][-1]

    def weights(self):
        return [p.astype(np.float64) for p in self.model.parameters()]


class TorchPeer:
    """The same network in PyTorch, written the ordinary eager way.

    nn.Linear / nn.Sigmoid, F.cross_entropy, optim.SGD, a Python loop over
    mini-batches gathered by index from a shuffled permutation. Threads are
    left at PyTorch's default (torch.get_num_threads()).
    """

    name = TORCH

    def __init__(self, case, weights, lr=None):
        import torch
        from torch import nn

        self.torch = torch
        self.case = case
        n_in, n_hidden, n_out = case.sizes
        self.dtype = getattr(torch, case.dtype)
        self.model = nn.Sequential(nn.Linear(n_in, n_hidden), nn.Sigmoid(),
                                   nn.Linear(n_hidden, n_out)).to(self.dtype)
        W1, b1, W2, b2 = weights
        with torch.no_grad():  # nn.Linear keeps W as (n_out, n_in)
            for layer, W, b in ((self.model[0], W1, b1), (self.model[2], W2, b2)):
                layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                layer.bias.copy_(torch.from_numpy(b))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=case.lr if lr is None else lr)
        self.generator = torch.Generator().manual_seed(case.seed)

    def prepare(self, X, y):
        return (self.torch.from_numpy(np.ascontiguousarray(X)).to(self.dtype),
                self.torch.from_numpy(np.asarray(y, dtype=np.int64)))

    def epochs(self, X, y, n=1, shuffle=True):
        for _ in range(n):
            loss = self._epoch(X, y, shuffle)
        return loss

    def _epoch(self, X, y, shuffle):
        return torch_epoch(self.torch, self.model, self.optimizer, self.generator, X, y,
                           self.case.batch_size, shuffle)

    def weights(self):
        W1, b1 = self.model[0].weight, self.model[0].bias
        W2, b2 = self.model[2].weight, self.model[2].bias
        return [t.detach().double().numpy() for t in (W1.T, b1, W2.T, b2)]


def make_peers(case, names, weights):
    """The peers called ``names`` (NNLIB_NUMBA, NNLIB_NUMPY, TORCH), all from ``weights``."""
    makers = {
        NNLIB_NUMBA: lambda: NnlibPeer(case, "numba", weights),
        NNLIB_NUMPY: lambda: NnlibPeer(case, "numpy", weights),
        TORCH: lambda: TorchPeer(case, weights),
    }
    return [makers[name]() for name in names]


def default_peer_names():
    """Every peer, PyTorch only when it is installed (``make bench`` installs it)."""
    names = [NNLIB_NUMBA, NNLIB_NUMPY]
    return names + [TORCH] if torch_available() else names


def torch_epoch(torch, model, optimizer, generator, X, y, batch_size, shuffle=True):
    """One epoch of PyTorch eager mini-batch training with softmax cross-entropy; the mean loss.

    The batch order is ``generator``'s permutation (or 0..n-1 without shuffle);
    each step: forward, loss, zero_grad, backward, optimizer step, as a user writes it.
    """
    n = X.shape[0]
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    total = 0.0
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / n
