"""Checks for chapter 8, convolution (``solutions/08_convolution.ipynb``).

8.1 ``conv_output_shape(x_shape, w_shape, stride, padding) -> (N, F, H_out, W_out)``
    for x (N, C, H, W) and W (F, C, KH, KW), rectangular kernels and inputs,
    H_out = (H + 2*padding - KH) / stride + 1 (the cases tile exactly).
8.2 ``conv2d_loops(x, W, b, stride, padding) -> out``: a cross-correlation
    written with loops, several channels, stride 2, padding.
8.3 ``conv2d_weight_grad(x, dout, kernel_size, stride, padding) -> (dW, db)``:
    the gradient of the loss with respect to the filters and biases.
8.4 ``maxpool_backward(dout, x, size, stride) -> dx``: each window's dout goes
    to the window's max, the first one in row-major order on ties, and
    overlapping windows add up.
8.5 ``count_parameters(input_shape, layers) -> [int, ...]``: the parameters of
    every layer of a spec like [("conv", F, K, stride, padding), ("pool", size,
    stride), ("flatten",), ("dense", n_out)].

The references below are the checks' own (einsum and loops); nnlib's
``functional.conv`` is the library's version, and an answer must not call it
(``nncourse/checks/forbidden.py``).
"""
import numpy as np

from nncourse.checks import CheckFailed, call, exercise, expect_array, expect_tuple, rng, show
from nncourse.checks._slips import expect_array_explained


# ------------------------------------------------------------------ references
def _pad(x, p):
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def _conv(x, W, b, stride, padding, flip=False):
    """Cross-correlation (flip=True: the true convolution, a slip)."""
    xp = _pad(x, padding)
    F, C, KH, KW = W.shape
    Wk = W[:, :, ::-1, ::-1] if flip else W
    H_out, W_out = (xp.shape[2] - KH) // stride + 1, (xp.shape[3] - KW) // stride + 1
    out = np.zeros((x.shape[0], F, H_out, W_out))
    for i in range(KH):
        for j in range(KW):
            patch = xp[:, :, i:i + stride * H_out:stride, j:j + stride * W_out:stride]
            out += np.einsum("nchw,fc->nfhw", patch, Wk[:, :, i, j])
    return out + b[:, None, None]


def _weight_grad(x, dout, KH, KW, stride, padding, flip=False, mean=False):
    xp = _pad(x, padding)
    _, _, H_out, W_out = dout.shape
    dW = np.zeros((dout.shape[1], x.shape[1], KH, KW))
    for i in range(KH):
        for j in range(KW):
            patch = xp[:, :, i:i + stride * H_out:stride, j:j + stride * W_out:stride]
            dW[:, :, i, j] = np.einsum("nchw,nfhw->fc", patch, dout)
    if flip:
        dW = dW[:, :, ::-1, ::-1]
    db = dout.sum(axis=(0, 2, 3))
    if mean:
        dW, db = dW / x.shape[0], db / x.shape[0]
    return dW, db


def _pool_backward(dout, x, size, stride, rule="first", add=True):
    dx = np.zeros_like(x, dtype=float)
    N, C, H_out, W_out = dout.shape
    for n in range(N):
        for c in range(C):
            for oh in range(H_out):
                for ow in range(W_out):
                    h, w = oh * stride, ow * stride
                    window = x[n, c, h:h + size, w:w + size]
                    g = dout[n, c, oh, ow]
                    if rule == "mean":
                        dx[n, c, h:h + size, w:w + size] += g / size ** 2
                        continue
                    ties = np.argwhere(window == window.max())
                    if rule == "all":
                        for i, j in ties:
                            dx[n, c, h + i, w + j] += g
                        continue
                    i, j = ties[0] if rule == "first" else ties[-1]
                    if add:
                        dx[n, c, h + i, w + j] += g
                    else:
                        dx[n, c, h + i, w + j] = g
    return dx


def _out(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


def _count(input_shape, layers, bias=True, channels=True, pool_shrinks=True, padding_used=True):
    """Parameters per layer of a spec; the keyword arguments model slips."""
    shape, counts = tuple(input_shape), []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            F, K, stride, padding = layer[1:]
            C, H, W = shape
            counts.append(F * (C if channels else 1) * K * K + (F if bias else 0))
            p = padding if padding_used else 0
            shape = (F, _out(H, K, stride, p), _out(W, K, stride, p))
        elif kind == "pool":
            size, stride = layer[1:]
            C, H, W = shape
            counts.append(0)
            if pool_shrinks:
                shape = (C, _out(H, size, stride, 0), _out(W, size, stride, 0))
        elif kind == "flatten":
            counts.append(0)
            shape = (int(np.prod(shape)),)
        else:
            n_in, n_out = shape[0], layer[1]
            counts.append(n_in * n_out + (n_out if bias else 0))
            shape = (n_out,)
    return counts


# ------------------------------------------------------------------ 8.1
@exercise("8.1", "conv_output_shape", hints=(
    "Count the positions of the window's top-left corner along one axis: the padded input has "
    "H + 2*padding rows, the window needs KH of them, and the corner moves stride rows at a time.",
    "H_out = (H + 2*padding - KH) / stride + 1, the same for W with KW; the batch size N stays, "
    "and the number of output channels is the number of filters F (not the input's C).",
))
def check_conv_output_shape(conv_output_shape):
    cases = (((2, 3, 10, 14), (4, 3, 4, 6), 2, 3), ((1, 1, 28, 28), (6, 1, 5, 5), 1, 2),
             ((5, 8, 11, 7), (16, 8, 3, 1), 2, 0), ((3, 2, 10, 10), (7, 2, 4, 4), 3, 0),
             ((4, 6, 6, 9), (2, 6, 2, 3), 2, 2))
    for x_shape, w_shape, stride, padding in cases:
        inputs = f"x_shape={x_shape}, w_shape={w_shape}, stride={stride}, padding={padding}"
        got = call(conv_output_shape, x_shape, w_shape, stride, padding, what=inputs)
        got = expect_tuple(got, 4, f"for {inputs}: the shape (N, F, H_out, W_out)")
        N, C, H, W = x_shape
        F, _, KH, KW = w_shape
        want = (N, F, _out(H, KH, stride, padding), _out(W, KW, stride, padding))
        expect_array_explained(np.asarray(got), want, f"for {inputs}, the output shape", [
            ((N, F, _out(H, KH, stride, padding) - 1, _out(W, KW, stride, padding) - 1),
             "Off by one: count the window's positions, (H + 2*padding - KH) / stride, PLUS ONE "
             "(the first position)."),
            ((N, F, _out(H, KH, stride, 0), _out(W, KW, stride, 0)),
             "The padding is missing: it adds `padding` rows on EACH side, 2*padding in all."),
            ((N, F, (H + padding - KH) // stride + 1, (W + padding - KW) // stride + 1),
             "The padding goes on both sides: H + 2*padding, not H + padding."),
            ((N, F, _out(H, KH, 1, padding), _out(W, KW, 1, padding)),
             "The stride is missing: the window moves `stride` pixels at a time, so divide by it."),
            ((N, F, _out(H, KW, stride, padding), _out(W, KH, stride, padding)),
             "KH goes with H and KW with W: you swapped the kernel's height and width."),
            ((N, C, _out(H, KH, stride, padding), _out(W, KW, stride, padding)),
             "The output has one channel per FILTER (F = w_shape[0]), not the input's C."),
        ], rtol=0, atol=0)
    return "H_out = (H + 2p - KH) / stride + 1, one output channel per filter."


# ------------------------------------------------------------------ 8.2
def _conv_case(seed, N, C, H, W, F, K):
    g = rng(seed)
    return (g.normal(size=(N, C, H, W)), g.normal(size=(F, C, K, K)), g.normal(size=F))


def _conv_slips(x, Wt, b, stride, padding):
    return [
        (_conv(x, Wt, b, stride, padding, flip=True),
         "Your kernel is flipped: that is the mathematical convolution. A conv layer (and "
         "PyTorch) computes the cross-correlation: W[f, c, i, j] meets x_pad[oh*stride + i, "
         "ow*stride + j], no reversal."),
        (_conv(x, Wt, np.zeros_like(b), stride, padding), "The bias b[f] is missing."),
        (_conv(x, Wt[:, :1].repeat(x.shape[1], axis=1), b, stride, padding)
         if x.shape[1] > 1 else None,
         "Every input channel c has its own kernel slice W[f, c]; you used W[f, 0] for all."),
    ]


def _shape_slip(shape, x_shape, K, stride, padding):
    """The advice for an out of the wrong shape, or "" (H_out/W_out as a slip would make them)."""
    H, W = x_shape[2:]
    candidates = (
        ((H + 2 * padding - K) // stride + 2, (W + 2 * padding - K) // stride + 2,
         "an off-by-one output size: one row and column too many"),
        ((H + 2 * padding - K) // stride, (W + 2 * padding - K) // stride,
         "an off-by-one output size: one row and column too few (the +1 counts the first "
         "position), or a wrong padding added on one side only (it goes on BOTH sides)"),
        (_out(H, K, stride, 0), _out(W, K, stride, 0),
         "the padding is missing: pad x with `padding` zeros on every side of H and W first"),
        ((H + padding - K) // stride + 1, (W + padding - K) // stride + 1,
         "a wrong padding: it goes on BOTH sides, H + 2*padding"),
        (_out(H, K, 1, padding), _out(W, K, 1, padding),
         "the stride is missing: the window moves `stride` pixels, so there are fewer positions"),
    )
    for h, w, text in candidates:
        if tuple(shape[2:]) == (h, w) and (h, w) != (_out(H, K, stride, padding), _out(W, K, stride, padding)):
            return (f" That looks like {text}. H_out = (H + 2*padding - KH) / stride + 1 "
                    f"(exercise 8.1).")
    return ""


@exercise("8.2", "conv2d_loops", hints=(
    "Pad first (zeros on both sides of H and W only, not of N or C), then allocate out with the "
    "shape of exercise 8.1 and fill it position by position.",
    "out[n, f, oh, ow] = b[f] + sum over c, i, j of W[f, c, i, j] * x_pad[n, c, oh*stride + i, "
    "ow*stride + j]: the window starts at oh*stride, and the kernel is not flipped.",
    "With loops over n, f, oh, ow the sum over c, i, j is one elementwise product of the "
    "(C, KH, KW) window with the filter W[f], then a sum.",
))
def check_conv2d_loops(conv2d_loops):
    cases = ((81, (2, 3, 7, 7, 4, 3), 2, 2), (82, (1, 2, 6, 8, 3, 2), 2, 0),
             (83, (2, 3, 5, 5, 2, 3), 1, 1), (84, (1, 1, 9, 9, 1, 3), 3, 0))
    for seed, dims, stride, padding in cases:
        x, Wt, b = _conv_case(seed, *dims)
        inputs = (f"x of shape {x.shape}, W of shape {Wt.shape} (seed {seed}), stride={stride}, "
                  f"padding={padding}")
        got = call(conv2d_loops, x.copy(), Wt.copy(), b.copy(), stride, padding, what=inputs)
        want = _conv(x, Wt, b, stride, padding)
        try:
            expect_array_explained(got, want, f"for {inputs}, out",
                                   _conv_slips(x, Wt, b, stride, padding), rtol=1e-6, atol=1e-9)
        except CheckFailed as failure:
            shape = np.shape(got)
            if len(shape) == 4 and shape[:2] == want.shape[:2] and shape != want.shape:
                raise failure.with_advice(_shape_slip(shape, x.shape, Wt.shape[2], stride,
                                                      padding)) from None
            raise
    return "Cross-correlation with stride and padding over several channels, checked on 4 cases."


# ------------------------------------------------------------------ 8.3
@exercise("8.3", "conv2d_weight_grad", hints=(
    "Each weight W[f, c, i, j] is used at every output position of filter f, for every sample: "
    "its gradient adds up dout times the input entry it multiplied there.",
    "dW[f, c, i, j] = sum over n, oh, ow of dout[n, f, oh, ow] * x_pad[n, c, oh*stride + i, "
    "ow*stride + j], and db[f] = sum of dout[:, f]: a SUM over the batch (the loss's mean is "
    "already in dout).",
    "For fixed (i, j) that is the cross-correlation of the padded input with dout: the gradient "
    "of a convolution is again a convolution.",
))
def check_conv2d_weight_grad(conv2d_weight_grad):
    cases = ((85, (2, 3, 7, 7, 4, 3), 2, 1), (86, (3, 2, 5, 6, 2, 2), 1, 0),
             (87, (1, 2, 8, 8, 3, 4), 2, 1))
    for seed, dims, stride, padding in cases:
        x, Wt, _ = _conv_case(seed, *dims)
        K = Wt.shape[2]
        H_out, W_out = _out(x.shape[2], K, stride, padding), _out(x.shape[3], K, stride, padding)
        dout = rng(seed + 100).normal(size=(x.shape[0], Wt.shape[0], H_out, W_out))
        inputs = (f"x of shape {x.shape}, dout of shape {dout.shape} (seed {seed}), "
                  f"kernel_size={K}, stride={stride}, padding={padding}")
        got = expect_tuple(call(conv2d_weight_grad, x.copy(), dout.copy(), K, stride, padding,
                                what=inputs), 2, f"for {inputs}: the return value (dW, db)")
        dW, db = _weight_grad(x, dout, K, K, stride, padding)
        wrong = (_weight_grad(x, dout, K, K, stride, padding, flip=True),
                 _weight_grad(x, dout, K, K, stride, padding, mean=True))
        advice = ("dW is flipped: W[f, c, i, j] met x_pad[oh*stride + i, ow*stride + j], so its "
                  "gradient pairs dout with that same entry, no reversal.",
                  "Sum over the batch, do not average: dout already carries the 1/N of the "
                  "mean loss.")
        expect_array_explained(got[0], dW, f"for {inputs}, dW", [
            (None if w is None else w[0], text) for w, text in zip(wrong, advice)],
            rtol=1e-6, atol=1e-9)
        expect_array_explained(got[1], db, f"for {inputs}, db", [
            (db / x.shape[0], advice[1])], rtol=1e-6, atol=1e-9)
    return "dW: the padded input cross-correlated with dout, summed over the batch; db: dout's sums."


# ------------------------------------------------------------------ 8.4
def _pool_case(seed, shape, ties):
    g = rng(seed)
    x = g.integers(0, ties, size=shape).astype(float) if ties else g.normal(size=shape)
    return x


@exercise("8.4", "maxpool_backward", hints=(
    "The max of a window depends on one of its entries only (the one that is the max): a small "
    "change of any other entry does not change the output.",
    "For each output (n, c, oh, ow), find where the max of its window is and add dout[n, c, oh, "
    "ow] there; all other entries of dx stay 0. On ties take the first max, row by row "
    "(the rule of argmax). Where windows overlap (stride < size), ADD, do not overwrite.",
))
def check_maxpool_backward(maxpool_backward):
    cases = ((91, (2, 2, 6, 6), 2, 2, 0), (92, (1, 3, 7, 7), 3, 2, 0),
             (93, (2, 1, 4, 6), 2, 2, 3), (94, (1, 2, 5, 5), 3, 1, 4), (95, (1, 1, 5, 5), 2, 1, 0))
    for seed, shape, size, stride, ties in cases:
        x = _pool_case(seed, shape, ties)
        H_out, W_out = _out(shape[2], size, stride, 0), _out(shape[3], size, stride, 0)
        dout = rng(seed + 100).normal(size=(shape[0], shape[1], H_out, W_out))
        kind = "with tied maxima" if ties else "without ties"
        inputs = (f"x of shape {shape} {kind} (seed {seed}), dout of shape {dout.shape}, "
                  f"size={size}, stride={stride}")
        got = call(maxpool_backward, dout.copy(), x.copy(), size, stride, what=inputs)
        want = _pool_backward(dout, x, size, stride)
        expect_array_explained(got, want, f"for {inputs}, dx", [
            (_pool_backward(dout, x, size, stride, "all"),
             "On a tie every maximal entry got the gradient: the max took its value from ONE "
             "entry; give it to the first in row-major order (np.argmax's rule), as nnlib and "
             "PyTorch's CPU kernel do."),
            (_pool_backward(dout, x, size, stride, "last"),
             "On a tie you chose the LAST maximal entry; take the first, row by row."),
            (_pool_backward(dout, x, size, stride, "mean"),
             "That spreads dout evenly over the window: the backward of AVERAGE pooling. Max "
             "pooling sends it all to the max."),
            (_pool_backward(dout, x, size, stride, add=False) if stride < size else None,
             "The windows overlap (stride < size): an entry that is the max of two windows gets "
             "BOTH gradients; add with +=, do not overwrite."),
        ], rtol=1e-6, atol=1e-9)
    return "Each window's gradient to its first max; overlapping windows add up."


# ------------------------------------------------------------------ 8.5
LENET = [("conv", 6, 5, 1, 2), ("pool", 2, 2), ("conv", 16, 5, 1, 0), ("pool", 2, 2),
         ("flatten",), ("dense", 120), ("dense", 84), ("dense", 10)]


@exercise("8.5", "count_parameters", hints=(
    "Walk the layers in order and keep the shape of one sample, (C, H, W) or (D,): each layer's "
    "parameters depend on the shape that reaches it.",
    "A conv layer has F * C * K * K weights (every filter sees all C input channels) plus F "
    "biases; a dense layer n_in * n_out + n_out; pooling and flatten none, but pooling shrinks "
    "H and W by the formula of 8.1, and flatten turns (C, H, W) into C*H*W.",
))
def check_count_parameters(count_parameters):
    cases = (((1, 32, 32), LENET),
             ((1, 8, 8), [("conv", 8, 3, 1, 1), ("pool", 2, 2), ("conv", 16, 3, 1, 1),
                          ("pool", 2, 2), ("flatten",), ("dense", 10)]),
             ((3, 9, 9), [("conv", 4, 3, 2, 1), ("conv", 5, 3, 1, 0), ("flatten",), ("dense", 7)]),
             ((64,), [("dense", 32), ("dense", 10)]))
    for input_shape, layers in cases:
        inputs = f"input_shape={input_shape}, layers={layers}"
        got = call(count_parameters, input_shape, [tuple(layer) for layer in layers], what=inputs)
        want = _count(input_shape, layers)
        if got is not None and np.ndim(got) == 0:
            raise CheckFailed(f"for {inputs}: expected one count per layer ({len(layers)} values), "
                              f"got the single number {show(got)}.")
        expect_array_explained(got, want, f"for {inputs}, the parameters per layer", [
            (_count(input_shape, layers, bias=False), "The biases are missing: one per filter "
             "(conv) or per output unit (dense)."),
            (_count(input_shape, layers, channels=False), "Each filter spans ALL input channels: "
             "a conv layer has F * C * K * K weights, not F * K * K."),
            (_count(input_shape, layers, pool_shrinks=False), "Pooling has no parameters but "
             "shrinks the maps: the Dense layer after Flatten sees the POOLED size."),
            (_count(input_shape, layers, padding_used=False), "The padding keeps the maps larger: "
             "use H_out = (H + 2*padding - K) / stride + 1 for the shape after a conv layer."),
        ], rtol=0, atol=0)
    return "Weights and biases per layer, with the shape carried through conv, pool and flatten."
