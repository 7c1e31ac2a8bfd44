"""Chapter 2 widget: a saturated, wrong neuron learns slowly under the quadratic cost.

Taught in ``notebooks/02_nonlinear.ipynb``; in ``exercises/02_nonlinear.ipynb``
it runs the learner's own ``cost_gradients`` (exercise 2.3). One sigmoid
neuron, ``p = sigma(x w + b)``, on one sample ``x = 1`` with target ``y = 0``
(Nielsen's example), trained by gradient descent from the start the sliders
set, under both costs of the notation table:

    quadratic  L = (p - y)^2 / 2        dL/dz = (p - y) p (1 - p)
    log-loss   L = -[y log p + (1 - y) log(1 - p)]    dL/dz = p - y

``gradients(w, b, X, y) -> (dw_quadratic, db_quadratic, dw_log, db_log)``
(X (N, d), w (d,), b a number; the means over the N samples) is the
function to run; the default is the reference below.
"""
import ipywidgets as widgets
import numpy as np

from nnlib.functional import sigmoid
from nncourse.widgets import _render

STEPS = 300
COLORS = {"quadratic": "#d62728", "log-loss": "#1f77b4"}


def reference_gradients(w, b, X, y):
    """(dw, db) of the quadratic cost, then of the log-loss, for p = sigma(X @ w + b)."""
    p = sigmoid(X @ w + b)  # (N,)
    delta_quadratic = (p - y) * p * (1.0 - p) / len(y)  # (N,): sigma'(z) stays in
    delta_log = (p - y) / len(y)  # (N,): sigma'(z) cancels
    return X.T @ delta_quadratic, delta_quadratic.sum(), X.T @ delta_log, delta_log.sum()


class SlowdownExplorer(_render.Explorer):
    """Sliders for the starting weight and bias and the learning rate; both costs trained live.

    Widgets: ``sliders["w0"]``, ``sliders["b0"]`` (FloatSliders in [-4, 4]),
    ``sliders["lr"]`` (in [0.05, 2]); ``status`` (HTML: p after the last
    step under each cost); ``image`` (PNG: p and the loss per step).

    State: ``p`` ({"quadratic": (STEPS + 1,), "log-loss": (STEPS + 1,)}), the
    neuron's output before each step; ``stub`` (see ``Explorer``).
    """

    def __init__(self, gradients=None, w0=2.0, b0=2.0, lr=0.15):
        self.gradients = gradients or reference_gradients
        self.X, self.y = np.array([[1.0]]), np.array([0.0])  # (1, 1), (1,)
        self.sliders = {
            "w0": widgets.FloatSlider(value=w0, min=-4.0, max=4.0, step=0.5, description="w0"),
            "b0": widgets.FloatSlider(value=b0, min=-4.0, max=4.0, step=0.5, description="b0"),
            "lr": widgets.FloatSlider(value=lr, min=0.05, max=2.0, step=0.05, description="lr"),
        }
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        for slider in self.sliders.values():
            slider.observe(lambda _change: self.update(), names="value")
        self.widget = widgets.VBox([widgets.HBox(list(self.sliders.values())), self.status, self.image])
        self.update()

    def train(self):
        """p before each of STEPS steps and after the last, under both costs."""
        lr = self.sliders["lr"].value
        start = (np.array([self.sliders["w0"].value]), self.sliders["b0"].value)
        paths = {}
        for index, cost in ((0, "quadratic"), (2, "log-loss")):
            w, b = start
            p = [float(sigmoid(self.X @ w + b)[0])]
            for _ in range(STEPS):
                grads = self.gradients(w.copy(), b, self.X, self.y)
                dw, db = np.asarray(grads[index], dtype=np.float64).reshape(1), float(grads[index + 1])
                w, b = w - lr * dw, b - lr * db
                p.append(float(sigmoid(self.X @ w + b)[0]))
            paths[cost] = np.array(p)
        return paths

    def update(self):
        """Train both ways from the sliders' start, then redraw (or say the function is a stub)."""
        try:
            self.p = self.train()
        except NotImplementedError as stub:
            return self.show_stub(stub, getattr(self.gradients, "__name__", "cost_gradients"))
        self.stub = None
        self.status.value = " | ".join(
            f"{cost}: p = {path[0]:.3f} \u2192 {path[-1]:.3f} after {STEPS} steps"
            for cost, path in self.p.items())
        fig = _render.new_figure(7.0, 2.8, left=0.09, right=0.98, bottom=0.17, top=0.88, wspace=0.3)
        ax_p, ax_loss = fig.subplots(1, 2)
        steps = np.arange(STEPS + 1)
        for cost, path in self.p.items():
            loss = 0.5 * path ** 2 if cost == "quadratic" else -np.log(1.0 - np.minimum(path, 1 - 1e-12))
            ax_p.plot(steps, path, color=COLORS[cost], label=cost)
            ax_loss.plot(steps, loss, color=COLORS[cost], label=cost)
        ax_p.set(xlabel="step", ylabel="p (target 0)", ylim=(-0.02, 1.02))
        ax_p.set_title("the neuron's output", fontsize=10)
        ax_p.legend(fontsize=8)
        ax_loss.set(xlabel="step", ylabel="its own cost")
        ax_loss.set_title("each cost, as it is trained", fontsize=10)
        self.image.value = _render.png_bytes(fig)

    def __repr__(self):
        s = self.sliders
        return (f"SlowdownExplorer(w0={s['w0'].value:g}, b0={s['b0'].value:g}, "
                f"lr={s['lr'].value:g})")
