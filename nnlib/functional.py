"""The NumPy reference: every operation as a forward/backward pair.

This file is the specification of nnlib. The Numba kernels
(``nnlib/kernels/cpu.py``) and the CUDA kernels compute the same things and
are tested against these functions. Notation follows ``notebooks/README.md``:
``x`` input (batch, n_in), ``W`` (n_in, n_out), ``b`` (n_out,),
``z = x @ W + b``, ``a = sigma(z)``, ``y_hat`` prediction, ``y`` target.

Every forward returns ``(out, cache)``; every backward takes the upstream
gradient ``dout`` (same shape as ``out``) and that cache. Losses return
``(loss, d_input)`` where the loss is the mean over the batch.

Taught in: dense and activations, notebooks 03 and 04; softmax and
cross-entropy, notebooks 04 and 05; sigmoid and log-loss, notebook 02.
"""
import numpy as np

from nnlib._validate import as_float_array, check_labels, check_same_shape


# --------------------------------------------------------------------------
# Dense (affine) layer -- notebook 03 (forward), notebook 04 (backward)
# --------------------------------------------------------------------------
def dense_forward(x, W, b):
    """z = x @ W + b.

    x: (batch, n_in), W: (n_in, n_out), b: (n_out,) -> z: (batch, n_out).
    """
    x = as_float_array(x, "x", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    b = as_float_array(b, "b", ndim=1)
    if x.shape[1] != W.shape[0]:
        raise ValueError(
            f"x has shape {x.shape} but W has shape {W.shape}: x's columns "
            f"({x.shape[1]}) must equal W's rows ({W.shape[0]}). Did you mean W.T?"
        )
    if b.shape[0] != W.shape[1]:
        raise ValueError(
            f"b has shape {b.shape} but W has shape {W.shape}: b needs one entry "
            f"per output, shape ({W.shape[1]},)."
        )
    z = x @ W + b  # (batch, n_out)
    return z, (x, W)


def dense_backward(dout, cache):
    """Gradients of z = x @ W + b.

    dx = dout @ W.T  (batch, n_in);  dW = x.T @ dout  (n_in, n_out);
    db = sum of dout over the batch  (n_out,).
    """
    x, W = cache
    dout = as_float_array(dout, "dout", ndim=2)
    if dout.shape != (x.shape[0], W.shape[1]):
        raise ValueError(
            f"dout has shape {dout.shape} but z = x @ W + b has shape "
            f"{(x.shape[0], W.shape[1])}; dout must be dL/dz, one entry per entry of z."
        )
    dx = dout @ W.T  # (batch, n_in)
    dW = x.T @ dout  # (n_in, n_out)
    db = dout.sum(axis=0)  # (n_out,)
    return dx, dW, db


# --------------------------------------------------------------------------
# Activations -- notebooks 02 (sigmoid), 03 (relu, tanh), 04 (backward)
# --------------------------------------------------------------------------
def sigmoid(z):
    """sigma(z) = 1 / (1 + exp(-z)), computed without overflow.

    Stability trick (two branches): for z >= 0 use 1 / (1 + exp(-z)); for
    z < 0 use exp(z) / (1 + exp(z)). Both only ever exponentiate a
    non-positive number, so |z| = 1000 gives 0 or 1, never a warning.
    """
    z = np.asarray(z, dtype=np.result_type(z, np.float32))
    with np.errstate(under="ignore"):  # exp(-1000) = 0 is the right answer
        e = np.exp(-np.abs(z))  # in [0, 1], never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_forward(z):
    """a = sigma(z), any shape. Cache: a (the derivative needs only a)."""
    a = sigmoid(z)
    return a, a


def sigmoid_backward(dout, cache):
    """dz = dout * a * (1 - a), since sigma'(z) = sigma(z) (1 - sigma(z))."""
    a = cache
    return dout * a * (1.0 - a)


def relu_forward(z):
    """a = max(0, z), any shape. Cache: z."""
    z = np.asarray(z)
    return np.maximum(z, 0.0).astype(z.dtype, copy=False), z


def relu_backward(dout, cache):
    """dz = dout where z > 0, else 0 (we take the subgradient 0 at z = 0)."""
    z = cache
    return dout * (z > 0)


def tanh_forward(z):
    """a = tanh(z), any shape (np.tanh saturates cleanly). Cache: a."""
    a = np.tanh(z)
    return a, a


def tanh_backward(dout, cache):
    """dz = dout * (1 - a**2), since tanh'(z) = 1 - tanh(z)**2."""
    a = cache
    return dout * (1.0 - a * a)


def identity_forward(z):
    """a = z (a layer with no activation). Cache: None."""
    return z, None


def identity_backward(dout, cache):
    """dz = dout."""
    return dout


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


def _targets_like(y, y_hat):
    """Targets as a float array shaped like y_hat ((N,) is read as (N, 1))."""
    y = as_float_array(y, "y", dtype=y_hat.dtype)
    if y.ndim == 1 and y_hat.ndim == 2 and y_hat.shape[1] == 1:
        y = y.reshape(-1, 1)  # (N, 1)
    check_same_shape(y_hat, y, "the prediction", "the target y")
    return y


ACTIVATIONS = {
    "identity": (identity_forward, identity_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "relu": (relu_forward, relu_backward),
    "tanh": (tanh_forward, tanh_backward),
}

LOSSES = {
    "cross_entropy": softmax_cross_entropy,
    "mse": mse,
    "bce": binary_cross_entropy,
}
