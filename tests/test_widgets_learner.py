"""The widgets of the chapter 1-2 exercise notebooks run the learner's own functions.

While such a function is still the exercise's stub, the widget says so (and
raises nothing); once it is written, the widget draws what it computes.
"""
import numpy as np

from nncourse.widgets import PerceptronExplorer, PerceptronStepper, SlowdownExplorer
from nncourse.widgets.slowdown import reference_gradients

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def stub(text):
    def fn(*args, **kwargs):
        raise NotImplementedError(text)
    return fn


def named(fn, name):
    fn.__name__ = name
    return fn


def test_the_explorer_says_when_the_learners_predict_is_a_stub_and_draws_it_once_written():
    perceptron_predict = named(stub("Exercise 1.1: return step(X @ w + b)"), "perceptron_predict")
    explorer = PerceptronExplorer(gate="nand", predict=perceptron_predict)
    assert explorer.stub == "Exercise 1.1: return step(X @ w + b)"
    assert "perceptron_predict is not written yet" in explorer.status.value
    assert "Exercise 1.1" in explorer.status.value
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)
    explorer.sliders["b"].value = 1.0  # moving a slider raises nothing either
    assert explorer.stub is not None

    calls = []
    explorer.predict = lambda X, w, b: calls.append(len(X)) or (X @ w + b > 0).astype(int)
    explorer.sliders["w1"].value = -1.0
    assert explorer.stub is None and calls and explorer.status.value.startswith("accuracy:")


def test_the_stepper_names_the_unfinished_update_and_keeps_its_state():
    margin_update = named(stub("Exercise 1.2: return the new (w, b)"), "margin_update")
    stepper = PerceptronStepper(gate="or", predict=lambda X, w, b: (X @ w + b > 0).astype(int),
                                update=margin_update)
    assert stepper.stub is None and stepper.epoch == 0  # predicting works before any step
    stepper.step()
    assert stepper.epoch == 0 and np.array_equal(stepper.w, [0.0, 0.0])
    assert "margin_update is not written yet" in stepper.status.value


def test_the_slowdown_explorer_runs_the_learners_gradients():
    cost_gradients = named(stub("Exercise 2.3: return the four gradients"), "cost_gradients")
    explorer = SlowdownExplorer(gradients=cost_gradients)
    assert "cost_gradients is not written yet" in explorer.status.value

    calls = []

    def counting(w, b, X, y):
        calls.append(1)
        return reference_gradients(w, b, X, y)
    explorer = SlowdownExplorer(gradients=counting)
    assert explorer.stub is None and len(calls) == 2 * 300
    quadratic, log = explorer.p["quadratic"], explorer.p["log-loss"]
    assert quadratic[0] == log[0] > 0.98  # saturated and wrong (target 0)
    assert quadratic[20] > 0.97 > log[20]  # the quadratic cost barely moves at first
    assert log[-1] < quadratic[-1]
    explorer.sliders["w0"].value = 0.0
    explorer.sliders["b0"].value = 0.0  # not saturated: both learn at once
    assert explorer.p["quadratic"][20] < 0.45
