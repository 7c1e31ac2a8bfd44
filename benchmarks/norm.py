"""``python -m benchmarks.norm``: digits epochs with BatchNorm and Dropout, fused vs layer by layer.

Issue 14 asks that a Sequential with BatchNorm and Dropout keep the speed
class of the Dense stack. Case (a) of ``benchmarks.cases`` (digits 1797 x 64,
64-32-10, sigmoid, batch 32, SGD lr 0.1, float32) in three variants:
Dense only; a BatchNorm(32) between the hidden Dense layer and its sigmoid;
and Dropout(0.2) after the sigmoid as well. Each runs on the default
``backend="numba"`` trainer (fused: one compiled call per epoch) and forced
through the layer-by-layer trainer (what the stacks with BatchNorm or
Dropout used before ``numba_fused_norm``). Before timing, one epoch of each
fused model is checked against the layer-by-layer one from the same start
(same weights, running statistics and loss). The table gives the median
time per epoch and each variant's ratio to the fused Dense stack.
"""
import argparse
import functools
import sys

import numpy as np

from benchmarks.cases import DIGITS
from benchmarks.check import CheckFailed
from benchmarks.timing import interleaved, summarize
from nnlib import SGD, Dense, Sequential, Sigmoid
from nnlib.backends.layerwise import LayerwiseTrainer
from nnlib.layers.norm import BatchNorm, Dropout

VARIANTS = ("dense", "+batchnorm", "+batchnorm+dropout")


def stack(variant, sizes):
    """n_in -> Dense(n_hidden) [-> BatchNorm] -> Sigmoid [-> Dropout(0.2)] -> Dense(n_out)."""
    n_in, n_hidden, n_out = sizes
    layers = [Dense(n_in, n_hidden)]
    layers += [BatchNorm(n_hidden)] if variant != "dense" else []
    layers += [Sigmoid()]
    layers += [Dropout(0.2)] if variant.endswith("dropout") else []
    return layers + [Dense(n_hidden, n_out)]


def model(variant, trainer, case):
    """A fresh Sequential (seed 0); trainer "fused" is the default choice, "layerwise" is forced."""
    net = Sequential(stack(variant, case.sizes), seed=0, dtype=case.dtype)
    if trainer == "layerwise":
        net._trainer = LayerwiseTrainer(net.layers, net.backend)  # shortcut: the path to compare
    return net


def check(case, X, y):
    """One epoch fused vs layer by layer from the same start: the same answer, else CheckFailed."""
    for variant in VARIANTS:
        fused, layerwise = model(variant, "fused", case), model(variant, "layerwise", case)
        losses = [m.fit(X, y, epochs=1, batch_size=case.batch_size, optimizer=SGD(case.lr),
                        verbose=False)["loss"][0] for m in (fused, layerwise)]
        arrays = zip(fused.parameters() + fused.buffers(),
                     layerwise.parameters() + layerwise.buffers())
        diff = max(float(np.abs(a - b).max()) for a, b in arrays)
        if diff > 1e-5 or abs(losses[0] - losses[1]) > 1e-5:
            raise CheckFailed(f"{variant}: fused and layer-by-layer differ (weights by {diff:.2e}, "
                              f"losses {losses[0]} vs {losses[1]})")


def run(case=DIGITS, repeats=None, min_block_s=0.5):
    """{(variant, trainer): timing summary} after the answer check."""
    X, y = case.data()
    check(case, X, y)
    runs = {}
    for variant in VARIANTS:
        for trainer in ("fused", "layerwise"):
            net = model(variant, trainer, case)
            runs[variant, trainer] = functools.partial(
                net.fit, X, y, batch_size=case.batch_size, optimizer=SGD(case.lr), verbose=False)
    samples = interleaved({key: (lambda n, fit=fit: fit(epochs=n)) for key, fit in runs.items()},
                          repeats or case.repeats, min_block_s=min_block_s)
    return {key: summarize(s) for key, s in samples.items()}


def render(timings, case=DIGITS):
    """The table: ms per epoch (median), and the ratio to the fused Dense stack."""
    base = timings["dense", "fused"]["median_s"]
    lines = [f"{case.title}, {case.dtype}: ms per epoch (median), x = / fused Dense",
             f"{'stack':20s} {'fused':>16s} {'layer by layer':>18s}"]
    for variant in VARIANTS:
        cells = []
        for trainer in ("fused", "layerwise"):
            t = timings[variant, trainer]["median_s"]
            cells.append(f"{t * 1e3:8.2f} ({t / base:4.1f}x)")
        lines.append(f"{variant:20s} {cells[0]:>16s} {cells[1]:>18s}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.norm", description=__doc__)
    parser.add_argument("--repeats", type=int, help=f"timing rounds (default {DIGITS.repeats})")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        timings = run(repeats=args.repeats)
    except CheckFailed as exc:
        print(f"ANSWER CHECK FAILED, nothing was timed: {exc}", file=sys.stderr)
        return 2
    print(render(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
