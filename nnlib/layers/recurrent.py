"""RNN and LSTM layers: one set of weights applied at every time step (notebook 09).

Input: batch-first sequences x (batch, T, n_in). Output: the last hidden
state (batch, n_hidden), what a classifier of whole sequences needs, or
with ``return_sequences=True`` every hidden state (batch, T, n_hidden), to
stack another recurrent layer or a ``TimeDense`` on top. Every sequence
starts from h_0 = 0 (and c_0 = 0).

The layer runs its backend's pair ``<op>_forward(x, h0, Wx, Wh, b) ->
(h, cache)`` / ``<op>_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)``
(``nnlib.functional.recurrent`` and its twins) through a thin adapter,
``_SequencePair``: it passes h0 = 0, keeps h or only h_T, and spreads dL/dh_T
back over the steps.
"""
import inspect
import numbers

import numpy as np

from nnlib._validate import as_float_array, check_choice, check_positive_int
from nnlib.layers import registry
from nnlib.layers.base import Layer, Param

INITS = ("xavier", "pytorch")
_LAYER_PAIRS = {}  # (layer type, backend, "layer") -> the adapted (forward, backward)


class _SequencePair:
    """The layer's (forward, backward) around a backend's recurrent pair."""

    def __init__(self, forward, backward):
        self._forward, self._backward = forward, backward
        self._skips_dx = "need_dx" in inspect.signature(backward).parameters  # the numba pair

    def forward(self, x, Wx, Wh, b, return_sequences):
        h0 = np.zeros((x.shape[0], Wh.shape[0]), dtype=Wx.dtype)  # (N, H): start at rest
        h, cache = self._forward(x, h0, Wx, Wh, b)  # (N, T, H)
        out = h if return_sequences else np.ascontiguousarray(h[:, -1])  # (N, H)
        return out, (cache, h.shape, return_sequences)

    def backward(self, dout, cache, need_dx=True):
        inner, h_shape, return_sequences = cache
        if return_sequences:
            dh = dout  # (N, T, H)
        else:
            dh = np.zeros(h_shape, dtype=dout.dtype)  # (N, T, H): only h_T feeds the loss
            dh[:, -1] = dout
        if need_dx or not self._skips_dx:
            dx, _, dWx, dWh, db = self._backward(dh, inner)  # dh0 is not needed: h0 = 0 is fixed
        else:  # a first layer: no dx (1/3 of the input's products)
            dx, _, dWx, dWh, db = self._backward(dh, inner, need_dx=False)
        return dx, dWx, dWh, db


class _Recurrent(Layer):
    """What RNN and LSTM share; ``n_gates`` blocks of n_hidden columns in Wx, Wh and b."""

    n_gates = 1
    param_names = ("Wx", "Wh", "b")
    skips_dx = True  # the pair takes need_dx (``_SequencePair.backward``)
    decayed = ("Wx", "Wh")

    def __init__(self, n_in, n_hidden, return_sequences=False, init="xavier", seed=None):
        self.n_in = check_positive_int(n_in, "n_in")
        self.n_hidden = check_positive_int(n_hidden, "n_hidden")
        if not isinstance(return_sequences, (bool, np.bool_)):
            raise ValueError(f"return_sequences must be True or False, got {return_sequences!r}.")
        self.return_sequences = bool(return_sequences)
        if isinstance(init, str):
            check_choice(init, "init", INITS)
        elif isinstance(init, bool) or not isinstance(init, numbers.Real) or not 0 < init < np.inf:
            raise ValueError(f"init must be 'xavier', 'pytorch' or a standard deviation > 0, "
                             f"got {init!r}; e.g. init='xavier' or init=0.1.")
        self.init, self.seed = init, seed
        self.reset(np.random.default_rng(seed), np.float64)
        self._own_init = seed is not None

    def reset(self, rng, dtype=None):
        """Draw Wx (n_in, G*H) and Wh (H, G*H) from ``rng``; b from ``_initial_bias``.

        "xavier": Glorot uniform U(+-sqrt(6 / (fan_in + H))) per gate block
        (fan_in = n_in for Wx, H for Wh); "pytorch": U(+-1 / sqrt(H)) as
        torch.nn.RNN/LSTM; a number s: N(0, s**2).
        """
        D, H, G = self.n_in, self.n_hidden, self.n_gates
        self._dtype = np.dtype(dtype or getattr(self, "_dtype", np.float64))
        weights = []
        for fan_in in (D, H):
            if self.init == "xavier":
                limit = np.sqrt(6.0 / (fan_in + H))
                weights.append(rng.uniform(-limit, limit, size=(fan_in, G * H)))
            elif self.init == "pytorch":
                weights.append(rng.uniform(-1 / np.sqrt(H), 1 / np.sqrt(H), size=(fan_in, G * H)))
            else:
                weights.append(rng.normal(0.0, float(self.init), size=(fan_in, G * H)))
        self._Wx = self._as_param(weights[0], "Wx", (D, G * H))
        self._Wh = self._as_param(weights[1], "Wh", (H, G * H))
        self._b = self._as_param(self._initial_bias(), "b", (G * H,))
        self.cast(self._dtype)

    def _initial_bias(self):
        return np.zeros(self.n_gates * self.n_hidden)

    def cast(self, dtype):
        self._dtype = np.dtype(dtype)
        self._Wx, self._Wh, self._b = (p.astype(dtype) for p in (self._Wx, self._Wh, self._b))
        self.dWx, self.dWh, self.db = (np.zeros_like(p) for p in (self._Wx, self._Wh, self._b))

    Wx = Param("Input weights, (n_in, n_gates * n_hidden).")
    Wh = Param("Recurrent weights, (n_hidden, n_gates * n_hidden).")
    b = Param("Biases, (n_gates * n_hidden,).")

    def kernel_pair(self, backend):
        """The backend's recurrent pair behind the layer's signature (see ``_SequencePair``)."""
        key = (type(self), backend, "layer")
        if key not in _LAYER_PAIRS:
            pair = _SequencePair(*super().kernel_pair(backend))
            _LAYER_PAIRS[key] = (pair.forward, pair.backward)
        return _LAYER_PAIRS[key]

    def forward_args(self, x, training):
        return self.Wx, self.Wh, self.b, self.return_sequences

    def _check_input(self, x):
        x = as_float_array(x, "x", dtype=self._dtype)
        if x.ndim != 3 or x.shape[2] != self.n_in:
            hint = (" For one feature per step use x.reshape(N, T, 1)." if x.ndim == 2 else "")
            raise ValueError(
                f"{self!r} expects sequences x of shape (batch, T, {self.n_in}) (batch first), "
                f"got shape {x.shape}.{hint}")
        return np.ascontiguousarray(x)

    def output_shape(self, input_shape):
        """(T, n_in) -> (T, n_hidden) with return_sequences, else (n_hidden,)."""
        last = (self.n_hidden,)
        if input_shape is None:
            return None if self.return_sequences else last
        shape = tuple(input_shape)
        if len(shape) != 2 or shape[1] != self.n_in:
            raise ValueError(
                f"expects sequences of shape (T, {self.n_in}) per sample (time, features), "
                f"but gets shape {shape} per sample.")
        return (shape[0], self.n_hidden) if self.return_sequences else last

    def config(self):
        return {"n_in": self.n_in, "n_hidden": self.n_hidden,
                "return_sequences": self.return_sequences, "init": self.init}


class RNN(_Recurrent):
    """Vanilla RNN: h_t = tanh(x_t Wx + h_{t-1} Wh + b), h_0 = 0.

    Wx (n_in, H), Wh (H, H), b (H,), H = n_hidden. ``init``: "xavier"
    (default), "pytorch" or a standard deviation. ``seed``: None lets the
    model draw the weights from its seed; a number fixes this layer's own.
    """

    op = "rnn"
    kernels = {"numpy": "nnlib.functional.recurrent", "numba": "nnlib.backends.numba_recurrent"}


class LSTM(_Recurrent):
    """LSTM (Hochreiter & Schmidhuber, 1997), gate blocks i, f, o, g
    (PyTorch's order is i, f, g, o): c_t = f * c_{t-1} + i * g,
    h_t = o * tanh(c_t), h_0 = c_0 = 0.

    Wx (n_in, 4H), Wh (H, 4H), b (4H,). The forget gate's bias starts at 1
    (the other biases at 0): f = sigmoid(1) ~ 0.73, so at first the cell
    keeps most of its state and gradients flow back through many steps;
    with 0 it would halve the state every step (Jozefowicz et al., 2015,
    found this closes most of the gap to more elaborate cells).
    """

    op = "lstm"
    kernels = {"numpy": "nnlib.functional.recurrent", "numba": "nnlib.backends.numba_recurrent"}
    n_gates = 4

    def _initial_bias(self):
        H = self.n_hidden
        b = np.zeros(4 * H)
        b[H:2 * H] = 1.0  # forget gate
        return b


registry.register(RNN)
registry.register(LSTM)
