"""Sequential: a stack of layers trained by mini-batch gradient descent.

``backend="numpy"`` runs the readable reference loop below (forward through
each layer, loss, backward through each layer in reverse, optimizer step).
``backend="numba"`` (default) runs the same maths as one compiled call per
epoch (``nnlib.fused``) whenever the stack is Dense [activation] ...; the
tests check that both give the same weights. ``backend="cuda"`` trains and
predicts such stacks on an NVIDIA GPU (``nnlib.cuda_backend``, notebook 06).

Taught in notebooks 04 (the training loop) and 05 (fit, evaluate).
"""
import json

import numpy as np
from tqdm.auto import tqdm

from nnlib import functional as F
from nnlib._saving import describe_layer, npz_path, read_saved
from nnlib._validate import (
    as_float_array, check_choice, check_labels, check_positive_int,
)
from nnlib.fused import FusedPlan
from nnlib.history import History
from nnlib.kernels import cpu
from nnlib.layers import BACKENDS, Activation, Dense, Layer, Sigmoid, ReLU, Tanh
from nnlib.optim import Optimizer

LOSSES = tuple(F.LOSSES)
DTYPES = ("float64", "float32")
LAYER_TYPES = {"Dense": Dense, "Sigmoid": Sigmoid, "ReLU": ReLU, "Tanh": Tanh}


class Sequential:
    """layers: a list of Dense / Sigmoid / ReLU / Tanh, applied in order.

    seed fixes the initial weights (and the shuffling in fit); dtype is the
    float type of weights and computation.
    """

    def __init__(self, layers, seed=0, backend="numba", dtype="float64"):
        self.layers = list(layers)
        self.backend = check_choice(backend, "backend", BACKENDS)
        self.dtype = _check_dtype(dtype)
        self.seed = seed
        self._check_layers()
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            layer.backend = backend
            if isinstance(layer, Dense):
                layer.reset(rng, self.dtype)
        self._plan = FusedPlan.build(self.layers) if backend == "numba" else None
        if backend == "cuda":  # the GPU trainer; numba.cuda is imported only when asked for
            from nnlib.cuda_backend import CudaPlan
            self._plan = CudaPlan.build(self.layers)
        self.loss = None

    def _check_layers(self):
        if not self.layers:
            raise ValueError("Sequential needs at least one layer, e.g. [Dense(2, 1), Sigmoid()].")
        width = None
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} is {layer!r}, not an nnlib layer (Dense, Sigmoid, ReLU, Tanh).")
            if isinstance(layer, Dense):
                if width is not None and layer.n_in != width:
                    raise ValueError(
                        f"layer sizes do not chain: layer {i} is {layer!r} and expects "
                        f"{layer.n_in} inputs, but the layer before it outputs {width}. "
                        f"Make it Dense({width}, {layer.n_out})."
                    )
                width = layer.n_out
        if width is None:
            raise ValueError("Sequential needs at least one Dense layer to have weights to learn.")

    @property
    def n_in(self):
        return next(l.n_in for l in self.layers if isinstance(l, Dense))

    @property
    def n_out(self):
        return [l for l in self.layers if isinstance(l, Dense)][-1].n_out

    # ---- forward / backward, layer by layer (what notebook 04 derives) ----
    def forward(self, X):
        """Output of the last layer for X of shape (batch, n_in)."""
        a = self._check_X(X)
        for layer in self.layers:
            a = layer.forward(a)
        return a

    def backward(self, dout):
        """Backpropagate dL/d(output); fills every layer's gradients."""
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self):
        return [g for layer in self.layers for g in layer.gradients()]

    # ---- training ----
    def fit(self, X, y, epochs=10, batch_size=32, optimizer=None, loss="cross_entropy",
            validation_data=None, shuffle=True, verbose=True):
        """Train for ``epochs`` passes over (X, y); returns a History.

        X: (N, n_in). y: (N,) integer labels for loss="cross_entropy";
        (N, n_out) or (N,) float targets for "mse" and "bce".
        """
        from nnlib.optim import SGD  # default optimizer

        loss = self._check_loss(loss)
        X = self._check_X(X)
        y_int, y_float = self._check_y(y, X.shape[0], loss=loss)
        epochs = check_positive_int(epochs, "epochs")
        batch_size = min(check_positive_int(batch_size, "batch_size"), X.shape[0])
        optimizer = SGD(lr=0.1) if optimizer is None else optimizer
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be nnlib.SGD(...) or nnlib.Adam(...), got {optimizer!r}.")
        validation_data = self._check_validation(validation_data, loss)
        self.loss = loss  # only now: a call refused above leaves the model as it was
        if self.backend == "cuda":
            self._plan.start_fit(X, y_int, y_float)  # the data's one trip to the GPU
        rng = np.random.default_rng(self.seed)
        history = History()
        for _ in tqdm(range(epochs), desc="epochs", disable=not verbose):
            order = rng.permutation(X.shape[0]) if shuffle else np.arange(X.shape[0])
            loss_value, correct = self._epoch(X, y_int, y_float, order, batch_size, optimizer)
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

    def _epoch(self, X, y_int, y_float, order, batch_size, optimizer):
        if self._plan is not None:
            code = cpu.LOSS_CODES[self.loss]
            return self._plan.train_epoch(X, y_int, y_float, order, batch_size, optimizer, code)
        loss_fn = F.LOSSES[self.loss]
        loss_sum, correct = 0.0, 0
        for start in range(0, X.shape[0], batch_size):
            idx = order[start:start + batch_size]
            y_b = y_int[idx] if self.loss == "cross_entropy" else y_float[idx]
            out = self.forward(X[idx])
            loss_value, dout = loss_fn(out, y_b)
            self.backward(dout)
            optimizer.step(zip(self.parameters(), self.gradients()), backend=self.backend)
            loss_sum += loss_value * len(idx)
            if self.loss == "cross_entropy":
                correct += int((out.argmax(axis=1) == y_b).sum())
        return loss_sum / X.shape[0], correct

    # ---- inference ----
    def _output(self, X):
        X = self._check_X(X)
        if self._plan is not None:
            return self._plan.predict(X)
        return self.forward(X)

    def predict_proba(self, X):
        """Class probabilities: softmax of the output for cross-entropy, else the output."""
        out = self._output(X)
        if self._loss_in_use() == "cross_entropy":
            return F.softmax(out)
        return out

    def predict(self, X):
        """Class labels (argmax, or p > 0.5 for one sigmoid output); raw output for mse."""
        out = self._output(X)
        loss = self._loss_in_use()
        if loss == "cross_entropy" or (loss == "bce" and out.shape[1] > 1):
            return out.argmax(axis=1)
        if loss == "bce":
            return (out[:, 0] > 0.5).astype(np.int64)
        return out

    def evaluate(self, X, y):
        """{"loss": mean loss, "accuracy": fraction correct (None for mse)}."""
        out = self._output(X)
        loss = self._loss_in_use()
        y_int, y_float = self._check_y(y, out.shape[0], loss=loss)
        target = y_int if loss == "cross_entropy" else y_float
        loss_value, _ = F.LOSSES[loss](out, target)
        accuracy = None
        if loss == "cross_entropy":
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

    def _check_validation(self, validation_data, loss):
        """(X_val, y_val) checked like X and y, or None."""
        if validation_data is None:
            return None
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError(
                f"validation_data must be a pair (X_val, y_val), got "
                f"{type(validation_data).__name__}; pass validation_data=(X_test, y_test)."
            )
        X_val = self._check_X(validation_data[0], "X_val")
        self._check_y(validation_data[1], X_val.shape[0], "y_val", loss=loss)
        return X_val, validation_data[1]

    def _check_X(self, X, name="X"):
        X = as_float_array(X, name, ndim=2, dtype=self.dtype)
        if X.shape[1] != self.n_in:
            raise ValueError(
                f"{name} has shape {X.shape} but the first layer expects {self.n_in} "
                f"features per sample, i.e. shape (n_samples, {self.n_in})."
            )
        return np.ascontiguousarray(X)

    def _check_y(self, y, n, name="y", loss=None):
        """(int labels, float targets): the one the loss needs, the other empty."""
        loss = loss or self.loss
        if loss == "cross_entropy":
            return check_labels(y, n, self.n_out, name), np.empty((0, self.n_out), self.dtype)
        y = as_float_array(y, name, dtype=self.dtype)
        if y.ndim == 1:
            y = y.reshape(-1, 1)  # (N, 1)
        if y.shape != (n, self.n_out):
            raise ValueError(
                f"{name} has shape {y.shape} but the network outputs shape {(n, self.n_out)}; "
                f"give one target per output (for class labels use loss='cross_entropy')."
            )
        if loss == "bce" and (y.min() < 0 or y.max() > 1):
            raise ValueError(
                f"{name} for loss='bce' must be in [0, 1]; got values in "
                f"[{y.min():.3g}, {y.max():.3g}]. Use 0/1 labels, or loss='mse' for other targets."
            )
        return np.empty(0, np.int64), np.ascontiguousarray(y)

    # ---- persistence ----
    def save(self, path):
        """Write architecture and weights to an .npz file; returns the path written.

        Like np.savez, ".npz" is appended to a file name without it.
        """
        path = npz_path(path)
        spec = [{"type": type(l).__name__, "n_in": l.n_in, "n_out": l.n_out} for l in self.layers]
        arrays = {f"p{i}": p for i, p in enumerate(self.parameters())}
        np.savez(path, __spec__=json.dumps({"layers": spec, "dtype": str(self.dtype)}), **arrays)
        return path

    def load(self, path):
        """Load weights saved by ``save`` into this model (the architecture must match)."""
        spec, saved = read_saved(path, LAYER_TYPES)
        mine = [describe_layer(type(l).__name__, l.n_in, l.n_out) for l in self.layers]
        theirs = [describe_layer(s["type"], s["n_in"], s["n_out"]) for s in spec["layers"]]
        if mine != theirs:
            raise ValueError(
                f"{path} holds a different architecture [{', '.join(theirs)}] than this "
                f"model [{', '.join(mine)}]; use Sequential.from_file(path) to rebuild it."
            )
        for p, a in zip(self.parameters(), saved):
            p[...] = a
        return self

    @classmethod
    def from_file(cls, path, backend="numba"):
        """Rebuild a model saved by ``save``, weights included."""
        spec, _ = read_saved(path, LAYER_TYPES)
        layers = []
        for s in spec["layers"]:
            kind = LAYER_TYPES[s["type"]]
            layers.append(kind(s["n_in"], s["n_out"]) if kind is Dense else kind())
        return cls(layers, backend=backend, dtype=spec["dtype"]).load(path)

    def __repr__(self):
        inner = ", ".join(repr(l) for l in self.layers)
        return f"Sequential([{inner}], backend={self.backend!r}, dtype={str(self.dtype)!r})"


def _check_dtype(dtype):
    """np.dtype for "float64" / "float32" (or np.float64 / np.float32), else a clear error."""
    try:
        name = str(np.dtype(dtype))
    except TypeError:  # not a dtype at all, e.g. "banana": check_choice names it
        name = dtype
    return np.dtype(check_choice(name, "dtype", DTYPES))
