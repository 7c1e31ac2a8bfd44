"""The chapter 8 widget (FilterExplorer), driven in plain Python (no browser).

Moving a weight slider, choosing a preset or another digit must change the
feature map, the status text and the picture; the feature map must be the
cross-correlation of the digit with the sliders' kernel (checked against a
loop written here, not nnlib's convolution).
"""
import ipywidgets as widgets
import numpy as np
import pytest

from nnlib.data import load_digits
from nncourse.widgets import FilterExplorer
from nncourse.widgets.filters import PRESETS, feature_map

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def correlate_by_loops(image, kernel):
    """out[r, c] = sum_ij kernel[i, j] * padded[r + i, c + j], padding 1 (independent of nnlib)."""
    padded = np.zeros((10, 10))
    padded[1:9, 1:9] = image
    out = np.zeros((8, 8))
    for r in range(8):
        for c in range(8):
            for i in range(3):
                for j in range(3):
                    out[r, c] += kernel[i][j] * padded[r + i, c + j]
    return out


@pytest.fixture
def explorer():
    return FilterExplorer(preset="vertical edge", digit=0)


def test_the_widget_builds_with_nine_sliders_a_preset_and_a_digit(explorer):
    sliders = explorer.sliders()
    assert len(sliders) == 9 and all(isinstance(s, widgets.FloatSlider) for s in sliders)
    assert [s.description for s in sliders] == [f"w{i}{j}" for i in range(3) for j in range(3)]
    assert all((s.min, s.max, s.step) == (-5.0, 5.0, 0.01) for s in sliders)
    assert list(explorer.preset.options) == ["vertical edge", "horizontal edge", "blur", "sharpen",
                                             "identity"]
    assert isinstance(explorer.digit, widgets.IntSlider) and explorer.digit.description == "digit"
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)
    np.testing.assert_array_equal(explorer.kernel, PRESETS["vertical edge"])
    assert explorer.out.shape == (8, 8)
    assert repr(explorer) == "FilterExplorer(preset='vertical edge', digit=0)"
    assert explorer._repr_mimebundle_()["text/plain"] == repr(explorer)


def test_the_feature_map_is_the_cross_correlation_of_the_digit(explorer):
    _, _, images = load_digits(return_images=True)
    np.testing.assert_allclose(explorer.x, images[0] / 16)
    np.testing.assert_allclose(explorer.out, correlate_by_loops(explorer.x, explorer.kernel), atol=1e-12)
    flipped = correlate_by_loops(explorer.x, np.asarray(PRESETS["vertical edge"])[::-1, ::-1])
    assert not np.allclose(explorer.out, flipped)  # not a (flipped-kernel) convolution


def test_moving_one_weight_changes_the_map_the_text_and_the_picture(explorer):
    before = (explorer.out.copy(), explorer.status.value, explorer.image.value)
    explorer.weights[1][1].value = 2.0  # the centre weight: adds 2 x the digit to the map
    np.testing.assert_allclose(explorer.out, before[0] + 2.0 * explorer.x, atol=1e-12)
    assert explorer.status.value != before[1] and "feature map from" in explorer.status.value
    assert explorer.image.value != before[2]


def test_a_preset_sets_all_nine_weights_with_one_redraw(explorer, monkeypatch):
    from nncourse.widgets import filters

    drawn = []
    original = filters._render.png_bytes
    monkeypatch.setattr(filters._render, "png_bytes", lambda fig: (drawn.append(1), original(fig))[1])
    explorer.set_kernel(PRESETS["sharpen"])
    assert len(drawn) == 1
    np.testing.assert_array_equal(explorer.kernel, PRESETS["sharpen"])


def test_the_preset_dropdown_and_the_digit_slider_redraw(explorer):
    explorer.preset.value = "blur"
    np.testing.assert_allclose(explorer.kernel, np.full((3, 3), 1 / 9), atol=5e-3)  # slider step 0.01
    assert explorer.out.max() <= explorer.x.max() + 1e-9  # a blur averages: nothing brighter than the digit
    first = explorer.out.copy()
    explorer.digit.value = 7
    assert explorer.label == int(load_digits()[1][7]) and not np.allclose(explorer.out, first)
    assert "digit 7" in explorer.status.value


def test_the_identity_preset_shows_the_digit_itself():
    explorer = FilterExplorer(preset="identity", digit=3)
    np.testing.assert_allclose(explorer.out, explorer.x)


def test_feature_map_and_bad_arguments():
    image = np.arange(64.0).reshape(8, 8)
    np.testing.assert_allclose(feature_map(image, PRESETS["horizontal edge"]),
                               correlate_by_loops(image, PRESETS["horizontal edge"]))
    with pytest.raises(ValueError, match="unknown preset 'emboss'"):
        FilterExplorer(preset="emboss")
    with pytest.raises(ValueError, match=r"digit must be in 0\.\.49"):
        FilterExplorer(digit=50)
    with pytest.raises(ValueError, match=r"shape \(3, 3\)"):
        FilterExplorer().set_kernel(np.ones((2, 2)))
