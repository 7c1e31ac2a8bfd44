"""The benchmark harness (python -m benchmarks) at tiny sizes: answers, JSON, table.

Correctness only: nothing here asserts a speed (timings on a shared machine
are noise); the real figures come from ``make bench``.
"""
import json
import math

import numpy as np
import pytest

from benchmarks import __main__ as cli
from benchmarks.cases import DIGITS, MNIST
from benchmarks.check import CheckFailed, check_answers
from benchmarks.peers import (
    NNLIB_NUMBA, NNLIB_NUMPY, TORCH, NnlibPeer, default_peer_names, initial_weights,
)
from benchmarks.report import render, write_json
from benchmarks.run import run

TINY = (DIGITS.shrunk(200, repeats=2), MNIST.shrunk(300, repeats=2))


@pytest.fixture(scope="module")
def tiny_results():
    return run(TINY, default_peer_names(), startup=True, startup_dtypes=(), min_block_s=0.01,
               log=lambda *a: None)


def test_every_peer_is_checked_and_timed(tiny_results):
    peers = default_peer_names()
    assert set(tiny_results["cases"]) == {"digits", "mnist"}
    for case in tiny_results["cases"].values():
        assert set(case["check"]) == set(peers) == set(case["timings"])
        for name in peers:
            assert math.isfinite(case["check"][name]["loss"])
            assert case["check"][name]["max_abs_diff"] < 1e-3
            assert case["timings"][name]["n"] == 2 and case["timings"][name]["median_s"] > 0
        assert case["check"][NNLIB_NUMPY]["max_abs_diff"] == 0.0  # the reference itself
        assert case["blas_bound_s"] > 0 and case["blas_at_batch_shapes_s"] > 0
        expected = case["timings"][NNLIB_NUMPY]["median_s"] / case["timings"][NNLIB_NUMBA]["median_s"]
        assert case["ratios"]["numpy/numba"] == pytest.approx(expected)
        to_bound = case["timings"][NNLIB_NUMBA]["median_s"] / case["blas_at_batch_shapes_s"]
        assert case["ratios"]["numba/blas_at_shapes"] == pytest.approx(to_bound)
        assert (case["ratios"]["torch/numba"] is None) == (TORCH not in peers)


def test_flops_are_the_epochs_matrix_products(tiny_results):
    case = tiny_results["cases"]["digits"]
    # forward x@W1, x@W2; backward x.T@dz for both, dz@W2.T for the hidden layer
    per_row = 2 * (64 * 32 + 32 * 10) + 2 * (64 * 32 + 32 * 10) + 2 * 32 * 10
    assert case["flops"] == 200 * per_row
    shapes = TINY[1].gemm_shapes()
    assert sum(2 * m * k * n for m, k, n in shapes) * 300 // 128 == pytest.approx(
        TINY[1].flops(), rel=1e-12)


def test_import_does_not_compile_kernels(tiny_results):
    startup = tiny_results["startup"]
    assert startup["kernels"] > 10  # the count really sees nnlib's @njit functions
    assert startup["compiled_at_import"] == 0
    # a model loads its backend's kernels; only the plain constants of codes.py come with nnlib
    assert set(startup["kernel_modules_at_import"]) <= {"nnlib.kernels.codes"}
    assert startup["import_s"] > 0


def test_json_and_table_hold_the_results(tiny_results, tmp_path):
    path = write_json(tiny_results, tmp_path / "bench" / "results.json")
    data = json.loads(path.read_text())
    assert {"environment", "peers", "cases", "gemm_rate_flops", "startup"} <= set(data)
    assert data["environment"]["OPENBLAS_CORETYPE"]  # its value, or "unset"
    assert data["gemm_rate_flops"]["float32"] > 0
    for case in data["cases"].values():
        assert {"title", "dtype", "flops", "check", "timings", "samples_s", "blas_bound_s",
                "ratios", "target"} <= set(case)
        assert case["dtype"] == "float32"
    text = render(tiny_results)
    for case in TINY:
        assert case.title in text
    assert "OPENBLAS_CORETYPE=" in text and "import nnlib" in text


def test_check_refuses_a_peer_that_trains_differently():
    case = DIGITS.shrunk(100)
    X, y = case.data()
    w = initial_weights(case)
    good = [NnlibPeer(case, "numpy", w), NnlibPeer(case, "numba", w)]
    assert set(check_answers(case, good, X, y)) == {NNLIB_NUMPY, NNLIB_NUMBA}
    for wrong in (NnlibPeer(case, "numba", w, lr=case.lr * 1.01),  # a 1% different step
                  NnlibPeer(case, "numba", [p * 1.001 for p in w])):  # another start
        with pytest.raises(CheckFailed, match=NNLIB_NUMBA):
            check_answers(case, [NnlibPeer(case, "numpy", w), wrong], X, y)


def test_check_refuses_nonsense_loss():
    case = DIGITS.shrunk(64)
    X, y = case.data()
    w = initial_weights(case)

    class NaNPeer(NnlibPeer):
        def epochs(self, X, y, n=1, shuffle=True):
            super().epochs(X, y, n, shuffle)
            return np.nan

    with pytest.raises(CheckFailed, match="loss"):
        check_answers(case, [NnlibPeer(case, "numpy", w), NaNPeer(case, "numba", w)], X, y)


def test_command_line_writes_json(tmp_path, capsys):
    out = tmp_path / "results.json"
    status = cli.main(["--cases", "digits", "--repeats", "2", "--no-startup", "--no-torch",
                       "--accuracy-repeats", "0", "--no-recurrent", "--out", str(out)])
    assert status == 0
    data = json.loads(out.read_text())
    assert list(data["cases"]) == ["digits"]
    assert data["peers"] == [NNLIB_NUMBA, NNLIB_NUMPY]
    assert "nnlib numba" in capsys.readouterr().out


def test_the_targets_are_printed_with_their_ratios(tiny_results):
    text = render(tiny_results)
    assert "numba/BLAS@shapes" in text
    assert "target (b) MNIST-size random 300x784: numba/BLAS@shapes = " in text


def test_time_to_accuracy_trains_chapter_5s_network_until_the_target():
    from benchmarks.accuracy import time_to_accuracy
    from benchmarks.report import accuracy_lines

    result = time_to_accuracy(with_torch=False, repeats=1, target=0.5)
    assert result["nnlib"]["reached"] and result["nnlib"]["epochs"] >= 1
    assert result["nnlib"]["median_s"] > 0 and result["torch"] is None
    assert "time to 50% validation accuracy" in accuracy_lines(result)[0]
    never = time_to_accuracy(with_torch=False, repeats=1, target=1.01)  # cannot be reached
    assert not never["nnlib"]["reached"] and "NOT REACHED" in accuracy_lines(never)[0]
