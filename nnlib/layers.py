"""Layer objects: each wraps one forward/backward pair of ``nnlib.functional``.

A layer remembers what its backward needs (the cache) and, for Dense, its
parameters ``W`` and ``b`` and their gradients ``dW`` and ``db``. With
``backend="numba"`` the same maths runs in the compiled kernels of
``nnlib.kernels.cpu``; with ``backend="numpy"`` it runs the reference.

Taught in notebooks 03 (forward) and 04 (backward).
"""
import numbers

import numpy as np

from nnlib import functional as F
from nnlib._validate import as_float_array, check_choice, check_positive_int
from nnlib.kernels import cpu

BACKENDS = ("numba", "numpy")
INITS = ("xavier", "he", "zeros")


class Layer:
    """Base class: a layer without parameters. Subclasses set ``backend``."""

    backend = "numba"
    n_in = n_out = None  # sizes, known for Dense only

    def parameters(self):
        return []

    def gradients(self):
        return []

    def _check_backend(self):
        check_choice(self.backend, "backend", BACKENDS)


class Dense(Layer):
    """Fully connected layer z = x @ W + b.

    Shapes: x (batch, n_in), W (n_in, n_out), b (n_out,), z (batch, n_out).
    ``init``: "xavier" (Glorot uniform, U(+-sqrt(6 / (n_in + n_out))), for
    sigmoid/tanh), "he" (N(0, 2 / n_in), for ReLU), "zeros" (to show why it
    fails), or a number s (N(0, s**2), to show what too-large weights do).
    """

    def __init__(self, n_in, n_out, init="xavier", seed=0):
        self.n_in = check_positive_int(n_in, "n_in")
        self.n_out = check_positive_int(n_out, "n_out")
        if not isinstance(init, numbers.Real) or isinstance(init, bool):
            check_choice(init, "init", INITS)
        self.init = init
        self.reset(np.random.default_rng(seed))

    def reset(self, rng, dtype=np.float64):
        """Draw fresh weights from ``rng``; biases start at zero."""
        shape = (self.n_in, self.n_out)
        if self.init == "xavier":
            limit = np.sqrt(6.0 / (self.n_in + self.n_out))
            W = rng.uniform(-limit, limit, size=shape)
        elif self.init == "he":
            W = rng.normal(0.0, np.sqrt(2.0 / self.n_in), size=shape)
        elif self.init == "zeros":
            W = np.zeros(shape)
        else:
            W = rng.normal(0.0, float(self.init), size=shape)
        self.W = W.astype(dtype)
        self.b = np.zeros(self.n_out, dtype=dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def forward(self, x):
        """z = x @ W + b for x of shape (batch, n_in); returns (batch, n_out)."""
        self._check_backend()
        x = as_float_array(x, "x", ndim=2, dtype=self.W.dtype)
        if x.shape[1] != self.n_in:
            raise ValueError(
                f"Dense({self.n_in}, {self.n_out}) got input of shape {x.shape}: "
                f"expected (batch, {self.n_in}). Check the previous layer's size or reshape x."
            )
        if self.backend == "numpy":
            z, self._cache = F.dense_forward(x, self.W, self.b)
            return z
        x = np.ascontiguousarray(x)
        z = np.empty((x.shape[0], self.n_out), dtype=self.W.dtype)
        cpu.dense_forward(x, self.W, self.b, cpu.IDENTITY, z)
        self._cache = (x, self.W)
        return z

    def backward(self, dout):
        """Given dL/dz (batch, n_out): store dW, db and return dL/dx (batch, n_in)."""
        x, W = self._cache
        dout = np.asarray(dout, dtype=W.dtype)
        if dout.shape != (x.shape[0], self.n_out):
            raise ValueError(f"dout has shape {dout.shape}, expected {(x.shape[0], self.n_out)}.")
        if self.backend == "numpy":
            dx, self.dW[...], self.db[...] = F.dense_backward(dout, self._cache)
            return dx
        dx = np.empty_like(x)
        cpu.dense_backward(np.ascontiguousarray(dout), x, W, dx, self.dW, self.db, True)
        return dx

    def parameters(self):
        return [self.W, self.b]

    def gradients(self):
        return [self.dW, self.db]

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out}, init={self.init!r})"


class Activation(Layer):
    """An elementwise non-linearity a = sigma(z); ``name`` picks the pair in F.ACTIVATIONS."""

    name = "identity"

    def forward(self, z):
        self._check_backend()
        z = as_float_array(z, "z")
        fwd, _ = F.ACTIVATIONS[self.name]
        if self.backend == "numpy":
            a, self._cache = fwd(z)
            self._a = a
            return a
        a = np.array(z, order="C", copy=True).reshape(z.shape[0], -1)  # (batch, n)
        cpu.activate(a, cpu.ACT_CODES[self.name])
        self._a = a.reshape(z.shape)
        return self._a

    def backward(self, dout):
        dout = np.asarray(dout, dtype=self._a.dtype)
        if dout.shape != self._a.shape:
            raise ValueError(f"dout has shape {dout.shape}, expected {self._a.shape}.")
        if self.backend == "numpy":
            _, bwd = F.ACTIVATIONS[self.name]
            return bwd(dout, self._cache)
        a2 = self._a.reshape(self._a.shape[0], -1)
        dz = np.empty_like(a2)
        cpu.activation_backward(np.ascontiguousarray(dout).reshape(a2.shape), a2,
                                cpu.ACT_CODES[self.name], dz)
        return dz.reshape(self._a.shape)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Sigmoid(Activation):
    """a = 1 / (1 + exp(-z)) (stable two-branch form). Notebook 02."""

    name = "sigmoid"


class ReLU(Activation):
    """a = max(0, z). Notebook 03."""

    name = "relu"


class Tanh(Activation):
    """a = tanh(z). Notebook 03."""

    name = "tanh"
