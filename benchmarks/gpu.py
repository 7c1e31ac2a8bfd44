"""GPU benchmark: nnlib's numba.cuda kernels and backend="cuda" against PyTorch CUDA.

    python -m benchmarks.gpu [--out benchmarks/results/gpu.json]

Prints and writes (JSON, the schema of notebooks/data/gpu_reference.json):

- matmul 4096 x 4096 float32: TFLOP/s of every rung of nnlib.kernels.cuda_matmul
  and its fraction of cuBLAS FP32 (torch.matmul with TF32 off, same process);
  target: the best rung >= 40 %;
- one MLP epoch (60000 x 784, 784-128-10, SGD with momentum, data already on
  the device) with nnlib backend="cuda" and with PyTorch CUDA eager, at batch
  128 (target: nnlib faster) and 4096 (target: within 1.5x of PyTorch);
- the cost of one numba.cuda launch, without arguments and with three arrays.

Every answer is checked before it is timed. Without a CUDA GPU (or with the
simulator on) it prints why and exits 0 without timing anything;
``--check-only`` then runs just the answer checks at tiny sizes (in the
simulator, with PyTorch on the CPU), which is how this file is tested there.
"""
import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "gpu.json"
TARGETS = {"matmul_fraction": 0.40, "batch128_ratio": 1.0, "batch4096_ratio": 1 / 1.5}


def gpu_problem():
    """None if a real CUDA GPU and PyTorch with CUDA are usable; else why not."""
    from numba import cuda
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return "the CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1): nothing is timed in the simulator"
    if not cuda.is_available():
        return "no CUDA GPU (numba.cuda.is_available() is False)"
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed (pip install -e '.[bench]' with a CUDA build of torch)"
    if not torch.cuda.is_available():
        return f"PyTorch {torch.__version__} has no CUDA (a CPU-only build?)"
    return None


def best_ms(run, sync, repeats):
    """Milliseconds of the fastest of `repeats` runs, each synchronised before the clock stops."""
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


# ------------------------------------------------------------------ matmul
def bench_matmul(n, repeats, torch_device, timed=True):
    import torch
    from numba import cuda
    from nnlib.kernels.cuda_matmul import METHODS, matmul

    torch.backends.cuda.matmul.allow_tf32 = False  # a true FP32 peer
    rng = np.random.default_rng(0)
    A, B = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    tA, tB = torch.from_numpy(A).to(torch_device), torch.from_numpy(B).to(torch_device)
    expected = torch.matmul(tA, tB).cpu().numpy()
    dA, dB, dC = cuda.to_device(A), cuda.to_device(B), cuda.device_array((n, n), np.float32)
    flop = 2.0 * n ** 3
    result = {"n": n, "dtype": "float32", "kernels": {}}
    sync_torch = torch.cuda.synchronize if torch_device == "cuda" else (lambda: None)
    if timed:
        peer_ms = best_ms(lambda: torch.matmul(tA, tB), sync_torch, repeats)
        result["peer"] = {"name": "cuBLAS FP32 (torch.matmul, TF32 off)", "tflops": flop / peer_ms / 1e9}
    for method in METHODS:
        matmul(dA, dB, dC, method)  # compiles, and gives the answer to check
        err = np.abs(dC.copy_to_host() - expected).max() / np.abs(expected).max()
        if not err < 1e-4:
            raise AssertionError(f"matmul {method} is wrong at n={n}: relative error {err:.2e}")
        if timed:
            ms = best_ms(lambda: matmul(dA, dB, dC, method), cuda.synchronize, repeats)
            tflops = flop / ms / 1e9
            result["kernels"][method] = {"tflops": tflops,
                                         "fraction_of_peer": tflops / result["peer"]["tflops"]}
    return result


# ------------------------------------------------------------------ MLP epoch
WIDTHS = (784, 128, 10)  # the network


def mlp_data(n, widths=WIDTHS):
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, widths[0]), dtype=np.float32), rng.integers(0, widths[-1], n)


def nnlib_trainer(X, y, batch_size, widths=WIDTHS):
    """A function running one nnlib backend="cuda" epoch on X, y (copied to the device once)."""
    from nnlib import SGD, Dense, ReLU, Sequential
    n_in, hidden, n_out = widths
    model = Sequential([Dense(n_in, hidden, init="he"), ReLU(), Dense(hidden, n_out)], seed=0,
                       backend="cuda", dtype="float32")
    opt, trainer, order = SGD(lr=0.01, momentum=0.9), model._trainer, np.arange(len(X))
    y_int, y_float = y.astype(np.int64), np.empty((0, n_out), np.float32)

    def epoch():  # the first call copies X, y to the device; later ones reuse them
        return trainer.train_epoch(X, y_int, y_float, order, batch_size, opt, "cross_entropy")
    return model, epoch


def torch_trainer(model, X, y, batch_size, device):
    """The same network, weights, optimizer and batch order in PyTorch eager."""
    import torch
    (n_in, hidden), n_out = model.layers[0].W.shape, model.layers[2].n_out
    net = torch.nn.Sequential(torch.nn.Linear(n_in, hidden), torch.nn.ReLU(),
                              torch.nn.Linear(hidden, n_out))
    with torch.no_grad():
        for linear, dense in zip((net[0], net[2]), (model.layers[0], model.layers[2])):
            linear.weight.copy_(torch.from_numpy(dense.W.T.copy()))
            linear.bias.copy_(torch.from_numpy(dense.b))
    net.to(device)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)  # same maths as nnlib's SGD
    tX, ty = torch.from_numpy(X).to(device), torch.from_numpy(y.astype(np.int64)).to(device)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        for start in range(0, len(tX), batch_size):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(tX[start:start + batch_size]), ty[start:start + batch_size]).backward()
            opt.step()
    return net, epoch


def check_same_training(n, batch_size, device, widths=WIDTHS):
    """One epoch on n samples: nnlib cuda and PyTorch must end with the same weights."""
    X, y = mlp_data(n, widths)
    model, nnlib_epoch = nnlib_trainer(X, y, batch_size, widths)
    net, torch_epoch = torch_trainer(model, X, y, batch_size, device)
    nnlib_epoch()
    torch_epoch()
    W_torch = net[0].weight.detach().cpu().numpy().T
    if not np.allclose(model.layers[0].W, W_torch, rtol=1e-3, atol=1e-5):
        raise AssertionError(f"nnlib cuda and PyTorch disagree after one epoch (batch {batch_size}): "
                             f"max |dW| = {np.abs(model.layers[0].W - W_torch).max():.2e}")


def bench_mlp(n, batch_size, repeats, device):
    import torch
    from numba import cuda
    check_same_training(min(n, 4 * batch_size), batch_size, device)
    X, y = mlp_data(n)
    model, nnlib_epoch = nnlib_trainer(X, y, batch_size)
    _, torch_epoch = torch_trainer(model, X, y, batch_size, device)
    nnlib_epoch(), torch_epoch()  # warm-up: compilation, cuBLAS handles, caches
    nnlib_ms = best_ms(nnlib_epoch, cuda.synchronize, repeats)
    peer_ms = best_ms(torch_epoch, torch.cuda.synchronize, repeats)
    return {"nnlib_ms": nnlib_ms, "peer_ms": peer_ms, "peer_over_nnlib": peer_ms / nnlib_ms}


# ------------------------------------------------------------------ launches
def bench_launch(n_launches=2000):
    from numba import cuda

    @cuda.jit
    def no_args():
        pass

    @cuda.jit
    def three_arrays(a, b, c):
        pass

    arrays = [cuda.device_array(16, np.float32) for _ in range(3)]
    no_args[1, 1](), three_arrays[1, 1](*arrays)  # compile

    def many(kernel, args):
        for _ in range(n_launches):
            kernel[1, 1](*args)
    us = {}
    for name, kernel, args in (("no_args_us", no_args, ()), ("three_device_arrays_us", three_arrays, arrays)):
        us[name] = 1e3 * best_ms(lambda: many(kernel, args), cuda.synchronize, 3) / n_launches
    us["per_launch_us"] = us["three_device_arrays_us"]  # the one figure chapter 7 uses
    return us


# ------------------------------------------------------------------ report
def run(out, repeats=5):
    import numba
    import torch
    from numba import cuda
    device = cuda.get_current_device()
    results = {
        "schema": "nnlib-gpu-benchmark/1", "measured_here": True,
        "source": "measured by benchmarks/gpu.py", "device": str(device.name),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "software": {"numba": numba.__version__, "torch": torch.__version__, "numpy": np.__version__},
        "matmul": bench_matmul(4096, repeats, "cuda"),
        "mlp_epoch": {"data": "60000x784 float32, network 784-128-10, data already on the device",
                      "peer": "PyTorch CUDA eager",
                      "batches": {str(b): bench_mlp(60000, b, repeats, "cuda") for b in (128, 4096)}},
        "launch": bench_launch(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print_report(results)
    print(f"wrote {out}")


def print_report(r):
    print(f"GPU: {r['device']}  ({r['date']})")
    mm = r["matmul"]
    print(f"matmul {mm['n']}^2 float32, cuBLAS FP32 {mm['peer']['tflops']:.1f} TFLOP/s:")
    for method, k in mm["kernels"].items():
        print(f"  {method:10s} {k['tflops']:7.2f} TFLOP/s = {100 * k['fraction_of_peer']:5.1f} % of cuBLAS")
    best = max(k["fraction_of_peer"] for k in mm["kernels"].values())
    print(f"  best {100 * best:.1f} % (target >= {100 * TARGETS['matmul_fraction']:.0f} %)")
    for b, m in r["mlp_epoch"]["batches"].items():
        target = TARGETS["batch128_ratio"] if b == "128" else TARGETS["batch4096_ratio"]
        print(f"MLP epoch, batch {b}: nnlib {m['nnlib_ms']:.1f} ms, PyTorch {m['peer_ms']:.1f} ms, "
              f"PyTorch / nnlib = {m['peer_over_nnlib']:.2f} (target >= {target:.2f})")
    print(f"launch: {r['launch']['no_args_us']:.1f} us without arguments, "
          f"{r['launch']['three_device_arrays_us']:.1f} us with three device arrays")


def check_only():
    """Answer checks only, at tiny sizes: in the simulator, PyTorch on the CPU. Nothing is timed."""
    bench_matmul(33, 1, "cpu", timed=False)
    check_same_training(40, 16, "cpu", widths=(12, 9, 10))
    print("gpu benchmark answer checks passed (nothing timed)")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--check-only", action="store_true", help="answer checks at tiny sizes, no timing")
    args = parser.parse_args(argv)
    problem = gpu_problem()
    if args.check_only:
        check_only()
    elif problem:
        print(f"SKIPPED GPU benchmark: {problem}. Nothing was measured; run it on a machine with an "
              f"NVIDIA GPU and a CUDA build of PyTorch.")
    else:
        run(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
