"""Answers before timings: every peer must train the same network to the same weights.

All peers start from the same initial weights and train one epoch on the
same rows in the same order (the data permuted once by the case's seed,
then ``shuffle=False``). Their mean losses and weights are compared with
the NumPy reference (nnlib numpy, the specification of nnlib); float32
rounding differs between libraries, hence the tolerances.
"""
import numpy as np

from benchmarks.peers import NNLIB_NUMPY

# float32, one epoch of SGD: the peers agree to ~2e-7 on both cases; a 1%
# change of the learning rate moves the weights by more than these.
RTOL, ATOL = 1e-4, 1e-5
LOSS_RTOL = 1e-5
PARAM_NAMES = ("W1", "b1", "W2", "b2")


class CheckFailed(AssertionError):
    """A peer's answer differs from the reference: its timing would mean nothing."""


def check_answers(case, peers, X, y):
    """Train each peer one epoch in the same order; raise CheckFailed on a mismatch.

    Returns {peer name: {"loss": mean loss, "max_abs_diff": largest weight
    difference from the reference}}.
    """
    order = np.random.default_rng(case.seed).permutation(X.shape[0])
    X_ordered, y_ordered = X[order], y[order]
    answers = {}
    for peer in peers:
        loss = peer.epochs(*peer.prepare(X_ordered, y_ordered), n=1, shuffle=False)
        answers[peer.name] = (float(loss), peer.weights())
    reference = NNLIB_NUMPY if NNLIB_NUMPY in answers else peers[0].name
    ref_loss, ref_weights = answers[reference]
    summary = {}
    for name, (loss, weights) in answers.items():
        summary[name] = {"loss": loss, "max_abs_diff": _compare(
            case, name, reference, loss, weights, ref_loss, ref_weights)}
    return summary


def _compare(case, name, reference, loss, weights, ref_loss, ref_weights):
    """Largest |weight - reference weight|; CheckFailed if loss or weights disagree."""
    if not np.isfinite(loss) or abs(loss - ref_loss) > LOSS_RTOL * abs(ref_loss):
        raise CheckFailed(
            f"{case.name}: {name} ends the check epoch with mean loss {loss:.6g}, "
            f"{reference} with {ref_loss:.6g} (allowed relative difference {LOSS_RTOL})."
        )
    worst = 0.0
    for pname, w, ref in zip(PARAM_NAMES, weights, ref_weights):
        if w.shape != ref.shape:
            raise CheckFailed(f"{case.name}: {name}'s {pname} has shape {w.shape}, "
                              f"{reference}'s {ref.shape}.")
        diff = np.abs(w - ref)
        if not np.all(diff <= ATOL + RTOL * np.abs(ref)):
            i = np.unravel_index(np.argmax(diff - RTOL * np.abs(ref)), diff.shape)
            raise CheckFailed(
                f"{case.name}: after one epoch {name}'s {pname}{list(i)} is {w[i]:.6g}, "
                f"{reference}'s is {ref[i]:.6g} (allowed: {ATOL} + {RTOL} x |reference|)."
            )
        worst = max(worst, float(diff.max()))
    return worst
