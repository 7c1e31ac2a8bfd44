"""The chapter 10 widget (GANExplorer), driven in plain Python (no browser).

Moving a slider must change the frame shown or the generated digit, the
status text and the picture; frames that do not match are refused clearly.
"""
import ipywidgets as widgets
import numpy as np
import pytest

from nnlib import Dense, Sequential, Tanh
from nncourse.widgets import GANExplorer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def recorded(n_frames=3, n_noise=4):
    rng = np.random.default_rng(0)
    toy = {"steps": [100 * i for i in range(n_frames)],
           "samples": [rng.normal(size=(50, 2)) for _ in range(n_frames)],
           "surface": [rng.uniform(size=(11, 11)) for _ in range(n_frames)],
           "extent": (-3, 3, -3, 3), "real": rng.normal(size=(40, 2))}
    digits = {"steps": [500 * i for i in range(n_frames)],
              "images": [rng.uniform(-1, 1, size=(36, 64)) for _ in range(n_frames)]}
    G = Sequential([Dense(n_noise, 64), Tanh()], seed=0)
    return toy, digits, G


@pytest.fixture
def explorer():
    return GANExplorer(*recorded())


def test_the_widget_builds_with_standard_controls(explorer):
    assert isinstance(explorer.toy_step, widgets.IntSlider) and explorer.toy_step.description == "toy step"
    assert (explorer.toy_step.min, explorer.toy_step.max, explorer.toy_step.value) == (0, 2, 2)
    assert explorer.digit_step.description == "digits step" and explorer.digit_step.max == 2
    assert [s.description for s in (explorer.t1, explorer.t2)] == ["direction 1", "direction 2"]
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)
    assert explorer.z.shape == (4,) and explorer.digit.shape == (8, 8)
    assert "after 200 steps" in explorer.status.value and "after 1000 steps" in explorer.status.value
    assert explorer._repr_mimebundle_()["text/plain"] == repr(explorer)


def test_the_noise_directions_are_orthonormal(explorer):
    np.testing.assert_allclose([explorer.u1 @ explorer.u1, explorer.u2 @ explorer.u2, explorer.u1 @ explorer.u2],
                               [1, 1, 0], atol=1e-12)


def test_moving_a_direction_moves_z_and_changes_the_digit_to_the_generators(explorer):
    before_digit, before_png = explorer.digit.copy(), bytes(explorer.image.value)
    explorer.t1.value = 2.0
    np.testing.assert_allclose(explorer.z, explorer.z0 + 2.0 * explorer.u1)
    np.testing.assert_allclose(explorer.digit.ravel(), explorer.generator.forward(explorer.z[None])[0])
    assert not np.allclose(explorer.digit, before_digit)
    assert bytes(explorer.image.value) != before_png
    assert "2.00 u1" in explorer.status.value


def test_scrubbing_the_frames_changes_the_picture_and_the_text(explorer):
    png = bytes(explorer.image.value)
    explorer.toy_step.value = 0
    assert "ring: after 0 steps" in explorer.status.value
    assert bytes(explorer.image.value) != png
    png = bytes(explorer.image.value)
    explorer.digit_step.value = 1
    assert "digits: after 500 steps" in explorer.status.value
    assert bytes(explorer.image.value) != png


def test_frames_that_do_not_match_are_refused():
    toy, digits, G = recorded()
    toy["surface"] = toy["surface"][:2]
    with pytest.raises(ValueError, match="surface.*2 frames.*3"):
        GANExplorer(toy, digits, G)
    toy, digits, G = recorded()
    del digits["images"]
    with pytest.raises(ValueError, match="missing \\['images'\\]"):
        GANExplorer(toy, digits, G)
