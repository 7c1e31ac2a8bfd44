"""The chapter 4 exercise notebook drives the learning-rate explorer with the learner's backward pass."""
import numpy as np

from nncourse.checks.ch04 import reference_mlp
from nncourse.widgets import LearningRateExplorer


def learners_backward(params, X, y):
    return reference_mlp(params, X, y, "tanh")


def test_the_learners_backward_pass_trains_exactly_like_the_reference():
    own = LearningRateExplorer(lr=1.0, epochs=60, loss_and_grads=learners_backward)
    reference = LearningRateExplorer(lr=1.0, epochs=60)
    assert own.verdict == reference.verdict
    np.testing.assert_allclose(own.losses, reference.losses, rtol=1e-10)
    assert own.image.value and "training accuracy" in own.status.value


def test_a_stub_shows_a_clear_message_instead_of_raising():
    def stub(params, X, y):
        raise NotImplementedError("Exercise 4.4: return (loss, grads) for any depth")

    explorer = LearningRateExplorer(lr=1.0, epochs=20, loss_and_grads=stub)
    assert explorer.verdict == "not written" and explorer.accuracy is None
    assert "not written yet" in explorer.status.value
    assert "Exercise 4.4: return (loss, grads) for any depth" in explorer.status.value
    assert explorer.image.value == b""
    explorer.slider.value = 0.1  # moving the slider does not raise either
    assert explorer.verdict == "not written"


def test_a_learners_error_is_named_and_a_fixed_function_trains():
    calls = {"broken": True}

    def sometimes_broken(params, X, y):
        if calls["broken"]:
            raise KeyError("W3")
        return learners_backward(params, X, y)

    explorer = LearningRateExplorer(lr=1.0, epochs=20, loss_and_grads=sometimes_broken)
    assert explorer.verdict == "error" and "raised KeyError: &#x27;W3&#x27;" in explorer.status.value
    calls["broken"] = False
    explorer.slider.value = 0.5
    assert explorer.verdict in ("learning", "crawling") and explorer.image.value


def test_loss_and_grads_must_be_a_function():
    import pytest
    with pytest.raises(TypeError, match="loss_and_grads must be a function"):
        LearningRateExplorer(loss_and_grads="mlp_backward")
