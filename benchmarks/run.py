"""Run the benchmark: check every case's answers, time the peers, collect the results."""
import functools

from benchmarks.accuracy import TARGET as ACCURACY_TARGET
from benchmarks.accuracy import time_to_accuracy
from benchmarks.check import check_answers
from benchmarks.machine import environment
from benchmarks.peers import (
    NNLIB_NUMBA, NNLIB_NUMPY, TORCH, default_peer_names, initial_weights, make_peers,
)
from benchmarks.startup import measure_startup
from benchmarks.timing import gemm_rate, gemm_shapes_seconds, interleaved, summarize


def run_case(case, peer_names, rates, min_block_s=0.5):
    """Check, then time one case; returns its results dict."""
    X, y = case.data()
    weights = initial_weights(case)
    check = check_answers(case, make_peers(case, peer_names, weights), X, y)
    peers = make_peers(case, peer_names, weights)  # fresh, from the same start
    runs = {p.name: functools.partial(p.epochs, *p.prepare(X, y)) for p in peers}
    samples = interleaved(runs, case.repeats, min_block_s=min_block_s)
    timings = {name: summarize(s) for name, s in samples.items()}
    flops = case.flops()
    per_batch_gemm_s = gemm_shapes_seconds(case.gemm_shapes(), case.dtype)
    return {
        "title": case.title, "dtype": case.dtype, "rows": case.n_rows,
        "sizes": list(case.sizes), "batch_size": case.batch_size, "lr": case.lr,
        "target": case.target, "flops": flops, "check": check, "timings": timings,
        "samples_s": samples,
        "blas_bound_s": flops / rates[case.dtype],
        "blas_at_batch_shapes_s": per_batch_gemm_s * case.n_rows / case.batch_size,
        "blas_target": case.blas_target,
        "ratios": _ratios(timings, per_batch_gemm_s * case.n_rows / case.batch_size),
    }


def _ratios(timings, blas_at_shapes_s):
    """torch/numba, numpy/numba and numba/BLAS-at-shapes of the median times (None when a peer is missing)."""
    numba = timings[NNLIB_NUMBA]["median_s"] if NNLIB_NUMBA in timings else None

    def over_numba(name):
        if numba is None or name not in timings:
            return None
        return timings[name]["median_s"] / numba

    return {"torch/numba": over_numba(TORCH), "numpy/numba": over_numba(NNLIB_NUMPY),
            "numba/blas_at_shapes": None if numba is None else numba / blas_at_shapes_s}


def run(cases, peer_names=None, startup=True, startup_dtypes=("float32", "float64"),
        min_block_s=0.5, log=print, accuracy_repeats=0):
    """Results of every case (+ start-up costs); raises CheckFailed on a wrong answer.

    min_block_s: each timing sample is the mean epoch time of a block of
    epochs lasting about this long (see ``timing.interleaved``).
    """
    peer_names = peer_names or default_peer_names()
    results = {"environment": environment(), "peers": list(peer_names), "cases": {}}
    dtypes = sorted({case.dtype for case in cases})
    rates = {dtype: gemm_rate(dtype) for dtype in dtypes}
    results["gemm_rate_flops"] = rates
    for case in cases:
        log(f"{case.title}: checking answers, then timing {case.repeats} rounds ...")
        results["cases"][case.name] = run_case(case, peer_names, rates, min_block_s)
    if accuracy_repeats:
        log(f"time to {ACCURACY_TARGET:.0%} validation accuracy (chapter 5's network), {accuracy_repeats} runs each ...")
        results["time_to_accuracy"] = time_to_accuracy(TORCH in peer_names, repeats=accuracy_repeats)
    if startup:
        log("start-up: import nnlib and the first fit, in fresh processes ...")
        results["startup"] = measure_startup(startup_dtypes)
    return results
