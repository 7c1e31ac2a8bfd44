"""The layer contract every nnlib layer follows (notebooks 03 and 04).

A layer is the readable NumPy reference plus a table of where its compiled
kernels live. It names one forward/backward pair, ``op``: the reference is
``nnlib.functional.<op>_forward`` / ``<op>_backward``, and ``kernels`` maps
each backend to the module holding the pair with the same signature::

    forward(x, *params, *settings) -> (out, cache)
    backward(dout, cache) -> dx                    (a layer without parameters)
    backward(dout, cache) -> (dx, *dparams)        (in the order of param_names)

The backend is an argument of ``forward`` (passed down by the model), never
something a layer stores; ``backward`` runs on the backend of the forward it
follows. A new layer declares ``op``, ``kernels``, ``param_names`` (and
``decayed``: which of them get weight decay), a ``reset`` that draws its
parameters, and ``output_shape``; the model, the trainers, the optimizers
and save/load need nothing more.
"""
import importlib

import numpy as np

from nnlib._validate import as_float_array
from nnlib.backends import DEFAULT_BACKEND, check_backend

REFERENCE = "nnlib.functional"
NUMBA = "nnlib.backends.numba_ops"
CUDA = "nnlib.backends.cuda_ops"
_PAIRS = {}  # (layer type, backend) -> (forward, backward), filled by Layer.kernel_pair


class Param:
    """A trained array of a layer (``W = Param("Weights, shape (n_in, n_out).")``).

    Whatever is assigned to it (a list, a transposed view, ints) is stored as
    a C-contiguous float array of the layer's dtype and of the shape it has
    (the Numba kernels and the optimizers rely on that), and the layer then
    keeps it inside a model (``_own_init``). The array lives in the layer's
    ``_<name>`` attribute, which ``reset`` and ``cast`` set directly.
    """

    def __init__(self, doc):
        self.__doc__ = doc

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, layer, owner=None):
        return self if layer is None else getattr(layer, "_" + self.name)

    def __set__(self, layer, value):
        current = getattr(layer, "_" + self.name)
        setattr(layer, "_" + self.name, layer._as_param(value, self.name, current.shape))
        layer._own_init = True


class Layer:
    """Base class. Subclasses set ``op`` and, where they have them, compiled ``kernels``."""

    op = None  # the name of the forward/backward pair
    kernels = {"numpy": REFERENCE}  # backend -> module with <op>_forward, <op>_backward
    param_names = ()  # trained arrays, e.g. ("W", "b"); gradients are "d" + name
    decayed = ()  # the params that get weight decay: weights, never biases
    buffer_names = ()  # arrays saved with the model but not trained (running statistics)
    _cache = None  # (backend, what forward saved for backward, output shape, output dtype)
    _own_init = False  # True when the user gave a seed or weights: a model keeps them
    keeps_shape = False  # True when the output has the input's shape (activations, Dropout, ...)
    skips_dx = False  # True when the backward pair takes need_dx=False and then skips dL/dx
    _dtype = np.dtype(np.float64)  # of the parameters

    # ---- the pair, on a backend
    def kernel_pair(self, backend):
        """(forward, backward) for ``backend``; a clear error when this layer has none there."""
        key = (type(self), backend)
        if key not in _PAIRS:  # looked up once per layer type and backend
            backend = check_backend(backend)
            where = self.kernels.get(backend)
            if where is None:
                have = ", ".join(repr(b) for b in self.kernels)
                raise ValueError(
                    f"{self!r} has no kernels for backend={backend!r} (it has {have}); "
                    f"use backend='numba' (or 'numpy') for a model with this layer."
                )
            module = importlib.import_module(where)
            _PAIRS[key] = (getattr(module, f"{self.op}_forward"),
                           getattr(module, f"{self.op}_backward"))
        return _PAIRS[key]

    def forward(self, x, backend=DEFAULT_BACKEND, training=False):
        """This layer's output for x, computed by ``backend``'s kernels.

        ``training`` is True inside ``fit`` (Dropout drops, BatchNorm uses
        the batch's statistics) and False otherwise.
        """
        fwd, _ = self.kernel_pair(backend)
        x = self._check_input(x)
        out, cache = fwd(x, *self.forward_args(x, training))
        self._cache = (backend, cache, np.shape(out), np.asarray(out).dtype)
        return out

    def backward(self, dout, need_dx=True):
        """Given dL/d(output): store the parameters' gradients and return dL/dx.

        need_dx=False: the caller will not use dL/dx (the first layer, in
        training); a layer whose pair can skip it (``skips_dx``) returns None.
        """
        if self._cache is None:
            raise RuntimeError(
                f"{self!r}.backward was called before forward; run forward(x) first "
                f"(backward needs the values forward saved)."
            )
        backend, cache, shape, dtype = self._cache
        dout = self._check_dout(dout, shape, dtype)
        _, bwd = self.kernel_pair(backend)
        result = bwd(dout, cache) if need_dx or not self.skips_dx else bwd(dout, cache, need_dx=False)
        if not self.param_names:
            return result
        dx, *grads = result
        for g, value in zip(self.gradients(), grads):
            g[...] = value
        return dx

    def forward_args(self, x, training):
        """What the forward of the pair takes after x: the parameters, then any settings.

        x is the checked input (Dropout draws its mask to x's shape).
        """
        return tuple(self.parameters())

    # ---- parameters
    def parameters(self):
        return [getattr(self, name) for name in self.param_names]

    def gradients(self):
        return [getattr(self, "d" + name) for name in self.param_names]

    def buffers(self):
        return [getattr(self, name) for name in self.buffer_names]

    def reset(self, rng, dtype=None):
        """Draw fresh parameters from ``rng`` (a model calls this unless the layer has its own)."""

    def cast(self, dtype):
        """Parameters, gradients and buffers as ``dtype`` (float32 or float64)."""
        for name in self.param_names + self.buffer_names:
            setattr(self, name, getattr(self, name).astype(dtype))
        for name in self.param_names:
            setattr(self, "d" + name, np.zeros_like(getattr(self, name)))

    # ---- shapes and checks
    def output_shape(self, input_shape):
        """The shape of one sample's output for one sample's input shape (None: unknown yet).

        Raises a clear ValueError when the input cannot feed this layer.
        """
        return input_shape

    def config(self):
        """The constructor's arguments, as saved with the model."""
        return {}

    def _as_param(self, value, name, shape):
        """value as a C-contiguous array of the layer's dtype and the given shape, or a clear error."""
        arr = as_float_array(value, name, dtype=self._dtype)
        if arr.shape != shape:
            raise ValueError(
                f"{self!r}.{name} must have shape {shape}, got shape {arr.shape}; "
                f"to change the layer's size create a new {type(self).__name__} layer."
            )
        return np.ascontiguousarray(arr)

    def describe(self):
        """The layer's type and sizes, e.g. "Dense(3, 4)": what must match for load()."""
        sizes = [repr(v) for k, v in self.config().items() if k not in ("init", "seed")]
        return f"{type(self).__name__}({', '.join(sizes)})"

    def _check_input(self, x):
        return as_float_array(x, "x")

    def _check_dout(self, dout, expected, dtype):
        """dout as an array of the forward output's shape."""
        dout = as_float_array(dout, "dout", dtype=dtype)
        if dout.shape != expected:
            raise ValueError(
                f"dout has shape {dout.shape} but {self!r}'s last forward output had "
                f"shape {expected}; pass dL/d(output), one entry per output."
            )
        return dout

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"
