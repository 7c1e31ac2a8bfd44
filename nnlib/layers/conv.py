"""Conv2D, MaxPool2D and Flatten: the layers of a convolutional network (notebook 08).

Each wraps a pair of ``nnlib.functional.conv``; images are NCHW (N, C, H, W)
and conv weights (F, C, KH, KW), as in PyTorch. One sample's shape is
(C, H, W); ``output_shape`` maps it through the layer with
H_out = (H + 2*padding - KH) / stride + 1 (pooling: padding 0, KH = size),
a whole number or a ValueError naming the shapes.
"""
import numbers

import numpy as np

from nnlib._validate import as_float_array, check_choice, check_positive_int
from nnlib.functional.conv import check_images, check_int, output_size
from nnlib.layers.base import Layer, Param
from nnlib.layers.registry import register

KERNELS = {
    "numpy": "nnlib.functional.conv",  # nnlib.functional re-exports it once the lead adds that
    "numba": "nnlib.backends.numba_conv",
    "cuda": "nnlib.backends.cuda_conv",
}
CONV_INITS = ("he", "xavier")


def _kernel_size(value):
    """kernel_size as an int (square) or a (KH, KW) tuple of positive ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return check_positive_int(value, "kernel_size")
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return (check_positive_int(value[0], "kernel_size[0]"),
                check_positive_int(value[1], "kernel_size[1]"))
    raise ValueError(
        f"kernel_size must be a positive integer or a pair (KH, KW), got {value!r}; "
        f"e.g. kernel_size=3 or kernel_size=(3, 5)."
    )


def _check_sample(layer, input_shape, what):
    """(C, H, W) of one sample, or an error saying the layer needs images."""
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(
            f"expects {what} of shape (C, H, W) per sample, but gets shape {shape} per sample. "
            f"Give it images (N, C, H, W), e.g. X.reshape(-1, 1, 8, 8) for the 8x8 digits; "
            f"{type(layer).__name__} cannot follow Flatten or Dense."
        )
    return shape


def _check_batch(layer, x):
    """A clear error when a checked 4-D x cannot feed the layer (via output_shape)."""
    try:
        layer.output_shape(x.shape[1:])
    except ValueError as exc:
        raise ValueError(f"{layer!r} got x of shape {x.shape}: it {exc}") from None
    return x


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as PyTorch): out = conv(x, W) + b.

    Shapes: x (N, C, H, W), W (F, C, KH, KW), b (F,), out (N, F, H_out, W_out)
    with C = in_channels, F = out_channels, H_out = (H + 2*padding - KH) // stride + 1.
    ``kernel_size``: an int (square) or (KH, KW). ``init``: "he" (N(0, 2 /
    fan_in), fan_in = C*KH*KW, for ReLU) or "xavier" (U(+-sqrt(6 / (fan_in +
    fan_out))), fan_out = F*KH*KW). ``seed``: as for Dense: None lets the
    model draw the weights; a number fixes this layer's own, which a model keeps.
    """

    op = "conv2d"
    kernels = KERNELS
    param_names = ("W", "b")
    decayed = ("W",)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 init="he", seed=None):
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.kernel_size = _kernel_size(kernel_size)
        self.stride = check_int(stride, "stride", 1)
        self.padding = check_int(padding, "padding", 0)
        self.init = check_choice(init, "init", CONV_INITS)
        self.seed = seed
        self._dtype = np.dtype(np.float64)
        self.reset(np.random.default_rng(seed))
        self._own_init = seed is not None

    @property
    def w_shape(self):
        """(F, C, KH, KW): the shape of W."""
        KH, KW = (self.kernel_size,) * 2 if isinstance(self.kernel_size, int) else self.kernel_size
        return (self.out_channels, self.in_channels, KH, KW)

    def reset(self, rng, dtype=None):
        """Draw fresh weights from ``rng``; biases start at zero."""
        F, C, KH, KW = self.w_shape
        fan_in, fan_out = C * KH * KW, F * KH * KW
        if self.init == "he":
            W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=self.w_shape)
        else:
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-limit, limit, size=self.w_shape)
        self._dtype = np.dtype(dtype or self._dtype)
        self._W = self._as_param(W, "W", self.w_shape)
        self._b = self._as_param(np.zeros(F), "b", (F,))
        self.dW, self.db = np.zeros_like(self._W), np.zeros_like(self._b)

    def cast(self, dtype):
        self._dtype = np.dtype(dtype)
        self._W, self._b = self._W.astype(dtype), self._b.astype(dtype)
        self.dW, self.db = np.zeros_like(self._W), np.zeros_like(self._b)

    W = Param("Filters, shape (F, C, KH, KW).")
    b = Param("Biases, one per filter, shape (F,).")

    def forward_args(self, x, training):
        return (self.W, self.b, self.stride, self.padding)

    def _check_input(self, x):
        return _check_batch(self, check_images(x, dtype=self.W.dtype))

    def output_shape(self, input_shape):
        if input_shape is None:
            return None
        C, H, W = _check_sample(self, input_shape, f"images with {self.in_channels} channel(s)")
        F, _, KH, KW = self.w_shape
        if C != self.in_channels:
            raise ValueError(
                f"expects {self.in_channels} input channel(s), but gets {C} (shape {(C, H, W)} "
                f"per sample). Make it Conv2D({C}, {F}, ...)."
            )
        p = self.padding
        if H + 2 * p < KH or W + 2 * p < KW:
            raise ValueError(
                f"expects inputs at least as large as its {KH}x{KW} kernel, but gets {H}x{W} "
                f"maps (padded: {H + 2 * p}x{W + 2 * p}), so H_out = (H + 2*padding - KH) "
                f"// stride + 1 < 1. Use a smaller kernel, more padding, or less pooling before it."
            )
        return (F, *output_size(H, W, KH, KW, self.stride, p))

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "init": self.init}


class MaxPool2D(Layer):
    """Max pooling: each size x size window (moved by stride) -> its largest entry.

    Shapes: x (N, C, H, W) -> out (N, C, H_out, W_out), H_out = (H - size) // stride + 1.
    ``stride`` defaults to 2 (with the default size 2: windows side by side);
    None means stride = size, as PyTorch's default. In the
    backward the gradient goes to each window's max (the first one, on ties).
    """

    op = "maxpool2d"
    kernels = KERNELS

    def __init__(self, size=2, stride=2):
        self.size = check_int(size, "size", 1)
        self.stride = self.size if stride is None else check_int(stride, "stride", 1)

    def forward_args(self, x, training):
        return (self.size, self.stride)

    def _check_input(self, x):
        return _check_batch(self, check_images(x))

    def output_shape(self, input_shape):
        if input_shape is None:
            return None
        C, H, W = _check_sample(self, input_shape, "feature maps")
        if H < self.size or W < self.size:
            raise ValueError(
                f"expects maps at least as large as its {self.size}x{self.size} window, but "
                f"gets {H}x{W} maps (shape {(C, H, W)} per sample). Use a smaller size, "
                f"padding in the Conv2D before it, or fewer pooling layers."
            )
        return (C, *output_size(H, W, self.size, self.size, self.stride, 0,
                                what=f"the pooling window (size={self.size})"))

    def config(self):
        return {"size": self.size, "stride": self.stride}


class Flatten(Layer):
    """x (N, ...) -> (N, prod(...)): feature maps to the vector a Dense layer takes."""

    op = "flatten"
    kernels = KERNELS

    def forward_args(self, x, training):
        return ()

    def _check_input(self, x):
        x = as_float_array(x, "x")
        if x.ndim < 2:
            raise ValueError(
                f"Flatten expects one row per sample (at least 2-D), got shape {x.shape}."
            )
        return x

    def output_shape(self, input_shape):
        return None if input_shape is None else (int(np.prod(input_shape)),)

    def __repr__(self):
        return "Flatten()"


for _cls in (Conv2D, MaxPool2D, Flatten):
    register(_cls)
