"""The recurrent benchmark (issue 16, issue 21): one epoch of chapter 9's character model.

The model of ``notebooks/09_recurrence.ipynb``: characters of the bundled
Constitution one-hot (V = 71), windows of T = 64 starting every 32 (1415
windows), LSTM(71, 128) returning every state, a Dense at every step to 71
scores, softmax cross-entropy at every step, Adam (lr 0.005) with the
gradients' global norm clipped at 5, batches of 32, float32. Three peers,
each as its users write it:

- ``nnlib numba``: ``Sequential([LSTM(V, H, return_sequences=True),
  TimeDense(H, V)]).fit(X, Y, epochs=1, loss="sequence_cross_entropy",
  optimizer=Adam(0.005, clip_norm=5.0), verbose=False)``, fit's defaults
  otherwise (backend "numba", batch_size 32);
- ``torch nn.LSTM``: ``nn.LSTM(V, H, batch_first=True)`` + ``nn.Linear(H, V)``
  (PyTorch's fused LSTM), ``cross_entropy``, ``clip_grad_norm_``, Adam;
- ``torch LSTMCell``: the same with an ``nn.LSTMCell`` called in a Python
  loop over the 64 steps (what a hand-written RNN in PyTorch looks like).

Before timing, all peers train one epoch from the same weights (nnlib's
gate blocks i, f, o, g reordered to PyTorch's i, f, g, o) on the same
batches (no shuffle) and must agree on the loss and the weights. Timed
rounds are interleaved; the medians and the ratios torch / nnlib are
reported (above 1: nnlib is faster). PyTorch's threads stay at its default.
"""
import time

import numpy as np

from nnlib import LSTM, Adam, Sequential, TimeDense
from nnlib import functional as F
from nnlib.text import Vocabulary, load_constitution, next_char_windows

H, T, STRIDE, BATCH, LR, CLIP = 128, 64, 32, 32, 0.005, 5.0
PEERS = ("nnlib numba", "torch nn.LSTM", "torch LSTMCell")


def data(n_windows=None):
    """(X (n, T, V) float32 one-hot, Y (n, T) int64 next characters, V)."""
    vocab = Vocabulary(load_constitution())
    inputs, targets = next_char_windows(vocab.encode(load_constitution()), T, stride=STRIDE)
    if n_windows:
        inputs, targets = inputs[:n_windows], targets[:n_windows]
    return F.one_hot(inputs, len(vocab), dtype=np.float32), targets, len(vocab)


def nnlib_model(V, seed=0):
    return Sequential([LSTM(V, H, return_sequences=True), TimeDense(H, V)], seed=seed)


class NnlibPeer:
    def __init__(self, V, weights=None):
        self.model = nnlib_model(V)
        self.optimizer = Adam(LR, clip_norm=CLIP)

    def epoch(self, X, Y):
        history = self.model.fit(X, Y, epochs=1, loss="sequence_cross_entropy",
                                 optimizer=self.optimizer, shuffle=False, verbose=False)
        return history["loss"][-1]

    def weights(self):
        """Wx, Wh, b (gate order i, f, o, g), W, b of the output, as float64."""
        return [p.astype(np.float64) for p in self.model.parameters()]


def _to_torch_order(a, axis):
    """nnlib's gate blocks i, f, o, g -> PyTorch's i, f, g, o along ``axis``."""
    i, f, o, g = np.split(a, 4, axis=axis)
    return np.concatenate([i, f, g, o], axis=axis)


class TorchPeer:
    """nn.LSTM (fused) or an nn.LSTMCell loop, from nnlib's initial weights."""

    def __init__(self, V, weights, cell=False):
        import torch
        from torch import nn

        self.torch, self.cell = torch, cell
        self.rnn = nn.LSTMCell(V, H) if cell else nn.LSTM(V, H, batch_first=True)
        self.out = nn.Linear(H, V)
        Wx, Wh, b, W, bo = weights
        suffix = "" if cell else "_l0"
        with torch.no_grad():
            getattr(self.rnn, "weight_ih" + suffix).copy_(torch.from_numpy(_to_torch_order(Wx, 1).T.astype(np.float32)))
            getattr(self.rnn, "weight_hh" + suffix).copy_(torch.from_numpy(_to_torch_order(Wh, 1).T.astype(np.float32)))
            getattr(self.rnn, "bias_ih" + suffix).copy_(torch.from_numpy(_to_torch_order(b, 0).astype(np.float32)))
            getattr(self.rnn, "bias_hh" + suffix).zero_()
            self.out.weight.copy_(torch.from_numpy(W.T.astype(np.float32)))
            self.out.bias.copy_(torch.from_numpy(bo.astype(np.float32)))
        # PyTorch's LSTM has two bias vectors, b_ih + b_hh, where nnlib has one b: b_hh stays 0
        # and untrained, else Adam would move the sum twice as far and clipping count db twice
        getattr(self.rnn, "bias_hh" + suffix).requires_grad_(False)
        self.params = [p for p in self.rnn.parameters() if p.requires_grad] + list(self.out.parameters())
        self.optimizer = torch.optim.Adam(self.params, lr=LR)

    def _forward(self, xb):
        if not self.cell:
            return self.out(self.rnn(xb)[0])
        h = c = self.torch.zeros(xb.shape[0], H)
        states = []
        for t in range(xb.shape[1]):
            h, c = self.rnn(xb[:, t], (h, c))
            states.append(h)
        return self.out(self.torch.stack(states, dim=1))

    def epoch(self, X, Y):
        torch = self.torch
        X, Y = torch.from_numpy(X), torch.from_numpy(Y)
        total = 0.0
        for start in range(0, X.shape[0], BATCH):
            xb, yb = X[start:start + BATCH], Y[start:start + BATCH]
            scores = self._forward(xb)
            loss = torch.nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]), yb.reshape(-1))
            self.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.params, CLIP)
            self.optimizer.step()
            total += loss.item() * len(xb)
        return total / X.shape[0]

    def weights(self):
        suffix = "" if self.cell else "_l0"
        get = lambda name: getattr(self.rnn, name + suffix).detach().double().numpy()  # noqa: E731
        Wx = _from_torch_order(get("weight_ih").T, 1)
        Wh = _from_torch_order(get("weight_hh").T, 1)
        b = _from_torch_order(get("bias_ih") + get("bias_hh"), 0)
        return [Wx, Wh, b, self.out.weight.detach().double().numpy().T,
                self.out.bias.detach().double().numpy()]


def _from_torch_order(a, axis):
    i, f, g, o = np.split(a, 4, axis=axis)
    return np.concatenate([i, f, o, g], axis=axis)


def make_peers(V, names):
    start = nnlib_model(V).parameters()
    peers = {}
    for name in names:
        if name == "nnlib numba":
            peers[name] = NnlibPeer(V)
        else:
            peers[name] = TorchPeer(V, start, cell=name == "torch LSTMCell")
    return peers


def check_answers(names, n_windows=96):
    """One epoch of every peer from the same weights on the same batches: loss and weights agree."""
    X, Y, V = data(n_windows)
    peers = make_peers(V, names)
    results = {name: (peer.epoch(X, Y), peer.weights()) for name, peer in peers.items()}
    ref_loss, ref_w = results["nnlib numba"]
    for name, (loss, weights) in results.items():
        if abs(loss - ref_loss) > 1e-4 * abs(ref_loss):
            raise AssertionError(f"{name}: epoch loss {loss:.6f}, nnlib's {ref_loss:.6f}")
        for k, (a, b) in enumerate(zip(weights, ref_w)):
            if not np.allclose(a, b, rtol=1e-3, atol=2e-5):
                raise AssertionError(f"{name}: parameter {k} differs from nnlib's by "
                                     f"{np.abs(a - b).max():.2e} after one epoch")
    return ref_loss


def run_recurrent(torch=True, repeats=5, log=print, n_windows=None):
    """Check, then time one full epoch per peer (interleaved rounds); returns a dict for the JSON.

    n_windows: fewer windows than the text's 1415 (the tests run a tiny version).
    """
    names = list(PEERS) if torch else ["nnlib numba"]
    if torch:
        loss = check_answers(names)
        log(f"recurrent: answers agree (one epoch on 96 windows, loss {loss:.4f})")
    X, Y, V = data(n_windows)
    peers = make_peers(V, names)
    for peer in peers.values():  # warm-up: compilation, allocation
        peer.epoch(X[:64], Y[:64])
    seconds = {name: [] for name in names}
    for _ in range(repeats):
        for name, peer in peers.items():
            start = time.perf_counter()
            peer.epoch(X, Y)
            seconds[name].append(time.perf_counter() - start)
    median = {name: float(np.median(s)) for name, s in seconds.items()}
    ratios = {f"{name} / nnlib": median[name] / median["nnlib numba"] for name in names[1:]}
    result = {"title": f"char LSTM, {X.shape[0]} windows x {T} steps, V={V}, H={H}, batch {BATCH}, "
                       f"Adam + clip_norm, float32, one epoch",
              "median_s": median, "seconds": seconds, "ratios": ratios}
    log(render(result))
    return result


def render(result):
    lines = [f"\nRecurrent: {result['title']}"]
    for name, s in result["median_s"].items():
        lines.append(f"  {name:16s} {s * 1000:9.0f} ms per epoch (median)")
    for name, r in result["ratios"].items():
        lines.append(f"  {name:24s} {r:6.2f}x  (above 1: nnlib faster)")
    return "\n".join(lines)


if __name__ == "__main__":
    run_recurrent()
