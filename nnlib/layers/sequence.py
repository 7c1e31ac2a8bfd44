"""TimeDense: one Dense layer applied at every time step of a sequence (notebook 09).

For sequence outputs, e.g. a character model that predicts the next
character after every step: x (batch, T, n_in) -> z (batch, T, n_out),
z_t = x_t W + b with the same W and b at every step (Keras's
``TimeDistributed(Dense(...))``). Train it with
``loss="sequence_cross_entropy"`` and labels y of shape (batch, T).
"""
from nnlib._validate import as_float_array
from nnlib.layers import registry
from nnlib.layers.dense import Dense


class TimeDense(Dense):
    """Dense at every step: x (batch, T, n_in), W (n_in, n_out), b (n_out,) -> (batch, T, n_out).

    Same parameters, initialisation and arguments as ``Dense``.
    """

    op = "time_dense"
    kernels = {"numpy": "nnlib.functional.sequence", "numba": "nnlib.backends.numba_recurrent"}

    def _check_input(self, x):
        x = as_float_array(x, "x", dtype=self.W.dtype)
        if x.ndim != 3 or x.shape[2] != self.n_in:
            raise ValueError(
                f"{self!r} expects sequences x of shape (batch, T, {self.n_in}) (batch first), "
                f"got shape {x.shape}; for one vector per sample use Dense.")
        return x

    def output_shape(self, input_shape):
        """(T, n_in) -> (T, n_out)."""
        if input_shape is None:
            return None
        shape = tuple(input_shape)
        if len(shape) != 2 or shape[1] != self.n_in:
            raise ValueError(
                f"expects sequences of shape (T, {self.n_in}) per sample, but gets shape "
                f"{shape} per sample (a recurrent layer before it needs return_sequences=True).")
        return (shape[0], self.n_out)

    def __repr__(self):
        return f"TimeDense({self.n_in}, {self.n_out}, init={self.init!r})"


registry.register(TimeDense)
