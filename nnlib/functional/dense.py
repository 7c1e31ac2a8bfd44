"""The dense (affine) layer z = x @ W + b: the reference pair (notebooks 03 and 04)."""
from nnlib._validate import as_float_array


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
