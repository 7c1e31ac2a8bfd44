"""The chapter 3 and 4 widgets, driven in plain Python (no browser).

Moving a slider must change the state the widget shows (error, accuracy,
loss curve, verdict), its status text and its picture.
"""
import ipywidgets as widgets
import numpy as np
import pytest

from nncourse.widgets import HiddenUnitsExplorer, LearningRateExplorer
from nncourse.widgets.hidden_units import fit_output_layer, plot_hidden_units, target_curve
from nncourse.widgets.learning_rate import train, verdict


# ----------------------------------------------------------------- hidden units (chapter 3)
def test_more_hidden_units_fit_the_curve_better():
    explorer = HiddenUnitsExplorer("curve", n_hidden=1)
    errors = {}
    for n in (1, 3, 10, 50):
        explorer.slider.value = n
        errors[n] = explorer.error
        assert explorer.W1.shape == (1, n) and explorer.W2.shape == (n, 1)
    assert errors[1] > errors[3] > errors[10] > errors[50]
    assert errors[50] < 1e-3 < 0.1 < errors[1]  # one hinge cannot follow a sine; fifty can


def test_the_curve_slider_changes_status_picture_and_line():
    explorer = HiddenUnitsExplorer("curve", n_hidden=2)
    status, image, y_hat = explorer.status.value, explorer.image.value, explorer.y_hat.copy()
    assert status.startswith("2 hidden units: mean squared error")
    explorer.slider.value = 12
    assert explorer.n_hidden == 12
    assert explorer.status.value.startswith("12 hidden units: mean squared error")
    assert explorer.image.value != image and explorer.image.value[:4] == b"\x89PNG"
    assert not np.allclose(explorer.y_hat, y_hat)
    # the drawn line is the network's output on the plot grid
    expected = np.maximum(explorer.x[:, None] @ explorer.W1 + explorer.b1, 0) @ explorer.W2 + explorer.b2
    np.testing.assert_allclose(explorer.y_hat, expected[:, 0])


def test_the_boundary_accuracy_grows_with_width_and_regions_change():
    explorer = HiddenUnitsExplorer("boundary", n_hidden=1)
    accuracy_1, regions_1 = explorer.accuracy, explorer.regions.copy()
    explorer.slider.value = 30
    assert explorer.accuracy > accuracy_1 + 0.15
    assert explorer.accuracy >= 0.95
    assert (explorer.regions != regions_1).any()
    assert explorer.status.value == f"30 hidden units: training accuracy {100 * explorer.accuracy:.1f}%"


def test_units_are_only_added_never_redrawn():
    explorer = HiddenUnitsExplorer("boundary", n_hidden=5)
    W1_5 = explorer.W1.copy()
    explorer.slider.value = 9
    np.testing.assert_array_equal(explorer.W1[:, :5], W1_5)


def test_the_slider_is_a_standard_int_slider():
    explorer = HiddenUnitsExplorer()
    assert isinstance(explorer.slider, widgets.IntSlider)
    assert explorer.slider.description == "hidden units"
    assert (explorer.slider.min, explorer.slider.max) == (1, 50)
    assert "HiddenUnitsExplorer(task='curve', n_hidden=3)" == repr(explorer)
    assert explorer._repr_mimebundle_()["text/plain"] == repr(explorer)


def test_the_output_layer_is_the_least_squares_solution():
    rng = np.random.default_rng(0)
    a, W2, b2 = rng.normal(size=(30, 4)), rng.normal(size=(4, 2)), rng.normal(size=2)
    W2_fit, b2_fit = fit_output_layer(a, a @ W2 + b2)
    np.testing.assert_allclose(W2_fit, W2, atol=1e-10)
    np.testing.assert_allclose(b2_fit, b2, atol=1e-10)


@pytest.mark.parametrize("kwargs, words", [
    ({"task": "spiral"}, ("unknown task 'spiral'", "'curve'", "'boundary'")),
    ({"n_hidden": 0}, ("n_hidden must be between 1 and max_hidden=50",)),
    ({"n_hidden": 60}, ("got 60",)),
])
def test_bad_arguments_get_a_clear_error(kwargs, words):
    with pytest.raises(ValueError) as info:
        HiddenUnitsExplorer(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_the_static_panels_draw_one_axes_per_width():
    import matplotlib.pyplot as plt
    fig = plot_hidden_units("boundary", widths=(1, 4))
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["1 hidden tanh unit", "4 hidden tanh units"]
    plt.close(fig)
    fig = plot_hidden_units("curve", widths=(2,))
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), target_curve(fig.axes[0].lines[0].get_xdata()))
    plt.close(fig)


# ----------------------------------------------------------------- learning rate (chapter 4)
def test_the_lr_slider_is_a_float_log_slider_named_lr():
    explorer = LearningRateExplorer()
    assert isinstance(explorer.slider, widgets.FloatLogSlider)
    assert explorer.slider.description == "lr"
    assert explorer.slider.value == 1.0
    assert repr(explorer) == "LearningRateExplorer(lr=1, epochs=300)"


def test_a_good_lr_learns_a_tiny_one_crawls_a_huge_one_diverges():
    explorer = LearningRateExplorer(lr=1.0)
    assert explorer.verdict == "learning"
    assert explorer.losses[-1] < 0.5 * explorer.losses[0]
    assert explorer.accuracy > 0.85
    good = explorer.losses.copy()

    explorer.slider.value = 1e-3
    assert explorer.lr == pytest.approx(1e-3)
    assert explorer.verdict == "crawling"
    assert explorer.losses[-1] > 0.85 * explorer.losses[0]
    assert "too small: the loss crawls" in explorer.status.value
    np.testing.assert_allclose(explorer.losses[0], good[0])  # same start, only lr differs

    explorer.slider.value = 10 ** 1.5
    assert explorer.verdict == "diverging"
    assert explorer.losses[-1] > explorer.losses[0]
    assert "too large: the loss climbs" in explorer.status.value


def test_moving_the_lr_slider_changes_text_and_picture():
    explorer = LearningRateExplorer(lr=1.0)
    status, image = explorer.status.value, explorer.image.value
    explorer.slider.value = 0.01
    assert explorer.status.value != status and explorer.status.value.startswith("lr = 0.01: loss")
    assert explorer.image.value != image


def test_the_training_loop_follows_the_gradient():
    """One step of the widget's loop equals a step along the finite-difference gradient."""
    from nnlib.data import spirals
    from nnlib.gradcheck import numerical_gradient
    from nncourse.widgets.learning_rate import forward, init_params
    from nnlib.functional import softmax_cross_entropy

    X, y = spirals(30, n_classes=3, seed=1)
    start = init_params(2, 5, 3, seed=0)
    after, losses = train(X, y, lr=0.1, epochs=1, n_hidden=5, seed=0)
    assert losses.shape == (1,)
    for name, p in start.items():
        numeric = numerical_gradient(lambda: softmax_cross_entropy(forward(start, X), y)[0], p)
        np.testing.assert_allclose(after[name], p - 0.1 * numeric, atol=1e-8)


@pytest.mark.parametrize("losses, expected", [
    (np.linspace(1.0, 0.2, 300), "learning"),
    (np.linspace(1.0, 0.9, 300), "crawling"),
    (np.r_[1.0, 2.0, np.linspace(0.9, 0.2, 298)], "unstable"),
    (np.linspace(1.0, 3.0, 300), "diverging"),
    (np.linspace(1.0, 0.5, 120), "diverging"),  # stopped early: the weights overflowed
])
def test_verdict(losses, expected):
    assert verdict(losses, 300) == expected


# ----------------------------------------------------------------- the graph of notebook 04
def test_plot_graph_draws_every_value_gradient_and_arrow():
    import matplotlib.pyplot as plt
    from matplotlib.text import Annotation

    from nnlib.viz import plot_graph

    nodes = {"x": (0, 0, "x = 1", ""), "h": (2, 0, "h = 2", "dL/dh = -3"), "L": (4, 0, "L = 1", "")}
    edges = [("x", "h", "w1 = 2", "dL/dw1 = -3"), ("h", "L", "loss", "")]
    ax = plot_graph(nodes, edges)
    texts = [t.get_text() for t in ax.texts]
    for label in ("x = 1", "h = 2", "dL/dh = -3", "w1 = 2", "dL/dw1 = -3", "loss"):
        assert label in texts
    arrows = [t for t in ax.texts if isinstance(t, Annotation)]
    assert len(arrows) == len(edges)
    plt.close(ax.figure)
