"""What notebook 10 needs from nnlib to train two networks against each other.

- ``Sequential.backward`` returns dL/dX (after a forward in training mode),
  checked against finite differences on both backends;
- ``functional.binary_cross_entropy_with_logits``: loss and gradient against
  finite differences and the probability form, finite at huge logits;
- ``freeze()``/``unfreeze()``: ``step`` leaves a frozen model's weights, ``fit`` refuses;
- ``step(optimizer)`` from externally computed gradients: Numba and NumPy agree,
  and equal a step written out by hand; Adam with beta1 = 0.5 on both.
"""
import numpy as np
import pytest

from nnlib import functional as F
from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.layers import BatchNorm, Dense, ReLU, Sigmoid, Tanh
from nnlib.model import Sequential
from nnlib.optim import SGD, Adam


def discriminator(backend, seed=1):
    return Sequential([Dense(2, 6), ReLU(), Dense(6, 5), Tanh(), Dense(5, 1)], seed=seed,
                      backend=backend)


# ------------------------------------------------------------ dL/dX
@pytest.mark.parametrize("with_batchnorm", [False, True])
def test_backward_returns_the_input_gradient_in_training_mode(backend, rng, with_batchnorm):
    layers = [Dense(3, 5), Tanh(), Dense(5, 4)]
    if with_batchnorm:  # training mode matters: batch statistics depend on X
        layers = [Dense(3, 5), BatchNorm(5), ReLU(), Dense(5, 4)]
    model = Sequential(layers, seed=2, backend=backend).train()
    X = rng.standard_normal((6, 3))
    dout = rng.standard_normal((6, 4))
    model.forward(X)
    dX = model.backward(dout)
    assert dX.shape == X.shape
    numeric = numerical_gradient(lambda: model.forward(X), X, df=dout)
    assert rel_error(dX, numeric) < 1e-6


def test_the_generator_learns_through_the_discriminator(backend, rng):
    """d(loss)/d(generator weights) through both models, against finite differences."""
    G = Sequential([Dense(3, 4), ReLU(), Dense(4, 2)], seed=0, backend=backend)
    D = discriminator(backend)
    z = rng.standard_normal((5, 3))
    ones = np.ones((5, 1))

    def g_loss():
        return F.binary_cross_entropy_with_logits(D.forward(G.forward(z)), ones)[0]

    _, dlogits = F.binary_cross_entropy_with_logits(D.forward(G.forward(z)), ones)
    G.backward(D.backward(dlogits))
    for p, g in zip(G.parameters(), G.gradients()):
        assert rel_error(g, numerical_gradient(g_loss, p)) < 1e-6


# ------------------------------------------------------------ the loss on logits
def test_bce_with_logits_gradient_matches_finite_differences(rng):
    s = rng.standard_normal((7, 1)) * 3
    y = rng.uniform(0, 1, (7, 1))
    loss, ds = F.binary_cross_entropy_with_logits(s, y)
    numeric = numerical_gradient(lambda: F.binary_cross_entropy_with_logits(s, y)[0], s)
    assert rel_error(ds, numeric) < 1e-7
    assert ds.shape == s.shape


def test_bce_with_logits_is_the_log_loss_of_the_sigmoid(rng):
    s = rng.standard_normal((9, 2))
    y = rng.integers(0, 2, (9, 2)).astype(float)
    p = 1 / (1 + np.exp(-s))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))  # written out, not nnlib's
    loss, ds = F.binary_cross_entropy_with_logits(s, y)
    assert loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(ds, (p - y) / y.size, rtol=1e-12)


def test_bce_with_logits_is_exact_and_finite_at_huge_logits():
    s = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]])
    y = np.array([1.0, 0.0, 0.0, 1.0])  # two right, two wrong by 1000
    with np.errstate(all="raise"):
        loss, ds = F.binary_cross_entropy_with_logits(s, y)
    assert loss == pytest.approx(2000.0 / 4)
    np.testing.assert_allclose(ds[:, 0], [0.0, 0.0, 0.25, -0.25])


def test_bce_with_logits_refuses_targets_outside_0_1(clear_error):
    clear_error(lambda: F.binary_cross_entropy_with_logits(np.zeros((2, 1)), [0.0, 2.0]),
                "targets", "[0, 1]")
    clear_error(lambda: F.binary_cross_entropy_with_logits(np.zeros((3, 1)), [0.0, 1.0]), "shape")


# ------------------------------------------------------------ one step from outside gradients
def by_hand_adam(params, grads, lr, b1, b2, eps=1e-8, t=1):
    out = []
    for p, g in zip(params, grads):
        m, v = (1 - b1) * g, (1 - b2) * g * g
        out.append(p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps))
    return out


def one_external_step(backend, rng, optimizer):
    """forward -> own loss gradient -> backward -> step; returns (weights before, grads, after)."""
    D = discriminator(backend)
    x = rng.standard_normal((8, 2))
    before = [p.copy() for p in D.parameters()]
    logits = D.forward(x)
    _, dlogits = F.binary_cross_entropy_with_logits(logits, np.ones((8, 1)))
    D.backward(dlogits)
    grads = [g.copy() for g in D.gradients()]
    D.step(optimizer)
    return before, grads, D.parameters()


def test_step_from_external_gradients_is_adam_with_beta1_one_half(backend):
    before, grads, after = one_external_step(backend, np.random.default_rng(5),
                                             Adam(lr=2e-3, betas=(0.5, 0.999)))
    for got, want in zip(after, by_hand_adam(before, grads, 2e-3, 0.5, 0.999)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make", [lambda: Adam(lr=1e-2, betas=(0.5, 0.999)),
                                  lambda: SGD(lr=0.1, momentum=0.9, weight_decay=1e-3)])
def test_numba_steps_agree_with_the_numpy_reference(make):
    finals = {}
    for backend in ("numpy", "numba"):
        rng = np.random.default_rng(7)
        G = Sequential([Dense(2, 8), ReLU(), Dense(8, 2)], seed=0, backend=backend)
        D = discriminator(backend)
        opt_g, opt_d = make(), make()
        for _ in range(5):  # a few alternating steps, as notebook 10 trains
            real, z = rng.standard_normal((6, 2)) + 3, rng.standard_normal((6, 2))
            fake = G.forward(z)
            for x, target in ((real, 1.0), (fake, 0.0)):
                _, d = F.binary_cross_entropy_with_logits(D.forward(x), np.full((6, 1), target))
                D.backward(d)
                D.step(opt_d)
            _, d = F.binary_cross_entropy_with_logits(D.forward(G.forward(z)), np.ones((6, 1)))
            G.backward(D.freeze().backward(d))
            D.step(opt_d)  # frozen: nothing happens
            D.unfreeze()
            G.step(opt_g)
        finals[backend] = G.parameters() + D.parameters()
    assert opt_d.t == 10 and opt_g.t == 5  # the frozen step did not count
    for a, b in zip(finals["numpy"], finals["numba"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------ freezing
def test_a_frozen_model_keeps_its_weights_but_still_backpropagates(backend, rng):
    D = discriminator(backend).freeze()
    x = rng.standard_normal((4, 2))
    before = [p.copy() for p in D.parameters()]
    D.forward(x)
    dx = D.backward(np.ones((4, 1)))
    assert np.abs(dx).sum() > 0 and any(np.abs(g).sum() > 0 for g in D.gradients())
    adam = Adam(lr=0.1, betas=(0.5, 0.999))
    D.step(adam)
    for p, q in zip(D.parameters(), before):
        np.testing.assert_array_equal(p, q)
    assert adam.t == 0
    D.unfreeze().step(adam)
    assert adam.t == 1
    assert all(not np.array_equal(p, q) for p, q in zip(D.parameters(), before))


def test_fit_refuses_a_frozen_model(rng):
    model = Sequential([Dense(2, 1), Sigmoid()], seed=0).freeze()
    with pytest.raises(RuntimeError, match="unfreeze"):
        model.fit(rng.standard_normal((4, 2)), [0, 1, 0, 1], loss="bce", verbose=False)


def test_step_refuses_something_that_is_not_an_optimizer(clear_error):
    clear_error(lambda: discriminator("numpy").step(0.1), "optimizer", "Adam")
