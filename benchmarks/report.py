"""The results as a table on the terminal and as JSON."""
import json
from pathlib import Path

from benchmarks.peers import NNLIB_NUMBA, NNLIB_NUMPY, TORCH

COLUMNS = (TORCH, NNLIB_NUMPY, NNLIB_NUMBA)


def _ms(seconds):
    if seconds is None:
        return "-"
    ms = seconds * 1e3
    return f"{ms:.3g} ms" if ms < 1000 else f"{ms:,.0f} ms"


def _ratio(value):
    return "-" if value is None else f"{value:.2f}x"


def case_rows(results):
    """One row of strings per case: times, bound, ratios, target."""
    rows = []
    for case in results["cases"].values():
        times = {name: t["median_s"] for name, t in case["timings"].items()}
        ratios = case["ratios"]
        target = case["target"]
        verdict = "-"
        if ratios.get("torch/numba") is not None and target is not None:
            verdict = f">= {target:g}x: " + ("met" if ratios["torch/numba"] >= target else "MISSED")
        rows.append([case["title"], case["dtype"]]
                    + [_ms(times.get(name)) for name in COLUMNS]
                    + [_ms(case["blas_bound_s"]), _ratio(ratios.get("torch/numba")),
                       _ratio(ratios.get("numpy/numba")), verdict])
    return rows


def table(results):
    """The results table as text (median time per epoch)."""
    header = ["case", "dtype", "torch eager", "nnlib numpy", "nnlib numba", "BLAS bound",
              "torch/numba", "numpy/numba", "target"]
    rows = [header] + case_rows(results)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def bound_lines(results):
    """Per case: how far nnlib numba is from the BLAS bound, and the GEMMs at batch shapes."""
    lines = []
    for case in results["cases"].values():
        numba = case["timings"].get(NNLIB_NUMBA)
        if numba is None:
            continue
        lines.append(
            f"{case['title'].split()[0]} nnlib numba takes {numba['median_s'] / case['blas_bound_s']:.1f}x "
            f"the BLAS bound; NumPy needs {_ms(case['blas_at_batch_shapes_s'])} for the "
            f"epoch's matrix products alone at their real (batch) shapes.")
    return lines


def startup_lines(startup):
    if not startup:
        return []
    lines = [f"import nnlib: {startup['import_s']:.2f} s (target < 1 s); kernels compiled "
             f"by the import: {startup['compiled_at_import']} of {startup['kernels']}"]
    for dtype, fit in startup.get("first_fit", {}).items():
        lines.append(f"first fit ({dtype}, digits, 1 epoch): warm cache {fit['warm_s']:.2f} s "
                     f"(target < 1 s), cold cache (compiling) {fit['cold_s']:.1f} s")
    return lines


def environment_lines(env):
    cores = ", ".join(f"{lib}: {core}" for lib, core in env.get("openblas_cores", {}).items())
    return [f"machine: {env['cpu']}, {env['cpus_usable']} usable CPUs; "
            f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}; torch threads: {env['torch_threads']}",
            f"OpenBLAS kernels in use: {cores or 'unknown'}",
            "versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items())]


def render(results):
    """Everything for the terminal."""
    notes = [
        "Time per epoch: median over rounds in which the peers take turns, each turn one",
        "untimed epoch then a timed block of epochs (~0.5 s); after warm-up and an answer check.",
        "nnlib: a block is one Sequential.fit(epochs=n) call (input checks once per call).",
        "BLAS bound: the epoch's matrix-product FLOPs at NumPy's measured GEMM rate "
        "(n=1024) in this process.",
    ]
    return "\n".join([table(results), ""] + notes + bound_lines(results) + [""]
                     + startup_lines(results.get("startup"))
                     + environment_lines(results["environment"]))


def write_json(results, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
