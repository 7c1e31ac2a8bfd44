"""The chapter 6 (depth) checks discriminate: stubs raise through, solutions pass, slips fail precisely."""
import numpy as np
import pytest

from nncourse.checks import check

from check_helpers import fails_with

IDS = ["6.1", "6.2", "6.3", "6.4", "6.5", "6.6"]


# ----------------------------------------------------------------- correct answers
def relu_variances(fan_ins, w_std, x_second_moment):
    q, out = None, []
    for layer, n in enumerate(fan_ins):
        q = n * w_std ** 2 * (x_second_moment if layer == 0 else q / 2)
        out.append(q)
    return out


def leaky_relu_std(n_in, slope):
    return np.sqrt(2 / ((1 + slope ** 2) * n_in))


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu, var = x.mean(axis=0), x.var(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    return gamma * inv_std / n * (n * dout - dbeta - x_hat * dgamma), dgamma, dbeta


def batchnorm_backward_staged(dout, cache):
    """The step-by-step chain rule through mu and var (another correct form)."""
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    xc = x_hat / inv_std
    dx_hat = dout * gamma
    dvar = (dx_hat * xc).sum(axis=0) * -0.5 * inv_std ** 3
    dmu = -(dx_hat * inv_std).sum(axis=0)
    dx = dx_hat * inv_std + dvar * 2 * xc / n + dmu / n
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def dropout_forward(x, p, rng, training=True):
    if not training:
        return x, None
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout if cache is None else dout * cache


CORRECT = [("6.1", relu_variances), ("6.1", lambda f, w, m: np.array(relu_variances(f, w, m))),
           ("6.2", leaky_relu_std), ("6.3", batchnorm_forward), ("6.4", batchnorm_backward),
           ("6.4", batchnorm_backward_staged), ("6.5", dropout_forward), ("6.6", dropout_backward)]


@pytest.mark.parametrize("exercise_id, answer", CORRECT)
def test_a_correct_answer_passes(exercise_id, answer, capsys):
    assert check(exercise_id, answer) is None
    assert capsys.readouterr().out.startswith(f"\u2714 Exercise {exercise_id} (")


# ----------------------------------------------------------------- 6.1
def variances_without_the_half(fan_ins, w_std, m):
    q, out = None, []
    for layer, n in enumerate(fan_ins):
        q = n * w_std ** 2 * (m if layer == 0 else q)
        out.append(q)
    return out


def variances_halving_the_input(fan_ins, w_std, m):
    return [q / 2 for q in relu_variances(fan_ins, w_std, m)]


@pytest.mark.parametrize("wrong, message", [
    (variances_without_the_half, "every layer after the first gets a factor 1/2"),
    (variances_halving_the_input, "The input x goes into the first layer as it is"),
    (lambda f, w, m: relu_variances(f, np.sqrt(w), m), "the weights' variance is w_std**2"),
    (lambda f, w, m: list(np.sqrt(relu_variances(f, w, m))), "not the standard deviations"),
    (lambda f, w, m: relu_variances(f, w, m)[-1], "expected one variance per layer"),
    (lambda f, w, m: relu_variances(f, w, m)[:-1], "expected shape (4,), got (3,)"),
])
def test_wrong_relu_variances_fail_with_a_specific_message(wrong, message):
    fails_with("6.1", wrong, "fan_ins=[64, 32, 32, 32]", message)


# ----------------------------------------------------------------- 6.2
@pytest.mark.parametrize("wrong, message", [
    (lambda n, a: np.sqrt(2 / n), "adds slope^2 of its second moment back"),
    (lambda n, a: np.sqrt(2 / ((1 + a) * n)), "square the slope"),
    (lambda n, a: 2 / ((1 + a ** 2) * n), "return its square root"),
    (lambda n, a: np.sqrt(1 / ((1 + a ** 2) * n)), "the factor 2 stays in the numerator"),
])
def test_wrong_leaky_relu_std_fails_with_a_specific_message(wrong, message):
    fails_with("6.2", wrong, "n_in=", message)


# ----------------------------------------------------------------- 6.3
def bn_forward_with(variance=None, axis=0, eps_outside=False, affine=True):
    def forward(x, gamma, beta, eps=1e-5):
        mu = x.mean(axis=axis, keepdims=True)
        var = variance(x, axis) if variance else x.var(axis=axis, keepdims=True)
        std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta if affine else x_hat
        return out, (x_hat, gamma, 1 / std.reshape(-1))
    return forward


@pytest.mark.parametrize("wrong, message", [
    (bn_forward_with(variance=lambda x, axis: x.var(axis=axis, ddof=1, keepdims=True)),
     "You used the unbiased variance (divided by N - 1)"),
    (bn_forward_with(axis=1), "You normalised each ROW (sample)"),
    (bn_forward_with(eps_outside=True), "eps goes inside the square root"),
    (bn_forward_with(affine=False), "Scale and shift the normalised x"),
    (lambda x, g, b, eps=1e-5: batchnorm_forward(x, g, b, eps)[0], "expected 2 values"),
    (lambda x, g, b, eps=1e-5: (batchnorm_forward(x, g, b, eps)[0], None), "the cache (x_hat, gamma, inv_std)"),
])
def test_wrong_batchnorm_forward_fails_with_a_specific_message(wrong, message):
    fails_with("6.3", wrong, "x of shape (6, 3) (seed 63)", message)


def test_an_inverted_inv_std_in_the_cache_is_named():
    def std_in_cache(x, gamma, beta, eps=1e-5):
        out, (x_hat, g, inv_std) = batchnorm_forward(x, gamma, beta, eps)
        return out, (x_hat, g, 1 / inv_std)
    fails_with("6.3", std_in_cache, "cache[2] (inv_std)", "inverse of the standard deviation")


# ----------------------------------------------------------------- 6.4
def bn_backward_with(mean_path=True, var_path=True, var_n=None, gamma_used=True):
    def backward(dout, cache):
        x_hat, gamma, inv_std = cache
        n = dout.shape[0]
        dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
        dx = dout - (dbeta / n if mean_path else 0) - (x_hat * dgamma / (var_n or n) if var_path else 0)
        return (gamma if gamma_used else 1.0) * inv_std * dx, dgamma, dbeta
    return backward


def affine_only(dout, cache):
    x_hat, gamma, inv_std = cache
    return gamma * inv_std * dout, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


@pytest.mark.parametrize("wrong, message", [
    (affine_only, "with mu and var held fixed"),
    (bn_backward_with(mean_path=False), "The path through the batch mean is missing"),
    (bn_backward_with(var_path=False), "The path through the batch variance is missing"),
    (bn_backward_with(var_n=4), "not N - 1"),
    (bn_backward_with(gamma_used=False), "Multiply by gamma"),
    (lambda d, c: (batchnorm_backward(d, c)[0], d.mean(axis=0) * 0 + (d * c[0]).sum(0), d.mean(axis=0)),
     "dbeta is the SUM of dout"),
    (lambda d, c: (batchnorm_backward(d, c)[0], d.sum(axis=0), d.sum(axis=0)),
     "dgamma = sum(dout * x_hat)"),
])
def test_wrong_batchnorm_backward_fails_with_a_specific_message(wrong, message):
    fails_with("6.4", wrong, "x of shape (5, 3) (seed 66)", "finite differences", message)


# ----------------------------------------------------------------- 6.5
def dropout_with(keep_is_p=False, scale="inverted", eval_scale=False, own_rng=False, mask_kind="mask"):
    def forward(x, p, rng, training=True):
        if not training:
            return (x * (1 - p) if eval_scale else x), None
        draw = np.random.default_rng().random(x.shape) if own_rng else rng.random(x.shape)
        keep = draw < p if keep_is_p else draw >= p
        factor = {"inverted": 1 / (1 - p), "none": 1.0, "down": 1 - p,
                  "keep_p": 1 / p}[scale]
        mask = keep * factor
        return x * mask, (keep if mask_kind == "bool" else mask)
    return forward


def half_dropped(x, p, rng, training=True):
    mask = (rng.random(x.shape) >= 0.5) / (1 - p)  # always half, whatever p
    return x * mask, mask


@pytest.mark.parametrize("wrong, message", [
    (dropout_with(scale="none"), "the kept entries equal x; inverted dropout scales"),
    (dropout_with(scale="down"), "the kept entries are x * (1 - p)"),
    (dropout_with(keep_is_p=True, scale="keep_p"), "p is the probability to DROP"),
    (dropout_with(eval_scale=True), "with inverted dropout evaluation changes nothing"),
    (dropout_with(own_rng=True), "draw the mask from the rng you are given"),
    (dropout_with(mask_kind="bool"), "the mask (0 where dropped, 1 / (1 - p) where kept"),
    (half_dropped, "of the entries; it should be close to p = 20%"),
])
def test_wrong_dropout_forward_fails_with_a_specific_message(wrong, message):
    fails_with("6.5", wrong, "x of shape (200, 50), p=", message)


def test_dropout_forward_without_a_training_argument_is_named():
    fails_with("6.5", lambda x, p, rng: dropout_forward(x, p, rng), "unexpected keyword argument 'training'")


# ----------------------------------------------------------------- 6.6
@pytest.mark.parametrize("wrong, message", [
    (lambda dout, mask: dout * (mask > 0), "Scale by the mask itself"),
    (lambda dout, mask: dout, "Dropped entries did not reach the output"),
    (lambda dout, mask: dout * mask.T if mask.shape[0] == mask.shape[1] else dout * mask + 1, "dx"),
])
def test_wrong_dropout_backward_fails_with_a_specific_message(wrong, message):
    fails_with("6.6", wrong, "dout of shape (4, 3)", message)


def test_dropout_backward_must_handle_evaluation():
    fails_with("6.6", lambda dout, mask: dout * mask, "mask of None (evaluation)", "then dx = dout")
