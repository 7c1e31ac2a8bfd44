"""Softmax and the losses: the reference (notebooks 02, 04 and 05)."""
import numpy as np

from nnlib._validate import as_float_array, check_labels, check_same_shape
from nnlib.functional.activations import sigmoid


# --------------------------------------------------------------------------
# Softmax and the losses -- notebooks 02 (log-loss), 04 and 05 (softmax-CE)
# --------------------------------------------------------------------------
def softmax(z):
    """p_ij = exp(z_ij) / sum_k exp(z_ik), row-wise. z: (batch, n_classes).

    Stability trick (max-shift): subtracting each row's maximum changes
    nothing mathematically but keeps every exponent <= 0, so exp never
    overflows.
    """
    z = as_float_array(z, "z", ndim=2)
    shifted = z - z.max(axis=1, keepdims=True)  # (batch, n_classes)
    with np.errstate(under="ignore"):  # exp(-2000) = 0 is the right answer
        e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z):
    """log p_ij = z_ij - max_i - log sum_k exp(z_ik - max_i). z: (batch, n_classes)."""
    z = as_float_array(z, "z", ndim=2)
    shifted = z - z.max(axis=1, keepdims=True)  # (batch, n_classes)
    with np.errstate(under="ignore"):  # exp(-2000) = 0 is the right answer
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) against integer labels.

    L = -(1/N) sum_i log p_{i, y_i}, with p = softmax(logits).
    dL/dlogits = (p - onehot(y)) / N.
    logits: (N, n_classes), y: (N,) ints in 0..n_classes-1.
    Uses log_softmax (max-shift), so huge logits give no overflow or NaN.
    """
    logits = as_float_array(logits, "logits", ndim=2)
    n = logits.shape[0]
    y = check_labels(y, n, logits.shape[1])
    logp = log_softmax(logits)  # (N, n_classes)
    loss = -logp[np.arange(n), y].mean()
    with np.errstate(under="ignore"):
        dlogits = np.exp(logp)  # softmax(logits)
    dlogits[np.arange(n), y] -= 1.0
    return float(loss), dlogits / n


def mse(y_hat, y):
    """Mean squared error L = mean((y_hat - y)**2) over every element.

    dL/dy_hat = 2 (y_hat - y) / size, where size = y_hat.size.
    y_hat and y have the same shape (a 1-D y is read as one column).
    """
    y_hat = as_float_array(y_hat, "y_hat")
    y = _targets_like(y, y_hat)
    diff = y_hat - y
    return float(np.mean(diff * diff)), 2.0 * diff / diff.size


def binary_cross_entropy(p, y):
    """Mean log-loss of probabilities p against 0/1 (or soft) targets y.

    L = -mean(y log p + (1 - y) log(1 - p)),
    dL/dp = (p - y) / (p (1 - p)) / size.
    Stability: p is clipped to [eps, 1 - eps] (eps = machine epsilon of the
    dtype), so p = 0 or 1 gives a large finite loss, not inf or NaN.
    """
    p = as_float_array(p, "p")
    y = _targets_like(y, p)
    if p.min() < 0 or p.max() > 1:
        raise ValueError(
            "binary_cross_entropy expects probabilities in [0, 1]; got values in "
            f"[{p.min():.3g}, {p.max():.3g}]. Put a Sigmoid layer before the loss."
        )
    eps = np.finfo(p.dtype).eps
    pc = np.clip(p, eps, 1.0 - eps)
    loss = -np.mean(y * np.log(pc) + (1.0 - y) * np.log1p(-pc))
    dp = (pc - y) / (pc * (1.0 - pc)) / p.size
    return float(loss), dp


def binary_cross_entropy_with_logits(logits, y):
    """Mean log-loss of sigmoid(logits) against 0/1 (or soft) targets y, from the logits s.

    L = mean(log(1 + exp(s)) - y s)  (= the log-loss of p = sigma(s)),
    dL/ds = (sigma(s) - y) / size.
    Stability (log-sum-exp form): log(1 + exp(s)) = log(e^0 + e^s) is
    ``np.logaddexp(0, s)``, which factors out the larger exponent and so
    never overflows: s = +-1000 gives the exact finite loss (1000 or 0)
    where log(sigmoid(s)) would give -inf, and
    the gradient, sigma(s) - y, never saturates to the wrong value. This is
    the discriminator's loss of a GAN (notebook 10); not one of fit's losses
    (those have compiled fused kernels): for fit, end with Sigmoid() and use
    loss="bce". logits: any shape; y: the same shape (a 1-D y is one column).
    """
    logits = as_float_array(logits, "logits")
    y = _targets_like(y, logits)
    if y.min() < 0 or y.max() > 1:
        raise ValueError(
            f"binary_cross_entropy_with_logits expects targets y in [0, 1]; got values in "
            f"[{y.min():.3g}, {y.max():.3g}]. Use 1 for real, 0 for fake (or soft labels like 0.9)."
        )
    with np.errstate(under="ignore"):  # e^-1000 = 0 is the right answer
        loss = np.mean(np.logaddexp(0.0, logits) - y * logits)  # log(1 + e^s) - y s
    return float(loss), (sigmoid(logits) - y) / logits.size


def _targets_like(y, y_hat):
    """Targets as a float array shaped like y_hat ((N,) is read as (N, 1))."""
    y = as_float_array(y, "y", dtype=y_hat.dtype)
    if y.ndim == 1 and y_hat.ndim == 2 and y_hat.shape[1] == 1:
        y = y.reshape(-1, 1)  # (N, 1)
    check_same_shape(y_hat, y, "the prediction", "the target y")
    return y


def sequence_cross_entropy(logits, y, cross_entropy=softmax_cross_entropy):
    """Mean softmax cross-entropy over every step of every sequence (notebook 09).

    L = -(1 / (N T)) sum_{n,t} log softmax(z_nt)[y_nt];
    dL/dz_nt = (softmax(z_nt) - onehot(y_nt)) / (N T).
    logits (N, T, V), y (N, T) ints in 0..V-1; returns (loss, dlogits (N, T, V)).
    The N * T steps are rows of one (N*T, V) batch for ``cross_entropy``
    (a backend passes its own kernel).
    """
    logits = as_float_array(logits, "logits")
    if logits.ndim != 3 or np.shape(y) != logits.shape[:2]:
        raise ValueError(
            f"sequence_cross_entropy needs logits (N, T, V) and labels y (N, T), one per step; "
            f"got logits {logits.shape} and y {np.shape(y)}.")
    N, T, V = logits.shape
    loss, dlogits = cross_entropy(logits.reshape(N * T, V), np.asarray(y).reshape(N * T))
    return loss, dlogits.reshape(N, T, V)  # (N, T, V)


LOSSES = {
    "cross_entropy": softmax_cross_entropy,
    "mse": mse,
    "bce": binary_cross_entropy,
    "sequence_cross_entropy": sequence_cross_entropy,  # notebook 09
}
