"""The NumPy reference: every operation as a forward/backward pair.

This package is the specification of nnlib. The Numba kernels
(``nnlib/kernels/``) and the CUDA kernels compute the same things and are
tested against these functions. Notation follows ``notebooks/README.md``:
``x`` input (batch, n_in), ``W`` (n_in, n_out), ``b`` (n_out,),
``z = x @ W + b``, ``a = sigma(z)``, ``y_hat`` prediction, ``y`` target.

Every forward returns ``(out, cache)``; every backward takes the upstream
gradient ``dout`` (same shape as ``out``) and that cache and returns dL/dx,
followed by the parameters' gradients for a layer that has parameters
(``dense_backward -> (dx, dW, db)``). Losses return ``(loss, d_input)``
where the loss is the mean over the batch.

One file per family, each with banners naming the notebook that teaches it:
- ``dense.py``: z = x @ W + b (notebooks 03, 04);
- ``activations.py``: sigmoid (02), relu, tanh (03), their derivatives (04);
- ``losses.py``: softmax, cross-entropy (04, 05), log-loss (02), mse, log-loss on logits (10);
- ``norm.py``: batch norm, dropout (06);
- ``conv.py``: conv2d, maxpool2d, flatten (08);
- ``recurrent.py``: RNN and LSTM over a sequence, backpropagation through time (09);
- ``sequence.py``: one-hot symbols, a Dense at every time step (09).
"""
from nnlib.functional.activations import (
    ACTIVATIONS,
    identity_backward,
    identity_forward,
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from nnlib.functional.conv import (
    conv2d_backward,
    conv2d_forward,
    flatten_backward,
    flatten_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from nnlib.functional.dense import dense_backward, dense_forward
from nnlib.functional.norm import (
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
)
from nnlib.functional.recurrent import lstm_backward, lstm_forward, rnn_backward, rnn_forward
from nnlib.functional.sequence import one_hot, time_dense_backward, time_dense_forward
from nnlib.functional.losses import (
    LOSSES,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    log_softmax,
    mse,
    softmax,
    softmax_cross_entropy,
)
from nnlib.functional.losses import sequence_cross_entropy

__all__ = [
    "ACTIVATIONS", "LOSSES", "batchnorm_backward", "batchnorm_forward", "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d_backward", "conv2d_forward", "dropout_backward", "dropout_forward", "lstm_backward",
    "lstm_forward", "rnn_backward", "rnn_forward",
    "dense_backward", "dense_forward", "flatten_backward", "flatten_forward",
    "maxpool2d_backward", "maxpool2d_forward",
    "identity_backward", "identity_forward", "log_softmax", "mse", "relu_backward",
    "relu_forward", "sigmoid", "sigmoid_backward", "sigmoid_forward", "softmax",
    "softmax_cross_entropy", "tanh_backward", "tanh_forward",
]
__all__ += ["one_hot", "sequence_cross_entropy", "time_dense_backward", "time_dense_forward"]
