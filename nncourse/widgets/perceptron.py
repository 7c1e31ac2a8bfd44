"""Chapter 1 widgets: one perceptron's weights as sliders, and its learning rule step by step.

Taught in ``notebooks/01_perceptron.ipynb``. A perceptron computes
``y_hat = step(x1 w1 + x2 w2 + b)`` (step(z) = 1 if z > 0 else 0); its
decision line is ``w1 x1 + w2 x2 + b = 0``. Both widgets take the notebook's
own functions (``predict``, ``update``) so they draw what the learner's code
computes; nnlib's reference (:mod:`nnlib.perceptron`) is only the default.
"""
import ipywidgets as widgets
import numpy as np

from nnlib import perceptron as reference
from nnlib.data import logic_gate
from nnlib.viz import plot_points
from nncourse.widgets import _render

GATES = (("AND", "and"), ("OR", "or"), ("NAND", "nand"), ("XOR", "xor"))


def _gate_dropdown(gate):
    return widgets.Dropdown(options=GATES, value=gate.lower(), description="gate")


def _draw_gate(ax, predict, X, y, w, b, title):
    """Shade where the perceptron says 1, draw its line, ring the misclassified points."""
    points, xx, yy = _render.grid()
    shade = np.asarray(predict(points, w, b)).reshape(xx.shape)
    ax.contourf(xx, yy, shade, levels=[-0.5, 0.5, 1.5], colors=["#1f77b4", "#d62728"], alpha=0.15)
    wrong = np.asarray(predict(X, w, b)) != y
    plot_points(X, y, ax=ax, wrong=wrong, s=60)
    line = _render.line_points(w, b)
    if line is not None:
        ax.plot(*line, color="k", linewidth=2)
    _render.finish_axes(ax, title)
    return line


class PerceptronExplorer(_render.Explorer):
    """Sliders for w1, w2 and b of one perceptron over a logic gate's four points.

    Widgets (their ``description`` is the label on screen; the browser tests
    find them by it):

    - ``sliders["w1"]``, ``sliders["w2"]``, ``sliders["b"]``: FloatSliders in
      [-3, 3], step 0.1;
    - ``gate``: Dropdown "gate" with AND, OR, NAND, XOR;
    - ``status``: HTML whose text is e.g. "accuracy: 3/4 (75%)";
    - ``image``: the plot (PNG), redrawn on every change.

    State for code and tests: ``w`` (2,), ``b``, ``X`` (4, 2), ``y`` (4,),
    ``predictions`` (4,), ``wrong`` (4,) bool, ``accuracy`` (a fraction),
    ``line`` ((xs, ys) end points of the decision line, or None when w = 0).

    ``predict(X, w, b) -> labels (n,)`` is the perceptron to draw (the
    notebook passes its own); default :func:`nnlib.perceptron.predict`.
    """

    def __init__(self, gate="and", w1=1.0, w2=1.0, b=-0.5, predict=None):
        self.predict = predict or reference.predict
        self.gate = _gate_dropdown(gate)
        self.sliders = {
            name: widgets.FloatSlider(value=value, min=-3.0, max=3.0, step=0.1,
                                      description=name, continuous_update=True)
            for name, value in (("w1", w1), ("w2", w2), ("b", b))
        }
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        for control in (self.gate, *self.sliders.values()):
            control.observe(self._on_change, names="value")
        self.widget = widgets.HBox([
            widgets.VBox([self.gate, *self.sliders.values(), self.status]), self.image])
        self.update()

    def _on_change(self, _change):
        self.update()

    def update(self):
        """Recompute predictions and accuracy from the controls, then redraw.

        While ``predict`` is a learner's unfinished stub, shows that instead.
        """
        self.X, self.y = logic_gate(self.gate.value)
        self.w = np.array([self.sliders["w1"].value, self.sliders["w2"].value])  # (2,)
        self.b = float(self.sliders["b"].value)
        try:
            self.predictions = np.asarray(self.predict(self.X, self.w, self.b))  # (4,)
        except NotImplementedError as stub:
            return self.show_stub(stub, _name(self.predict, "predict"))
        self.stub = None
        self.wrong = self.predictions != self.y
        correct = int((~self.wrong).sum())
        self.accuracy = correct / len(self.y)
        self.status.value = _render.accuracy_text(correct, len(self.y))
        fig = _render.new_figure(3.6, 3.6)
        title = f"{self.gate.value.upper()}:  z = {_render.equation(self.w, self.b)}"
        self.line = _draw_gate(fig.add_subplot(), self.predict, self.X, self.y,
                               self.w, self.b, title)
        self.image.value = _render.png_bytes(fig)

    def __repr__(self):
        s = self.sliders
        return (f"PerceptronExplorer(gate={self.gate.value!r}, w1={s['w1'].value:g}, "
                f"w2={s['w2'].value:g}, b={s['b'].value:g})")


class PerceptronStepper(_render.Explorer):
    """The perceptron learning rule, one epoch per click of "next epoch".

    Each epoch visits the four points in order; for each it counts a mistake
    when ``predict`` is wrong, then applies ``update(w, b, x, y, lr) -> (w, b)``
    (the notebook's own rule; default :func:`nnlib.perceptron.update`).
    Training starts from w = 0, b = 0.

    Widgets: ``buttons["step"]`` ("next epoch"), ``buttons["reset"]``
    ("reset"), ``gate`` (Dropdown "gate"), ``status`` (HTML, e.g.
    "epoch 3: 1 mistake | accuracy: 3/4 (75%)"), ``image`` (PNG: the line of
    every epoch so far, and the mistakes per epoch).

    State: ``epoch``, ``w`` (2,), ``b``, ``history`` [(w, b) after each epoch,
    starting with the initial weights], ``mistakes`` [per epoch],
    ``converged`` (an epoch had no mistakes), ``accuracy``, ``line``.
    """

    def __init__(self, gate="and", lr=1.0, update=None, predict=None):
        self.update_rule = update or reference.update
        self.predict = predict or reference.predict
        self.lr = lr
        self.gate = _gate_dropdown(gate)
        self.buttons = {"step": widgets.Button(description="next epoch", icon="step-forward"),
                        "reset": widgets.Button(description="reset", icon="undo")}
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.buttons["step"].on_click(lambda _button: self.step())
        self.buttons["reset"].on_click(lambda _button: self.reset())
        self.gate.observe(lambda _change: self.reset(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.gate, self.buttons["step"], self.buttons["reset"]]),
            self.status, self.image])
        self.reset()

    @property
    def epoch(self):
        return len(self.mistakes)

    @property
    def converged(self):
        return bool(self.mistakes) and self.mistakes[-1] == 0

    def reset(self):
        """Back to w = 0, b = 0 before any epoch (also when the gate changes)."""
        self.X, self.y = logic_gate(self.gate.value)
        self.w, self.b = np.zeros(2), 0.0
        self.history, self.mistakes = [(self.w, self.b)], []
        self.redraw()

    def step(self):
        """Run one epoch of the rule over the four points, then redraw."""
        mistakes, w_start, b_start = 0, self.w, self.b
        for x, y in zip(self.X, self.y):
            for fn, default in ((self.predict, "predict"), (self.update_rule, "update")):
                try:  # each learner function on its own, so the message names the unfinished one
                    if fn is self.predict:
                        mistakes += int(np.asarray(fn(x[None, :], self.w, self.b))[0] != y)
                    else:  # a copy of w: history keeps each epoch
                        w, b = fn(self.w.copy(), self.b, x, y, self.lr)
                except NotImplementedError as stub:
                    self.w, self.b = w_start, b_start
                    return self.show_stub(stub, _name(fn, default))
            self.w, self.b = np.array(w, dtype=np.float64), float(b)
        self.mistakes.append(mistakes)
        self.history.append((self.w, self.b))
        self.redraw()

    def redraw(self):
        """Update the status text and the picture from the current state."""
        try:
            correct = int((np.asarray(self.predict(self.X, self.w, self.b)) == self.y).sum())
        except NotImplementedError as stub:
            return self.show_stub(stub, _name(self.predict, "predict"))
        self.stub = None
        self.accuracy = correct / len(self.y)
        done = " | converged: no mistakes in the last epoch" if self.converged else ""
        s = "" if self.mistakes[-1:] == [1] else "s"
        counted = f": {self.mistakes[-1]} mistake{s}" if self.mistakes else " (before training)"
        self.status.value = (f"epoch {self.epoch}{counted} | "
                             f"{_render.accuracy_text(correct, len(self.y))}{done}")
        fig = _render.new_figure(6.4, 3.0, left=0.09, right=0.98, bottom=0.16, top=0.9)
        ax_points, ax_errors = fig.subplots(1, 2, width_ratios=[1, 1.1])
        for w_old, b_old in self.history[:-1]:
            old = _render.line_points(w_old, b_old)
            if old is not None:
                ax_points.plot(*old, color="0.6", linewidth=1, linestyle="--")
        title = f"{self.gate.value.upper()}, epoch {self.epoch}"
        self.line = _draw_gate(ax_points, self.predict, self.X, self.y, self.w, self.b, title)
        self._draw_mistakes(ax_errors)
        self.image.value = _render.png_bytes(fig)

    def _draw_mistakes(self, ax):
        epochs = np.arange(1, self.epoch + 1)
        ax.bar(epochs, self.mistakes, color="#d62728")
        ax.set_xlim(0.5, max(self.epoch, 8) + 0.5)
        ax.set_ylim(0, len(self.y) + 0.5)
        ax.set_xlabel("epoch")
        ax.set_ylabel("mistakes in the epoch")
        ax.set_title("mistakes per epoch", fontsize=10)

    def __repr__(self):
        return f"PerceptronStepper(gate={self.gate.value!r}, lr={self.lr:g}, epoch={self.epoch})"


def _name(fn, default):
    """The name a learner gave their function (a lambda gets ``default``)."""
    name = getattr(fn, "__name__", default)
    return default if name == "<lambda>" else name

