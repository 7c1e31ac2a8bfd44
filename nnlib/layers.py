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

# "cuda": Sequential trains and predicts on the GPU (nnlib.cuda_backend); a
# layer's own forward/backward then runs the Numba CPU kernels.
BACKENDS = ("numba", "numpy", "cuda")
INITS = ("xavier", "he", "zeros")


class Layer:
    """Base class: a layer without parameters. Subclasses set ``backend``."""

    backend = "numba"
    n_in = n_out = None  # sizes, known for Dense only
    _cache = None  # what forward saved for backward

    def parameters(self):
        return []

    def gradients(self):
        return []

    def _check_backend(self):
        check_choice(self.backend, "backend", BACKENDS)

    def _check_dout(self, dout, expected, dtype):
        """dout as an array of the forward output's shape; refuses a backward before forward."""
        if expected is None:
            raise RuntimeError(
                f"{self!r}.backward was called before forward; run forward(x) first "
                f"(backward needs the values forward saved)."
            )
        dout = as_float_array(dout, "dout", dtype=dtype)
        if dout.shape != expected:
            raise ValueError(
                f"dout has shape {dout.shape} but {self!r}'s last forward output had "
                f"shape {expected}; pass dL/d(output), one entry per output."
            )
        return dout


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
        if isinstance(init, str):
            check_choice(init, "init", INITS)
        elif not isinstance(init, numbers.Real) or isinstance(init, bool) or not 0 < init < np.inf:
            raise ValueError(
                f"init must be 'xavier', 'he', 'zeros' or a standard deviation > 0, "
                f"got {init!r}; e.g. init='xavier' or init=0.01."
            )
        self.init = init
        self._cache = None
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
        self._dtype = np.dtype(dtype)
        self.W = W
        self.b = np.zeros(self.n_out)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    # W and b are properties so that whatever is assigned to them (a list,
    # a transposed view, ints) is stored as a C-contiguous float array of the
    # layer's dtype: the Numba kernels and the optimizers rely on that.
    @property
    def W(self):
        """Weights, shape (n_in, n_out)."""
        return self._W

    @W.setter
    def W(self, value):
        self._W = self._as_param(value, "W", (self.n_in, self.n_out))

    @property
    def b(self):
        """Biases, shape (n_out,)."""
        return self._b

    @b.setter
    def b(self, value):
        self._b = self._as_param(value, "b", (self.n_out,))

    def _as_param(self, value, name, shape):
        arr = as_float_array(value, name, dtype=self._dtype)
        if arr.shape != shape:
            raise ValueError(
                f"{self!r}.{name} must have shape {shape}, got shape {arr.shape}; "
                f"to change the layer's size create a new Dense layer."
            )
        return np.ascontiguousarray(arr)

    def forward(self, x):
        """z = x @ W + b for x of shape (batch, n_in); returns (batch, n_out)."""
        self._check_backend()
        x = as_float_array(x, "x", ndim=2, dtype=self.W.dtype)
        if x.shape[1] != self.n_in:
            raise ValueError(
                f"Dense({self.n_in}, {self.n_out}) got input of shape {x.shape} but W has "
                f"shape {self.W.shape}: expected x of shape (batch, {self.n_in}). "
                f"Check the previous layer's size or reshape x."
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
        expected = None if self._cache is None else (self._cache[0].shape[0], self.n_out)
        dout = self._check_dout(dout, expected, self.W.dtype)
        x, W = self._cache
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
    """An elementwise non-linearity a = sigma(z); ``name`` picks the pair in F.ACTIVATIONS.

    z may have any shape (a scalar, one sample (n,), a batch (batch, n), ...).
    """

    name = "identity"
    _a = None  # the last forward output

    def forward(self, z):
        self._check_backend()
        z = as_float_array(z, "z")
        fwd, _ = F.ACTIVATIONS[self.name]
        if self.backend == "numpy":
            a, self._cache = fwd(z)
            self._a = a
            return a
        # The kernel is elementwise: hand it one contiguous row, whatever z's shape.
        a = np.array(z, order="C", copy=True).reshape(1, -1)  # (1, z.size)
        cpu.activate(a, cpu.ACT_CODES[self.name])
        self._a = a.reshape(z.shape)
        return self._a

    def backward(self, dout):
        a = self._a  # None before the first forward
        dout = self._check_dout(dout, getattr(a, "shape", None), getattr(a, "dtype", None))
        if self.backend == "numpy":
            _, bwd = F.ACTIVATIONS[self.name]
            return bwd(dout, self._cache)
        a2 = self._a.reshape(1, -1)  # (1, size), as in forward
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
