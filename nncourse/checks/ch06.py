"""Checks for chapter 6, depth (``solutions/06_deep.ipynb``).

6.1 ``relu_variances(fan_ins, w_std, x_second_moment) -> (L,)``: the predicted
    variance of z at each layer of a stack Dense -> ReLU -> Dense -> ReLU ...
    with W ~ N(0, w_std**2), b = 0: q_1 = n_0 w_std**2 E[x**2] and
    q_{l+1} = n_l w_std**2 q_l / 2 (a ReLU keeps half the second moment).
6.2 ``leaky_relu_std(n_in, slope) -> float``: the weight standard deviation
    that keeps Var(z) constant through Dense + leaky ReLU layers,
    sqrt(2 / ((1 + slope**2) n_in)) (He et al., 2015, for PReLU).
6.3 ``batchnorm_forward(x, gamma, beta, eps=1e-5) -> (out, cache)``: training
    mode, per column of x (N, D), the biased batch variance;
    cache = (x_hat, gamma, inv_std).
6.4 ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)`` for that cache,
    compared with centred finite differences of batch norm's forward.
6.5 ``dropout_forward(x, p, rng, training=True) -> (out, mask)``: inverted
    dropout, mask 0 or 1 / (1 - p) drawn from rng; evaluation: (x, None).
6.6 ``dropout_backward(dout, mask) -> dx``.

The references below are the checks' own (nnlib's ``functional.norm`` is the
library's version; an answer must not just call it).
"""
import numpy as np

from nncourse.checks import CheckFailed, call, exercise, expect_array, expect_tuple, rng, show
from nncourse.checks._slips import expect_array_explained, expect_scalar_explained
from nnlib.gradcheck import numerical_gradient

# nnlib's own versions of what 6.3-6.6 ask for are in nncourse/checks/forbidden.py:
# check() refuses an answer that calls them.


# ------------------------------------------------------------------ 6.1
def _relu_variances(fan_ins, w_std, m, first=1.0, later=0.5):
    """q_l = n_l w_std^2 E[a_(l-1)^2]; E[x^2] * first for layer 1, q_(l-1) * later after a ReLU."""
    q, out = None, []
    for layer, n in enumerate(fan_ins):
        second_moment = m * first if layer == 0 else q * later
        q = n * w_std ** 2 * second_moment
        out.append(q)
    return np.array(out)


@exercise("6.1", "relu_variances", hints=(
    "Start from one unit: z_j = sum_i x_i W_ij is a sum of n_in independent terms, each with "
    "mean 0. The variance of a sum of independent terms is the sum of their variances.",
    "Var(x_i W_ij) = E[x_i^2] Var(W_ij) when W has mean 0. So Var(z) = n_in w_std^2 E[x^2]: the "
    "input's SECOND MOMENT, not its variance. For a = relu(z) with z symmetric around 0, half of "
    "the mass is zeroed: E[a^2] = Var(z) / 2.",
    "q_1 = n_0 w_std^2 E[x^2] (the input is not a ReLU output), then q_(l+1) = n_l w_std^2 q_l / 2.",
))
def check_relu_variances(relu_variances):
    cases = (([64, 32, 32, 32], 0.2, 1.0), ([100, 50, 20], 0.1, 0.5), ([10], 0.3, 2.0),
             ([64, 32, 32, 32, 32, 32, 32, 32], np.sqrt(2 / 32), 1.0))
    for fan_ins, w_std, m in cases:
        inputs = f"fan_ins={fan_ins}, w_std={w_std:.4g}, x_second_moment={m}"
        got = call(relu_variances, list(fan_ins), w_std, m, what=inputs)
        want = _relu_variances(fan_ins, w_std, m)
        if got is not None and np.ndim(got) == 0 and len(fan_ins) > 1:
            raise CheckFailed(f"for {inputs}: expected one variance per layer ({len(fan_ins)} "
                              f"values), got the single number {show(got)}.")
        expect_array_explained(got, want, f"for {inputs}, the variances", [
            (_relu_variances(fan_ins, w_std, m, later=1.0),
             "Each ReLU zeroes the negative half of z: E[relu(z)^2] = Var(z) / 2, so every layer "
             "after the first gets a factor 1/2."),
            (_relu_variances(fan_ins, w_std, m, first=0.5),
             "The input x goes into the first layer as it is (no ReLU before it): q_1 = n_0 "
             "w_std^2 E[x^2], without the 1/2."),
            (_relu_variances(fan_ins, np.sqrt(w_std), m),
             "w_std is a standard deviation: the weights' variance is w_std**2."),
            (np.sqrt(want), "Return the variances, not the standard deviations."),
            (_relu_variances(list(fan_ins[1:]) + [fan_ins[-1]], w_std, m),
             "Each layer's fan-in is its number of INPUTS: fan_ins[l] belongs to layer l."),
        ], rtol=1e-6)
    return "q_1 = n_0 w^2 E[x^2], then q_(l+1) = n_l w^2 q_l / 2, layer by layer."


# ------------------------------------------------------------------ 6.2
@exercise("6.2", "leaky_relu_std", hints=(
    "As in 6.1, keep q_(l+1) = q_l: n_in w_std^2 E[a^2] = q. What is E[a^2] for "
    "a = leaky_relu(z), when z is symmetric around 0 with variance q?",
    "The positive half of z keeps its square, the negative half is multiplied by slope, so its "
    "square by slope^2: E[a^2] = (1 + slope^2) q / 2. slope = 0 must give He's sqrt(2 / n_in), "
    "slope = 1 (no activation at all) sqrt(1 / n_in).",
))
def check_leaky_relu_std(leaky_relu_std):
    for n_in, slope in ((64, 0.0), (100, 0.1), (32, 1.0), (50, 0.5), (200, -0.3)):
        inputs = f"n_in={n_in}, slope={slope}"
        got = call(leaky_relu_std, n_in, slope, what=inputs)
        want = np.sqrt(2.0 / ((1.0 + slope ** 2) * n_in))
        expect_scalar_explained(got, want, f"for {inputs}, the standard deviation", [
            (np.sqrt(2.0 / n_in), "That is He's value for slope = 0: the negative half of z now "
             "keeps slope * z, which adds slope^2 of its second moment back."),
            (np.sqrt(2.0 / ((1.0 + slope) * n_in)), "The negative half contributes "
             "E[(slope z)^2] = slope^2 E[z^2]: square the slope."),
            (want ** 2, "That is the variance of W; return its square root, the standard "
             "deviation."),
            (np.sqrt(1.0 / ((1.0 + slope ** 2) * n_in)), "E[a^2] = (1 + slope^2) q / 2: the "
             "factor 2 stays in the numerator (slope = 0 must give sqrt(2 / n_in))."),
        ], rtol=1e-6)
    return "sqrt(2 / ((1 + slope^2) n_in)): He's for slope 0, 1 / sqrt(n_in) for slope 1."


# ------------------------------------------------------------------ 6.3
def _bn_reference(x, gamma, beta, eps, ddof=0, axis=0):
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, x_hat, inv_std.reshape(-1)


def _bn_case(seed, n=6, d=3):
    g = rng(seed)
    x = g.normal(2.0, 3.0, size=(n, d))
    x[:, -1] = 0.5 + 1e-3 * g.normal(size=n)  # a nearly constant feature: eps matters
    return x, g.uniform(0.5, 2.0, size=d), g.normal(size=d)


def _bn_slips(x, gamma, beta, eps):
    out = lambda **kw: _bn_reference(x, gamma, beta, eps, **kw)[0]  # noqa: E731
    mu, var = x.mean(axis=0), x.var(axis=0)
    return [
        (out(ddof=1), "You used the unbiased variance (divided by N - 1); batch norm "
         "normalises with the biased one, the mean of (x - mu)^2 (np.var's default)."),
        (out(axis=1) if x.shape[1] > 1 else None, "You normalised each ROW (sample); batch "
         "norm normalises each COLUMN (feature) over the batch: axis=0."),
        (gamma * (x - mu) / (np.sqrt(var) + eps) + beta, "eps goes inside the square root: "
         "(x - mu) / sqrt(var + eps)."),
        ((x - mu) / np.sqrt(var + eps), "Scale and shift the normalised x: gamma * x_hat + beta."),
        (gamma * (x - mu) / (var + eps) + beta, "Divide by the standard deviation "
         "sqrt(var + eps), not by the variance."),
    ]


@exercise("6.3", "batchnorm_forward", hints=(
    "Every column (feature) of x gets its own mean and variance, computed over the batch "
    "(axis=0), so mu and var have shape (D,).",
    "x_hat = (x - mu) / sqrt(var + eps) with var the mean of (x - mu)^2 (divided by N); "
    "out = gamma * x_hat + beta; cache = (x_hat, gamma, 1 / sqrt(var + eps)).",
))
def check_batchnorm_forward(batchnorm_forward):
    for seed, n, d, eps in ((63, 6, 3, 1e-5), (64, 4, 1, 1e-5), (65, 10, 5, 1e-3)):
        x, gamma, beta = _bn_case(seed, n, d)
        inputs = f"x of shape {x.shape} (seed {seed}), gamma={show(gamma)}, beta={show(beta)}, eps={eps}"
        got = expect_tuple(call(batchnorm_forward, x.copy(), gamma.copy(), beta.copy(), eps,
                                what=inputs), 2, f"for {inputs}: the return value (out, cache)")
        want, x_hat, inv_std = _bn_reference(x, gamma, beta, eps)
        expect_array_explained(got[0], want, f"for {inputs}, out", _bn_slips(x, gamma, beta, eps),
                               rtol=1e-6, atol=1e-9)
        cache = expect_tuple(got[1], 3, f"for {inputs}: the cache (x_hat, gamma, inv_std)")
        expect_array(cache[0], x_hat, f"for {inputs}, cache[0] (x_hat)", rtol=1e-6, atol=1e-9)
        expect_array(cache[1], gamma, f"for {inputs}, cache[1] (gamma)")
        expect_array_explained(cache[2], inv_std, f"for {inputs}, cache[2] (inv_std)", [
            (1.0 / inv_std, "inv_std is 1 / sqrt(var + eps), the inverse of the standard deviation."),
        ], rtol=1e-6)
    return "each column normalised by its batch mean and biased variance, then gamma * x_hat + beta."


# ------------------------------------------------------------------ 6.4
def _bn_numerical(x, gamma, beta, eps, dout):
    """(dx, dgamma, dbeta) of sum(dout * batchnorm(x)) by centred finite differences."""
    x, gamma, beta = (np.array(a, dtype=np.float64) for a in (x, gamma, beta))
    f = lambda: _bn_reference(x, gamma, beta, eps)[0]  # noqa: E731
    return tuple(numerical_gradient(f, a, h=1e-5, df=dout) for a in (x, gamma, beta))


def _bn_backward_slips(dout, x_hat, gamma, inv_std):
    n = dout.shape[0]
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    scale = gamma * inv_std
    return [
        (scale * dout, "That is the gradient with mu and var held fixed (evaluation mode). In "
         "training every x_i also moves the batch mean and variance: add those two paths."),
        (scale * (dout - x_hat * dgamma / n), "The path through the batch mean is missing: "
         "subtract the mean of dout over the batch (dbeta / N)."),
        (scale * (dout - dbeta / n), "The path through the batch variance is missing: subtract "
         "x_hat times the mean of dout * x_hat (dgamma / N)."),
        (scale * (dout - dbeta / n - x_hat * dgamma / (n - 1)), "dvar's 1 / N: the biased "
         "variance divides by N, so its gradient does too (not N - 1)."),
        (inv_std * (dout - dbeta / n - x_hat * dgamma / n), "Multiply by gamma: out = gamma * "
         "x_hat + beta, so dx_hat = gamma * dout."),
    ]


@exercise("6.4", "batchnorm_backward", hints=(
    "Three paths lead from x_i to the loss: directly through x_hat_i, through the batch mean mu, "
    "and through the batch variance var. Write dL/dx_hat = gamma * dout first, then add the three "
    "contributions.",
    "dvar = sum_i dx_hat_i (x_i - mu) * (-1/2) (var + eps)^(-3/2), dmu = -sum_i dx_hat_i * inv_std "
    "(its path through var is 0), and dx_i = dx_hat_i inv_std + dvar 2 (x_i - mu) / N + dmu / N. "
    "Write x_i - mu = x_hat_i / inv_std.",
    "It simplifies to dx = gamma * inv_std / N * (N dout - sum(dout) - x_hat * sum(dout * x_hat)), "
    "sums over the batch (axis=0); dgamma = sum(dout * x_hat), dbeta = sum(dout).",
))
def check_batchnorm_backward(batchnorm_backward):
    for seed, n, d in ((66, 5, 3), (67, 8, 2), (68, 3, 1)):
        x, gamma, beta = _bn_case(seed, n, d)
        x[:, -1] = rng(seed + 100).normal(size=n)  # finite differences need a real spread
        dout = rng(seed + 1).normal(size=(n, d))
        _, x_hat, inv_std = _bn_reference(x, gamma, beta, 1e-5)
        inputs = (f"x of shape {x.shape} (seed {seed}), gamma={show(gamma)}, and the cache "
                  f"(x_hat, gamma, inv_std) of its forward")
        got = expect_tuple(call(batchnorm_backward, dout.copy(), (x_hat.copy(), gamma.copy(),
                                                                 inv_std.copy()), what=inputs),
                           3, f"for {inputs}: the return value (dx, dgamma, dbeta)")
        dx, dgamma, dbeta = _bn_numerical(x, gamma, beta, 1e-5, dout)
        expect_array_explained(got[2], dbeta, f"for {inputs}, dbeta (finite differences)", [
            (dout.mean(axis=0), "dbeta is the SUM of dout over the batch, not the mean."),
        ], rtol=1e-5, atol=1e-7)
        expect_array_explained(got[1], dgamma, f"for {inputs}, dgamma (finite differences)", [
            ((dout * x_hat).mean(axis=0), "dgamma is the SUM of dout * x_hat over the batch."),
            (dout.sum(axis=0), "dgamma = sum(dout * x_hat): gamma multiplies x_hat."),
        ], rtol=1e-5, atol=1e-7)
        expect_array_explained(got[0], dx, f"for {inputs}, dx (finite differences)",
                               _bn_backward_slips(dout, x_hat, gamma, inv_std), rtol=1e-5, atol=1e-7)
    return "dx, dgamma and dbeta agree with centred finite differences, through mean and variance."


# ------------------------------------------------------------------ 6.5
def _dropout_call(dropout_forward, x, p, seed, training):
    mode = "" if training else ", training=False"
    inputs = f"x of shape {x.shape}, p={p}, rng=np.random.default_rng({seed}){mode}"
    got = call(dropout_forward, x.copy(), p, np.random.default_rng(seed), training=training,
               what=inputs)
    return inputs, expect_tuple(got, 2, f"for {inputs}: the return value (out, mask)")


@exercise("6.5", "dropout_forward", hints=(
    "Draw one uniform number per entry of x from rng (rng.random(x.shape)) and keep the entry "
    "when its number is at least p: each entry is then dropped with probability p.",
    "Inverted dropout scales the kept entries by 1 / (1 - p) while training, so the expected "
    "output equals x; the mask holds 0 or 1 / (1 - p) and out = x * mask. In evaluation nothing "
    "is dropped or scaled: the output is x itself and there is no mask (None).",
))
def check_dropout_forward(dropout_forward):
    x = rng(69).uniform(0.5, 1.5, size=(200, 50))  # no zeros: a zero in out means dropped
    for p, seed in ((0.5, 1), (0.2, 2), (0.8, 3)):
        inputs, (out, mask) = _dropout_call(dropout_forward, x, p, seed, True)
        out = expect_array(out, x, f"for {inputs}, out", rtol=0, atol=1e300)  # shape, finite
        dropped = out == 0
        kept = ~dropped
        rate, n = dropped.mean(), dropped.size
        if abs(rate - (1 - p)) < 0.03 and abs(rate - p) > 0.1:
            raise CheckFailed(f"for {inputs} you dropped {rate:.1%} of the entries, about 1 - p: p "
                              f"is the probability to DROP an entry (keep it when rng.random() >= p).")
        if abs(rate - p) > 4 * np.sqrt(p * (1 - p) / n) + 1e-9:
            raise CheckFailed(f"for {inputs} you dropped {rate:.1%} of the entries; it should be "
                              f"close to p = {p:.0%}, each entry independently.")
        ratio = out[kept] / x[kept]
        if np.allclose(ratio, 1.0):
            raise CheckFailed(f"for {inputs} the kept entries equal x; inverted dropout scales "
                              f"them by 1 / (1 - p) = {1 / (1 - p):.4g}, so that the expected "
                              f"output is x and evaluation needs no change.")
        if np.allclose(ratio, 1 - p):
            raise CheckFailed(f"for {inputs} the kept entries are x * (1 - p); they should be "
                              f"x / (1 - p) = x * {1 / (1 - p):.4g} (inverted dropout scales up "
                              f"while training).")
        if not np.allclose(ratio, 1 / (1 - p), rtol=1e-9):
            raise CheckFailed(f"for {inputs} a kept entry should be x / (1 - p) = x * "
                              f"{1 / (1 - p):.4g}; yours are x times {show(ratio.min())} to "
                              f"{show(ratio.max())}.")
        expect_array(mask, out / x, f"for {inputs}, the mask (0 where dropped, 1 / (1 - p) where "
                     f"kept, so that out = x * mask)", rtol=1e-9)
        again = _dropout_call(dropout_forward, x, p, seed, True)[1][0]
        if not np.array_equal(np.asarray(again), out):
            raise CheckFailed(f"for {inputs} two calls with the same seed dropped different "
                              f"entries: draw the mask from the rng you are given, not np.random.")
    inputs, (out, mask) = _dropout_call(dropout_forward, x, 0.5, 4, False)
    if isinstance(out, np.ndarray) and out.shape == x.shape and np.allclose(out, 0.5 * x):
        raise CheckFailed(f"for {inputs} out is x * (1 - p): with inverted dropout evaluation "
                          f"changes nothing, out = x (the scaling already happened in training).")
    expect_array(out, x, f"for {inputs} (evaluation), out: nothing is dropped or scaled")
    if mask is not None:
        raise CheckFailed(f"for {inputs} the mask should be None in evaluation (nothing was "
                          f"dropped), got {show(mask)}.")
    return "each entry dropped with probability p, the rest scaled by 1 / (1 - p); evaluation: x."


# ------------------------------------------------------------------ 6.6
@exercise("6.6", "dropout_backward", hints=(
    "out = x * mask elementwise: what is d out_ij / d x_ij?",
    "dx = dout * mask, the same mask the forward used (scale included); without a mask "
    "(evaluation) out = x, so dx = dout.",
))
def check_dropout_backward(dropout_backward):
    g = rng(70)
    for p, shape in ((0.5, (4, 3)), (0.25, (6, 5))):
        mask = (g.random(shape) >= p) / (1 - p)
        dout = g.normal(size=shape)
        inputs = f"dout of shape {shape} and a mask of 0 and 1 / (1 - p) = {1 / (1 - p):.4g}"
        got = call(dropout_backward, dout.copy(), mask.copy(), what=inputs)
        expect_array_explained(got, dout * mask, f"for {inputs}, dx", [
            (dout * (mask > 0), "Scale by the mask itself (1 / (1 - p) where kept), not by 0/1: "
             "the forward multiplied the kept entries by 1 / (1 - p)."),
            (dout * (mask > 0) * (1 - p), "The forward scaled kept entries by 1 / (1 - p), so "
             "the gradient is dout * mask, not dout * (1 - p)."),
            (dout, "Dropped entries did not reach the output: their gradient is 0 (dout * mask)."),
        ])
    dout = g.normal(size=(3, 2))
    got = call(dropout_backward, dout.copy(), None, what="a mask of None (evaluation)",
               hints={TypeError: "In evaluation the forward returned mask=None: then dx = dout."})
    expect_array(got, dout, "for mask=None (evaluation), dx")
    return "dx = dout * mask, and dx = dout without a mask."
