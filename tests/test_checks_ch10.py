"""The chapter 10 (GAN) checks discriminate: stubs raise through, solutions pass, slips fail precisely.

Also the two-digit chapter number: ``check("10.1", ...)`` loads ``nncourse.checks.ch10``,
``hint("10.1")`` works, and the registry sorts 10.k after 9.k (numerically, not as text).
"""
import numpy as np
import pytest

from nncourse.checks import check, registry
from nnlib import functional as F

from check_helpers import fails_with

IDS = ["10.1", "10.2", "10.3", "10.4"]


# ----------------------------------------------------------------- correct answers
def softplus(s):
    return np.logaddexp(0.0, s)


def sigma(s):
    return np.exp(-softplus(-s))


def discriminator_loss(real_logits, fake_logits, real_label=1.0):
    loss = (softplus(real_logits) - real_label * real_logits).mean() + softplus(fake_logits).mean()
    return loss, (sigma(real_logits) - real_label) / real_logits.size, sigma(fake_logits) / fake_logits.size


def generator_loss(d_forward, d_backward, x_fake):
    s = d_forward(x_fake)
    return softplus(-s).mean(), d_backward((sigma(s) - 1) / s.size)


def train_step(g, d, x_real, z_d, z_g, lr):
    (a, c), (w, b) = g, d
    for z in z_d:
        fake = a * z + c
        d_loss, d_real, d_fake = discriminator_loss(w * x_real + b, w * fake + b)
        w, b = w - lr * (d_real @ x_real + d_fake @ fake), b - lr * (d_real.sum() + d_fake.sum())
    g_loss, dx = generator_loss(lambda x: w * x + b, lambda ds: ds * w, a * z_g + c)
    return np.array([a - lr * dx @ z_g, c - lr * dx.sum()]), np.array([w, b]), d_loss, g_loss


def mode_report(samples, centres, radius):
    d = np.sqrt(((samples[:, None, :] - centres[None]) ** 2).sum(-1))
    counts = np.zeros(len(centres), dtype=int)
    for row in d:
        if row.min() <= radius:
            counts[row.argmin()] += 1
    if counts.sum() == 0:
        return counts, 0.0
    p = counts[counts > 0] / counts.sum()
    return counts, float(np.exp(-(p * np.log(p)).sum()))


CORRECT = [("10.1", discriminator_loss), ("10.2", generator_loss), ("10.3", train_step),
           ("10.4", mode_report)]


@pytest.mark.parametrize("exercise_id, answer", CORRECT)
def test_a_correct_answer_passes(exercise_id, answer, capsys):
    assert check(exercise_id, answer) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


def test_two_digit_chapters_sort_after_one_digit_ones():
    ids = list(registry())
    assert ids.index("10.1") > ids.index("6.6")
    assert ids[ids.index("10.1"):ids.index("10.4") + 1] == IDS


# ----------------------------------------------------------------- 10.1
def d_loss_with(sign=1.0, label=None, pooled=False, summed=False):
    def loss_fn(real, fake, real_label=1.0):
        y = real_label if label is None else label
        n_r, n_f = (real.size + fake.size,) * 2 if pooled else (real.size, fake.size)
        if summed:
            n_r = n_f = 1
        loss = (softplus(real) - y * real).sum() / n_r + softplus(fake).sum() / n_f
        return loss, sign * (sigma(real) - y) / n_r, sign * sigma(fake) / n_f
    return loss_fn


def naive_d_loss(real, fake, real_label=1.0):
    p, q = 1 / (1 + np.exp(-real)), 1 / (1 + np.exp(-fake))
    loss = -(real_label * np.log(p) + (1 - real_label) * np.log(1 - p)).mean() - np.log(1 - q).mean()
    return loss, (p - real_label) / real.size, q / fake.size


@pytest.mark.parametrize("wrong, message", [
    (d_loss_with(sign=-1.0), "Sign error"),
    (d_loss_with(label=1.0), "Use real_label as the target"),
    (d_loss_with(pooled=True), "one mean over both groups"),
    (d_loss_with(summed=True), "a mean over each group, not a sum"),
    (naive_d_loss, "overflows for |s| = 800"),
])
def test_wrong_discriminator_losses_fail_with_a_specific_message(wrong, message):
    with np.errstate(all="ignore"):
        fails_with("10.1", wrong, "real_label=", message)


def test_calling_nnlibs_loss_is_refused():
    def via_nnlib(real, fake, real_label=1.0):
        a, d_real = F.binary_cross_entropy_with_logits(real, np.full(real.shape, real_label))
        b, d_fake = F.binary_cross_entropy_with_logits(fake, np.zeros(fake.shape))
        return a + b, d_real, d_fake
    fails_with("10.1", via_nnlib, "binary_cross_entropy_with_logits", "write it yourself")


# ----------------------------------------------------------------- 10.2
def saturating(f, b, x):
    s = f(x)
    return -softplus(s).mean(), b(-sigma(s) / s.size)


def flipped(f, b, x):
    loss, dx = generator_loss(f, b, x)
    return loss, -dx


def logits_gradient(f, b, x):
    s = f(x)
    return softplus(-s).mean(), (sigma(s) - 1) / s.size


@pytest.mark.parametrize("wrong, message", [
    (saturating, "saturating (minimax) loss"),
    (flipped, "Sign error"),
    (logits_gradient, "pass it through d_backward"),
])
def test_wrong_generator_losses_fail_with_a_specific_message(wrong, message):
    fails_with("10.2", wrong, "x_fake of shape", message)


# ----------------------------------------------------------------- 10.3
def step_with(g_sign=1.0, saturate=False, d_in_g=False, d_steps=None, g_first=False):
    def fn(g, d, x_real, z_d, z_g, lr):
        (a, c), (w, b) = g, d
        d0 = (w, b)
        for z in z_d[:d_steps]:
            fake = a * z + c
            d_loss, d_real, d_fake = discriminator_loss(w * x_real + b, w * fake + b)
            w, b = w - lr * (d_real @ x_real + d_fake @ fake), b - lr * (d_real.sum() + d_fake.sum())
        wg, bg = d0 if g_first else (w, b)
        fake = a * z_g + c
        s = wg * fake + bg
        ds = (-sigma(s) if saturate else sigma(s) - 1) / s.size
        dx = g_sign * ds * wg
        if d_in_g:
            w, b = w - lr * ds @ fake, b - lr * ds.sum()
        return np.array([a - lr * dx @ z_g, c - lr * dx.sum()]), np.array([w, b]), d_loss, softplus(-s).mean()
    return fn


@pytest.mark.parametrize("wrong, message", [
    (step_with(d_in_g=True), "D moved in the generator's step"),
    (step_with(g_sign=-1.0), "G moved uphill"),
    (step_with(saturate=True), "saturating generator loss"),
    (step_with(d_steps=1), "Take k discriminator steps, one for each row of z_d"),
    (step_with(g_first=True), "use the discriminator as its k steps left it"),
])
def test_wrong_training_steps_fail_with_a_specific_message(wrong, message):
    fails_with("10.3", wrong, "z_d of shape", message)


# ----------------------------------------------------------------- 10.4
def report_with(within=True, base=np.e, entropy_only=False, support=False):
    def fn(samples, centres, radius):
        d = np.linalg.norm(samples[:, None] - centres[None], axis=2)
        keep = d.min(1) <= radius if within else np.ones(len(samples), bool)
        counts = np.bincount(d.argmin(1)[keep], minlength=len(centres))
        if counts.sum() == 0:
            return counts, 0.0
        p = counts[counts > 0] / counts.sum()
        h = -(p * np.log(p)).sum() / np.log(base)
        if support:
            return counts, float((counts > 0).sum())
        return counts, float(h if entropy_only else np.exp(h))  # base 2: exp of bits
    return fn


@pytest.mark.parametrize("wrong, message", [
    (report_with(within=False), "samples between modes belong to no mode"),
    (report_with(base=2.0), "Use the natural logarithm with exp"),
    (report_with(entropy_only=True), "not the entropy itself"),
    (report_with(support=True), "weigh them by their share"),
])
def test_wrong_mode_reports_fail_with_a_specific_message(wrong, message):
    fails_with("10.4", wrong, "radius=", message)
