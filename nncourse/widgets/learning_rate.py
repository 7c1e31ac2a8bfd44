"""Chapter 4 widget: one learning-rate slider, the same network retrained for each value.

Taught in ``notebooks/04_backprop.ipynb``, after the notebook has written the
training loop itself. The network is the notebook's 2-layer classifier on
``nnlib.data.spirals`` (3 classes), in the notation of ``notebooks/README.md``::

    z1 = x @ W1 + b1,  a1 = tanh(z1),  z2 = a1 @ W2 + b2,  L = CE(softmax(z2), y)

trained by full-batch gradient descent, ``p <- p - lr * dL/dp``, with the
forward/backward pairs of :mod:`nnlib.functional` (the reference of the
pairs the notebook wrote). Every value of lr starts from the same weights,
so the curves differ only by the learning rate:

- too small: the loss crawls, barely lower after all the steps;
- about right: the loss falls steadily and the boundary follows the spirals;
- too large: the loss jumps up and down or climbs: training diverges.

In the exercise notebook the learner's own backward pass drives it:
``LearningRateExplorer(loss_and_grads=lambda p, X, y: mlp_backward(p, X, y, "tanh"))``.
While that function is still a stub the explorer shows a short message
instead of a plot (it does not raise), and retrains as soon as the learner
has written it and moves the slider or runs the cell again.
"""
import html

import ipywidgets as widgets
import numpy as np

from nnlib import functional as F
from nnlib.data import spirals
from nnlib.viz import CLASS_COLORS, grid_for, plot_points
from nncourse.widgets import _render

VERDICTS = {
    "diverging": "too large: the loss climbs instead of falling",
    "unstable": "too large: the loss jumps up and down",
    "crawling": "too small: the loss crawls",
    "learning": "the loss falls steadily",
}


def init_params(n_in, n_hidden, n_out, seed=0):
    """W1 (n_in, n_hidden), b1, W2 (n_hidden, n_out), b2: Xavier-style normal weights, zero biases."""
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_hidden)), "b1": np.zeros(n_hidden),
            "W2": rng.normal(0.0, 1.0 / np.sqrt(n_hidden), (n_hidden, n_out)), "b2": np.zeros(n_out)}


def forward(params, x):
    """Logits z2 (m, n_out) of the tanh network for x (m, n_in)."""
    a1 = np.tanh(x @ params["W1"] + params["b1"])  # (m, n_hidden)
    return a1 @ params["W2"] + params["b2"]  # (m, n_out)


def loss_and_grads(params, X, y):
    """(loss, grads) of the tanh network with nnlib's reference pairs; None when z2 overflowed."""
    z1, cache1 = F.dense_forward(X, params["W1"], params["b1"])
    a1, cache_act = F.tanh_forward(z1)
    z2, cache2 = F.dense_forward(a1, params["W2"], params["b2"])
    if not np.isfinite(z2).all():
        return None
    loss, dz2 = F.softmax_cross_entropy(z2, y)
    da1, dW2, db2 = F.dense_backward(dz2, cache2)
    dz1 = F.tanh_backward(da1, cache_act)
    _, dW1, db1 = F.dense_backward(dz1, cache1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def train(X, y, lr, epochs=300, n_hidden=32, seed=0, gradients=None):
    """Full-batch gradient descent from fixed initial weights.

    Returns (params, losses): the final weights and the loss before each
    step, shape (epochs,). Stops early (losses then shorter) if the loss
    stops being finite. ``gradients(params, X, y) -> (loss, grads)`` replaces
    the reference backward pass (the learner's own, in exercise 4.4).
    """
    params = init_params(X.shape[1], n_hidden, int(y.max()) + 1, seed)
    losses = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a diverging run may overflow
        for _ in range(epochs):
            result = (gradients or loss_and_grads)(params, X, y)
            if result is None or not np.isfinite(result[0]):
                break
            loss, grads = result
            losses.append(float(loss))
            for name in params:
                params[name] -= lr * np.asarray(grads[name])
    return params, np.array(losses)


def verdict(losses, epochs):
    """One of VERDICTS' keys for a loss curve (losses[0] is the loss before training)."""
    first = losses[0]
    if len(losses) < epochs or not np.isfinite(losses).all() or losses[-1] > first:
        return "diverging"
    if losses[1:].max() > first or _jumps(losses) > 0.5 * first:
        return "unstable"
    if losses[-1] > 0.6 * first:
        return "crawling"
    return "learning"


def _jumps(losses):
    """The largest rise of the loss in one step over the last half of training."""
    tail = losses[len(losses) // 2:]
    return float(np.max(np.diff(tail), initial=0.0))


class LearningRateExplorer(_render.Explorer):
    """A log-scale learning-rate slider; each value retrains the spiral classifier.

    Widgets: ``slider`` (FloatLogSlider "lr", 10**-3 .. 10**2), ``status``
    (HTML, e.g. "lr = 1: loss 1.10 -> 0.24 in 300 steps, training accuracy
    91.3% | the loss falls steadily"), ``image`` (PNG: the loss curve of this
    lr and the decision boundary it reaches).

    State: ``lr``, ``params``, ``losses`` (the loss before each step),
    ``verdict`` ("learning", "crawling", "unstable" or "diverging"),
    ``accuracy`` (on the training points; None when training blew up).

    ``loss_and_grads(params, X, y) -> (loss, grads)``, when given, is the
    backward pass the explorer trains with (params and grads: {"W1", "b1",
    "W2", "b2"}). While it raises NotImplementedError (an unwritten exercise)
    or any other error, ``verdict`` is "not written" or "error", ``status``
    says so in one line and no plot is drawn; nothing is raised.
    """

    def __init__(self, lr=1.0, epochs=300, n_hidden=32, seed=0, loss_and_grads=None):
        if loss_and_grads is not None and not callable(loss_and_grads):
            raise TypeError(f"loss_and_grads must be a function (params, X, y) -> (loss, grads), "
                            f"got {type(loss_and_grads).__name__}.")
        self.gradients = loss_and_grads
        self.epochs, self.n_hidden, self.seed = epochs, n_hidden, seed
        self.X, self.y = spirals(300, n_classes=3, noise=0.2, seed=seed)
        self.slider = widgets.FloatLogSlider(value=lr, base=10, min=-3, max=2, step=0.25,
                                             description="lr", readout_format=".3g")
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.slider.observe(lambda _change: self.update(), names="value")
        self.widget = widgets.VBox([self.slider, self.status, self.image])
        self.update()

    def update(self):
        """Retrain from the same start with the slider's lr, then redraw."""
        self.lr = float(self.slider.value)
        try:
            self.params, self.losses = train(self.X, self.y, self.lr, self.epochs, self.n_hidden,
                                             self.seed, self.gradients)
        except NotImplementedError as stub:  # the learner's exercise, not written yet
            self._not_trained("not written", f"\u270e Your backward pass is not written yet "
                              f"({html.escape(str(stub))}). Write it, then run this cell again: the "
                              f"explorer will train with it.")
            return
        except Exception as error:  # noqa: BLE001 - the learner's bug, shown instead of a plot
            self._not_trained("error", f"\u2718 Your backward pass raised "
                              f"{type(error).__name__}: {html.escape(str(error))}. Run its check "
                              f"cell to find out on which input it goes wrong.")
            return
        if len(self.losses) == 0:
            self._not_trained("error", "\u2718 The very first loss was not a finite number.")
            return
        self.verdict = verdict(self.losses, self.epochs)
        finite = (len(self.losses) == self.epochs and np.isfinite(self.losses).all()
                  and all(np.isfinite(p).all() for p in self.params.values()))
        with np.errstate(over="ignore", invalid="ignore"):  # huge but finite weights
            logits = forward(self.params, self.X) if finite else None
        self.accuracy = float(np.mean(logits.argmax(axis=1) == self.y)) if finite else None
        shown = f"{self.accuracy:.1%}" if finite else "n/a (the weights overflowed)"
        self.status.value = (
            f"lr = {self.lr:.3g}: loss {self.losses[0]:.2f} \u2192 {self.losses[-1]:.2f} "
            f"in {len(self.losses)} steps, training accuracy {shown}"
            f"<br><b>{VERDICTS[self.verdict]}</b>")
        fig = _render.new_figure(7.4, 3.2)
        ax_loss, ax_points = fig.subplots(1, 2)
        self._draw_loss(ax_loss)
        self._draw_boundary(ax_points, finite)
        self.image.value = _render.png_bytes(fig)

    def _not_trained(self, what, message):
        self.params, self.losses, self.verdict, self.accuracy = None, np.array([]), what, None
        self.status.value = message
        self.image.value = b""

    def _draw_loss(self, ax):
        ax.plot(np.arange(len(self.losses)), self.losses, color=CLASS_COLORS[1])
        ax.set_yscale("log")
        top = max(10.0, 2.0 * float(np.nanmax(self.losses, initial=1.0)))
        ax.set_ylim(0.02, top)
        ax.set_xlim(0, self.epochs)
        ax.set_xlabel("step")
        ax.set_ylabel("training loss")
        ax.set_title(f"lr = {self.lr:.3g}: {self.verdict}", fontsize=10)

    def _draw_boundary(self, ax, finite):
        if finite:
            points, xx, yy = grid_for(self.X, resolution=100, margin=0.2)
            with np.errstate(over="ignore", invalid="ignore"):
                regions = forward(self.params, points).argmax(axis=1).reshape(xx.shape)
            ax.contourf(xx, yy, regions, levels=np.arange(4) - 0.5,
                        colors=list(CLASS_COLORS[:3]), alpha=0.25)
        plot_points(self.X, self.y, ax=ax, s=12)
        ax.set_aspect("equal")
        ax.set_title("decision regions after training", fontsize=10)

    def __repr__(self):
        return f"LearningRateExplorer(lr={self.slider.value:.3g}, epochs={self.epochs})"
