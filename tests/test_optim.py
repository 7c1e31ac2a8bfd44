"""nnlib.optim: each update against the formula written out here, on both backends."""
import numpy as np
import pytest

from nnlib.layers import Dense, Tanh
from nnlib.model import Sequential
from nnlib.optim import SGD, Adam


def run_steps(optimizer, backend, p0, grads, decay=None):
    """Apply one step per gradient to a copy of p0; returns the final p."""
    p = p0.copy()
    for g in grads:
        optimizer.step([(p, g)], backend=backend, decay=decay)
    return p


@pytest.fixture
def problem(rng):
    """A weight matrix and three gradients for it."""
    return rng.standard_normal((3, 2)), rng.standard_normal((3, 3, 2))


def test_plain_sgd_is_p_minus_lr_g(backend, problem):
    p0, grads = problem
    p = run_steps(SGD(lr=0.1), backend, p0, grads)
    np.testing.assert_allclose(p, p0 - 0.1 * grads.sum(axis=0), rtol=1e-13)


def test_sgd_momentum_by_hand(backend, problem):
    p0, (g1, g2, g3) = problem
    lr, mu = 0.05, 0.9
    v1 = -lr * g1
    v2 = mu * v1 - lr * g2
    v3 = mu * v2 - lr * g3
    expected = p0 + v1 + v2 + v3
    p = run_steps(SGD(lr=lr, momentum=mu), backend, p0, [g1, g2, g3])
    np.testing.assert_allclose(p, expected, rtol=1e-13)


def test_sgd_weight_decay_by_hand_weights_only(backend, problem):
    p0, (g1, g2, _) = problem
    lr, wd = 0.1, 0.01
    p1 = p0 - lr * (g1 + wd * p0)
    p2 = p1 - lr * (g2 + wd * p1)
    np.testing.assert_allclose(run_steps(SGD(lr, weight_decay=wd), backend, p0, [g1, g2]),
                               p2, rtol=1e-13)
    b0, gb = p0[0].copy(), g1[0]  # a 1-D parameter is a bias: no decay by default
    np.testing.assert_allclose(run_steps(SGD(lr, weight_decay=wd), backend, b0, [gb]),
                               b0 - lr * gb, rtol=1e-13)
    np.testing.assert_allclose(run_steps(SGD(lr, weight_decay=wd), backend, b0, [gb], decay=[True]),
                               b0 - lr * (gb + wd * b0), rtol=1e-13)


def test_adam_by_hand(backend, problem):
    p0, grads = problem
    lr, b1, b2, eps, wd = 0.01, 0.8, 0.95, 1e-6, 0.1
    p, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    for t, g in enumerate(grads, start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    adam = Adam(lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    np.testing.assert_allclose(run_steps(adam, backend, p0, grads), p, rtol=1e-12)
    assert adam.t == 3


def test_adam_first_step_moves_every_weight_by_about_lr(backend, rng):
    p0 = rng.standard_normal(10)
    g = rng.standard_normal(10) * 1e-3  # bias correction makes the step size-free
    p = run_steps(Adam(lr=0.01), backend, p0, [g])
    np.testing.assert_allclose(np.abs(p - p0), 0.01, rtol=1e-3)  # lr |g| / (|g| + eps)


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9, weight_decay=0.01),
                                  lambda: Adam(0.01, weight_decay=0.01)])
def test_backends_agree_on_several_parameters(rng, make):
    params = [rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((3, 1))]
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(4)]
    results = []
    for backend in ("numpy", "numba"):
        opt, ps = make(), [p.copy() for p in params]
        for gs in grads:
            opt.step(zip(ps, gs), backend=backend)
        results.append(ps)
    for ref, got in zip(*results):
        np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("make", [lambda: SGD(0.1, momentum=0.9), lambda: Adam(0.02)])
def test_optimizer_state_persists_across_fit_calls(backend, rng, make):
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, 20)

    def model():
        return Sequential([Dense(3, 4), Tanh(), Dense(4, 2)], seed=5, backend=backend)

    once, twice = model(), model()
    opt_once, opt_twice = make(), make()
    once.fit(X, y, epochs=2, batch_size=6, optimizer=opt_once, shuffle=False, verbose=False)
    for _ in range(2):
        twice.fit(X, y, epochs=1, batch_size=6, optimizer=opt_twice, shuffle=False, verbose=False)
    assert opt_twice.t == opt_once.t == 2 * 4  # 4 batches per epoch
    for p, q in zip(once.parameters(), twice.parameters()):
        np.testing.assert_allclose(q, p, rtol=1e-12)
    fresh = model()  # a fresh optimizer for the second call gives different weights
    fresh.fit(X, y, epochs=1, batch_size=6, optimizer=make(), shuffle=False, verbose=False)
    fresh.fit(X, y, epochs=1, batch_size=6, optimizer=make(), shuffle=False, verbose=False)
    assert not np.allclose(fresh.parameters()[0], once.parameters()[0])


def test_state_is_reset_when_the_parameters_change_shape(rng):
    opt = Adam(0.01)
    opt.step([(rng.standard_normal(3), rng.standard_normal(3))])
    opt.step([(rng.standard_normal(4), rng.standard_normal(4))])
    assert opt.t == 1 and opt.state[0][0].shape == (4,)


def test_repr_shows_the_hyperparameters():
    assert repr(SGD(0.1, momentum=0.9)) == "SGD(lr=0.1, momentum=0.9, weight_decay=0.0)"
    assert "weight_decay=0.5" in repr(Adam(weight_decay=0.5))
