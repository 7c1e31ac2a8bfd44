"""nnlib.perceptron: the rule converges on linearly separable gates, never on XOR."""
import numpy as np
import pytest

from nnlib.data import logic_gate
from nnlib.perceptron import Perceptron


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_perceptron_learns_linearly_separable_gates(gate):
    X, y = logic_gate(gate)
    p = Perceptron(n_features=2, lr=1.0).fit(X, y, epochs=100)
    assert p.converged and p.errors_[-1] == 0
    assert len(p.errors_) < 100  # stopped early, after the first pass without mistakes
    np.testing.assert_array_equal(p.predict(X), y)


def test_perceptron_never_converges_on_xor():
    X, y = logic_gate("xor")
    p = Perceptron(n_features=2, lr=0.5).fit(X, y, epochs=100)
    assert len(p.errors_) == 100
    assert min(p.errors_) > 0 and not p.converged
    assert (p.predict(X) != y).any()


def test_perceptron_rule_by_hand():
    p = Perceptron(n_features=2, lr=0.5)
    p.fit(np.array([[1.0, 2.0]]), np.array([1]), epochs=1)
    # w = 0 predicts 0 for the positive sample: w += 0.5 * (1 - 0) * x, b += 0.5
    np.testing.assert_allclose(p.w, [0.5, 1.0])
    assert p.b == 0.5 and p.errors_ == [1]
    assert p.predict(np.array([[0.0, 0.0], [-1.0, -1.0]])).tolist() == [1, 0]


def test_perceptron_bad_input(clear_error):
    p = Perceptron(n_features=2)
    X, y = logic_gate("and")
    clear_error(lambda: p.fit(X[:, :1], y), "(4, 1)", "(n_samples, 2)")
    clear_error(lambda: p.fit(X, y[:3]), "shape (4,)", "(3,)")
    clear_error(lambda: p.fit(X, y + 1), "0/1")
    clear_error(lambda: p.fit(X, y, epochs=0), "epochs", "positive integer")
    clear_error(lambda: Perceptron(n_features=0), "n_features")
    clear_error(lambda: Perceptron(lr=-1), "lr", "> 0")
