"""Sequential: a stack of layers trained by mini-batch gradient descent.

The model chooses where its maths runs once, when it is built
(``nnlib.backends.trainer_for``), and passes the backend down:

- ``backend="numpy"`` runs the readable reference loop (forward through
  each layer, loss, backward through each layer in reverse, optimizer step);
- ``backend="numba"`` (default) runs the same maths as one compiled call per
  epoch whenever the stack is Dense [activation] ..., and layer by layer
  with each layer's Numba kernels otherwise;
- ``backend="cuda"`` the same on an NVIDIA GPU (notebook 07).
The tests check that every backend gives the same weights.

dtype: given, it is the float type of the weights and of every computation.
Not given (the default), it follows the data at the first ``fit``: float32
inputs train in float32 (as PyTorch and NumPy users expect), anything else
(float64, integers) in float64. Before the first fit the weights are float64.

Taught in notebooks 04 (the training loop) and 05 (fit, evaluate).
"""
import json

import numpy as np
from tqdm.auto import tqdm

from nnlib import functional as F
from nnlib._saving import npz_path, read_saved
from nnlib._validate import (
    as_float_array, check_choice, check_labels, check_positive_int,
)
from nnlib.backends import check_backend, layerwise, trainer_for
from nnlib.backends.layerwise import LayerwiseTrainer
from nnlib.history import History
from nnlib.layers import Dense, Layer, Sigmoid
from nnlib.layers.registry import LAYER_TYPES, layer_from_spec
from nnlib.optim import Optimizer

LOSSES = tuple(F.LOSSES)
SEQUENCE_LOSS = "sequence_cross_entropy"  # one label per time step (notebook 09)
DTYPES = ("float64", "float32")


class Sequential:
    """layers: a list of nnlib layers (Dense, the activations, Conv2D, ...), applied in order.

    seed fixes the initial weights of every layer that has no seed or
    weights of its own (and the shuffling in fit); dtype: see the module
    docstring; backend: "numba" (default), "numpy" or "cuda".
    """

    def __init__(self, layers, seed=0, backend="numba", dtype=None):
        self.layers = list(layers)
        self.backend = check_backend(backend)
        self.dtype = None if dtype is None else _check_dtype(dtype)
        self.seed = seed
        self._check_layers()
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            if not layer._own_init:  # a layer given a seed or weights keeps them
                layer.reset(rng)
            if self.dtype is not None:
                layer.cast(self.dtype)
        self._trainer = trainer_for(self.backend, self.layers)
        self.training = False
        self.loss = None

    def _check_layers(self):
        if not self.layers:
            raise ValueError("Sequential needs at least one layer, e.g. [Dense(2, 1), Sigmoid()].")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"layer {i} is {layer!r}, not an nnlib layer (Dense, Sigmoid, ReLU, Tanh, "
                    f"Conv2D, ...).")
        self._sample_shape(None)  # what can be checked before any data is seen
        if not any(layer.param_names for layer in self.layers):
            raise ValueError(
                "Sequential needs at least one Dense layer (or another layer with weights) "
                "to have weights to learn.")

    def _sample_shape(self, shape):
        """One sample's output shape for one sample's input shape (None: not known yet)."""
        for i, layer in enumerate(self.layers):
            try:
                shape = layer.output_shape(shape)
            except ValueError as exc:
                raise ValueError(f"layer sizes do not chain: layer {i} is {layer!r} and {exc}") from None
        return shape

    @property
    def _in_shape(self):
        """(n_in,) when the first layer that is not elementwise is Dense, else None (set by the data)."""
        for layer in self.layers:
            if not layer.keeps_shape:
                return (layer.n_in,) if type(layer) is Dense else self._seen_in_shape
        return self._seen_in_shape

    _seen_in_shape = None  # one sample's shape, from the last X checked (Conv2D, RNN, ... first)

    @property
    def n_in(self):
        """Features per sample for a model that starts with Dense, else None."""
        shape = self._in_shape
        return shape[0] if shape is not None and len(shape) == 1 else None

    @property
    def n_out(self):
        """Outputs per sample (None until the data's shape is known, for Conv2D or RNN first)."""
        shape = self._sample_shape(self._in_shape)
        return shape[0] if shape is not None and len(shape) == 1 else None

    @property
    def _working_dtype(self):
        """The dtype given or fixed by the first fit; before that, the parameters' (float64)."""
        return self.dtype if self.dtype is not None else self.layers_dtype()

    def layers_dtype(self):
        """The dtype of the layers' parameters now."""
        return next(p.dtype for l in self.layers for p in l.parameters())

    def train(self):
        """Training mode: Dropout drops, BatchNorm uses each batch's statistics. fit sets it."""
        self.training = True
        return self

    def eval(self):
        """Evaluation mode (the default): Dropout passes through, BatchNorm uses its running statistics."""
        self.training = False
        return self

    # ---- forward / backward, layer by layer (what notebook 04 derives) ----
    def forward(self, X):
        """Output of the last layer for X of shape (batch, ...), in the model's mode."""
        return layerwise.forward(self.layers, self._check_X(X), self.backend, self.training)

    def backward(self, dout):
        """Backpropagate dout = dL/d(output) of the last ``forward``; returns dx = dL/dX.

        Fills every layer's gradients (``gradients()``) and returns the
        gradient with respect to the model's input X, same shape as X: what a
        generator needs to learn through a discriminator (notebook 10). It
        runs on the backend of that forward, in the mode it ran in (call
        ``train()`` before ``forward`` for Dropout and BatchNorm's training
        behaviour). Nothing is updated: ``step(optimizer)`` does that.
        """
        return layerwise.backward(self.layers, dout)

    def step(self, optimizer):
        """One optimizer step from the gradients the last ``backward`` stored; returns self.

        The loop of notebook 10: ``forward`` -> your own loss gradient ->
        ``backward`` -> ``step``. Runs the optimizer's update on the model's
        backend (Numba kernels by default), weight decay where each layer
        says, like ``fit``. A frozen model (``freeze()``) is left unchanged.
        Give each model its own optimizer: its state (Adam's moments) belongs
        to one list of parameters.
        """
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be nnlib.SGD(...) or nnlib.Adam(...), got {optimizer!r}.")
        if not self.frozen:
            layerwise.optimizer_step(self.layers, optimizer, self.backend)
        return self

    frozen = False  # see freeze()

    def freeze(self):
        """Keep the weights fixed: ``step`` leaves them unchanged and ``fit`` refuses; returns self.

        ``backward`` still computes every gradient and dx (a generator's step
        backpropagates through the frozen discriminator). ``unfreeze()`` undoes it.
        """
        self.frozen = True
        return self

    def unfreeze(self):
        """Let ``step`` and ``fit`` update the weights again; returns self."""
        self.frozen = False
        return self

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self):
        return [g for layer in self.layers for g in layer.gradients()]

    # ---- training ----
    def fit(self, X, y, epochs=10, batch_size=32, optimizer=None, loss="cross_entropy",
            validation_data=None, shuffle=True, verbose=True):
        """Train for ``epochs`` passes over (X, y); returns a History.

        X: (N, n_in), or (N, C, H, W) images, (N, T, D) sequences for models
        that start with such layers. y: (N,) integer labels for
        loss="cross_entropy"; (N, n_out) or (N,) float targets for "mse" and
        "bce"; (N, T) integer labels, one per step, for
        loss="sequence_cross_entropy" (a model whose output is (N, T, V), e.g.
        ending in TimeDense). ``optimizer=SGD(..., clip_norm=...)`` clips the
        gradients' global norm (the step then runs layer by layer). Without a dtype given, the first fit fixes it from X (see the
        module docstring).
        """
        from nnlib.optim import SGD  # default optimizer

        if self.frozen:
            raise RuntimeError("this model is frozen (freeze()): fit would change its weights; "
                               "call model.unfreeze() first.")
        loss = self._check_loss(loss)
        dtype = self._working_dtype if self.dtype is not None else _dtype_for(X)
        X = self._check_X(X, dtype=dtype)
        y_int, y_float = self._check_y(y, X.shape[0], loss=loss, dtype=dtype)
        epochs = check_positive_int(epochs, "epochs")
        batch_size = min(check_positive_int(batch_size, "batch_size"), X.shape[0])
        optimizer = SGD(lr=0.1) if optimizer is None else optimizer
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be nnlib.SGD(...) or nnlib.Adam(...), got {optimizer!r}.")
        validation_data = self._check_validation(validation_data, loss, dtype)
        # only now: a call refused above leaves the model as it was
        self.loss = loss
        if self.dtype is None:
            self.dtype = dtype
            for layer in self.layers:
                layer.cast(dtype)
        trainer = self._trainer
        if getattr(optimizer, "clip_norm", None) is not None and not isinstance(trainer, LayerwiseTrainer):
            # the fused trainers do not clip: the same backend's kernels, one layer at a time
            trainer = LayerwiseTrainer(self.layers, self.backend)
        trainer.start_fit(X, y_int, y_float)
        rng = np.random.default_rng(self.seed)
        history = History()
        # A disabled tqdm still costs tens of microseconds to set up: a tenth of a
        # digits epoch, so fit(epochs=1) in a loop builds a bar only when it shows one.
        for _ in (tqdm(range(epochs), desc="epochs") if verbose else range(epochs)):
            order = rng.permutation(X.shape[0]) if shuffle else np.arange(X.shape[0])
            self.train()
            try:
                loss_value, correct = trainer.train_epoch(
                    X, y_int, y_float, order, batch_size, optimizer, self.loss)
            finally:
                self.eval()
            metrics = {"loss": loss_value}
            if self.loss == "cross_entropy":
                metrics["accuracy"] = correct / X.shape[0]
            if validation_data is not None:
                val = self.evaluate(*validation_data)
                metrics["val_loss"] = val["loss"]
                if val["accuracy"] is not None:  # mse has no accuracy
                    metrics["val_accuracy"] = val["accuracy"]
            history.append(metrics)
            if not np.isfinite(loss_value):
                raise FloatingPointError(
                    f"the loss became {loss_value} in epoch {len(history)}: training diverged. "
                    f"Lower the learning rate (now {optimizer.lr})."
                )
        return history

    # ---- inference (always in evaluation mode) ----
    def _output(self, X):
        out = self._trainer.predict(self._check_X(X))
        if out.ndim == 3 and self._loss_in_use() == SEQUENCE_LOSS:
            return out  # (N, T, V): one prediction per step
        if out.ndim != 2:
            raise ValueError(
                f"this model outputs shape {out.shape[1:]} per sample; predict, evaluate and "
                f"fit need one vector per sample: end the model with Flatten() and Dense(...), "
                f"or call model.forward(X) for the raw output."
            )
        return out

    def predict_proba(self, X):
        """Class probabilities: softmax of the output for cross-entropy, else the output."""
        out = self._output(X)
        if self._loss_in_use() == "cross_entropy":
            return F.softmax(out)
        if self._loss_in_use() == SEQUENCE_LOSS:  # softmax at every step, (N, T, V)
            return F.softmax(out.reshape(-1, out.shape[2])).reshape(out.shape)
        return out

    def predict(self, X):
        """Class labels (argmax, or p > 0.5 for one sigmoid output); raw output for mse."""
        out = self._output(X)
        loss = self._loss_in_use()
        if loss == SEQUENCE_LOSS:
            return out.argmax(axis=2)  # (N, T)
        if loss == "cross_entropy" or (loss == "bce" and out.shape[1] > 1):
            return out.argmax(axis=1)
        if loss == "bce":
            return (out[:, 0] > 0.5).astype(np.int64)
        return out

    def evaluate(self, X, y):
        """{"loss": mean loss, "accuracy": fraction correct (None for mse)}.

        The metrics are computed by the NumPy reference from the output the
        model's backend computed.
        """
        out = self._output(X)
        loss = self._loss_in_use()
        y_int, y_float = self._check_y(y, out.shape[0], loss=loss)
        target = y_int if loss in ("cross_entropy", SEQUENCE_LOSS) else y_float
        loss_value, _ = F.LOSSES[loss](out, target)
        accuracy = None
        if loss == SEQUENCE_LOSS:  # the fraction of steps predicted right
            accuracy = float((out.argmax(axis=2) == y_int).mean())
        elif loss == "cross_entropy":
            accuracy = float((out.argmax(axis=1) == y_int).mean())
        elif loss == "bce":  # the same rule as predict; soft targets count as y > 0.5
            pred = out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0.5)
            truth = y_float.argmax(axis=1) if out.shape[1] > 1 else (y_float[:, 0] > 0.5)
            accuracy = float((pred == truth).mean())
        return {"loss": loss_value, "accuracy": accuracy}

    def _loss_in_use(self):
        """The loss of the last fit; before any fit, guess from the last layer."""
        if self.loss is not None:
            return self.loss
        if type(self.layers[-1]).__name__ == "TimeDense":
            return SEQUENCE_LOSS
        return "bce" if isinstance(self.layers[-1], Sigmoid) and self.n_out == 1 else "cross_entropy"

    # ---- checks ----
    def _check_loss(self, loss):
        loss = check_choice(loss, "loss", LOSSES)
        if loss == "bce" and not isinstance(self.layers[-1], Sigmoid):
            raise ValueError(
                f"loss='bce' needs probabilities in [0, 1], but the last layer is "
                f"{self.layers[-1]!r}; end the model with Sigmoid(), or use "
                f"loss='cross_entropy' (which applies softmax itself)."
            )
        return loss

    def _check_validation(self, validation_data, loss, dtype):
        """(X_val, y_val) checked like X and y, or None."""
        if validation_data is None:
            return None
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError(
                f"validation_data must be a pair (X_val, y_val), got "
                f"{type(validation_data).__name__}; pass validation_data=(X_test, y_test)."
            )
        X_val = self._check_X(validation_data[0], "X_val", dtype)
        self._check_y(validation_data[1], X_val.shape[0], "y_val", loss=loss, dtype=dtype)
        return X_val, validation_data[1]

    def _check_X(self, X, name="X", dtype=None):
        """X as a C-contiguous float array whose samples fit the first layers."""
        dtype = dtype or self._working_dtype
        if self.n_in is not None:  # a network of Dense layers: one row per sample
            X = as_float_array(X, name, ndim=2, dtype=dtype)
            if X.shape[1] != self.n_in:
                raise ValueError(
                    f"{name} has shape {X.shape} but the first layer expects {self.n_in} "
                    f"features per sample, i.e. shape (n_samples, {self.n_in})."
                )
            return np.ascontiguousarray(X)
        X = as_float_array(X, name, dtype=dtype)
        if X.ndim < 2:
            raise ValueError(f"{name} must have one row per sample (at least 2-D), got shape {X.shape}.")
        try:
            self._sample_shape(X.shape[1:])
        except ValueError as exc:
            raise ValueError(f"{name} has shape {X.shape}, one sample {X.shape[1:]}: {exc}") from None
        self._seen_in_shape = X.shape[1:]
        return np.ascontiguousarray(X)

    def _check_y(self, y, n, name="y", loss=None, dtype=None):
        """(int labels, float targets): the one the loss needs, the other empty."""
        loss = loss or self.loss
        dtype = dtype or self._working_dtype
        if loss == SEQUENCE_LOSS:
            # the (N, T) labels are this loss's targets: the trainers hand every loss
            # but "cross_entropy" the second array, so both slots hold them
            labels = self._check_sequence_y(y, n, name)
            return labels, labels
        n_out = self.n_out
        if n_out is None:
            raise ValueError(
                f"this model outputs shape {self._sample_shape(self._in_shape)} per sample; fit "
                f"needs one vector per sample: end the model with Flatten() and Dense(...)."
            )
        if loss == "cross_entropy":
            return check_labels(y, n, n_out, name), np.empty((0, n_out), dtype)
        y = as_float_array(y, name, dtype=dtype)
        if y.ndim == 1:
            y = y.reshape(-1, 1)  # (N, 1)
        if y.shape != (n, n_out):
            raise ValueError(
                f"{name} has shape {y.shape} but the network outputs shape {(n, n_out)}; "
                f"give one target per output (for class labels use loss='cross_entropy')."
            )
        if loss == "bce" and (y.min() < 0 or y.max() > 1):
            raise ValueError(
                f"{name} for loss='bce' must be in [0, 1]; got values in "
                f"[{y.min():.3g}, {y.max():.3g}]. Use 0/1 labels, or loss='mse' for other targets."
            )
        return np.empty(0, np.int64), np.ascontiguousarray(y)

    def _check_sequence_y(self, y, n, name):
        """(N, T) int labels, one per step of the (N, T, V) output."""
        shape = self._sample_shape(self._in_shape)
        if shape is None or len(shape) != 2:
            raise ValueError(
                f"loss='sequence_cross_entropy' needs an output of shape (T, V) per sample "
                f"(end the model with TimeDense(n_hidden, V)); this model outputs {shape}.")
        y = np.asarray(y)
        if y.shape != (n, shape[0]):
            raise ValueError(
                f"{name} must hold one label per step, shape {(n, shape[0])}, got shape {y.shape}.")
        flat = check_labels(y.reshape(-1), y.size, shape[1], name)
        return np.ascontiguousarray(flat.reshape(y.shape))

    # ---- persistence ----
    def save(self, path):
        """Write architecture, weights and running statistics to an .npz file; returns the path.

        Like np.savez, ".npz" is appended to a file name without it.
        """
        path = npz_path(path)
        spec = {"layers": [{"type": type(l).__name__, "config": l.config()} for l in self.layers],
                "dtype": str(self._working_dtype)}
        arrays = {f"p{i}": p for i, p in enumerate(self.parameters())}
        arrays.update({f"s{i}": s for i, s in enumerate(self.buffers())})
        np.savez(path, __spec__=json.dumps(spec), **arrays)
        return path

    def buffers(self):
        """Arrays the layers keep but do not train (BatchNorm's running statistics)."""
        return [s for layer in self.layers for s in layer.buffers()]

    def load(self, path):
        """Load weights saved by ``save`` into this model (the architecture must match)."""
        spec, params, buffers = read_saved(path, LAYER_TYPES)
        mine = [l.describe() for l in self.layers]
        theirs = [layer_from_spec(s).describe() for s in spec["layers"]]
        if mine != theirs:
            raise ValueError(
                f"{path} holds a different architecture [{', '.join(theirs)}] than this "
                f"model [{', '.join(mine)}]; use Sequential.from_file(path) to rebuild it."
            )
        for p, a in zip(self.parameters() + self.buffers(), params + buffers):
            p[...] = a
        return self

    @classmethod
    def from_file(cls, path, backend="numba"):
        """Rebuild a model saved by ``save``, weights included."""
        spec, _, _ = read_saved(path, LAYER_TYPES)
        layers = [layer_from_spec(s) for s in spec["layers"]]
        return cls(layers, backend=backend, dtype=spec["dtype"]).load(path)

    def __repr__(self):
        inner = ", ".join(repr(l) for l in self.layers)
        dtype = None if self.dtype is None else str(self.dtype)
        return f"Sequential([{inner}], backend={self.backend!r}, dtype={dtype!r})"


def _dtype_for(X):
    """The dtype rule: float32 data trains in float32, anything else in float64."""
    return np.dtype(np.float32) if getattr(X, "dtype", None) == np.float32 else np.dtype(np.float64)


def _check_dtype(dtype):
    """np.dtype for "float64" / "float32" (or np.float64 / np.float32), else a clear error."""
    try:
        name = str(np.dtype(dtype))
    except TypeError:  # not a dtype at all, e.g. "banana": check_choice names it
        name = dtype
    return np.dtype(check_choice(name, "dtype", DTYPES))
