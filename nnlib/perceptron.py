"""Rosenblatt's perceptron (1958): a weighted sum, a step, and an error-driven rule.

    y_hat = step(x . w + b),  step(s) = 1 if s > 0 else 0
    on each sample: w <- w + lr (y - y_hat) x,  b <- b + lr (y - y_hat)

It converges whenever a line separates the classes (AND, OR, NAND) and never
on XOR. Notebook 01 has learners write this themselves; nnlib's copy is the
reference its checks compare against.
"""
import numpy as np

from nnlib._validate import as_float_array, check_positive_float, check_positive_int


class Perceptron:
    """A single threshold unit with weights w (n_features,) and bias b."""

    def __init__(self, n_features=2, lr=1.0):
        self.w = np.zeros(check_positive_int(n_features, "n_features"))
        self.b = 0.0
        self.lr = check_positive_float(lr, "lr")
        self.errors_ = []  # misclassifications in each epoch of fit

    def predict(self, X):
        """0/1 predictions for X of shape (n, n_features)."""
        X = self._check(X)
        return (X @ self.w + self.b > 0).astype(np.int64)

    def fit(self, X, y, epochs=10):
        """Apply the rule sample by sample for up to ``epochs`` passes.

        Records the number of mistakes of each pass in ``errors_`` and stops
        early after a pass with no mistakes (converged).
        """
        X = self._check(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],) or not np.isin(y, (0, 1)).all():
            raise ValueError(f"y must be 0/1 labels of shape ({X.shape[0]},), got shape {y.shape}.")
        self.errors_ = []
        for _ in range(check_positive_int(epochs, "epochs")):
            mistakes = 0
            for xi, yi in zip(X, y):
                error = yi - int(xi @ self.w + self.b > 0)
                self.w += self.lr * error * xi
                self.b += self.lr * error
                mistakes += int(error != 0)
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
