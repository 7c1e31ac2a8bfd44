"""Plotting helpers shared by the notebooks (plots only: nothing taught here).

All functions draw on a Matplotlib ``ax`` (made if not given) and return it,
so notebooks can compose figures and widgets can redraw in place.
"""
import matplotlib.pyplot as plt
import numpy as np

CLASS_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _ax(ax, figsize=(4, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_points(X, y, ax=None, wrong=None, s=40):
    """Scatter 2-D points X (n, 2) coloured by class y (n,); ring the ``wrong`` ones (bool mask)."""
    ax = _ax(ax)
    y = np.asarray(y).astype(int)
    for k in np.unique(y):
        pts = X[y == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=s, color=CLASS_COLORS[k % 10],
                   edgecolor="k", linewidth=0.5, label=f"class {k}", zorder=3)
    if wrong is not None and np.any(wrong):
        ax.scatter(X[wrong, 0], X[wrong, 1], s=s * 4, facecolor="none",
                   edgecolor="k", linewidth=2, label="misclassified", zorder=4)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def grid_for(X, resolution=150, margin=0.5):
    """A (resolution**2, 2) grid covering X's bounding box plus a margin, and the mesh shapes."""
    lo = X.min(axis=0) - margin
    hi = X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    return np.c_[xx.ravel(), yy.ravel()], xx, yy  # (resolution**2, 2)


def plot_decision_boundary(predict, X, y, ax=None, resolution=150, title=None):
    """Shade the classes a ``predict`` function (grid (m, 2) -> labels (m,)) assigns, then the points."""
    ax = _ax(ax)
    grid, xx, yy = grid_for(X, resolution)
    labels = np.asarray(predict(grid)).reshape(xx.shape)
    n_classes = int(max(labels.max(), np.max(y))) + 1
    colors = [CLASS_COLORS[k % 10] for k in range(n_classes)]
    ax.contourf(xx, yy, labels, levels=np.arange(n_classes + 1) - 0.5, colors=colors, alpha=0.25)
    plot_points(X, y, ax=ax)
    if title:
        ax.set_title(title)
    return ax


def plot_line(w, b, ax, xlim=(-0.5, 1.5), **style):
    """Draw the line w . x + b = 0 (w = (w1, w2)) over xlim; vertical if w2 == 0."""
    w1, w2 = float(w[0]), float(w[1])
    style = {"color": "k", "linewidth": 2, **style}
    if abs(w2) > 1e-12:
        xs = np.array(xlim)
        return ax.plot(xs, -(w1 * xs + b) / w2, **style)[0]
    if abs(w1) > 1e-12:
        return ax.axvline(-b / w1, **style)
    return ax.plot([], [], **style)[0]  # w = 0: no line exists


def plot_history(history, ax=None, keys=("loss", "val_loss")):
    """Plot per-epoch curves of a History (or dict of lists) for the given keys."""
    ax = _ax(ax, figsize=(5, 3))
    data = getattr(history, "history", history)
    for key in keys:
        if key in data:
            ax.plot(np.arange(1, len(data[key]) + 1), data[key], label=key)
    ax.set_xlabel("epoch")
    ax.legend()
    return ax


def show_digits(images, labels=None, predictions=None, n_cols=10, size=0.8):
    """A grid of 8x8 (or 28x28) grey images with optional true/predicted labels."""
    images = np.asarray(images)
    n = len(images)
    n_rows = int(np.ceil(n / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(n_cols * size, n_rows * size * 1.15))
    for i, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if i >= n:
            continue
        side = int(round(np.sqrt(images[i].size)))
        ax.imshow(images[i].reshape(side, side), cmap="gray_r", interpolation="nearest")
        text = "" if labels is None else str(labels[i])
        if predictions is not None:
            text += f"\u2192{predictions[i]}"
        ax.set_title(text, fontsize=8)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(cm, ax=None, labels=None):
    """Show a confusion matrix (true class rows, predicted class columns) with counts."""
    cm = np.asarray(cm)
    ax = _ax(ax, figsize=(4.5, 4.5))
    ax.imshow(cm, cmap="Blues")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ticks = np.arange(cm.shape[0])
    ax.set_xticks(ticks, labels if labels is not None else ticks)
    ax.set_yticks(ticks, labels if labels is not None else ticks)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return ax


def plot_graph(nodes, edges, ax=None, figsize=(8, 2.6)):
    """Draw a small computational graph with its numbers (notebook 04).

    nodes: {name: (x, y, text, grad)}: a box at (x, y) showing ``text`` (the
    forward value) and, in red below it, ``grad`` (dL/d(node); "" for none).
    edges: [(source, target, text, grad)]: an arrow labelled ``text`` above
    (e.g. the weight) and ``grad`` in red below (e.g. dL/dw).
    """
    ax = _ax(ax, figsize=figsize)
    red = CLASS_COLORS[1]
    for source, target, text, grad in edges:
        (x0, y0), (x1, y1) = nodes[source][:2], nodes[target][:2]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "shrinkA": 32, "shrinkB": 32, "lw": 1.5})
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        ax.text(xm, ym + 0.12, text, ha="center", va="bottom", fontsize=9)
        ax.text(xm, ym - 0.12, grad, ha="center", va="top", fontsize=9, color=red)
    for x, y, text, grad in nodes.values():
        ax.text(x, y, text, ha="center", va="center", fontsize=10,
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "k"})
        ax.text(x, y - 0.3, grad, ha="center", va="top", fontsize=9, color=red)
    xs = [n[0] for n in nodes.values()]
    ys = [n[1] for n in nodes.values()]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.4)
    ax.axis("off")
    return ax
