"""Dense: the fully connected layer z = x @ W + b (notebooks 03 and 04)."""
import numbers

import numpy as np

from nnlib._validate import as_float_array, check_choice, check_positive_int
from nnlib.layers.base import CUDA, NUMBA, REFERENCE, Layer, Param

INITS = ("xavier", "he", "zeros")


class Dense(Layer):
    """Fully connected layer z = x @ W + b.

    Shapes: x (batch, n_in), W (n_in, n_out), b (n_out,), z (batch, n_out).
    ``init``: "xavier" (Glorot uniform, U(+-sqrt(6 / (n_in + n_out))), for
    sigmoid/tanh), "he" (N(0, 2 / n_in), for ReLU), "zeros" (to show why it
    fails), or a number s (N(0, s**2), to show what too-large weights do).
    ``seed``: None (default) lets the model that holds the layer draw its
    weights from the model's seed; a number fixes this layer's own weights,
    and a model keeps them (as it keeps weights assigned to ``W`` and ``b``).
    """

    op = "dense"
    kernels = {"numpy": REFERENCE, "numba": NUMBA, "cuda": CUDA}
    param_names = ("W", "b")
    decayed = ("W",)

    def __init__(self, n_in, n_out, init="xavier", seed=None):
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
        self.seed = seed
        self._dtype = np.dtype(np.float64)
        self.reset(np.random.default_rng(seed))
        self._own_init = seed is not None

    def reset(self, rng, dtype=None):
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
        self._dtype = np.dtype(dtype or self._dtype)
        self._W = self._as_param(W, "W", shape)
        self._b = self._as_param(np.zeros(self.n_out), "b", (self.n_out,))
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def cast(self, dtype):
        self._dtype = np.dtype(dtype)
        self._W, self._b = self._W.astype(dtype), self._b.astype(dtype)
        self.dW, self.db = np.zeros_like(self._W), np.zeros_like(self._b)

    W = Param("Weights, shape (n_in, n_out).")
    b = Param("Biases, shape (n_out,).")

    def _check_input(self, x):
        x = as_float_array(x, "x", ndim=2, dtype=self.W.dtype)
        if x.shape[1] != self.n_in:
            raise ValueError(
                f"Dense({self.n_in}, {self.n_out}) got input of shape {x.shape} but W has "
                f"shape {self.W.shape}: expected x of shape (batch, {self.n_in}). "
                f"Check the previous layer's size or reshape x."
            )
        return x

    def output_shape(self, input_shape):
        if input_shape is None or tuple(input_shape) == (self.n_in,):
            return (self.n_out,)
        if len(input_shape) == 1:
            raise ValueError(
                f"expects {self.n_in} inputs, but the layer before it outputs {input_shape[0]}. "
                f"Make it Dense({input_shape[0]}, {self.n_out})."
            )
        raise ValueError(
            f"expects {self.n_in} inputs per sample, but gets shape {tuple(input_shape)} per "
            f"sample. Put a Flatten() before it (and make it Dense({int(np.prod(input_shape))}, "
            f"{self.n_out}))."
        )

    def config(self):
        return {"n_in": self.n_in, "n_out": self.n_out, "init": self.init}

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out}, init={self.init!r})"
