"""BatchNorm and Dropout layers: train vs evaluation mode (notebook 06, depth).

Both behave differently in training (``training=True``, inside ``fit`` or
after ``model.train()``) and in evaluation (``predict``, ``evaluate``,
``model.eval()``): BatchNorm normalises by the batch's statistics and
updates its running ones, or uses the running ones; Dropout drops, or
passes x through.
"""
import numbers

import numpy as np

from nnlib._validate import as_float_array, check_positive_int
from nnlib.layers import registry
from nnlib.layers.base import Layer

KERNELS = {"numpy": "nnlib.functional.norm", "numba": "nnlib.backends.numba_norm",
           "cuda": "nnlib.backends.cuda_norm"}


def _fraction(value, name, upper_open=True, example=0.1):
    """value as a float in [0, 1) (or (0, 1] with upper_open=False), else a clear error."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and (0 <= value < 1 if upper_open else 0 < value <= 1)
    if not ok:
        rng = "[0, 1)" if upper_open else "(0, 1]"
        raise ValueError(f"{name} must be a number in {rng}, got {value!r}; e.g. {name}={example}.")
    return float(value)


class BatchNorm(Layer):
    """out = gamma * (x - mu) / sqrt(var + eps) + beta (Ioffe & Szegedy, 2015).

    x: (batch, n_features) after a Dense layer, or images (batch, C, H, W)
    after a convolution (n_features = C: statistics per channel). gamma
    (scale) starts at 1, beta (shift) at 0; neither gets weight decay.
    Running statistics (buffers, saved with the model): after each training
    batch, running = (1 - momentum) * running + momentum * batch statistic,
    PyTorch's convention (momentum=0.1 keeps 90% of the old value; Keras'
    "momentum" is our 1 - momentum), the running variance unbiased.
    """

    op = "batchnorm"
    kernels = KERNELS
    param_names = ("gamma", "beta")
    decayed = ()
    buffer_names = ("running_mean", "running_var")
    keeps_shape = True

    def __init__(self, n_features, momentum=0.1, eps=1e-5):
        self.n_features = check_positive_int(n_features, "n_features")
        self.momentum = _fraction(momentum, "momentum", upper_open=False)
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < 1:
            raise ValueError(f"eps must be a small number > 0, got {eps!r}; e.g. eps=1e-5.")
        self.eps = float(eps)
        self.reset(None, np.float64)

    def reset(self, rng, dtype=None):
        """gamma = 1, beta = 0, running mean 0 and variance 1 (nothing random: rng unused)."""
        dtype = dtype or getattr(self, "gamma", np.zeros(0)).dtype
        C = self.n_features
        self.gamma, self.beta = np.ones(C, dtype), np.zeros(C, dtype)
        self.running_mean, self.running_var = np.zeros(C, dtype), np.ones(C, dtype)
        self.dgamma, self.dbeta = np.zeros(C, dtype), np.zeros(C, dtype)

    def forward_args(self, x, training):
        if training and x.shape[0] * int(np.prod(x.shape[2:])) < 2:
            raise ValueError(
                f"{self!r} in training needs more than 1 value per feature to estimate a "
                f"variance, got a batch of shape {x.shape}; use batch_size >= 2 (and N not "
                f"1 more than a multiple of it), or model.eval() for single samples.")
        return (self.gamma, self.beta, self.running_mean, self.running_var,
                self.momentum, self.eps, bool(training))

    def _check_input(self, x):
        x = as_float_array(x, "x", dtype=self.gamma.dtype)
        if x.ndim not in (2, 4) or x.shape[1] != self.n_features:
            raise ValueError(
                f"{self!r} expects x of shape (batch, {self.n_features}) or images (batch, "
                f"{self.n_features}, H, W), got shape {x.shape}.")
        return np.ascontiguousarray(x)

    def output_shape(self, input_shape):
        if input_shape is None:
            return None
        shape = tuple(input_shape)
        if len(shape) not in (1, 3) or shape[0] != self.n_features:
            raise ValueError(
                f"normalises {self.n_features} features/channels, but the layer before it "
                f"outputs shape {shape} per sample; make it BatchNorm({shape[0]}).")
        return shape

    def config(self):
        return {"n_features": self.n_features, "momentum": self.momentum, "eps": self.eps}


class Dropout(Layer):
    """Inverted dropout (Srivastava et al., 2014): in training each entry is
    zeroed with probability p and the kept ones are scaled by 1 / (1 - p),
    so evaluation is the identity (no rescaling at test time).

    The mask comes from this layer's own random Generator: ``seed`` fixes
    it; without one the model that holds the layer seeds it from its own
    seed (``reset``), so a model's training is reproducible. The mask is
    drawn here, in NumPy, so every backend drops the same entries.
    """

    op = "dropout"
    kernels = KERNELS
    keeps_shape = True

    def __init__(self, p=0.5, seed=None):
        self.p = _fraction(p, "p", example=0.5)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._own_init = seed is not None

    def reset(self, rng, dtype=None):
        """A fresh Generator spawned from the model's ``rng`` (its stream is not consumed,
        so adding Dropout changes no other layer's initial weights)."""
        self._rng = rng.spawn(1)[0]

    def cast(self, dtype):
        """Nothing to cast: the mask takes x's dtype."""

    def forward_args(self, x, training):
        """(mask,): 0 or 1 / (1 - p) with x's shape and dtype when training, else None."""
        if not training or self.p == 0.0:
            return (None,)
        keep = self._rng.random(x.shape) >= self.p  # (batch, ...) as x
        return (keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p)),)

    def _check_input(self, x):
        return np.ascontiguousarray(as_float_array(x, "x"))

    def config(self):
        return {"p": self.p, "seed": self.seed}


registry.register(BatchNorm)
registry.register(Dropout)
