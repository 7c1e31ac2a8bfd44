"""The chapter 8 (convolution) checks discriminate: stubs raise through, solutions pass, slips fail precisely."""
import numpy as np
import pytest

from nncourse.checks import check
from nnlib.backends import numba_conv
from nnlib.functional import conv

from check_helpers import fails_with

IDS = ["8.1", "8.2", "8.3", "8.4", "8.5"]


# ----------------------------------------------------------------- correct answers (written here, not nnlib's)
def conv_output_shape(x_shape, w_shape, stride, padding):
    N, _, H, W = x_shape
    F, _, KH, KW = w_shape
    return N, F, (H + 2 * padding - KH) // stride + 1, (W + 2 * padding - KW) // stride + 1


def conv2d_loops(x, W, b, stride, padding, flip=False, pad=None, rows=0, use_bias=True):
    """Correct by default; the keywords make the slips the checks must name."""
    p = padding if pad is None else pad
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Wk = W[:, :, ::-1, ::-1] if flip else W
    N, F, KH = x.shape[0], W.shape[0], W.shape[2]
    H_out = (xp.shape[2] - KH) // stride + 1 + rows
    W_out = (xp.shape[3] - W.shape[3]) // stride + 1 + rows
    xp = np.pad(xp, ((0, 0), (0, 0), (0, 4), (0, 4)))
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for oh in range(H_out):
                for ow in range(W_out):
                    window = xp[n, :, oh * stride:oh * stride + KH, ow * stride:ow * stride + W.shape[3]]
                    out[n, f, oh, ow] = (window * Wk[f]).sum() + (b[f] if use_bias else 0)
    return out


def conv2d_weight_grad(x, dout, kernel_size, stride, padding, flip=False, mean=False):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    _, F, H_out, W_out = dout.shape
    K = kernel_size
    dW = np.zeros((F, x.shape[1], K, K))
    for oh in range(H_out):
        for ow in range(W_out):
            window = xp[:, :, oh * stride:oh * stride + K, ow * stride:ow * stride + K]  # (N, C, K, K)
            dW += np.einsum("nf,nckl->fckl", dout[:, :, oh, ow], window)
    db = dout.sum(axis=(0, 2, 3))
    if flip:
        dW = dW[:, :, ::-1, ::-1]
    return (dW / len(x), db / len(x)) if mean else (dW, db)


def maxpool_backward(dout, x, size, stride, rule="first", overwrite=False):
    dx = np.zeros(x.shape)
    N, C, H_out, W_out = dout.shape
    for n in range(N):
        for c in range(C):
            for oh in range(H_out):
                for ow in range(W_out):
                    window = x[n, c, oh * stride:oh * stride + size, ow * stride:ow * stride + size]
                    flat = window.ravel()
                    if rule == "mean":
                        dx[n, c, oh * stride:oh * stride + size, ow * stride:ow * stride + size] += \
                            dout[n, c, oh, ow] / size ** 2
                        continue
                    if rule == "all":
                        dx[n, c, oh * stride:oh * stride + size, ow * stride:ow * stride + size] += \
                            (window == window.max()) * dout[n, c, oh, ow]
                        continue
                    k = flat.argmax() if rule == "first" else len(flat) - 1 - flat[::-1].argmax()
                    i, j = divmod(k, size)
                    if overwrite:
                        dx[n, c, oh * stride + i, ow * stride + j] = dout[n, c, oh, ow]
                    else:
                        dx[n, c, oh * stride + i, ow * stride + j] += dout[n, c, oh, ow]
    return dx


def count_parameters(input_shape, layers, bias=True, per_channel=True):
    shape, counts = tuple(input_shape), []
    for layer in layers:
        if layer[0] == "conv":
            _, F, K, stride, padding = layer
            C, H, W = shape
            counts.append(F * K * K * (C if per_channel else 1) + (F if bias else 0))
            shape = (F, (H + 2 * padding - K) // stride + 1, (W + 2 * padding - K) // stride + 1)
        elif layer[0] == "pool":
            _, size, stride = layer
            counts.append(0)
            shape = (shape[0], (shape[1] - size) // stride + 1, (shape[2] - size) // stride + 1)
        elif layer[0] == "flatten":
            counts.append(0)
            shape = (int(np.prod(shape)),)
        else:
            counts.append(shape[0] * layer[1] + (layer[1] if bias else 0))
            shape = (layer[1],)
    return counts


CORRECT = [("8.1", conv_output_shape), ("8.1", lambda x, w, s, p: list(conv_output_shape(x, w, s, p))),
           ("8.2", conv2d_loops), ("8.3", conv2d_weight_grad), ("8.4", maxpool_backward),
           ("8.5", count_parameters), ("8.5", lambda s, layers: np.array(count_parameters(s, layers)))]


@pytest.mark.parametrize("exercise_id, answer", CORRECT)
def test_a_correct_answer_passes(exercise_id, answer, capsys):
    assert check(exercise_id, answer) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


# ----------------------------------------------------------------- 8.1
def shape_with(plus_one=1, pad_sides=2, use_stride=True, swap=False, channels="F"):
    def shape(x_shape, w_shape, stride, padding):
        N, C, H, W = x_shape
        F, _, KH, KW = w_shape
        KH, KW = (KW, KH) if swap else (KH, KW)
        s = stride if use_stride else 1
        return (N, F if channels == "F" else C, (H + pad_sides * padding - KH) // s + plus_one,
                (W + pad_sides * padding - KW) // s + plus_one)
    return shape


@pytest.mark.parametrize("wrong, message", [
    (shape_with(plus_one=0), "Off by one"),
    (shape_with(pad_sides=1), "H + 2*padding, not H + padding"),
    (shape_with(pad_sides=0), "The padding is missing"),
    (shape_with(use_stride=False), "The stride is missing"),
    (shape_with(swap=True), "you swapped the kernel's height and width"),
    (shape_with(channels="C"), "one channel per FILTER"),
    (lambda x, w, s, p: conv_output_shape(x, w, s, p)[1:], "expected 4 values"),
])
def test_wrong_output_shapes_fail_with_a_specific_message(wrong, message):
    fails_with("8.1", wrong, "x_shape=(2, 3, 10, 14), w_shape=(4, 3, 4, 6)", message)


# ----------------------------------------------------------------- 8.2
@pytest.mark.parametrize("wrong, message", [
    (lambda x, W, b, s, p: conv2d_loops(x, W, b, s, p, flip=True), "Your kernel is flipped"),
    (lambda x, W, b, s, p: conv2d_loops(x, W, b, s, p, pad=0), "the padding is missing"),
    (lambda x, W, b, s, p: conv2d_loops(x, W, b, s, p, rows=1), "off-by-one output size: one row and column too many"),
    (lambda x, W, b, s, p: conv2d_loops(x, W, b, s, p, rows=-1), "one row and column too few"),
    (lambda x, W, b, s, p: conv2d_loops(x, W, b, 1, p), "the stride is missing"),
    (lambda x, W, b, s, p: conv2d_loops(x, W, b, s, p, use_bias=False), "The bias b[f] is missing"),
    (lambda x, W, b, s, p: conv2d_loops(x, np.repeat(W[:, :1], x.shape[1], axis=1), b, s, p),
     "its own kernel slice"),
])
def test_wrong_convolutions_fail_with_a_specific_message(wrong, message):
    fails_with("8.2", wrong, "x of shape (2, 3, 7, 7), W of shape (4, 3, 3, 3) (seed 81), stride=2", message)


def test_a_one_sided_padding_is_named():
    def one_side(x, W, b, s, p):
        xp = np.pad(x, ((0, 0), (0, 0), (p, 0), (p, 0)))
        return conv2d_loops(xp, W, b, s, 0)
    fails_with("8.2", one_side, "(seed 81)", "a wrong padding added on one side only")


# ----------------------------------------------------------------- 8.3
@pytest.mark.parametrize("wrong, message", [
    (lambda x, d, k, s, p: conv2d_weight_grad(x, d, k, s, p, flip=True), "dW is flipped"),
    (lambda x, d, k, s, p: conv2d_weight_grad(x, d, k, s, p, mean=True), "do not average"),
    (lambda x, d, k, s, p: (conv2d_weight_grad(x, d, k, s, p)[0], d.mean(axis=(0, 2, 3)) * len(x)),
     "db"),
    (lambda x, d, k, s, p: conv2d_weight_grad(x, d, k, s, p)[0], "the return value (dW, db)"),
])
def test_wrong_weight_gradients_fail_with_a_specific_message(wrong, message):
    fails_with("8.3", wrong, "x of shape (2, 3, 7, 7), dout of shape (2, 4, 4, 4) (seed 85)", message)


# ----------------------------------------------------------------- 8.4
@pytest.mark.parametrize("wrong, where, message", [
    (lambda d, x, size, s: maxpool_backward(d, x, size, s, rule="all"), "with tied maxima", "every maximal entry"),
    (lambda d, x, size, s: maxpool_backward(d, x, size, s, rule="last"), "with tied maxima", "the LAST maximal"),
    (lambda d, x, size, s: maxpool_backward(d, x, size, s, rule="mean"), "(seed 91)", "AVERAGE pooling"),
    (lambda d, x, size, s: maxpool_backward(d, x, size, s, overwrite=True), "stride=", "add with +="),
])
def test_wrong_maxpool_backward_fails_with_a_specific_message(wrong, where, message):
    fails_with("8.4", wrong, where, message)


# ----------------------------------------------------------------- 8.5
@pytest.mark.parametrize("wrong, message", [
    (lambda s, layers: count_parameters(s, layers, bias=False), "The biases are missing"),
    (lambda s, layers: count_parameters(s, layers, per_channel=False), "Each filter spans ALL input channels"),
    (lambda s, layers: sum(count_parameters(s, layers)), "expected one count per layer"),
])
def test_wrong_parameter_counts_fail_with_a_specific_message(wrong, message):
    fails_with("8.5", wrong, "input_shape=(1, 32, 32)", message)


def test_a_count_that_ignores_pooling_is_named():
    def no_pool_shrink(input_shape, layers):
        return count_parameters(input_shape, [("pool", 1, 1) if layer[0] == "pool" else layer
                                              for layer in layers])
    fails_with("8.5", no_pool_shrink, "the Dense layer after Flatten sees the POOLED size")


def test_a_count_that_ignores_padding_is_named():
    def no_padding(input_shape, layers):
        return count_parameters(input_shape, [layer[:4] + (0,) if layer[0] == "conv" else layer
                                              for layer in layers])
    fails_with("8.5", no_padding, "The padding keeps the maps larger")


# ----------------------------------------------------------------- calling nnlib's own is refused
def nnlib_conv(x, W, b, stride, padding):
    return conv.conv2d_forward(x, W, b, stride, padding)[0]


def nnlib_weight_grad(x, dout, kernel_size, stride, padding):
    W = np.zeros((dout.shape[1], x.shape[1], kernel_size, kernel_size))
    _, dW, db = conv.conv2d_backward(dout, conv.conv2d_forward(x, W, np.zeros(len(W)), stride, padding)[1])
    return dW, db


def nnlib_pool(dout, x, size, stride):
    return numba_conv.maxpool2d_backward(dout, numba_conv.maxpool2d_forward(x, size, stride)[1])


@pytest.mark.parametrize("exercise_id, answer, name", [
    ("8.2", nnlib_conv, "nnlib.functional.conv.conv2d_forward"),
    ("8.3", nnlib_weight_grad, "nnlib.functional.conv.conv2d_backward"),
    ("8.4", nnlib_pool, "nnlib.backends.numba_conv.maxpool2d_backward"),
])
def test_an_answer_that_calls_nnlibs_conv_is_refused(exercise_id, answer, name):
    fails_with(exercise_id, answer, name, "write it yourself")
