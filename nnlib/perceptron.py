"""Rosenblatt's perceptron (1958): a weighted sum, a step, and an error-driven rule.

    y_hat = step(x . w + b),  step(s) = 1 if s > 0 else 0
    on each sample: w <- w + lr (y - y_hat) x,  b <- b + lr (y - y_hat)

It converges whenever a line separates the classes (AND, OR, NAND) and never
on XOR. Notebook 01 has learners write this themselves; nnlib's copy
(``predict``, ``update`` and the ``Perceptron`` class built on them) is the
reference its checks (``nncourse.checks.ch01``) compare against.
"""
import numpy as np

from nnlib._validate import as_float_array, check_positive_float, check_positive_int


def predict(X, w, b):
    """y_hat = step(X @ w + b): 0/1 labels (n,) for X (n, d), w (d,), scalar b.

    step(z) = 1 if z > 0 else 0, so a point exactly on the line is class 0.
    """
    z = np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64) + b  # (n,)
    return (z > 0).astype(np.int64)


def update(w, b, x, y, lr=1.0):
    """One step of the rule on one sample x (d,) with label y in {0, 1}.

    error = y - y_hat;  w <- w + lr * error * x;  b <- b + lr * error.
    Returns new ``(w, b)``; the arrays passed in are not modified.
    """
    x = np.asarray(x, dtype=np.float64)
    error = y - int(x @ w + b > 0)  # -1, 0 or +1
    return w + lr * error * x, b + lr * error


class Perceptron:
    """A single threshold unit with weights w (n_features,) and bias b."""

    def __init__(self, n_features=2, lr=1.0):
        self.w = np.zeros(check_positive_int(n_features, "n_features"))
        self.b = 0.0
        self.lr = check_positive_float(lr, "lr")
        self.errors_ = []  # misclassifications in each epoch of fit

    def predict(self, X):
        """0/1 predictions for X of shape (n, n_features)."""
        return predict(self._check(X), self.w, self.b)

    def fit(self, X, y, epochs=10):
        """Apply the rule sample by sample for up to ``epochs`` passes.

        Records the number of mistakes of each pass in ``errors_`` and stops
        early after a pass with no mistakes (converged).
        """
        X = self._check(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(
                f"y must hold one label per row of X, shape ({X.shape[0]},); got shape {y.shape}."
            )
        if not np.isin(y, (0, 1)).all():
            raise ValueError(
                f"y must hold 0/1 labels, got the values {np.unique(y)[:5].tolist()}; "
                f"map the two classes to 0 and 1 first, e.g. y = (y == y.max()).astype(int)."
            )
        self.errors_ = []
        for _ in range(check_positive_int(epochs, "epochs")):
            mistakes = 0
            for xi, yi in zip(X, y):
                mistakes += int(yi != int(xi @ self.w + self.b > 0))
                self.w, self.b = update(self.w, self.b, xi, yi, self.lr)
            self.errors_.append(mistakes)
            if mistakes == 0:
                break
        return self

    @property
    def converged(self):
        return bool(self.errors_) and self.errors_[-1] == 0

    def _check(self, X):
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.w.shape[0]:
            raise ValueError(
                f"X has shape {X.shape} but this perceptron has {self.w.shape[0]} weights; "
                f"expected (n_samples, {self.w.shape[0]})."
            )
        return X
