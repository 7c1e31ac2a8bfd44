"""The chapter 9 (recurrence) checks discriminate: stubs raise through, solutions pass, slips fail precisely."""
import numpy as np
import pytest

from nncourse.checks import check
from nnlib.gradcheck import numerical_gradient, rel_error

from check_helpers import fails_with

IDS = ["9.1", "9.2", "9.3", "9.4", "9.5"]


# ----------------------------------------------------------------- correct answers
def scalar_rnn_grads(x, w_x, w_h, b, y, path=True, last_only=False, same_h=False, sign=1.0):
    hs = [0.0]
    for v in x:
        hs.append(np.tanh(w_x * v + w_h * hs[-1] + b))
    g, out = hs[-1] - y, np.zeros(3)
    for t in range(len(x), 0, -1):
        d = g * (1 - hs[t] ** 2)
        out += [d * x[t - 1], d * (hs[t] if same_h else hs[t - 1]), d]
        g = w_h * d if path else 0.0
        if last_only:
            break
    return tuple(sign * out)


def clip_by_norm(grads, max_norm, mode="global", always=False):
    if mode == "element":
        return [np.clip(g, -max_norm, max_norm) for g in grads]
    if mode == "each":
        return [g * min(1.0, max_norm / np.linalg.norm(g)) for g in grads]
    norm = np.sqrt(sum((g ** 2).sum() for g in grads))
    return [g * (max_norm / norm if always else min(1.0, max_norm / norm)) for g in grads]


def clip_in_place(grads, max_norm):
    norm = np.sqrt(sum((g ** 2).sum() for g in grads))
    for g in grads:
        g *= min(1.0, max_norm / norm)
    return grads


def sampler(where="before", stable=True, greedy=False, uniform=False):
    def sample(logits, temperature, u):
        z = np.asarray(logits, dtype=float)
        if where == "before":
            z = z / temperature
        elif where == "times":
            z = z * temperature
        e = np.exp(z - z.max()) if stable else np.exp(z)
        p = e / e.sum()
        if where == "after":
            p = p / temperature
            p = p / p.sum()
        if greedy:
            return int(np.argmax(p))
        if uniform:
            return int(u * len(p))
        return int(min(np.searchsorted(np.cumsum(p), u, side="right"), len(p) - 1))
    return sample


def linear_grad_norms(Wh, g_T, K, transpose=True, start=0, squared=False):
    v, out = np.array(g_T, dtype=float), []
    for k in range(K + 1):
        if k >= start:
            out.append(v @ v if squared else np.linalg.norm(v))
        v = v @ (Wh.T if transpose else Wh)
    return np.array(out)


def gru_step(x, h, Wx, Wh, b, reset="before", swap=False, no_reset=False):
    H = h.shape[1]
    s = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    a = x @ Wx + b
    z = s(a[:, :H] + h @ Wh[:, :H])
    r = s(a[:, H:2 * H] + h @ Wh[:, H:2 * H])
    if no_reset:
        n = np.tanh(a[:, 2 * H:] + h @ Wh[:, 2 * H:])
    elif reset == "before":
        n = np.tanh(a[:, 2 * H:] + (r * h) @ Wh[:, 2 * H:])
    else:
        n = np.tanh(a[:, 2 * H:] + r * (h @ Wh[:, 2 * H:]))
    return (1 - z) * h + z * n if swap else (1 - z) * n + z * h


CORRECT = [("9.1", scalar_rnn_grads), ("9.1", lambda *a: list(scalar_rnn_grads(*a))),
           ("9.2", clip_by_norm), ("9.2", lambda g, c: tuple(clip_by_norm(g, c))),
           ("9.3", sampler()), ("9.4", linear_grad_norms),
           ("9.4", lambda W, g, K: list(linear_grad_norms(W, g, K))), ("9.5", gru_step)]


def test_the_scalar_reference_matches_finite_differences():
    """The check's reference (and this file's answer) is right, not just self-consistent."""
    x, p, y = np.array([0.3, -1.0, 2.0, 0.5]), np.array([0.8, 1.1, -0.2]), 0.4

    def loss():
        h = 0.0
        for v in x:
            h = np.tanh(p[0] * v + p[1] * h + p[2])
        return 0.5 * (h - y) ** 2

    assert rel_error(np.array(scalar_rnn_grads(x, *p, y)), numerical_gradient(loss, p)) < 1e-8


@pytest.mark.parametrize("exercise_id, answer", CORRECT)
def test_a_correct_answer_passes(exercise_id, answer, capsys):
    assert check(exercise_id, answer) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


# ----------------------------------------------------------------- 9.1
@pytest.mark.parametrize("wrong, message", [
    (lambda *a: scalar_rnn_grads(*a, path=False), "you forgot the h_(t-1) path"),
    (lambda *a: scalar_rnn_grads(*a, last_only=True), "gradients are sums over all the steps"),  # same slip
    (lambda *a: scalar_rnn_grads(*a, same_h=True), "the state that came INTO step t, h_(t-1)"),
    (lambda *a: scalar_rnn_grads(*a, sign=-1.0), "The signs are flipped"),
    (lambda *a: scalar_rnn_grads(*a)[:2], "expected 3 values"),
])
def test_wrong_bptt_fails_with_a_specific_message(wrong, message):
    fails_with("9.1", wrong, "x=", message)


# ----------------------------------------------------------------- 9.2
@pytest.mark.parametrize("wrong, message", [
    (lambda g, c: clip_by_norm(g, c, mode="element"), "You clipped per element"),
    (lambda g, c: clip_by_norm(g, c, mode="each"), "clip by the GLOBAL norm"),
    (lambda g, c: clip_by_norm(g, c, always=True), "Scale only when the norm EXCEEDS max_norm"),
    (clip_in_place, "your function changed the arrays it was given"),
    (lambda g, c: clip_by_norm(g, c)[0], "expected a list of 3 arrays"),
])
def test_wrong_clipping_fails_with_a_specific_message(wrong, message):
    fails_with("9.2", wrong, "max_norm=", message)


# ----------------------------------------------------------------- 9.3
@pytest.mark.parametrize("wrong, message", [
    (sampler(where="after"), "temperature was applied after the softmax"),
    (sampler(where="times"), "You multiplied by the temperature"),
    (sampler(uniform=True), "Every index comes out equally often"),
    (sampler(greedy=True), "Always the largest logit"),
    pytest.param(sampler(stable=False), "subtract the largest scaled logit before exp",
                 marks=pytest.mark.filterwarnings("ignore::RuntimeWarning")),
    (lambda z, t, u: float(sampler()(z, t, u)), "an index in 0..3 (an int)"),
    (lambda z, t, u: int(min(np.searchsorted(np.cumsum(np.exp(z / t) / np.exp(z / t).sum()), u), 2))
     if len(z) == 3 else sampler()(z, t, u), "subtract the largest scaled logit"),
])
def test_wrong_sampling_fails_with_a_specific_message(wrong, message):
    fails_with("9.3", wrong, "temperature=", message)


# ----------------------------------------------------------------- 9.4
@pytest.mark.parametrize("wrong, message", [
    (lambda W, g, K: linear_grad_norms(W, g, K, transpose=False), "multiplies by Wh TRANSPOSED"),
    (lambda W, g, K: linear_grad_norms(W, g, K, start=1), "k = 0 is the step of the loss itself"),
    (lambda W, g, K: linear_grad_norms(W, g, K, squared=True), "not their squares"),
])
def test_wrong_gradient_norms_fail_with_a_specific_message(wrong, message):
    fails_with("9.4", wrong, "Wh (", message)


# ----------------------------------------------------------------- 9.5
@pytest.mark.parametrize("wrong, message", [
    (lambda *a: gru_step(*a, reset="after"), "The reset gate multiplies h_prev before the product"),
    (lambda *a: gru_step(*a, swap=True), "z and 1 - z are swapped"),
    (lambda *a: gru_step(*a, no_reset=True), "ignores the reset gate"),
])
def test_wrong_gru_fails_with_a_specific_message(wrong, message):
    fails_with("9.5", wrong, "h_prev (", message)


def test_calling_nnlibs_own_clipping_is_refused():
    from nnlib.optim import clip_by_global_norm

    def lazy(grads, max_norm):
        return [g for _, g in clip_by_global_norm([(g, g) for g in grads], max_norm)]

    fails_with("9.2", lazy, "clip_by_global_norm")
