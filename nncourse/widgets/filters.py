"""Chapter 8 widget: a 3x3 filter's nine weights on sliders, and the feature map it makes on a digit.

Taught in ``notebooks/08_convolution.ipynb``. In the notation of
``notebooks/README.md`` the widget computes one conv layer with one filter,

    out[oh, ow] = sum over i, j of W[i, j] * x_pad[oh + i, ow + j]      (stride 1, padding 1)

on one 8x8 digit ``x`` (``nnlib.data.load_digits``, pixels / 16), so the
feature map ``out`` is 8x8 as well. It is a cross-correlation, as in a conv
layer: the kernel is not flipped, so the "vertical edge" preset
[[1, 0, -1]] * 3 is positive where the ink is to the LEFT of a pixel and
negative where it is to the right.

Controls: nine FloatSliders ``w00`` .. ``w22`` (row i, column j of W, -5..5),
a Dropdown ``preset`` (vertical edge, horizontal edge, blur, sharpen,
identity) that sets all nine at once, and an IntSlider ``digit`` (which
digit of the data set). Shown: the digit, the filter, the feature map (one
shared colour scale centred at 0) and a status line with the map's range.
"""
import ipywidgets as widgets
import numpy as np

from nnlib.data import load_digits
from nnlib.functional.conv import conv2d_forward
from nncourse.widgets import _render

PRESETS = {
    "vertical edge": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "horizontal edge": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
    "blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}
WEIGHT_RANGE = (-5.0, 5.0)  # room for the sharpen preset's 5
N_DIGITS = 50  # the digit slider runs over the first 50 digits of the data set


def digit_image(index):
    """Digit ``index`` of the data set as an (8, 8) image with pixels in [0, 1], and its label."""
    _, y, images = load_digits(return_images=True)
    return images[index] / 16.0, int(y[index])


def feature_map(image, kernel):
    """The (8, 8) feature map of one 3x3 ``kernel`` on one (8, 8) ``image``: stride 1, padding 1."""
    x = np.asarray(image, dtype=np.float64)[None, None]  # (1, 1, 8, 8)
    W = np.asarray(kernel, dtype=np.float64)[None, None]  # (1, 1, 3, 3)
    out, _ = conv2d_forward(x, W, np.zeros(1), stride=1, padding=1)
    return out[0, 0]  # (8, 8)


class FilterExplorer(_render.Explorer):
    """A 3x3 filter on sliders and its feature map on a chosen digit, redrawn after every change.

    Widgets: ``weights`` (a 3x3 list of FloatSliders described "w00" .. "w22"),
    ``preset`` (Dropdown "preset"), ``digit`` (IntSlider "digit", 0..49),
    ``status`` (HTML), ``image`` (PNG: digit, filter, feature map).
    State after each update: ``kernel`` (3, 3), ``x`` (8, 8) the digit,
    ``label`` its class, ``out`` (8, 8) the feature map.
    """

    def __init__(self, preset="vertical edge", digit=0):
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {list(PRESETS)}.")
        if not 0 <= int(digit) < N_DIGITS:
            raise ValueError(f"digit must be in 0..{N_DIGITS - 1}, got {digit!r}.")
        style = {"description_width": "initial"}
        low, high = WEIGHT_RANGE
        self.weights = [[widgets.FloatSlider(value=0.0, min=low, max=high, step=0.01,
                                             description=f"w{i}{j}", readout_format=".2f",
                                             continuous_update=False, style=style,
                                             layout=widgets.Layout(width="220px"))
                         for j in range(3)] for i in range(3)]
        self.preset = widgets.Dropdown(options=list(PRESETS), value=preset, description="preset",
                                       style=style)
        self.digit = widgets.IntSlider(value=int(digit), min=0, max=N_DIGITS - 1, description="digit",
                                       style=style)
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        self._holding = False
        self.set_kernel(PRESETS[preset], redraw=False)
        for slider in self.sliders():
            slider.observe(lambda _change: self.update(), names="value")
        self.digit.observe(lambda _change: self.update(), names="value")
        self.preset.observe(lambda change: self.set_kernel(PRESETS[change["new"]]), names="value")
        grid = widgets.VBox([widgets.HBox(row) for row in self.weights])
        self.widget = widgets.VBox([widgets.HBox([self.preset, self.digit]), grid, self.status,
                                    self.image])
        self.update()

    def sliders(self):
        """The nine weight sliders, row by row."""
        return [slider for row in self.weights for slider in row]

    def set_kernel(self, kernel, redraw=True):
        """Put a (3, 3) kernel on the sliders (values clipped to the slider range); one redraw."""
        kernel = np.asarray(kernel, dtype=np.float64)
        if kernel.shape != (3, 3):
            raise ValueError(f"kernel must have shape (3, 3), got {kernel.shape}.")
        self._holding = True  # nine slider changes, one redraw
        try:
            for slider, value in zip(self.sliders(), kernel.ravel()):
                slider.value = float(np.clip(value, *WEIGHT_RANGE))
        finally:
            self._holding = False
        if redraw:
            self.update()

    def update(self):
        """Read the sliders, convolve the chosen digit, redraw."""
        if self._holding:
            return
        self.kernel = np.array([[s.value for s in row] for row in self.weights])  # (3, 3)
        self.x, self.label = digit_image(int(self.digit.value))
        self.out = feature_map(self.x, self.kernel)  # (8, 8)
        self.status.value = (f"digit {int(self.digit.value)} (a {self.label}): feature map from "
                             f"{self.out.min():.2f} to {self.out.max():.2f}, "
                             f"mean |out| {np.abs(self.out).mean():.2f}")
        fig = _render.new_figure(7.2, 2.6, left=0.02, right=0.9, bottom=0.04, top=0.86, wspace=0.25)
        ax_x, ax_w, ax_out = fig.subplots(1, 3)
        ax_x.imshow(self.x, cmap="gray_r", vmin=0, vmax=1)
        ax_x.set_title(f"digit x (a {self.label})", fontsize=10)
        limit = max(float(np.abs(self.kernel).max()), 1e-6)
        ax_w.imshow(self.kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
        for (i, j), value in np.ndenumerate(self.kernel):
            ax_w.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8)
        ax_w.set_title("filter W (3x3)", fontsize=10)
        scale = max(float(np.abs(self.out).max()), 1e-6)
        shown = ax_out.imshow(self.out, cmap="RdBu_r", vmin=-scale, vmax=scale)
        ax_out.set_title("feature map (padding 1)", fontsize=10)
        fig.colorbar(shown, ax=ax_out, fraction=0.046, pad=0.04)
        for ax in (ax_x, ax_w, ax_out):
            ax.set_xticks([])
            ax.set_yticks([])
        self.image.value = _render.png_bytes(fig)

    def __repr__(self):
        return f"FilterExplorer(preset={self.preset.value!r}, digit={int(self.digit.value)})"
