"""Chapter 2 widget: two sigmoid neurons, each a line, combined into a non-linear boundary.

Taught in ``notebooks/02_nonlinear.ipynb``. The 2-2-1 network, in the
notation of ``notebooks/README.md``::

    h = sigma(x @ W + b)      x (n, 2), W (2, 2), b (2,)  -> h (n, 2)
    p = sigma(h @ v + c)      v (2,), c scalar            -> p (n,)
    y_hat = 1 if p > 0.5 else 0

``W[i, j]`` is the weight from input ``x_{i+1}`` to hidden unit ``h_{j+1}``,
so hidden unit j draws the line ``W[0, j] x1 + W[1, j] x2 + b[j] = 0``.
"""
import contextlib

import ipywidgets as widgets
import numpy as np

from nnlib.data import logic_gate
from nnlib.functional import sigmoid
from nnlib.viz import plot_points
from nncourse.widgets import _render

# slider description -> (array, index) in the network; w12 is W[0, 1]: input 1 -> hidden 2
SLIDERS = {
    "w11": ("W", (0, 0)), "w21": ("W", (1, 0)), "b1": ("b", (0,)),
    "w12": ("W", (0, 1)), "w22": ("W", (1, 1)), "b2": ("b", (1,)),
    "v1": ("v", (0,)), "v2": ("v", (1,)), "c": ("c", ()),
}
# h1 = OR-like line x1 + x2 = 0.5, h2 = AND-like line x1 + x2 = 1.5, output = h1:
# this solves OR (3/4 on XOR); moving v2 alone to -20 solves XOR.
START = {"w11": 10.0, "w21": 10.0, "b1": -5.0, "w12": 10.0, "w22": 10.0, "b2": -15.0,
         "v1": 10.0, "v2": 10.0, "c": -5.0}
# A working XOR network: h1 = x1 AND NOT x2, h2 = x2 AND NOT x1, output = h1 OR h2.
XOR_SOLUTION = {"w11": 20.0, "w21": -20.0, "b1": -10.0, "w12": -20.0, "w22": 20.0, "b2": -10.0,
                "v1": 20.0, "v2": 20.0, "c": -10.0}
HIDDEN_COLORS = ("#ff7f0e", "#2ca02c")


def forward_221(X, W, b, v, c):
    """p = sigma(sigma(X @ W + b) @ v + c): X (n, 2) -> p (n,); the widget's default network."""
    h = sigmoid(X @ W + b)  # (n, 2)
    return sigmoid(h @ v + c)  # (n,)


class CompositionExplorer(_render.Explorer):
    """Sliders for all nine weights of a 2-2-1 sigmoid network on XOR.

    Widgets (``description`` = label on screen, used by the browser tests):

    - ``sliders``: FloatSliders in [-20, 20], step 0.5, named "w11", "w21",
      "b1" (hidden unit 1), "w12", "w22", "b2" (hidden unit 2), "v1", "v2",
      "c" (output unit); ``wIJ`` is the weight from input I to hidden unit J;
    - ``snap``: Button "snap to an XOR solution" (sets every slider at once);
    - ``status``: HTML, e.g. "accuracy: 3/4 (75%)" and p at each corner;
    - ``image``: left, the input plane with each hidden unit's line (dashed)
      and the combined boundary p = 0.5 (shaded); right, the same four points
      in hidden space (h1, h2), where the output unit draws one straight line.

    State: ``W`` (2, 2), ``b`` (2,), ``v`` (2,), ``c``, ``p`` (4,),
    ``predictions`` (4,), ``wrong`` (4,), ``accuracy``, ``lines``
    ({"h1": (xs, ys) or None, "h2": ...}), ``boundary`` (bool grid: p > 0.5),
    ``corner_labels`` ([(text, (h1, h2))]: the corners' names in hidden space;
    corners on one spot share a label, and no two labels overlap).

    ``forward(X, W, b, v, c) -> p (n,)`` is the network to draw (the notebook
    passes its own); default :func:`forward_221`.
    """

    def __init__(self, forward=None, **start):
        unknown = set(start) - set(SLIDERS)
        if unknown:
            raise ValueError(f"unknown slider name(s) {sorted(unknown)}; "
                             f"the sliders are {list(SLIDERS)}.")
        self.forward = forward or forward_221
        self.X, self.y = logic_gate("xor")
        values = {**START, **start}
        self.sliders = {name: widgets.FloatSlider(value=values[name], min=-20.0, max=20.0,
                                                  step=0.5, description=name,
                                                  readout_format=".1f")  # "-20.0" fits
                        for name in SLIDERS}
        self.snap = widgets.Button(description="snap to an XOR solution", icon="magic",
                                   layout=widgets.Layout(width="auto"))
        self.snap.on_click(lambda _button: self.set_values(**XOR_SOLUTION))
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        self._holding = False
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")
        columns = [widgets.VBox([self.sliders[n] for n in names])
                   for names in (("w11", "w21", "b1"), ("w12", "w22", "b2"), ("v1", "v2", "c"))]
        self.widget = widgets.VBox([widgets.HBox(columns),
                                    widgets.HBox([self.snap, self.status]), self.image])
        self.update()

    def set_values(self, **values):
        """Set several sliders, then redraw once (the snap button uses this)."""
        with self._hold():
            for name, value in values.items():
                self.sliders[name].value = value
        self.update()

    @contextlib.contextmanager
    def _hold(self):
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _on_change(self, _change):
        if not self._holding:
            self.update()

    def _read_weights(self):
        arrays = {"W": np.zeros((2, 2)), "b": np.zeros(2), "v": np.zeros(2), "c": np.zeros(())}
        for name, (array, index) in SLIDERS.items():
            arrays[array][index] = self.sliders[name].value
        self.W, self.b, self.v = arrays["W"], arrays["b"], arrays["v"]
        self.c = float(arrays["c"])

    def update(self):
        """Recompute the network's outputs from the sliders, then redraw."""
        self._read_weights()
        self.p = np.asarray(self.forward(self.X, self.W, self.b, self.v, self.c)).reshape(-1)  # (4,)
        self.predictions = (self.p > 0.5).astype(np.int64)
        self.wrong = self.predictions != self.y
        correct = int((~self.wrong).sum())
        self.accuracy = correct / len(self.y)
        corners = ", ".join(f"p({int(x1)},{int(x2)}) = {p:.2f}" for (x1, x2), p in zip(self.X, self.p))
        self.status.value = f"<b>{_render.accuracy_text(correct, len(self.y))}</b><br>{corners}"
        self.image.value = _render.png_bytes(self.figure())

    def figure(self):
        """The picture of the current state: input space left, hidden space right."""
        fig = _render.new_figure(7.0, 3.4, left=0.1, right=0.98, bottom=0.14, top=0.91, wspace=0.25)
        ax_input, ax_hidden = fig.subplots(1, 2)
        self._draw_input_space(ax_input)
        self._draw_hidden_space(ax_hidden)
        return fig

    def _draw_input_space(self, ax):
        points, xx, yy = _render.grid()
        p_grid = np.asarray(self.forward(points, self.W, self.b, self.v, self.c)).reshape(xx.shape)
        self.boundary = p_grid > 0.5
        ax.contourf(xx, yy, self.boundary.astype(float), levels=[-0.5, 0.5, 1.5],
                    colors=["#1f77b4", "#d62728"], alpha=0.18)
        plot_points(self.X, self.y, ax=ax, wrong=self.wrong, s=60)
        self.lines, handles = {}, []
        for j, name in enumerate(("h1", "h2")):
            line = _render.line_points(self.W[:, j], self.b[j])
            self.lines[name] = line
            if line is not None:
                handles += ax.plot(*line, color=HIDDEN_COLORS[j], linestyle="--",
                                   linewidth=2, label=f"{name} = 0.5")
        if handles:
            ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.9)
        _render.finish_axes(ax, "input space (x1, x2)")

    def _draw_hidden_space(self, ax):
        h = sigmoid(self.X @ self.W + self.b)  # (4, 2): where the corners land
        plot_points(h, self.y, ax=ax, wrong=self.wrong, s=60)
        out = _render.line_points(self.v, self.c, xlim=(-0.1, 1.1), ylim=(-0.1, 1.1))
        if out is not None:
            ax.plot(*out, color="k", linewidth=2)
        ax.set_xlabel("$h_1$")
        ax.set_ylabel("$h_2$")
        _render.finish_axes(ax, "hidden space (h1, h2)", xlim=(-0.1, 1.1), ylim=(-0.1, 1.1))
        names = [f"({int(x1)},{int(x2)})" for x1, x2 in self.X]
        self.corner_labels = _render.label_points(ax, h, names)  # corners on one spot: one label

    def __repr__(self):
        values = ", ".join(f"{n}={s.value:g}" for n, s in self.sliders.items())
        return f"CompositionExplorer({values})"
