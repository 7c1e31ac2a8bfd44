"""Batch normalisation and dropout: the reference pairs (notebook 06, depth)."""
import numpy as np

from nnlib._validate import as_float_array


# --------------------------------------------------------------------------
# Batch normalisation -- notebook 06 (depth); Ioffe & Szegedy (2015)
# --------------------------------------------------------------------------
def _per_channel(x):
    """x as (N, C, S): features of (N, D) are channels of size S = 1; NCHW has S = H * W."""
    if x.ndim == 2:
        return x.reshape(x.shape[0], x.shape[1], 1)  # (N, D, 1)
    if x.ndim == 4:
        return x.reshape(x.shape[0], x.shape[1], -1)  # (N, C, H * W)
    raise ValueError(
        f"batch norm takes x of shape (N, D) or images (N, C, H, W), got shape {x.shape}."
    )


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Batch norm in training mode: out = gamma * x_hat + beta, x_hat = (x - mu) / sqrt(var + eps).

    x: (batch, features) normalised per column (or (N, C, H, W) per
    channel) by the batch mean mu and the biased batch variance var (divided
    by the batch size); gamma, beta: (features,). Returns (out, cache) for
    ``batchnorm_backward``. The layer ``BatchNorm`` also keeps running
    statistics for evaluation: ``batchnorm_running_forward``.
    """
    n_features = np.shape(gamma)[0]
    return batchnorm_running_forward(x, gamma, beta, np.zeros(n_features), np.ones(n_features),
                                     0.0, eps, True)


def batchnorm_running_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    """The BatchNorm layer's forward: out = gamma * x_hat + beta, x_hat = (x - mu) / sqrt(var + eps).

    x: (N, D), normalised per feature, or (N, C, H, W), normalised per
    channel (statistics over N, H and W). gamma, beta, running_mean,
    running_var: (D,) or (C,). out has x's shape.

    training=True: mu and var are the batch's mean and biased variance (the
    ones that normalise), and the running statistics are updated IN PLACE:
    running = (1 - momentum) * running + momentum * batch, where the batch
    variance put into running_var is the unbiased one (divided by M - 1,
    M = values per channel), as PyTorch does. training=False (evaluation):
    mu, var = running_mean, running_var, so one sample's output does not
    depend on the others in its batch.
    eps keeps the division finite for a constant feature.
    """
    x = as_float_array(x, "x")
    x3 = _per_channel(x)  # (N, C, S)
    if gamma.shape != (x3.shape[1],):
        raise ValueError(
            f"x has {x3.shape[1]} features/channels (shape {x.shape}) but gamma has shape "
            f"{gamma.shape}; use BatchNorm({x3.shape[1]}).")
    m = x3.shape[0] * x3.shape[2]  # values per channel
    if training:
        if m < 2:
            raise ValueError(
                f"batch norm in training needs more than 1 value per channel to estimate "
                f"a variance, got x of shape {x.shape}; use batches of at least 2 samples.")
        mu = x3.mean(axis=(0, 2))  # (C,)
        var = x3.var(axis=(0, 2))  # (C,), biased: divided by M
        running_mean *= 1.0 - momentum
        running_mean += momentum * mu
        running_var *= 1.0 - momentum
        running_var += momentum * var * (m / (m - 1))  # unbiased, as PyTorch
    else:
        mu, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)  # (C,)
    x_hat = (x3 - mu[:, None]) * inv_std[:, None]  # (N, C, S)
    out = gamma[:, None] * x_hat + beta[:, None]  # (N, C, S)
    cache = (x_hat, gamma, inv_std, training)
    return out.reshape(x.shape).astype(x.dtype, copy=False), cache


def batchnorm_backward(dout, cache):
    """(dx, dgamma, dbeta) of batch norm; dx has dout's shape, the others (C,).

    dbeta = sum(dout), dgamma = sum(dout * x_hat), sums over everything but
    the channel. Training (mu, var from the batch, so every x moves them):
        dx = gamma * inv_std / M * (M * dout - dbeta - x_hat * dgamma)
    the compact form of the chain rule through mu and var (M values per
    channel). Evaluation (fixed running statistics, an affine map):
        dx = gamma * inv_std * dout.
    """
    x_hat, gamma, inv_std, training = cache
    dout3 = _per_channel(np.asarray(dout))  # (N, C, S)
    dbeta = dout3.sum(axis=(0, 2))  # (C,)
    dgamma = (dout3 * x_hat).sum(axis=(0, 2))  # (C,)
    scale = (gamma * inv_std)[:, None]  # (C, 1)
    if training:
        m = x_hat.shape[0] * x_hat.shape[2]
        dx = scale / m * (m * dout3 - dbeta[:, None] - x_hat * dgamma[:, None])  # (N, C, S)
    else:
        dx = scale * dout3  # (N, C, S)
    return dx.reshape(np.shape(dout)), dgamma, dbeta


# --------------------------------------------------------------------------
# Dropout -- notebook 06 (depth); Srivastava et al. (2014)
# --------------------------------------------------------------------------
def dropout_mask(shape, p, rng, dtype=np.float64):
    """The inverted-dropout mask: 0 with probability p, else 1 / (1 - p); drawn from rng (a Generator)."""
    keep = rng.random(shape) >= p  # as x
    return keep.astype(dtype) * np.dtype(dtype).type(1.0 / (1.0 - p))


def dropout_forward(x, p, rng):
    """Inverted dropout in training mode (drop probability p, mask drawn from the Generator rng).

    out = x * mask, mask = 0 (dropped, probability p) or 1 / (1 - p)
    (kept), so E[out] = x and evaluation is the identity. Returns
    (out, cache) for ``dropout_backward``.
    """
    x = as_float_array(x, "x")
    return dropout_mask_forward(x, dropout_mask(x.shape, p, rng, x.dtype))


def dropout_mask_forward(x, mask):
    """The Dropout layer's forward: out = x * mask, any shape.

    mask has x's shape and holds 0 (dropped) or 1 / (1 - p) (kept), so the
    expectation of out is x and evaluation needs no rescaling; the Dropout
    layer draws it (training). mask=None is evaluation: out is x itself.
    Cache: the mask.
    """
    if mask is None:
        return x, None
    return x * mask, mask


def dropout_backward(dout, cache):
    """dx = dout * mask (dx = dout when the forward had no mask)."""
    mask = cache
    return dout if mask is None else dout * mask


# The layers' pairs: one backward serves both forwards of each family.
batchnorm_running_backward = batchnorm_backward
dropout_mask_backward = dropout_backward
