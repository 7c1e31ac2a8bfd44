"""The benchmark cases: a data set, a Dense-Sigmoid-Dense network, SGD settings.

(a) ``digits``: the bundled UCI digits, 1797 x 64 scaled by 1/16,
    64-32-10, batch 32. (b) ``mnist``: MNIST-sized random data (seeded),
    60000 x 784, 784-128-10, batch 128. Both: sigmoid hidden layer,
    softmax cross-entropy, plain SGD (lr 0.1), one epoch per sample, float32
    for every peer. ``n_rows`` shrinks a case (the tests run tiny versions).
"""
from dataclasses import dataclass, replace

import numpy as np

from nnlib.data import load_digits


@dataclass(frozen=True)
class Case:
    """One benchmark configuration. sizes: (n_in, n_hidden, n_out)."""

    name: str
    label: str  # as the issue names the case: "(a)", "(b)"
    n_rows: int
    sizes: tuple
    batch_size: int
    lr: float = 0.1
    dtype: str = "float32"
    seed: int = 0
    target: float = None  # the speed-up over PyTorch eager that nnlib numba should reach
    blas_target: float = None  # nnlib numba's epoch at most this many times NumPy's BLAS at batch shapes
    repeats: int = 7  # timing rounds (samples per peer; the median is reported)

    @property
    def title(self):
        """e.g. "(a) digits 1797x64, 64-32-10"."""
        data = "digits" if self.name == "digits" else "MNIST-size random"
        net = "-".join(str(w) for w in self.sizes)
        return f"{self.label} {data} {self.n_rows}x{self.sizes[0]}, {net}, batch {self.batch_size}"

    def data(self):
        """(X, y): X (n_rows, n_in) of self.dtype, y (n_rows,) int64 labels."""
        if self.name == "digits":
            X, y = load_digits()
            X = X / 16.0  # pixel counts 0..16 -> [0, 1]
        else:
            rng = np.random.default_rng(self.seed)
            X = rng.random((self.n_rows, self.sizes[0]))  # like MNIST scaled to [0, 1]
            y = rng.integers(0, self.sizes[-1], self.n_rows)
        return np.ascontiguousarray(X[:self.n_rows], dtype=self.dtype), y[:self.n_rows]

    def flops(self):
        """Multiply-add FLOPs of one epoch's matrix products (elementwise work not counted).

        Per sample and layer (n_in -> n_out): forward x @ W and backward
        x.T @ dz cost 2 n_in n_out each; dz @ W.T (the delta passed down)
        another 2 n_in n_out for every layer but the first.
        """
        total = 0
        for i, (n_in, n_out) in enumerate(zip(self.sizes, self.sizes[1:])):
            total += (4 if i == 0 else 6) * n_in * n_out
        return total * self.n_rows

    def gemm_shapes(self):
        """(m, k, n) of every matrix product in one full batch, for the BLAS rate."""
        b = self.batch_size
        shapes = []
        for i, (n_in, n_out) in enumerate(zip(self.sizes, self.sizes[1:])):
            shapes += [(b, n_in, n_out), (n_in, b, n_out)]  # x @ W, x.T @ dz
            if i > 0:
                shapes.append((b, n_out, n_in))  # dz @ W.T
        return shapes

    def shrunk(self, n_rows, repeats=2):
        """The same case on its first n_rows rows (for quick runs and tests)."""
        return replace(self, n_rows=min(n_rows, self.n_rows), repeats=repeats)


# Targets of issue 13 (judged against bounds measured in the same process, issue 21).
DIGITS = Case("digits", "(a)", 1797, (64, 32, 10), 32, target=25.0, repeats=11)
MNIST = Case("mnist", "(b)", 60000, (784, 128, 10), 128, target=1.6, blas_target=1.3, repeats=7)
CASES = (DIGITS, MNIST)
