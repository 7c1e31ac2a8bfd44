"""What the widgets share: a pyplot-free figure, PNG bytes, line geometry, texts.

The widgets need no ipympl: after every change they draw a fresh static
Matplotlib figure and put its PNG bytes into an ``ipywidgets.Image``. The
picture is then part of the widget's state, so it works the same in
JupyterLab, in a saved notebook and in tests without a browser, and a
callback never prints anything into the notebook.
"""
import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 72  # small PNGs: a 4 x 4 inch panel is 288 x 288 pixels
XLIM = (-0.5, 1.5)  # the logic-gate corners plus a margin, as in nnlib.viz.grid_for
YLIM = (-0.5, 1.5)


class Explorer:
    """Base of every widget class: displays ``self.widget``, with a short text/plain.

    The widget's own text/plain would spell out the PNG bytes of its Image.

    ``stub``: None, or the text of the ``NotImplementedError`` a learner's
    function raised (an exercise not written yet); the widget then shows
    :func:`stub_message` instead of a picture (``show_stub``).
    """

    stub = None

    def show_stub(self, error, name):
        """Show that ``name`` (the learner's function) is still a stub; draw nothing else."""
        self.stub = str(error)
        self.status.value = stub_message(error, name)
        fig = new_figure(3.6, 1.2, left=0.02, right=0.98, bottom=0.02, top=0.98)
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, f"waiting for your {name}", ha="center", va="center", fontsize=11)
        self.image.value = png_bytes(fig)

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle


def stub_message(error, name):
    """What a widget says while the learner's ``name`` still raises its stub's NotImplementedError."""
    return (f"<b>{name} is not written yet</b> ({error}). This widget runs <i>your</i> "
            f"{name}: write it, run its cell and its check, then run this cell again.")


def new_figure(width, height, **margins):
    """A Matplotlib Figure that is not registered with pyplot (so it is freed, never shown twice).

    Fixed margins (``subplots_adjust`` keywords) instead of a layout engine:
    constrained layout would triple the time of every redraw.
    """
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)  # a renderer at the PNG's dpi, so label_points can measure texts
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


SAME_SPOT = 0.02  # data units: points closer than this get one label


def label_points(ax, points, names, fontsize=7):
    """Name each point (n, 2) with a small label that overlaps no other label.

    Points on the same spot share one label ("(0,1) (1,0)"); a label that
    would overlap one already drawn goes below its point instead, and if it
    overlaps there too, its names join that label. Call after the axes'
    limits and aspect are final. Returns the labels drawn: [(text, (x, y))].
    """
    groups = []  # [[names], spot]
    for name, spot in zip(names, np.asarray(points, dtype=np.float64)):
        same = next((g for g in groups if np.abs(g[1] - spot).max() < SAME_SPOT), None)
        if same is None:
            groups.append([[name], spot])
        else:
            same[0].append(name)
    ax.apply_aspect()
    renderer = ax.figure.canvas.get_renderer()
    drawn = []
    for group_names, spot in groups:
        text, clash = " ".join(group_names), None
        for above in (True, False):
            label = _annotate(ax, text, spot, above, fontsize)
            box = label.get_window_extent(renderer).padded(1)
            clash = next((d for d in drawn if box.overlaps(d.get_window_extent(renderer))), None)
            if clash is None:
                drawn.append(label)
                break
            label.remove()
        else:
            clash.set_text(f"{clash.get_text()} {text}")
    return [(label.get_text(), tuple(float(v) for v in label.xy)) for label in drawn]


def _annotate(ax, text, spot, above, fontsize):
    right = spot[0] > 0.5  # keep the label inside the axes
    return ax.annotate(text, tuple(spot), xytext=(-5 if right else 5, 6 if above else -6),
                       textcoords="offset points", ha="right" if right else "left",
                       va="bottom" if above else "top", fontsize=fontsize)


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
