"""The convolution case (issue 15): one epoch of chapter 8's CNN on the digits.

nnlib numba (``Sequential.fit`` with its default arguments: SGD lr 0.1,
batch 32, shuffled) against PyTorch CPU eager (the same layers, initial
weights, data, batch size and optimizer, the ordinary loop), float32 data
(the data's own dtype for both). Before anything is timed, one unshuffled
epoch from the same weights must give the same loss and weights in both;
that check runs with the dropout probability at 0 (the two libraries draw
different masks), the timed epochs with the chapter's 0.3.

The bound reported next to the times is the epoch's BLAS work at its real
shapes (``gemm_shapes_seconds``: the im2col products of the conv layers and
the Dense products, forward and backward), i.e. what no implementation that
runs these products through NumPy's BLAS can beat.

``python -m benchmarks.conv`` runs it alone; ``make bench`` (``python -m
benchmarks``) runs it after the Dense cases, ``--no-conv`` leaves it out.
"""
import numpy as np

from benchmarks.peers import torch_epoch
from benchmarks.timing import gemm_shapes_seconds, interleaved, summarize
from nnlib import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sequential
from nnlib.data import load_digits

NAME = "conv"
TITLE = "(c) digits 1797x1x8x8, chapter 8's CNN, batch 32"
TARGET = 5.0  # issue 15: nnlib numba at least 5x faster than PyTorch eager
BATCH_SIZE = 32
LR = 0.1  # Sequential.fit's default optimizer, SGD(lr=0.1)
DROPOUT = 0.3
# (kind, arguments) of chapter 8's CNN (benchmarks/cnn_splits.py's cnn_layers, notebook 08 section 7)
ARCHITECTURE = (("conv", 1, 32, 3, 1), ("relu",), ("pool", 2), ("conv", 32, 64, 3, 1), ("relu",),
                ("pool", 2), ("flatten",), ("dropout",), ("dense", 256, 128), ("relu",),
                ("dense", 128, 10))


def data(dtype="float32"):
    """X (1797, 1, 8, 8) pixels / 16 and y (1797,), X of ``dtype``."""
    X, y = load_digits()
    return np.ascontiguousarray(X.reshape(-1, 1, 8, 8) / 16.0, dtype=dtype), y


def nnlib_model(dropout=DROPOUT, seed=0):
    """The chapter's CNN, built as a learner builds it (backend numba, no dtype: the data's)."""
    layers = []
    for kind, *args in ARCHITECTURE:
        layers.append({"conv": lambda c, f, k, p: Conv2D(c, f, k, padding=p), "relu": ReLU,
                       "pool": MaxPool2D, "flatten": Flatten, "dropout": lambda: Dropout(dropout),
                       "dense": lambda n_in, n_out: Dense(n_in, n_out)}[kind](*args))
    return Sequential(layers, backend="numba", seed=seed)


class TorchCNN:
    """The same CNN in PyTorch eager, from nnlib's initial weights (nn.Linear keeps W transposed)."""

    def __init__(self, weights, dropout=DROPOUT):
        import torch
        from torch import nn

        self.torch = torch
        layers = []
        for kind, *args in ARCHITECTURE:
            if kind == "conv":
                layers.append(nn.Conv2d(args[0], args[1], args[2], padding=args[3]))
            elif kind == "dense":
                layers.append(nn.Linear(*args))
            elif kind == "dropout":
                layers.append(nn.Dropout(dropout))
            else:
                layers.append({"relu": nn.ReLU, "pool": nn.MaxPool2d,
                               "flatten": nn.Flatten}[kind](*args))
        self.model = nn.Sequential(*layers)
        params = [layer for layer in self.model if isinstance(layer, (nn.Conv2d, nn.Linear))]
        with torch.no_grad():
            for layer, W, b in zip(params, weights[::2], weights[1::2]):
                W = W.T if isinstance(layer, nn.Linear) else W
                layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(W, dtype=np.float32)))
                layer.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))
        self.params = params
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.generator = torch.Generator().manual_seed(0)

    def prepare(self, X, y):
        return self.torch.from_numpy(X), self.torch.from_numpy(np.asarray(y, dtype=np.int64))

    def epoch(self, X, y, shuffle=True):
        self.model.train()
        return torch_epoch(self.torch, self.model, self.optimizer, self.generator, X, y,
                           BATCH_SIZE, shuffle)

    def weights(self):
        out = []
        for layer in self.params:
            W = layer.weight.detach().double().numpy()
            out += [W.T if W.ndim == 2 else W, layer.bias.detach().double().numpy()]
        return out


def check_answer(X, y):
    """One unshuffled epoch from the same weights: the same loss and weights in nnlib and torch."""
    model = nnlib_model(dropout=0.0)
    start = [p.copy() for p in model.parameters()]
    loss = model.fit(X, y, epochs=1, shuffle=False, verbose=False)["loss"][-1]
    peer = TorchCNN(start, dropout=0.0)
    torch_loss = peer.epoch(*peer.prepare(X, y), shuffle=False)
    if not np.isclose(loss, torch_loss, rtol=1e-3):
        raise AssertionError(f"conv case: nnlib's epoch loss {loss:.6f}, torch's {torch_loss:.6f}")
    for i, (mine, theirs) in enumerate(zip(model.parameters(), peer.weights())):
        if not np.allclose(mine, theirs, rtol=1e-3, atol=1e-4):
            worst = float(np.abs(mine - theirs).max())
            raise AssertionError(f"conv case: parameter {i} differs after one epoch (max |diff| {worst:.2e})")
    return loss


def gemm_shapes(n_rows):
    """(m, k, n) of every matrix product of one epoch (im2col for the conv layers), per batch."""
    shapes, (C, H, W) = [], (1, 8, 8)
    batches = [BATCH_SIZE] * (n_rows // BATCH_SIZE) + ([n_rows % BATCH_SIZE] if n_rows % BATCH_SIZE else [])
    for batch in batches:
        C, H, W = 1, 8, 8
        first = True
        for kind, *args in ARCHITECTURE:
            if kind == "conv":
                _, F, K, _ = args
                P = batch * H * W  # output positions (padding keeps the size)
                shapes += [(F, C * K * K, P), (F, P, C * K * K)]  # forward, dW
                if not first:
                    shapes.append((C * K * K, F, P))  # dcols
                C, first = F, False
            elif kind == "pool":
                H, W = H // 2, W // 2
            elif kind == "dense":
                n_in, n_out = args
                shapes += [(batch, n_in, n_out), (n_in, batch, n_out), (batch, n_out, n_in)]
    return shapes


def run_case(repeats=7, use_torch=True, log=print):
    """{"title", "timings", "ratio", "bound_s", "target", "loss"} for the conv case; checks first."""
    from benchmarks.peers import torch_available

    X, y = data()
    use_torch = use_torch and torch_available()
    loss = check_answer(X, y) if use_torch else None
    log(f"{TITLE}: " + (f"answers agree (one unshuffled epoch, loss {loss:.4f}); timing ..."
                        if use_torch else "no PyTorch, nnlib alone; timing ..."))
    model = nnlib_model()
    runs = {"nnlib numba": lambda n: model.fit(X, y, epochs=n, verbose=False)}
    if use_torch and torch_available():
        peer = TorchCNN([p.copy() for p in nnlib_model().parameters()])
        Xt, yt = peer.prepare(X, y)
        runs["torch eager"] = lambda n: [peer.epoch(Xt, yt) for _ in range(n)]
    samples = interleaved(runs, repeats)
    timings = {name: summarize(seconds) for name, seconds in samples.items()}
    ratio = None
    if "torch eager" in timings:
        ratio = timings["torch eager"]["median_s"] / timings["nnlib numba"]["median_s"]
    counts = {}  # each distinct shape timed once, counted as often as the epoch runs it
    for shape in gemm_shapes(len(X)):
        counts[shape] = counts.get(shape, 0) + 1
    bound = sum(n * gemm_shapes_seconds([shape], "float32") for shape, n in counts.items())
    # the best ratio any nnlib could reach if its epoch were nothing but these BLAS products
    ratio_bound = None if ratio is None else timings["torch eager"]["median_s"] / bound
    return {"title": TITLE, "timings": timings, "ratio": ratio, "bound_s": bound,
            "ratio_bound": ratio_bound, "target": TARGET, "loss": loss}


def write_json(result, path):
    """The result as JSON at ``path`` (folders created); returns the path."""
    import json
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    return path


def render(result):
    """The case as a few lines of text."""
    t = {name: f"{s['median_s'] * 1e3:.1f} ms" for name, s in result["timings"].items()}
    ratio = "-" if result["ratio"] is None else f"{result['ratio']:.2f}x"
    verdict = "-" if result["ratio"] is None else ("met" if result["ratio"] >= result["target"] else "MISSED")
    return (f"{result['title']}: nnlib numba {t.get('nnlib numba')}, torch eager "
            f"{t.get('torch eager', '-')} per epoch; torch/numba {ratio} (target >= "
            f"{result['target']:g}x: {verdict}); BLAS bound {result['bound_s'] * 1e3:.1f} ms "
            f"(the epoch's products alone: at best torch/bound = "
            f"{'-' if result['ratio_bound'] is None else format(result['ratio_bound'], '.2f')}x)")


if __name__ == "__main__":
    print(render(run_case()))
