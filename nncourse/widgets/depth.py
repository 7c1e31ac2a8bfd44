"""Chapter 6 widget: depth, width, activation, initial scale and batch norm, and what the gradients do.

Taught in ``notebooks/06_deep.ipynb``. The network is the chapter's stack, in
the notation of ``notebooks/README.md``::

    depth x [ z = x @ W + b  (-> BatchNorm)  -> a = act(z) ]  ->  y_hat = a @ W + b  (10 digits)

on a fixed, seeded subset of the digits (``nnlib.data.load_digits``, pixels
``X / 16``). Every Dense layer's weights are drawn from N(0, (scale * std)^2),
std the Glorot one, sqrt(2 / (n_in + n_out)), for sigmoid and tanh, and the
He one, sqrt(2 / n_in), for ReLU: scale 1 is the recommended initialisation.

After every change the explorer builds the network afresh (same seed), takes
a few SGD steps (:func:`train_steps`, backend "numba"), then runs one
forward and backward pass in training mode on the whole subset, nothing
updated, and shows

- the norm ||dL/dW|| of each Dense layer's weight gradient (log scale): with
  deep sigmoid layers and no batch norm the first layer's is orders of
  magnitude below the last one's (the gradient vanishes);
- a histogram of each hidden layer's activations a: too small a scale
  squeezes them to one value, too large a scale saturates a sigmoid at 0 and 1.

Small on purpose (a few hundred digits, a few steps) so that an update feels
live on 2 cores: see ``tests/test_widgets_depth.py`` for the time it must stay under.
"""
import ipywidgets as widgets
import numpy as np

from nnlib import SGD, BatchNorm, Dense, ReLU, Sequential, Sigmoid, Tanh
from nnlib import functional as F
from nnlib.backends import layerwise
from nnlib.data import load_digits
from nnlib.viz import CLASS_COLORS
from nncourse.widgets import _render

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}
INIT_NAMES = {"sigmoid": "Glorot", "tanh": "Glorot", "relu": "He"}
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}  # ReLU's range is [0, largest a]
N_BINS = 30


def base_std(activation, n_in, n_out):
    """The recommended weight std: He, sqrt(2 / n_in), for ReLU; Glorot, sqrt(2 / (n_in + n_out)), otherwise."""
    if activation == "relu":
        return np.sqrt(2.0 / n_in)
    return np.sqrt(2.0 / (n_in + n_out))


def build_model(depth, width, activation, scale, batchnorm, seed=0):
    """64 -> depth x [Dense(width) (-> BatchNorm) -> act] -> Dense(10), weights N(0, (scale * std)^2)."""
    layers, n_in = [], 64
    for _ in range(depth):
        layers.append(Dense(n_in, width, init=scale * base_std(activation, n_in, width)))
        if batchnorm:
            layers.append(BatchNorm(width))
        layers.append(ACTIVATIONS[activation]())
        n_in = width
    layers.append(Dense(n_in, 10, init=scale * base_std(activation, n_in, 10)))
    return Sequential(layers, seed=seed, backend="numba")


def digits_subset(n_samples, seed=0):
    """A fixed random subset of the digits: x (n_samples, 64) = pixels / 16, y (n_samples,)."""
    X, y = load_digits()
    rows = np.random.default_rng(seed).permutation(len(X))[:n_samples]
    return X[rows] / 16.0, y[rows]


def train_steps(model, x, y, steps, lr, seed=0):
    """``steps`` SGD steps, one per slice of a seeded shuffle of (x, y); returns (losses, diverged).

    The training loop of notebook 04, layer by layer (``model.forward``,
    ``model.backward``, one optimizer step), rather than ``model.fit``: for a
    stack of Dense and activations fit runs Numba's fused trainer, which is
    compiled once per depth (5-10 s the first time each depth is chosen), while
    the layer kernels used here are compiled once for every depth. diverged:
    the loss, a weight or a layer's input stopped being finite (training stops there).
    """
    optimizer = SGD(lr)
    order = np.random.default_rng(seed).permutation(len(x))
    losses, diverged = [], False
    model.train()
    for rows in np.array_split(order, steps):  # (batch,) row indices, batch ~ len(x) / steps
        try:
            out = model.forward(x[rows])
        except ValueError:  # a layer refused an overflowed input: finite weights, infinite z
            diverged = True
            break
        loss, dout = F.softmax_cross_entropy(out, y[rows])
        model.backward(dout)
        layerwise.optimizer_step(model.layers, optimizer, model.backend)
        losses.append(float(loss))
        if not (np.isfinite(loss) and all(np.isfinite(p).all() for p in model.parameters())):
            diverged = True
            break
    model.eval()
    return losses, diverged


def probe(model, x, y):
    """One forward and backward pass in training mode; nothing is updated.

    Returns (loss, grad_norms, activations): ||dW|| of each Dense layer
    (first to last) and the output a (m, width) of each activation layer.
    BatchNorm's running statistics move by this pass (harmless here: the
    model is thrown away after it).
    """
    model.train()
    activations, out = [], x
    for layer in model.layers:  # Sequential.forward, one layer at a time, to keep each a
        out = layer.forward(out, backend=model.backend, training=True)
        if isinstance(layer, tuple(ACTIVATIONS.values())):
            activations.append(out)  # (m, width)
    loss, dout = F.softmax_cross_entropy(out, y)
    model.backward(dout)
    model.eval()
    norms = np.array([np.linalg.norm(layer.dW) for layer in model.layers if isinstance(layer, Dense)])
    return float(loss), norms, activations


class DepthExplorer(_render.Explorer):
    """Controls for depth, width, activation, initial scale and batch norm; gradients and activations redrawn.

    Widgets: ``depth`` (IntSlider "hidden layers", 1..8), ``width``
    (IntSlider "width", 16..64), ``activation`` (Dropdown "activation":
    sigmoid, tanh, relu), ``scale`` (FloatLogSlider "init scale", 0.25..4
    times the Glorot/He std), ``batchnorm`` (Checkbox "batch norm"),
    ``status`` (HTML), ``image`` (PNG: gradient norms, activation histograms).

    State after each update: ``model``, ``losses`` (the loss of each
    training step), ``loss`` (on the subset after them), ``grad_norms``
    (depth + 1,) ||dL/dW|| per Dense layer, first to last, ``activations``
    (a list of depth arrays (n_samples, width)), ``histograms`` (depth,
    N_BINS) counts on ``bin_edges``, ``diverged`` (True when the steps blew up).
    """

    def __init__(self, depth=8, width=32, activation="sigmoid", scale=1.0, batchnorm=False,
                 steps=5, n_samples=320, lr=0.5, seed=0):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}.")
        self.steps, self.lr, self.seed = steps, lr, seed
        self.x, self.y = digits_subset(n_samples, seed)
        style = {"description_width": "initial"}
        self.depth = widgets.IntSlider(value=depth, min=1, max=8, description="hidden layers", style=style)
        self.width = widgets.IntSlider(value=width, min=16, max=64, step=8, description="width", style=style)
        self.activation = widgets.Dropdown(options=list(ACTIVATIONS), value=activation,
                                           description="activation", style=style)
        self.scale = widgets.FloatLogSlider(value=scale, base=2, min=-2, max=2, step=0.25,
                                            description="init scale", readout_format=".3g", style=style)
        self.batchnorm = widgets.Checkbox(value=batchnorm, description="batch norm", indent=False)
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        controls = (self.depth, self.width, self.activation, self.scale, self.batchnorm)
        for control in controls:
            control.observe(lambda _change: self.update(), names="value")
        self.widget = widgets.VBox([widgets.HBox(controls[:3]), widgets.HBox(controls[3:]),
                                    self.status, self.image])
        self.update()

    def settings(self):
        """The controls' values: (depth, width, activation, scale, batchnorm)."""
        return (int(self.depth.value), int(self.width.value), self.activation.value,
                float(self.scale.value), bool(self.batchnorm.value))

    def update(self):
        """Rebuild, train a few steps, probe the gradients and activations, redraw."""
        depth, width, activation, scale, batchnorm = self.settings()
        self.model = build_model(depth, width, activation, scale, batchnorm, self.seed)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a huge scale may overflow
            self.losses, self.diverged = train_steps(self.model, self.x, self.y, self.steps,
                                                     self.lr, self.seed)
            if self.diverged:  # show the gradients and activations at the initial weights
                self.model = build_model(depth, width, activation, scale, batchnorm, self.seed)
            self.loss, self.grad_norms, self.activations = probe(self.model, self.x, self.y)
        self.histograms, self.bin_edges = self._histograms(activation)
        self.status.value = self._status_text(depth, width, activation, scale, batchnorm)
        fig = _render.new_figure(8.4, 3.4, left=0.09, right=0.98, bottom=0.15, top=0.9, wspace=0.3)
        ax_norms, ax_hist = fig.subplots(1, 2)
        self._draw_norms(ax_norms, depth)
        self._draw_histograms(ax_hist, activation)
        self.image.value = _render.png_bytes(fig)

    def _histograms(self, activation):
        low, high = RANGES.get(activation, (0.0, None))
        if high is None:  # ReLU: up to the largest finite activation seen
            finite = [a[np.isfinite(a)] for a in self.activations]
            high = max([1.0] + [float(a.max()) for a in finite if a.size])
        edges = np.linspace(low, high, N_BINS + 1)
        counts = np.array([np.histogram(a[np.isfinite(a)], bins=edges)[0] for a in self.activations])
        return counts, edges  # (depth, N_BINS), (N_BINS + 1,)

    def _status_text(self, depth, width, activation, scale, batchnorm):
        setup = (f"{depth} {activation} layer{'s' if depth != 1 else ''} of {width}, init "
                 f"{scale:.3g} \u00d7 {INIT_NAMES[activation]}, {'with' if batchnorm else 'no'} batch norm")
        if not np.isfinite(self.grad_norms).all():
            return f"{setup}: <b>training blew up</b> and the gradients overflow even at the start"
        first, last = self.grad_norms[0], self.grad_norms[-1]
        if self.diverged:
            trained = (f"<b>training blew up</b> within {self.steps} steps; shown: the initial "
                       f"weights (loss {self.loss:.2f})")
        else:
            trained = f"loss {self.losses[0]:.2f} \u2192 {self.loss:.2f} after {self.steps} steps"
        return (f"{setup}: {trained}"
                f"<br>gradient norm of layer 1: {first:.1e}, of layer {depth + 1}: {last:.1e} "
                + (f"(ratio {first / last:.1e})" if last > 0 else "(zero: no gradient reaches the weights)"))

    def _draw_norms(self, ax, depth):
        layers = np.arange(1, depth + 2)
        norms = np.where(np.isfinite(self.grad_norms) & (self.grad_norms > 0), self.grad_norms, np.nan)
        ax.semilogy(layers, norms, "o-", color=CLASS_COLORS[1])
        shown = norms[np.isfinite(norms)]
        # fixed limits so that frames compare by eye, widened only for norms outside them
        ax.set_ylim(min([1e-9] + list(shown / 3)), max([1e2] + list(shown * 3)))
        ax.set_xlim(0.5, 9.5)
        ax.set_xticks(range(1, 10))
        ax.set_xlabel("Dense layer (1 = next to the input)")
        ax.set_ylabel("$\\|\\partial L / \\partial W\\|$")
        when = "at the initial weights" if self.diverged else f"after {self.steps} steps"
        ax.set_title(f"weight-gradient norms {when}", fontsize=10)
        ax.grid(True, which="major", alpha=0.3)

    def _draw_histograms(self, ax, activation):
        """One row per hidden layer (layer 1 at the bottom), each histogram scaled to its own peak."""
        centres = 0.5 * (self.bin_edges[:-1] + self.bin_edges[1:])
        for i, counts in enumerate(self.histograms):
            height = 0.85 * counts / max(int(counts.max()), 1)
            ax.fill_between(centres, i, i + height, step="mid", color=CLASS_COLORS[0], alpha=0.6)
            ax.plot(centres, i + height, drawstyle="steps-mid", color="k", linewidth=0.6)
        ax.set_yticks(range(len(self.histograms)))
        ax.set_yticklabels([f"layer {i + 1}" for i in range(len(self.histograms))], fontsize=8)
        ax.set_ylim(-0.1, max(len(self.histograms), 1))
        ax.set_xlim(self.bin_edges[0], self.bin_edges[-1])
        ax.set_xlabel(f"activation a = {activation}(z)")
        ax.set_title("activations of each hidden layer", fontsize=10)

    def __repr__(self):
        depth, width, activation, scale, batchnorm = self.settings()
        return (f"DepthExplorer(depth={depth}, width={width}, activation={activation!r}, "
                f"scale={scale:.3g}, batchnorm={batchnorm})")
