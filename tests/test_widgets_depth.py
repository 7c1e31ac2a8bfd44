"""The chapter 6 widget (DepthExplorer), driven in plain Python (no browser).

Moving a control must change what the widget computes (gradient norms,
activation histograms), its status text and its picture; the numbers must
show the chapter's point: deep sigmoid layers without batch norm lose the
gradient on the way down, batch norm brings it back.
"""
import warnings

import ipywidgets as widgets
import numpy as np
import pytest

from nnlib import BatchNorm, Dense
from nncourse.widgets import DepthExplorer
from nncourse.widgets.depth import base_std, build_model

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def explorer():
    """One explorer for the module (the first build compiles the layer kernels)."""
    return DepthExplorer(depth=8, width=32, activation="sigmoid", scale=1.0, batchnorm=False)


def reset(explorer, **values):
    """Set the controls (each change redraws), defaults: deep sigmoid, scale 1, no batch norm."""
    settings = {"depth": 8, "width": 32, "activation": "sigmoid", "scale": 1.0, "batchnorm": False}
    settings.update(values)
    for name, value in settings.items():
        getattr(explorer, name).value = value


def test_the_widget_builds_with_standard_controls(explorer):
    reset(explorer)
    assert isinstance(explorer.depth, widgets.IntSlider) and explorer.depth.description == "hidden layers"
    assert (explorer.depth.min, explorer.depth.max) == (1, 8)
    assert (explorer.width.min, explorer.width.max) == (16, 64)
    assert list(explorer.activation.options) == ["sigmoid", "tanh", "relu"]
    assert isinstance(explorer.scale, widgets.FloatLogSlider)
    assert explorer.scale.min == -2 and explorer.scale.max == 2 and explorer.scale.base == 2  # 0.25 .. 4
    assert isinstance(explorer.batchnorm, widgets.Checkbox)
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)
    assert explorer.grad_norms.shape == (9,)
    assert len(explorer.activations) == 8 and explorer.activations[0].shape == (320, 32)
    assert explorer.histograms.shape == (8, 30) and (explorer.histograms.sum(axis=1) == 320 * 32).all()
    assert repr(explorer) == ("DepthExplorer(depth=8, width=32, activation='sigmoid', scale=1, "
                              "batchnorm=False)")
    assert explorer._repr_mimebundle_()["text/plain"] == repr(explorer)


def test_the_model_is_the_chosen_stack_with_scaled_weights():
    model = build_model(3, 16, "relu", 2.0, True)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "BatchNorm", "ReLU"] * 3 + ["Dense"]
    assert model.backend == "numba"
    first = model.layers[0]
    assert isinstance(first, Dense) and first.W.shape == (64, 16)
    assert first.W.std() == pytest.approx(2.0 * base_std("relu", 64, 16), rel=0.1)  # 2 x He
    assert base_std("sigmoid", 64, 32) == pytest.approx(np.sqrt(2 / 96))  # Glorot
    assert not any(isinstance(layer, BatchNorm) for layer in build_model(2, 16, "tanh", 1.0, False).layers)


def test_the_vanishing_gradient_shows_in_the_numbers(explorer):
    """Deep sigmoid, no batch norm: layer 1's gradient is orders of magnitude below layer 9's."""
    reset(explorer)
    norms = explorer.grad_norms
    assert np.isfinite(norms).all() and (norms > 0).all()
    assert norms[0] < 1e-3 * norms[-1]
    assert (np.diff(np.log(norms)) > 0).sum() >= 6  # shrinking layer after layer on the way down
    assert "gradient norm of layer 1" in explorer.status.value


def test_batch_norm_brings_the_gradient_back(explorer):
    reset(explorer)
    without, image = explorer.grad_norms.copy(), explorer.image.value
    explorer.batchnorm.value = True
    with_bn = explorer.grad_norms
    assert with_bn[0] > 1e3 * without[0]  # orders of magnitude larger in the first layer
    assert 0.1 < with_bn[0] / with_bn[-1] < 10  # about the same size in every layer
    assert explorer.image.value != image
    assert "with batch norm" in explorer.status.value


def test_every_control_changes_the_plots(explorer):
    reset(explorer)
    for name, value in (("depth", 3), ("width", 64), ("activation", "relu"), ("scale", 0.25),
                        ("batchnorm", True)):
        image, norms, histograms = explorer.image.value, explorer.grad_norms.copy(), explorer.histograms.copy()
        getattr(explorer, name).value = value
        assert explorer.image.value != image, name
        assert norms.shape != explorer.grad_norms.shape or not np.allclose(norms, explorer.grad_norms), name
        assert histograms.shape != explorer.histograms.shape or (histograms != explorer.histograms).any(), name


def test_the_scale_moves_the_sigmoid_activations(explorer):
    """Too small a scale squeezes layer 8's sigmoid outputs near 0.5; a large one saturates them at 0 and 1."""
    reset(explorer, scale=0.25)
    small = explorer.activations[-1]
    reset(explorer, scale=4.0)
    large = explorer.activations[-1]
    assert small.std() < 0.05 and np.abs(small - 0.5).max() < 0.2
    assert large.std() > 0.3 and np.mean((large < 0.05) | (large > 0.95)) > 0.3


def test_a_blown_up_run_is_reported_not_raised(explorer):
    reset(explorer, activation="relu", scale=4.0, width=64)
    assert explorer.diverged
    assert "training blew up" in explorer.status.value
    assert np.isfinite(explorer.grad_norms).all()  # the gradients at the initial weights
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)


def test_the_same_settings_give_the_same_numbers(explorer):
    reset(explorer, batchnorm=True)
    first = explorer.grad_norms.copy()
    explorer.update()
    np.testing.assert_array_equal(explorer.grad_norms, first)


def compiled_signatures():
    """How many (kernel, argument types) pairs Numba has compiled in nnlib.kernels so far."""
    import sys
    return sum(len(obj.signatures) for name, module in list(sys.modules.items())
               if name.startswith("nnlib.kernels.") for obj in vars(module).values()
               if hasattr(obj, "signatures") and hasattr(obj, "py_func"))


def test_an_update_stays_small_and_compiles_nothing(explorer):
    """What keeps a change live on 2 cores, asserted without a clock: a bounded amount of work
    (a few steps on a few hundred digits) and no Numba compilation once every setting was seen
    (a compile takes seconds). The redraw time itself is a measurement, not a test."""
    assert explorer.steps * len(explorer.x) <= 5 * 320
    changes = (("batchnorm", True), ("width", 64), ("activation", "relu"), ("depth", 5),
               ("scale", 2.0), ("activation", "tanh"), ("batchnorm", False))
    reset(explorer)
    for name, value in changes:  # every kind of stack once: compiles what it needs
        getattr(explorer, name).value = value
    before = compiled_signatures()
    assert before > 0, "the explorer should run compiled nnlib kernels"
    reset(explorer)
    for name, value in changes:
        getattr(explorer, name).value = value
    assert compiled_signatures() == before


def test_callbacks_print_and_warn_nothing(explorer, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reset(explorer, activation="tanh", depth=4, batchnorm=True)
        reset(explorer, activation="relu", scale=4.0)  # blows up: still silent
    assert capsys.readouterr() == ("", "")


def test_an_unknown_activation_gets_a_clear_error():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        DepthExplorer(activation="gelu")
