"""Chapter 3 widget: what the width of one hidden layer buys.

Taught in ``notebooks/03_feedforward.ipynb``. The network has one hidden
layer of ``n`` units, in the notation of ``notebooks/README.md``::

    a = act(x @ W1 + b1)      x (m, d), W1 (d, n), b1 (n,)  -> a (m, n)
    y_hat = a @ W2 + b2       W2 (n, k), b2 (k,)            -> y_hat (m, k)

Chapter 3 has not taught training yet, so the hidden layer is *chosen*, not
learned, and only the output layer is fitted, by linear least squares (a
shortcut: notebook 04 learns every weight by gradient descent):

- task "curve" (d = 1, k = 1): unit j is relu(x - k_j), a hinge with its kink
  at k_j; the kinks are spread evenly over the inputs, so y_hat is a
  piecewise-linear curve with one bend per unit;
- task "boundary" (d = 2, k = 2 classes of ``nnlib.data.moons``): unit j is
  tanh(w_j . (x - p_j)), a soft step across a random line through a random
  training point p_j; y_hat's larger column is the predicted class.

The units come from one pool of ``max_hidden`` drawn once from the seed; the
slider takes the first n, so moving it right only ever adds units.
"""
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from nnlib.data import moons
from nnlib.viz import CLASS_COLORS, grid_for, plot_points
from nncourse.widgets import _render

TASKS = ("curve", "boundary")
CURVE_RANGE = (-3.0, 3.0)


def target_curve(x):
    """The 1-D function the "curve" task fits: sin(2x) + 0.3 x, for x of any shape."""
    return np.sin(2.0 * x) + 0.3 * x


def hidden_pool(task, max_hidden, X, seed=0):
    """(W1, b1, act) for all ``max_hidden`` units; take the first n columns for n units.

    curve: W1 (1, max_hidden) of ones, b1 = -kinks, act = relu.
    boundary: W1 (2, max_hidden) random directions (length ~2.5), b1 so that
    unit j's line passes through a random row of X, act = tanh.
    """
    rng = np.random.default_rng(seed)
    if task == "curve":
        # kinks at fractions 0.1, 0.6, 0.35, 0.85, ... of the range: any prefix is spread out
        fractions = (_spread(max_hidden) + 0.1) % 1.0  # (max_hidden,)
        kinks = CURVE_RANGE[0] + (CURVE_RANGE[1] - CURVE_RANGE[0]) * fractions
        return np.ones((1, max_hidden)), -kinks, lambda z: np.maximum(z, 0.0)
    W1 = 2.5 * rng.standard_normal((2, max_hidden))  # (2, max_hidden)
    through = X[rng.integers(0, len(X), max_hidden)]  # (max_hidden, 2): one point per unit
    b1 = -np.sum(through * W1.T, axis=1)  # (max_hidden,): w_j . (x - p_j) = 0 at p_j
    return W1, b1, np.tanh


def _spread(n):
    """n numbers in [0, 1) whose every prefix is spread out: 0, 1/2, 1/4, 3/4, 1/8, ..."""
    out = np.zeros(n)
    for i in range(n):
        bits, value, scale = i, 0.0, 0.5
        while bits:
            value += scale * (bits & 1)
            bits, scale = bits >> 1, scale / 2
        out[i] = value
    return out


def fit_output_layer(a, T):
    """Least-squares (W2, b2) for a @ W2 + b2 ~ T. a: (m, n), T: (m, k) -> W2 (n, k), b2 (k,)."""
    a1 = np.c_[a, np.ones(len(a))]  # (m, n + 1): the last column multiplies b2
    coef, *_ = np.linalg.lstsq(a1, T, rcond=None)  # (n + 1, k)
    return coef[:-1], coef[-1]


class HiddenUnitsExplorer(_render.Explorer):
    """A slider for the number of hidden units; the fit is redrawn live.

    Widgets: ``slider`` (IntSlider "hidden units", 1..max_hidden),
    ``status`` (HTML, e.g. "3 hidden units: mean squared error 0.0812" or
    "10 hidden units: training accuracy 95.5%"), ``image`` (PNG).

    State: ``n_hidden``, ``W1``, ``b1``, ``W2``, ``b2``; for "curve" ``x``
    (200,), ``y_hat`` (200,) and ``error`` (mean squared error on the
    samples); for "boundary" ``X``, ``y``, ``accuracy`` and ``regions``
    (the predicted class on the plot grid).
    """

    def __init__(self, task="curve", n_hidden=3, max_hidden=50, seed=0):
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose 'curve' (a 1-D function) "
                             f"or 'boundary' (2-D moons).")
        if not 1 <= n_hidden <= max_hidden:
            raise ValueError(f"n_hidden must be between 1 and max_hidden={max_hidden}, "
                             f"got {n_hidden!r}.")
        self.task = task
        if task == "curve":
            self.X = np.linspace(*CURVE_RANGE, 60).reshape(-1, 1)  # (60, 1) samples
            self.y = target_curve(self.X[:, 0])
        else:
            self.X, self.y = moons(200, noise=0.2, seed=seed)
        self._pool = hidden_pool(task, max_hidden, self.X, seed)
        self.slider = widgets.IntSlider(value=n_hidden, min=1, max=max_hidden,
                                        description="hidden units",
                                        style={"description_width": "initial"})
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.slider.observe(lambda _change: self.update(), names="value")
        self.widget = widgets.VBox([self.slider, self.status, self.image])
        self.update()

    def fit(self, n_hidden):
        """Fit the output layer for the first ``n_hidden`` units; returns predict(x) -> y_hat."""
        W1_all, b1_all, act = self._pool
        self.W1, self.b1 = W1_all[:, :n_hidden], b1_all[:n_hidden]  # (d, n), (n,)
        T = self.y.reshape(-1, 1) if self.task == "curve" else np.eye(2)[self.y]  # (m, k)
        self.W2, self.b2 = fit_output_layer(act(self.X @ self.W1 + self.b1), T)

        def predict(x):
            return act(x @ self.W1 + self.b1) @ self.W2 + self.b2  # (m, k)
        return predict

    def update(self):
        """Refit for the slider's value, then redraw."""
        self.n_hidden = int(self.slider.value)
        predict = self.fit(self.n_hidden)
        units = f"{self.n_hidden} hidden unit{'s' if self.n_hidden != 1 else ''}"
        fig = _render.new_figure(4.6, 3.4)
        ax = fig.add_subplot()
        if self.task == "curve":
            self._draw_curve(ax, predict)
            self.status.value = f"{units}: mean squared error {self.error:.4f}"
        else:
            self._draw_boundary(ax, predict)
            self.status.value = f"{units}: training accuracy {100 * self.accuracy:.1f}%"
        self.image.value = _render.png_bytes(fig)

    def _draw_curve(self, ax, predict):
        self.x = np.linspace(*CURVE_RANGE, 200)  # (200,)
        self.y_hat = predict(self.x.reshape(-1, 1))[:, 0]  # (200,)
        self.error = float(np.mean((predict(self.X)[:, 0] - self.y) ** 2))
        draw_curve(ax, self.X[:, 0], self.y, self.x, self.y_hat, self.n_hidden)

    def _draw_boundary(self, ax, predict):
        self.accuracy = float(np.mean(predict(self.X).argmax(axis=1) == self.y))
        self.regions = draw_boundary(ax, predict, self.X, self.y, self.n_hidden)

    def __repr__(self):
        return f"HiddenUnitsExplorer(task={self.task!r}, n_hidden={self.slider.value})"


def draw_curve(ax, x_samples, y_samples, x, y_hat, n_hidden, legend=True):
    """The target samples (dots) and the network's curve (line) on one axes."""
    ax.plot(x, target_curve(x), color="0.75", linewidth=4, label="target")
    ax.scatter(x_samples, y_samples, s=10, color="k", zorder=3, label="samples")
    ax.plot(x, y_hat, color=CLASS_COLORS[1], linewidth=2, label="network")
    ax.set_ylim(-2.2, 2.2)
    ax.set_xlabel("$x$")
    ax.set_title(f"{n_hidden} hidden ReLU unit{'s' if n_hidden != 1 else ''}", fontsize=10)
    if legend:
        ax.legend(loc="lower right", fontsize=7)


def draw_boundary(ax, predict, X, y, n_hidden):
    """Shade the class ``predict`` gives each grid point; returns the class grid."""
    points, xx, yy = grid_for(X, resolution=120)
    regions = predict(points).argmax(axis=1).reshape(xx.shape)
    ax.contourf(xx, yy, regions, levels=[-0.5, 0.5, 1.5],
                colors=[CLASS_COLORS[0], CLASS_COLORS[1]], alpha=0.25)
    plot_points(X, y, ax=ax, s=15)
    ax.set_title(f"{n_hidden} hidden tanh unit{'s' if n_hidden != 1 else ''}", fontsize=10)
    return regions


def plot_hidden_units(task="curve", widths=(1, 3, 10, 50), seed=0):
    """A row of static panels, one per width: the figure the notebook stores."""
    explorer = HiddenUnitsExplorer(task, n_hidden=1, max_hidden=max(widths), seed=seed)
    fig, axes = plt.subplots(1, len(widths), figsize=(2.6 * len(widths), 2.5), dpi=72)
    for ax, n in zip(np.ravel(axes), widths):
        predict = explorer.fit(n)
        if task == "curve":
            x = np.linspace(*CURVE_RANGE, 200)
            y_hat = predict(x.reshape(-1, 1))[:, 0]  # (200,)
            draw_curve(ax, explorer.X[:, 0], explorer.y, x, y_hat, n, legend=n == widths[0])
        else:
            draw_boundary(ax, predict, explorer.X, explorer.y, n)
            ax.set_xlabel("")
            ax.set_ylabel("")
    fig.tight_layout()
    return fig
