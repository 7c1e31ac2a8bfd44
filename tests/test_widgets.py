"""The chapter 1-2 widgets, driven in plain Python: move a control, see the state change.

A browser is not needed: each widget keeps what it shows (accuracy text, line
end points, boundary, PNG bytes) in attributes, and ``slider.value = ...``
fires the same callbacks a drag in JupyterLab does.
"""
import ipywidgets as widgets
import numpy as np
import pytest

from nnlib.data import logic_gate
from nnlib.perceptron import Perceptron
from nnlib.perceptron import predict as reference_predict
from nncourse.widgets import CompositionExplorer, PerceptronExplorer, PerceptronStepper
from nncourse.widgets.composition import SLIDERS, XOR_SOLUTION, forward_221

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------- PerceptronExplorer
def test_the_explorer_has_standard_sliders_named_for_the_browser():
    explorer = PerceptronExplorer()
    assert list(explorer.sliders) == ["w1", "w2", "b"]
    for name, slider in explorer.sliders.items():
        assert isinstance(slider, widgets.FloatSlider) and slider.description == name
    assert isinstance(explorer.status, widgets.HTML) and explorer.gate.description == "gate"
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)


def test_moving_a_slider_changes_accuracy_text_line_and_picture():
    explorer = PerceptronExplorer(gate="and", w1=1.0, w2=1.0, b=-0.5)  # that is OR
    assert explorer.status.value == "accuracy: 2/4 (50%)"
    assert explorer.wrong.tolist() == [False, True, True, False]
    before_line, before_png = explorer.line, bytes(explorer.image.value)
    explorer.sliders["b"].value = -1.5  # now AND
    assert explorer.status.value.startswith("accuracy: 4/4 (100%)")
    assert explorer.accuracy == 1.0 and not explorer.wrong.any()
    assert np.allclose(explorer.line[1], [2.0, 0.0])  # x2 = 1.5 - x1 at x1 = -0.5 and 1.5
    assert not np.allclose(explorer.line[1], before_line[1])
    assert bytes(explorer.image.value) != before_png


def test_the_gate_dropdown_changes_the_targets():
    explorer = PerceptronExplorer(gate="and", w1=1.0, w2=1.0, b=-1.5)
    explorer.gate.value = "nand"
    assert explorer.y.tolist() == [1, 1, 1, 0]
    assert explorer.status.value == "accuracy: 0/4 (0%)"
    explorer.gate.value = "xor"
    assert explorer.accuracy == 0.25


@pytest.mark.parametrize("w1, w2, b", [(1.0, 1.0, -0.5), (-2.0, 1.0, 0.3), (0.0, 2.5, -1.0)])
def test_xor_stays_below_four_out_of_four(w1, w2, b):
    explorer = PerceptronExplorer(gate="xor", w1=w1, w2=w2, b=b)
    assert explorer.accuracy < 1.0
    assert explorer.accuracy == np.mean(reference_predict(*logic_gate("xor")[:1], np.array([w1, w2]), b)
                                        == logic_gate("xor")[1])


def test_zero_weights_draw_no_line_and_a_vertical_line_is_vertical():
    explorer = PerceptronExplorer(w1=0.0, w2=0.0, b=0.5)
    assert explorer.line is None and explorer.status.value == "accuracy: 1/4 (25%)"
    explorer.sliders["w1"].value = 2.0  # w2 = 0: the line x1 = -b / w1
    assert np.allclose(explorer.line[0], [-0.25, -0.25])


def test_the_explorer_draws_the_notebooks_own_function():
    calls = []

    def my_predict(X, w, b):
        calls.append((w.copy(), b))
        return reference_predict(X, w, b)

    explorer = PerceptronExplorer(predict=my_predict)
    calls.clear()
    explorer.sliders["w2"].value = -2.0
    assert calls and all(np.allclose(w, [1.0, -2.0]) for w, _ in calls)


def test_callbacks_print_nothing(capsys):
    explorer = PerceptronExplorer()
    stepper = PerceptronStepper()
    composition = CompositionExplorer()
    explorer.sliders["w1"].value = 2.0
    stepper.buttons["step"].click()
    composition.sliders["c"].value = 3.0
    composition.snap.click()
    assert capsys.readouterr() == ("", "")


def test_the_display_shows_a_widget_and_a_short_text():
    for widget in (PerceptronExplorer(), PerceptronStepper(), CompositionExplorer()):
        bundle = widget._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert bundle["text/plain"].startswith(type(widget).__name__ + "(")
        assert len(bundle["text/plain"]) < 200  # not the PNG bytes


# ----------------------------------------------------------------- PerceptronStepper
@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_stepping_follows_the_perceptron_rule_until_it_converges(gate):
    stepper = PerceptronStepper(gate=gate)
    reference = Perceptron(2).fit(*logic_gate(gate), epochs=50)
    while not stepper.converged:
        stepper.buttons["step"].click()
        assert stepper.epoch <= len(reference.errors_)
    assert stepper.mistakes == reference.errors_
    assert np.allclose(stepper.w, reference.w) and stepper.b == reference.b
    assert "converged" in stepper.status.value and stepper.accuracy == 1.0
    assert len(stepper.history) == stepper.epoch + 1


def test_xor_never_converges_and_the_status_says_so():
    stepper = PerceptronStepper(gate="xor")
    pictures = set()
    for epoch in range(1, 9):
        stepper.step()
        pictures.add(bytes(stepper.image.value))
        assert stepper.status.value.startswith(f"epoch {epoch}: ")
    assert not stepper.converged and min(stepper.mistakes) > 0
    assert "converged" not in stepper.status.value and len(pictures) > 1


def test_reset_and_changing_the_gate_start_again_from_zero():
    stepper = PerceptronStepper(gate="and")
    for _ in range(3):
        stepper.step()
    stepper.buttons["reset"].click()
    assert stepper.epoch == 0 and not stepper.w.any() and stepper.b == 0.0
    assert stepper.status.value.startswith("epoch 0 (before training)")
    stepper.step()
    stepper.gate.value = "or"
    assert stepper.epoch == 0 and stepper.y.tolist() == [0, 1, 1, 1]


def test_the_stepper_uses_the_notebooks_update_rule_and_keeps_each_epoch():
    def halving_update(w, b, x, y, lr):  # a deliberately different rule
        error = y - int(x @ w + b > 0)
        w += 0.5 * lr * error * x  # in place: the stepper must still keep old epochs intact
        return w, b + 0.5 * lr * error

    stepper = PerceptronStepper(gate="or", update=halving_update)
    stepper.step()
    stepper.step()
    first, second = stepper.history[1][0], stepper.history[2][0]
    assert np.allclose(first, [0.0, 0.5]) and np.allclose(second, [0.5, 0.5])


# ----------------------------------------------------------------- CompositionExplorer
def test_the_composition_has_nine_named_sliders():
    explorer = CompositionExplorer()
    assert set(explorer.sliders) == {"w11", "w21", "b1", "w12", "w22", "b2", "v1", "v2", "c"} == set(SLIDERS)
    for name, slider in explorer.sliders.items():
        assert isinstance(slider, widgets.FloatSlider) and slider.description == name
    assert explorer.snap.description == "snap to an XOR solution"


def test_the_start_solves_or_and_moving_v2_alone_solves_xor():
    explorer = CompositionExplorer()
    assert explorer.status.value.startswith("<b>accuracy: 3/4 (75%)</b>")
    boundary, picture = explorer.boundary.copy(), bytes(explorer.image.value)
    explorer.sliders["v2"].value = -20.0
    assert explorer.accuracy == 1.0 and "accuracy: 4/4 (100%)" in explorer.status.value
    assert (explorer.boundary != boundary).any() and bytes(explorer.image.value) != picture
    assert np.allclose(explorer.v, [10.0, -20.0])


def test_a_hidden_weight_moves_only_its_own_line():
    explorer = CompositionExplorer()
    h1, h2 = explorer.lines["h1"], explorer.lines["h2"]
    explorer.sliders["b1"].value = -12.0  # h1: 10 x1 + 10 x2 - 12 = 0
    assert np.allclose(explorer.lines["h1"][1], [1.7, -0.3])
    assert not np.allclose(explorer.lines["h1"][1], h1[1])
    assert np.allclose(explorer.lines["h2"][1], h2[1])
    assert explorer.W[0, 1] == explorer.sliders["w12"].value  # W[i, j]: input i -> hidden j


def test_the_snap_button_yields_four_out_of_four_with_one_redraw():
    calls = []

    def counting_forward(X, W, b, v, c):
        calls.append(1)
        return forward_221(X, W, b, v, c)

    explorer = CompositionExplorer(forward=counting_forward, v1=-5.0, c=0.0)
    calls.clear()
    explorer.snap.click()
    assert explorer.accuracy == 1.0 and "accuracy: 4/4 (100%)" in explorer.status.value
    assert {n: s.value for n, s in explorer.sliders.items()} == XOR_SOLUTION
    assert len(calls) == 2  # one redraw: the four corners and the grid, not nine redraws
    p = explorer.p
    assert (p[[1, 2]] > 0.99).all() and (p[[0, 3]] < 0.01).all()


def test_an_unknown_slider_name_is_refused():
    with pytest.raises(ValueError, match=r"unknown slider name\(s\) \['w3'\]; the sliders are"):
        CompositionExplorer(w3=1.0)


# Issue 20: in hidden space, corners that land on (or near) one spot must not
# draw their labels on top of each other.
CORNER_NAMES = ["(0,0)", "(0,1)", "(1,0)", "(1,1)"]


def hidden_space_labels(explorer):
    """The hidden-space Axes' texts of a freshly drawn figure, with their extents in pixels."""
    fig = explorer.figure()
    fig.canvas.draw()
    ax = fig.axes[1]
    assert ax.get_title() == "hidden space (h1, h2)"
    renderer = fig.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts]


def assert_each_corner_named_once_without_overlap(labels):
    names = [name for text, _ in labels for name in text.split()]
    assert sorted(names) == CORNER_NAMES
    for i, (text_i, box_i) in enumerate(labels):
        for text_j, box_j in labels[i + 1:]:
            assert not box_i.overlaps(box_j), f"labels {text_i!r} and {text_j!r} overlap"


def test_corners_on_the_same_spot_share_one_label():
    explorer = CompositionExplorer()  # w11 = w21 and w12 = w22: (0,1) and (1,0) land on one spot
    h = 1 / (1 + np.exp(-(explorer.X @ explorer.W + explorer.b)))  # (4, 2)
    assert np.array_equal(h[1], h[2])
    labels = hidden_space_labels(explorer)
    assert [text for text, _ in labels if "(0,1)" in text] == ["(0,1) (1,0)"]
    assert_each_corner_named_once_without_overlap(labels)
    assert [text for text, _ in explorer.corner_labels] == [text for text, _ in labels]


def test_corners_close_together_get_labels_that_do_not_overlap():
    explorer = CompositionExplorer(w11=3.0, w21=2.5, b1=-1.0)  # h1 = 0.88 and 0.82: 0.06 apart
    assert_each_corner_named_once_without_overlap(hidden_space_labels(explorer))
    explorer.set_values(**XOR_SOLUTION)  # four separate spots except (0,0) and (1,1)
    labels = hidden_space_labels(explorer)
    assert "(0,1)" in dict(labels) and "(1,0)" in dict(labels)
    assert_each_corner_named_once_without_overlap(labels)


def test_no_slider_setting_draws_overlapping_corner_labels():
    rng = np.random.default_rng(20)
    explorer = CompositionExplorer()
    for _ in range(30):
        values = rng.choice(np.arange(-20.0, 20.5, 0.5), size=len(SLIDERS))  # the sliders' grid
        explorer.set_values(**dict(zip(SLIDERS, values)))
        assert_each_corner_named_once_without_overlap(hidden_space_labels(explorer))
