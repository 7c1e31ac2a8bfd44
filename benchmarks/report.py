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


def verdicts(case):
    """[(what, ratio, target, met)] for the case's targets that could be judged in this run."""
    ratios, out = case["ratios"], []
    if case.get("target") is not None and ratios.get("torch/numba") is not None:
        out.append(("torch/numba", ratios["torch/numba"], f">= {case['target']:g}x",
                    ratios["torch/numba"] >= case["target"]))
    if case.get("blas_target") is not None and ratios.get("numba/blas_at_shapes") is not None:
        out.append(("numba/BLAS@shapes", ratios["numba/blas_at_shapes"], f"<= {case['blas_target']:g}x",
                    ratios["numba/blas_at_shapes"] <= case["blas_target"]))
    return out


def case_rows(results):
    """One row of strings per case: times, bounds, ratios, targets."""
    rows = []
    for case in results["cases"].values():
        times = {name: t["median_s"] for name, t in case["timings"].items()}
        ratios = case["ratios"]
        verdict = "; ".join(f"{what} {goal}: {'met' if met else 'MISSED'}"
                            for what, _, goal, met in verdicts(case)) or "-"
        rows.append([case["title"], case["dtype"]]
                    + [_ms(times.get(name)) for name in COLUMNS]
                    + [_ms(case["blas_at_batch_shapes_s"]), _ms(case["blas_bound_s"]),
                       _ratio(ratios.get("torch/numba")), _ratio(ratios.get("numpy/numba")),
                       _ratio(ratios.get("numba/blas_at_shapes")), verdict])
    return rows


def table(results):
    """The results table as text (median time per epoch)."""
    header = ["case", "dtype", "torch eager", "nnlib numpy", "nnlib numba", "BLAS@shapes", "BLAS bound",
              "torch/numba", "numpy/numba", "numba/BLAS@shapes", "targets"]
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


def target_lines(results):
    """One line per target of issue 13 with the measured ratio (timings on a shared machine are noisy)."""
    lines = []
    for case in results["cases"].values():
        for what, ratio, goal, met in verdicts(case):
            lines.append(f"target {case['title'].split(',')[0]}: {what} = {ratio:.2f}x "
                         f"(target {goal}): {'met' if met else 'MISSED'}")
    return lines


def accuracy_lines(tta):
    """Time to accuracy, nnlib against PyTorch."""
    if not tta:
        return []
    line = f"time to {tta['target']:.0%} validation accuracy (chapter 5's 64-64-10 ReLU network, SGD+momentum, batch 32): "

    def one(name, r):
        if r is None:
            return f"{name} -"
        reached = f"{r['epochs']} epochs" if r["reached"] else "NOT REACHED"
        return f"{name} {r['median_s']:.2f} s ({reached})"
    parts = [one("nnlib", tta["nnlib"]), one("torch eager", tta.get("torch"))]
    if tta.get("torch") and tta["nnlib"]["reached"] and tta["torch"]["reached"]:
        parts.append(f"torch/nnlib {tta['torch']['median_s'] / tta['nnlib']['median_s']:.1f}x")
    return [line + "; ".join(parts)]


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
        "BLAS@shapes: the time NumPy needs for the epoch's matrix products alone, at their "
        "real batch shapes (same process, default threads).",
        "Timings on a shared machine are noisy: re-run before quoting; targets never fail the run.",
    ]
    return "\n".join([table(results), ""] + notes + bound_lines(results) + [""]
                     + target_lines(results) + accuracy_lines(results.get("time_to_accuracy")) + [""]
                     + startup_lines(results.get("startup"))
                     + environment_lines(results["environment"]))


def write_json(results, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
