"""Checks for chapter 9, recurrence (``solutions/09_recurrence.ipynb``).

9.1 ``scalar_rnn_grads(x, w_x, w_h, b, y) -> (dw_x, dw_h, db)``: a one-unit
    RNN h_t = tanh(w_x x_t + w_h h_{t-1} + b), h_0 = 0, over a 1-D x, with
    the loss L = (h_T - y)**2 / 2 on the LAST state only; backpropagation
    through time by hand (the lecture's case: vectors, a loss at every step).
9.2 ``clip_by_norm(grads, max_norm) -> list``: the arrays scaled together by
    max_norm / ||g|| when their global norm ||g|| exceeds max_norm.
9.3 ``sample_with_temperature(logits, temperature, u) -> int``: the index
    that the uniform number u in [0, 1) draws from softmax(logits /
    temperature) by inverting the cumulative distribution (a deterministic
    function of u, so the grader can replay it), stable for large logits.
9.4 ``linear_grad_norms(Wh, g_T, K) -> (K + 1,)``: ||dL/dh_{T-k}|| for
    k = 0..K in a LINEAR RNN h_t = h_{t-1} Wh + x_t Wx, dL/dh_T = g_T.
9.5 ``gru_step(x, h_prev, Wx, Wh, b) -> h``: one GRU step (Cho et al., 2014),
    gate blocks z, r, n, the reset gate applied to h_{t-1} before W_h.

The references below are the checks' own (nnlib's recurrent functions and
clip_by_global_norm are the library's; an answer must not just call them).
"""
import numpy as np

from nncourse.checks import CheckFailed, call, exercise, expect_array, expect_tuple, rng, show
from nncourse.checks._slips import expect_array_explained, expect_scalar_explained

# nnlib's own versions of what these exercises ask for are in nncourse/checks/forbidden.py.


# ------------------------------------------------------------------ 9.1
def _scalar_rnn(x, w_x, w_h, b, y, recurrent_path=True, h_for_w_h="prev"):
    """(dw_x, dw_h, db) of L = (h_T - y)^2 / 2, with the slips as switches."""
    h = [0.0]
    for x_t in x:
        h.append(np.tanh(w_x * x_t + w_h * h[-1] + b))
    g = h[-1] - y  # dL/dh_T
    dw_x = dw_h = db = 0.0
    for t in range(len(x), 0, -1):
        delta = g * (1.0 - h[t] ** 2)
        dw_x += delta * x[t - 1]
        dw_h += delta * (h[t - 1] if h_for_w_h == "prev" else h[t])
        db += delta
        g = delta * w_h if recurrent_path else 0.0
    return np.array([dw_x, dw_h, db])


@exercise("9.1", "scalar_rnn_grads", hints=(
    "Go backwards from t = T. The loss sees only h_T, so dL/dh_T = h_T - y; every earlier h_t "
    "influences the loss only through h_(t+1).",
    "delta_t = dL/dh_t * (1 - h_t^2), and dL/dh_(t-1) = w_h * delta_t. Each weight's gradient is the "
    "SUM over t of its per-step terms: delta_t x_t for w_x, delta_t h_(t-1) for w_h, delta_t for b.",
))
def check_scalar_rnn_grads(scalar_rnn_grads):
    g = rng(91)
    cases = [(np.array([1.0, -0.5, 2.0]), 0.8, 0.9, 0.1, 0.3),
             (g.normal(size=6), 0.5, -1.2, -0.2, -0.5),
             (g.normal(size=1), 1.5, 0.7, 0.0, 1.0)]
    for x, w_x, w_h, b, y in cases:
        inputs = f"x={show(x)}, w_x={w_x}, w_h={w_h}, b={b}, y={y}"
        got = expect_tuple(call(scalar_rnn_grads, x.copy(), w_x, w_h, b, y, what=inputs), 3,
                           f"for {inputs}, (dw_x, dw_h, db)")
        want = _scalar_rnn(x, w_x, w_h, b, y)
        try:
            values = np.array([np.asarray(v, dtype=float) for v in got], dtype=float)
        except (TypeError, ValueError):
            raise CheckFailed(f"for {inputs}: expected three numbers (dw_x, dw_h, db), got "
                              f"{show(got)}.") from None
        expect_array_explained(values, want,
                               f"for {inputs}, (dw_x, dw_h, db)", [
            (_scalar_rnn(x, w_x, w_h, b, y, recurrent_path=False),
             "Only the last step contributes: you forgot the h_(t-1) path. h_(t-1) feeds h_t, so "
             "dL/dh_(t-1) = w_h * delta_t, and every earlier step gets a gradient through it "
             "(the weights are used at every step: their gradients are sums over all the steps)."),
            (_scalar_rnn(x, w_x, w_h, b, y, h_for_w_h="same"),
             "dw_h multiplies delta_t by the state that came INTO step t, h_(t-1), not h_t."),
            (-want, "The signs are flipped: L = (h_T - y)^2 / 2 gives dL/dh_T = h_T - y."),
        ], rtol=1e-6)
    return "BPTT: delta_t = dL/dh_t (1 - h_t^2), dL/dh_(t-1) = w_h delta_t, weights summed over steps."


# ------------------------------------------------------------------ 9.2
def _clip_cases():
    g = rng(92)
    big = [g.normal(size=(3, 4)) * 4, g.normal(size=4), g.normal(size=(2, 2, 2))]
    small = [0.01 * a for a in big]
    return [(big, 1.0), (big, 5.0), (small, 1.0), ([np.array([3.0, 0.0]), np.array([[0.0, 4.0]])], 1.0)]


@exercise("9.2", "clip_by_norm", hints=(
    "One number decides the scaling of ALL the arrays: the norm of all their entries together, as "
    "if they were one long vector.",
    "||g|| = sqrt(sum over arrays of sum(g**2)). If ||g|| > max_norm multiply every array by "
    "max_norm / ||g||; otherwise leave them as they are. The direction must not change.",
))
def check_clip_by_norm(clip_by_norm):
    for grads, max_norm in _clip_cases():
        inputs = f"{len(grads)} arrays of shapes {[a.shape for a in grads]}, max_norm={max_norm}"
        given = [a.copy() for a in grads]
        got = call(clip_by_norm, given, max_norm, what=inputs)
        if got is None or not isinstance(got, (list, tuple)) or len(got) != len(grads):
            raise CheckFailed(f"for {inputs}: expected a list of {len(grads)} arrays, got {show(got)}.")
        norm = np.sqrt(sum((a ** 2).sum() for a in grads))
        scale = min(1.0, max_norm / norm)
        for i, (a, out) in enumerate(zip(grads, got)):
            norms_each = np.sqrt((a ** 2).sum())
            expect_array_explained(out, a * scale, f"for {inputs}, array {i}", [
                (np.clip(a, -max_norm, max_norm),
                 "You clipped per element (np.clip): that changes the gradient's direction. Clip by "
                 "norm: scale every entry by the same factor max_norm / ||g||."),
                (a * min(1.0, max_norm / norms_each) if norms_each > 0 else None,
                 "You clipped each array by its own norm; clip by the GLOBAL norm of all the arrays "
                 "together, so that they keep their proportions."),
                (a * max_norm / norm,
                 "Scale only when the norm EXCEEDS max_norm; a smaller gradient stays as it is."),
            ], rtol=1e-6)
        for a, b in zip(grads, given):
            if not np.array_equal(a, b):
                raise CheckFailed(f"for {inputs}: your function changed the arrays it was given; "
                                  f"return new arrays (e.g. g * scale), leave the gradients as they were.")
    return "one factor, max_norm / ||g||, for all the arrays, only when ||g|| > max_norm."


# ------------------------------------------------------------------ 9.3
def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _inverse_cdf(p, us):
    """The index drawn for each uniform number u: the first i with p_0 + ... + p_i > u."""
    return np.minimum(np.searchsorted(np.cumsum(p), us, side="right"), len(p) - 1)


def _draws(fn, logits, temperature, us):
    inputs = f"logits={show(logits)}, temperature={temperature}"
    out = []
    for u in us:
        idx = call(fn, logits.copy(), temperature, float(u), what=f"{inputs}, u={u:.4f}")
        if isinstance(idx, (bool, np.bool_)) or not isinstance(idx, (int, np.integer)) \
                or not 0 <= idx < len(logits):
            raise CheckFailed(f"for {inputs}, u={u:.4f}: expected a single number, an index in "
                              f"0..{len(logits) - 1} (an int), got {show(idx)}.")
        out.append(int(idx))
    return np.array(out), inputs


@exercise("9.3", "sample_with_temperature", hints=(
    "Temperature rescales the SCORES, before they become probabilities: a small temperature "
    "makes the differences between the scores larger.",
    "p = softmax(logits / temperature), computed with the max subtracted first. Then walk the "
    "cumulative sums p_0, p_0 + p_1, ...: the index drawn is the first one whose cumulative sum "
    "exceeds u (a cumulative sum, then a search in it).",
))
def check_sample_with_temperature(sample_with_temperature):
    logits = np.array([2.0, 1.0, 0.0, -1.0])
    us = rng(93).random(400)
    for temperature in (0.5, 2.0):
        got, inputs = _draws(sample_with_temperature, logits, temperature, us)
        want = _inverse_cdf(_softmax(logits / temperature), us)
        if np.array_equal(got, want):
            continue
        freq = np.bincount(got, minlength=4) / len(us)
        slips = [(_inverse_cdf(_softmax(logits), us), "The draws did not change with the "
                  "temperature: it looks like the temperature was applied after the softmax. Divide "
                  "the logits by the temperature, then take the softmax."),
                 (_inverse_cdf(_softmax(logits * temperature), us), "You multiplied by the "
                  "temperature; divide: softmax(logits / temperature)."),
                 (np.minimum((us * 4).astype(int), 3), "Every index comes out equally often: use "
                  "the probabilities p, not 1 / V each."),
                 (np.zeros_like(us, dtype=int), "Always the largest logit: that is temperature -> 0 "
                  "(greedy); use u to draw from p instead.")]
        advice = next((text for value, text in slips if np.mean(value == got) > 0.97), "")
        wrong = int(np.argmax(got != want))
        raise CheckFailed(
            f"for {inputs}: {int((got != want).sum())} of {len(us)} draws differ, e.g. u={us[wrong]:.4f} "
            f"gave {got[wrong]}, expected {want[wrong]} (the first index whose cumulative probability "
            f"exceeds u; your frequencies {show(freq.round(3))}, softmax(logits / temperature) = "
            f"{show(_softmax(logits / temperature).round(3))}).", advice)
    huge = np.array([1000.0, 999.0, -1000.0])
    with np.errstate(all="ignore"):
        got, inputs = _draws(sample_with_temperature, huge, 0.5, us[:50])
    want = _inverse_cdf(_softmax(huge / 0.5), us[:50])
    if not np.array_equal(got, want):
        raise CheckFailed(f"for {inputs}: the draws are wrong (e.g. u={us[int(np.argmax(got != want))]:.4f} "
                          f"gave {got[got != want][0]}).",
                          "exp(2000) overflows: subtract the largest scaled logit before exp.")
    return "the first index whose cumulative softmax(logits / T) exceeds u."


# ------------------------------------------------------------------ 9.4
def _linear_norms(Wh, g, K, transpose=True):
    out, v = [], np.array(g, dtype=float)
    for _ in range(K + 1):
        out.append(np.linalg.norm(v))
        v = v @ (Wh.T if transpose else Wh)
    return np.array(out)


@exercise("9.4", "linear_grad_norms", hints=(
    "In a linear RNN going back one step is one matrix product, the same at every step: "
    "dh_t/dh_(t-1) = Wh (as a Jacobian acting on row vectors, with a transpose).",
    "dL/dh_(t-1) = dL/dh_t Wh.T, so dL/dh_(T-k) = g_T (Wh.T)^k. Return the norms for "
    "k = 0, 1, ..., K: K + 1 numbers, starting with ||g_T|| itself.",
))
def check_linear_grad_norms(linear_grad_norms):
    g = rng(94)
    Q, _ = np.linalg.qr(g.normal(size=(5, 5)))
    A = g.normal(size=(4, 4)) / 2
    cases = [(0.9 * Q, g.normal(size=5), 6), (A, g.normal(size=4), 5), (1.1 * Q, g.normal(size=5), 3)]
    for Wh, gT, K in cases:
        inputs = f"Wh {Wh.shape}, g_T={show(gT.round(3))}, K={K}"
        got = call(linear_grad_norms, Wh.copy(), gT.copy(), K, what=inputs)
        want = _linear_norms(Wh, gT, K)
        if np.ndim(got) == 1 and len(got) == K:
            raise CheckFailed(f"for {inputs}: expected K + 1 = {K + 1} norms (k = 0..K), got {K}.",
                              "k = 0 is the step of the loss itself: start with ||g_T||.")
        expect_array_explained(got, want, f"for {inputs}, the norms", [
            (_linear_norms(Wh, gT, K, transpose=False),
             "Going back multiplies by Wh TRANSPOSED: dL/dh_(t-1) = dL/dh_t Wh.T."),
            (want ** 2, "Return the norms, not their squares."),
        ], rtol=1e-6)
    return "||g_T (Wh.T)^k||: exactly s^k ||g_T|| for Wh = s Q, Q orthogonal."


# ------------------------------------------------------------------ 9.5
def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def _gru(x, h, Wx, Wh, b, reset="before", z_keeps_old=True, use_reset=True):
    H = h.shape[1]
    ax, ah = x @ Wx + b, h @ Wh[:, :2 * H]
    z = _sig(ax[:, :H] + ah[:, :H])
    r = _sig(ax[:, H:2 * H] + ah[:, H:])
    if not use_reset:
        n = np.tanh(ax[:, 2 * H:] + h @ Wh[:, 2 * H:])
    elif reset == "before":
        n = np.tanh(ax[:, 2 * H:] + (r * h) @ Wh[:, 2 * H:])
    else:
        n = np.tanh(ax[:, 2 * H:] + r * (h @ Wh[:, 2 * H:]))
    return z * h + (1 - z) * n if z_keeps_old else (1 - z) * h + z * n


@exercise("9.5", "gru_step", hints=(
    "Three blocks of H columns in Wx, Wh and b, in the order z, r, n. z and r are sigmoids of "
    "x Wx + h_prev Wh + b (their own blocks); n is a tanh.",
    "n = tanh(x Wx_n + (r * h_prev) Wh_n + b_n): the reset gate multiplies h_prev BEFORE the "
    "product. Then h = (1 - z) * n + z * h_prev: z near 1 keeps the old state.",
))
def check_gru_step(gru_step):
    g = rng(95)
    for N, D, H in ((2, 3, 4), (3, 1, 2)):
        x, h = g.normal(size=(N, D)), g.normal(size=(N, H))
        Wx, Wh, b = g.normal(size=(D, 3 * H)), g.normal(size=(H, 3 * H)), g.normal(size=3 * H)
        inputs = f"x {x.shape}, h_prev {h.shape}, H={H}"
        got = call(gru_step, x.copy(), h.copy(), Wx.copy(), Wh.copy(), b.copy(), what=inputs)
        expect_array_explained(got, _gru(x, h, Wx, Wh, b), f"for {inputs}, h", [
            (_gru(x, h, Wx, Wh, b, reset="after"),
             "The reset gate multiplies h_prev before the product with Wh_n: (r * h_prev) @ Wh_n "
             "(Cho et al.'s form; PyTorch's nn.GRU uses r * (h_prev @ Wh_n + b_hn))."),
            (_gru(x, h, Wx, Wh, b, z_keeps_old=False),
             "z and 1 - z are swapped: h = (1 - z) * n + z * h_prev, z near 1 keeps the old state."),
            (_gru(x, h, Wx, Wh, b, use_reset=False),
             "The candidate n ignores the reset gate: use (r * h_prev) in its recurrent term."),
        ], rtol=1e-6)
    return "z, r gates; n = tanh(x Wx_n + (r h) Wh_n + b_n); h = (1 - z) n + z h_prev."
