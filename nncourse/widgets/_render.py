"""What the widgets share: a pyplot-free figure, PNG bytes, line geometry, texts.

The widgets need no ipympl: after every change they draw a fresh static
Matplotlib figure and put its PNG bytes into an ``ipywidgets.Image``. The
picture is then part of the widget's state, so it works the same in
JupyterLab, in a saved notebook and in tests without a browser, and a
callback never prints anything into the notebook.
"""
import io

import numpy as np
from matplotlib.figure import Figure

DPI = 72  # small PNGs: a 4 x 4 inch panel is 288 x 288 pixels
XLIM = (-0.5, 1.5)  # the logic-gate corners plus a margin, as in nnlib.viz.grid_for
YLIM = (-0.5, 1.5)


class Explorer:
    """Base of every widget class: displays ``self.widget``, with a short text/plain.

    The widget's own text/plain would spell out the PNG bytes of its Image.
    """

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle


def new_figure(width, height, **margins):
    """A Matplotlib Figure that is not registered with pyplot (so it is freed, never shown twice).

    Fixed margins (``subplots_adjust`` keywords) instead of a layout engine:
    constrained layout would triple the time of every redraw.
    """
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(**{"left": 0.2, "right": 0.97, "bottom": 0.14, "top": 0.91,
                           "wspace": 0.35, **margins})
    return fig


def png_bytes(fig):
    """The figure rendered as PNG bytes (deterministic for the same drawing)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def line_points(w, b, xlim=XLIM, ylim=YLIM):
    """End points (xs, ys) of the line w[0] x1 + w[1] x2 + b = 0 across the view.

    Returns two arrays of shape (2,), or None when w = 0 (then no line exists:
    every point gets the same class).
    """
    w1, w2 = float(w[0]), float(w[1])
    if abs(w2) > 1e-12:
        xs = np.array(xlim, dtype=np.float64)
        return xs, -(w1 * xs + b) / w2  # solve for x2
    if abs(w1) > 1e-12:
        return np.full(2, -b / w1), np.array(ylim, dtype=np.float64)  # vertical line
    return None


def accuracy_text(correct, n):
    """'accuracy: 3/4 (75%)', the text the notebooks and the browser tests read."""
    percent = 100.0 * correct / n
    mark = " \u2714" if correct == n else ""
    return f"accuracy: {correct}/{n} ({percent:.0f}%){mark}"


def equation(w, b):
    """'1.0 x1 - 0.5 x2 + 2.0': the weighted sum w1 x1 + w2 x2 + b as text."""
    def term(value, text):
        return f"{'-' if value < 0 else '+'} {abs(value):.1f}{text}"
    return f"{w[0]:.1f} x1 {term(w[1], ' x2')} {term(b, '')}"


def grid(resolution=120, xlim=XLIM, ylim=YLIM):
    """A (resolution**2, 2) grid over the view and the mesh shapes for contourf."""
    xx, yy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    return np.c_[xx.ravel(), yy.ravel()], xx, yy  # (resolution**2, 2)


def finish_axes(ax, title, xlim=XLIM, ylim=YLIM):
    """Fixed limits, equal aspect and a title, so frames can be compared by eye."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=10)
