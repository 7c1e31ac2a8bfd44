"""Checks for chapter 10, generative adversarial networks (``solutions/10_gans.ipynb``).

10.1 ``discriminator_loss(real_logits, fake_logits, real_label=1.0) -> (loss, d_real, d_fake)``:
     L_D = mean_i BCE(s_i, real_label) over the real logits + mean_j BCE(s_j, 0)
     over the fake logits, BCE(s, y) = log(1 + e^s) - y s, without overflow for
     |s| = 800; d_real = (sigma(s) - real_label) / N_real, d_fake = sigma(s) / N_fake.
10.2 ``generator_loss(d_forward, d_backward, x_fake) -> (loss, dx_fake)``: the
     non-saturating loss -mean log sigma(D(x_fake)) and its gradient with respect to
     the generated samples, through D, given as its forward and backward functions
     (plain functions, so that the grader can pass them; compared with finite differences).
10.3 ``train_step(g, d, x_real, z_d, z_g, lr) -> (g, d, d_loss, g_loss)``: a 1-D GAN
     by hand, G(z) = a z + c, D(x) = w x + b: k = len(z_d) discriminator steps of
     gradient descent, then one generator step (non-saturating), D unchanged in it.
10.4 ``mode_report(samples, centres, radius) -> (counts, effective_modes)``:
     samples per mode (nearest centre, within radius) and exp(entropy) of that histogram.

The references below are the checks' own; nnlib's ``binary_cross_entropy_with_logits``
is refused in 10.1 and 10.2 (``nncourse/checks/forbidden.py``).
"""
import numpy as np

from nncourse.checks import (
    CheckFailed, call, exercise, expect_scalar, expect_tuple, rng, show,
)
from nncourse.checks._slips import expect_array_explained, expect_scalar_explained
from nnlib import Dense, Sequential, Tanh
from nnlib.gradcheck import numerical_gradient


def _softplus(s):
    return np.maximum(s, 0) + np.log1p(np.exp(-np.abs(s)))


def _sigmoid(s):
    return 0.5 * (1 + np.tanh(0.5 * s))  # stable for any s


# ------------------------------------------------------------------ 10.1
def _d_loss(real, fake, label):
    loss = np.mean(_softplus(real) - label * real) + np.mean(_softplus(fake))
    return loss, (_sigmoid(real) - label) / real.size, _sigmoid(fake) / fake.size


def _d_loss_case(seed, n_real, n_fake, big=False):
    g = rng(seed)
    real, fake = g.normal(1.0, 2.0, (n_real, 1)), g.normal(-1.0, 2.0, (n_fake, 1))
    if big:  # a confident discriminator, right and wrong
        real[0, 0], real[1, 0], fake[0, 0], fake[1, 0] = 800.0, -800.0, -800.0, 800.0
    return real, fake


@exercise("10.1", "discriminator_loss", hints=(
    "The discriminator is a logistic-regression classifier on its logit s: real samples have label "
    "real_label, fake ones label 0. Write the log-loss of sigma(s) for each group, then take each "
    "group's mean separately and add the two means.",
    "-[y log sigma(s) + (1 - y) log(1 - sigma(s))] = log(1 + e^s) - y s, and log(1 + e^s) = "
    "max(s, 0) + log(1 + e^(-|s|)) never overflows. Its derivative is sigma(s) - y; divide by "
    "the size of that group (each mean has its own N).",
))
def check_discriminator_loss(discriminator_loss):
    for seed, n_real, n_fake, label, big in ((101, 4, 4, 1.0, False), (102, 5, 3, 0.9, False),
                                             (103, 6, 6, 1.0, True), (104, 3, 7, 0.8, True)):
        real, fake = _d_loss_case(seed, n_real, n_fake, big)
        inputs = (f"real_logits {show(real.ravel())}, fake_logits {show(fake.ravel())}, "
                  f"real_label={label}")
        got = expect_tuple(call(discriminator_loss, real.copy(), fake.copy(), real_label=label,
                                what=inputs), 3, f"for {inputs}: the return value (loss, d_real, d_fake)")
        loss, d_real, d_fake = _d_loss(real, fake, label)
        if np.size(got[0]) == 1 and not np.isfinite(np.asarray(got[0], dtype=float)).all():
            raise CheckFailed(f"for {inputs} your loss is {show(got[0])}: log(sigmoid(s)) or "
                              f"log(1 - sigmoid(s)) overflows for |s| = 800.",
                              "Write the loss with log(1 + e^s) = max(s, 0) + log1p(exp(-|s|)), "
                              "which only exponentiates numbers <= 0.")
        both = np.concatenate([real, fake])
        pooled = np.mean(_softplus(both) - np.concatenate([label * real, 0 * fake]))
        expect_scalar_explained(got[0], loss, f"for {inputs}, the loss", [
            (np.mean(_softplus(real) - real) + np.mean(_softplus(fake)),
             "Use real_label as the target of the real logits (label smoothing uses 0.9, not 1)."),
            (pooled, "Take the mean over the real logits and the mean over the fake logits "
             "separately and add them; one mean over both groups halves the loss."),
            (np.sum(_softplus(real) - label * real) + np.sum(_softplus(fake)),
             "The loss is a mean over each group, not a sum."),
        ], rtol=1e-6)
        expect_array_explained(got[1], d_real, f"for {inputs}, d_real = dL/d(real_logits)", [
            (-d_real, "Sign error: the derivative of log(1 + e^s) - y s is sigma(s) - y, not y - sigma(s)."),
            ((_sigmoid(real) - 1.0) / real.size, "The target of the real logits is real_label."),
            ((_sigmoid(real) - label), "Divide by the number of real logits (the loss is their mean)."),
            ((_sigmoid(real) - label) / both.size, "Each group's mean has its own N: divide by the "
             "number of real logits, not by all of them."),
        ], rtol=1e-6, atol=1e-12)
        expect_array_explained(got[2], d_fake, f"for {inputs}, d_fake = dL/d(fake_logits)", [
            (-d_fake, "Sign error: for label 0 the derivative is sigma(s), positive."),
            (_sigmoid(fake), "Divide by the number of fake logits (the loss is their mean)."),
            (_sigmoid(fake) / both.size, "Each group's mean has its own N: divide by the number "
             "of fake logits."),
        ], rtol=1e-6, atol=1e-12)
    return "log(1 + e^s) - y s per logit, each group's mean, finite at |s| = 800."


# ------------------------------------------------------------------ 10.2
def _critic(seed=7):
    """A small discriminator on 2-D points (numpy backend: exact and quick)."""
    return Sequential([Dense(2, 8), Tanh(), Dense(8, 1)], seed=seed, backend="numpy")


def _g_loss(D, x):
    s = D.forward(x)
    return float(np.mean(_softplus(-s)))


@exercise("10.2", "generator_loss", hints=(
    "The generator wants D to say 'real' about its samples: the log-loss of D's logit with label 1. "
    "Get the gradient with respect to the logits first, then let d_backward carry it back to the samples.",
    "-log sigma(s) = log(1 + e^(-s)), whose derivative is sigma(s) - 1; divide by the number of "
    "samples and pass it to d_backward, which returns dL/dx. The saturating loss log(1 - sigma(s)) "
    "has derivative -sigma(s): almost 0 exactly where D rejects the fakes.",
))
def check_generator_loss(generator_loss):
    for seed, n, scale in ((111, 5, 1.0), (112, 8, 3.0)):
        D = _critic(seed)
        x = rng(seed).normal(0.0, scale, (n, 2))
        inputs = (f"d_forward, d_backward of a discriminator Dense(2, 8) -> Tanh -> Dense(8, 1) and "
                  f"x_fake of shape {x.shape} (seed {seed})")
        got = expect_tuple(call(generator_loss, D.forward, D.backward, x.copy(), what=inputs), 2,
                           f"for {inputs}: the return value (loss, dx_fake)")
        s = D.forward(x)
        sat = float(np.mean(-_softplus(s)))  # mean log(1 - sigma(s))
        expect_scalar_explained(got[0], _g_loss(D, x), f"for {inputs}, the loss", [
            (sat, "That is the saturating (minimax) loss mean log(1 - sigma(s)); use the "
             "non-saturating -mean log sigma(s)."),
            (-_g_loss(D, x), "Sign: the loss is -mean log sigma(s), a positive number."),
        ], rtol=1e-6)
        grad = np.asarray(got[1]) if got[1] is not None else None
        if grad is not None and grad.shape == (n, 1):
            raise CheckFailed(f"for {inputs} dx_fake has shape {grad.shape}: that is the gradient "
                              f"with respect to the logits; pass it through d_backward to get "
                              f"dL/dx_fake, shape {x.shape}.")
        want = numerical_gradient(lambda: _g_loss(D, x), x)
        D.forward(x)
        sat_dx = D.backward(-_sigmoid(s) / n)
        expect_array_explained(got[1], want, f"for {inputs}, dx_fake (finite differences)", [
            (sat_dx, "That is the gradient of the saturating loss log(1 - sigma(s)), which "
             "vanishes where D is sure; use -log sigma(s), derivative sigma(s) - 1."),
            (-want, "Sign error: d(-log sigma(s))/ds = sigma(s) - 1, negative."),
            (want * n, "Divide by the number of samples (the loss is a mean)."),
        ], rtol=1e-5, atol=1e-9)
    return "-mean log sigma(D(x)) and its gradient through D agree with finite differences."


# ------------------------------------------------------------------ 10.3
def _step_1d(g, d, x_real, z_d, z_g, lr, g_grad="ns", d_in_g_phase=False, k=None):
    """The 1-D GAN step: G(z) = a z + c, D(x) = w x + b; k D steps of gradient descent, one G step."""
    (a, c), (w, b) = np.asarray(g, float), np.asarray(d, float)
    d_loss = None
    for z in z_d[:k]:
        fake = a * z + c
        sr, sf = w * x_real + b, w * fake + b
        d_loss = np.mean(_softplus(sr) - sr) + np.mean(_softplus(sf))
        dr, df = (_sigmoid(sr) - 1) / sr.size, _sigmoid(sf) / sf.size
        w, b = w - lr * (dr @ x_real + df @ fake), b - lr * (dr.sum() + df.sum())
    fake = a * z_g + c
    s = w * fake + b
    n = s.size
    ds = {"ns": (_sigmoid(s) - 1) / n, "sat": -_sigmoid(s) / n, "up": -(_sigmoid(s) - 1) / n}[g_grad]
    g_loss = float(np.mean(_softplus(-s)))
    dx = ds * w
    new_g = np.array([a - lr * (dx @ z_g), c - lr * dx.sum()])
    if d_in_g_phase:  # the slip: D also takes a step on the generator's loss
        w, b = w - lr * (ds @ fake), b - lr * ds.sum()
    return new_g, np.array([w, b]), float("nan") if d_loss is None else float(d_loss), g_loss


@exercise("10.3", "train_step", hints=(
    "Write the chain rule for the two tiny networks: D's logit s = w x + b, so dL/dw = sum dL/ds * x "
    "and dL/db = sum dL/ds, over real and fake samples; G's sample x = a z + c, so dL/da = "
    "sum dL/dx * z and dL/dc = sum dL/dx, with dL/dx = dL/ds * w.",
    "Take k discriminator steps (row i of z_d makes the fakes of step i; your discriminator_loss "
    "gives dL/ds), each d = d - lr * grad. Then one generator step with z_g and the "
    "non-saturating loss, dL/ds = (sigma(s) - 1) / N, using the updated D; D does not change "
    "in the generator's step.",
))
def check_train_step(train_step):
    for seed, n, k, lr in ((121, 6, 2, 0.5), (122, 5, 1, 0.3), (123, 8, 3, 0.2)):
        g = rng(seed)
        params_g, params_d = np.array([0.7, -0.4]), np.array([1.3, 0.2])
        x_real, z_d, z_g = g.normal(2.0, 0.5, n), g.standard_normal((k, n)), g.standard_normal(n)
        inputs = (f"g=(a, c)={show(params_g)}, d=(w, b)={show(params_d)}, x_real of shape {x_real.shape}, "
                  f"z_d of shape {z_d.shape} (k={k}), lr={lr}")
        got = expect_tuple(call(train_step, params_g.copy(), params_d.copy(), x_real.copy(), z_d.copy(),
                                z_g.copy(), lr, what=inputs), 4,
                           f"for {inputs}: the return value (g, d, d_loss, g_loss)")
        want_g, want_d, d_loss, g_loss = _step_1d(params_g, params_d, x_real, z_d, z_g, lr)
        slip_g, slip_d, _, _ = _step_1d(params_g, params_d, x_real, z_d, z_g, lr, d_in_g_phase=True)
        one_d = _step_1d(params_g, params_d, x_real, z_d, z_g, lr, k=1)[1]
        expect_array_explained(got[1], want_d, f"for {inputs}, d = (w, b) after the step", [
            (slip_d, "D moved in the generator's step: only G is updated there (D stays as its k "
             "steps left it)."),
            (one_d if k > 1 else None, "Take k discriminator steps, one for each row of z_d."),
            (params_d, "D did not move: take k discriminator steps before the generator's."),
        ], rtol=1e-7, atol=1e-10)
        expect_array_explained(got[0], want_g, f"for {inputs}, g = (a, c) after the step", [
            (_step_1d(params_g, params_d, x_real, z_d, z_g, lr, g_grad="sat")[0],
             "That is the saturating generator loss's step; use the non-saturating -log sigma(s)."),
            (_step_1d(params_g, params_d, x_real, z_d, z_g, lr, g_grad="up")[0],
             "G moved uphill: the generator's gradient has the wrong sign."),
            (_step_1d(params_g, params_d, x_real, z_d[:0], z_g, lr)[0],
             "G's step must use the discriminator as its k steps left it (update D first)."),
            (params_g, "G did not move: finish with one generator step."),
        ], rtol=1e-7, atol=1e-10)
        expect_scalar(got[2], d_loss, f"for {inputs}, d_loss (of the last discriminator step, before "
                      f"its update)", rtol=1e-6)
        expect_scalar(got[3], g_loss, f"for {inputs}, g_loss (before G's update)", rtol=1e-6)
    return "k discriminator steps on real + fake, then one generator step through a D that stays put."


# ------------------------------------------------------------------ 10.4
def _mode_report(samples, centres, radius):
    d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)  # (n, k)
    nearest = d.argmin(axis=1)
    close = d.min(axis=1) <= radius
    counts = np.bincount(nearest[close], minlength=len(centres))
    if counts.sum() == 0:
        return counts, 0.0
    p = counts[counts > 0] / counts.sum()
    return counts, float(np.exp(-(p * np.log(p)).sum()))


def _ring(k, radius=2.0):
    angle = 2 * np.pi * np.arange(k) / k
    return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (k, 2)


@exercise("10.4", "mode_report", hints=(
    "Assign every sample to its nearest centre, and keep it only if that centre is within radius; "
    "then count the kept samples per centre. Modes with no samples stay at 0.",
    "With p_m = counts_m / (samples kept), effective_modes = exp(-sum_m p_m log p_m), leaving out "
    "modes with p_m = 0 (0 log 0 = 0). It is k for a uniform spread over k modes, 1 for one mode, "
    "and 0 when no sample is near any mode.",
))
def check_mode_report(mode_report):
    g = rng(131)
    centres = _ring(8)
    cases = [
        ("8 modes, uniform", centres[np.arange(400) % 8] + 0.05 * g.standard_normal((400, 2)), centres, 0.2),
        ("3 of 8 modes, unequal", centres[g.choice([0, 0, 0, 2, 5], 300)] + 0.05 * g.standard_normal((300, 2)),
         centres, 0.2),
        ("half the samples between modes", np.concatenate([centres[np.arange(100) % 4],
                                                           g.uniform(-0.5, 0.5, (100, 2))]), centres, 0.3),
        ("a 5 x 5 grid of 25 modes", np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0)), -1).reshape(-1, 2)[
            np.arange(250) % 13] + 0.02 * g.standard_normal((250, 2)),
         np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0)), -1).reshape(-1, 2), 0.25),
        ("no sample near a mode", g.uniform(-0.3, 0.3, (50, 2)), centres, 0.1),
    ]
    for name, samples, c, radius in cases:
        inputs = f"{name}: samples of shape {samples.shape}, {len(c)} centres, radius={radius}"
        got = expect_tuple(call(mode_report, samples.copy(), c.copy(), radius, what=inputs), 2,
                           f"for {inputs}: the return value (counts, effective_modes)")
        counts, eff = _mode_report(samples, c, radius)
        all_counts = np.bincount(np.linalg.norm(samples[:, None] - c[None], axis=2).argmin(1),
                                 minlength=len(c))
        expect_array_explained(got[0], counts, f"for {inputs}, counts", [
            (all_counts, "Count only the samples within radius of their nearest centre; samples "
             "between modes belong to no mode."),
        ])
        expect_scalar_explained(got[1], eff, f"for {inputs}, effective_modes", [
            (eff ** (1 / np.log(2)), "Use the natural logarithm with exp "
             "(or log2 with 2**): exp(entropy) of a uniform spread over k modes is k."),
            (-np.log(1 / eff) if eff > 0 else None, "Return exp(entropy), the effective number of "
             "modes, not the entropy itself."),
            (float((counts > 0).sum()), "That is the number of modes with any sample; weigh them "
             "by their share: exp(-sum p log p)."),
        ], rtol=1e-6)
    return "counts per mode within radius, and exp(entropy) of their shares."
