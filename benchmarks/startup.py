"""Start-up costs, each in a fresh Python process: ``import nnlib`` and the first fit.

The first ``fit`` of a session either loads the compiled kernels from
Numba's on-disk cache (warm: what a learner meets every time but the first)
or compiles them (cold: the very first run, or after the cache was deleted).
Both are measured with a private, initially empty cache folder: the cold
run fills it, the warm run reuses it. ``import nnlib`` must not compile
anything, nor even import the kernel modules (a model imports its backend's
kernels when it is built); the import script records which kernel modules
``import nnlib`` loaded, then imports them all and counts the kernels
compiled or loaded by then.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

IMPORT_SCRIPT = """
import json, sys, time
start = time.perf_counter()
import nnlib
seconds = time.perf_counter() - start
loaded = sorted(m for m in sys.modules if m.startswith("nnlib.kernels."))
import nnlib.kernels.cpu, nnlib.kernels.mlp_cpu, nnlib.backends.numba_ops
from numba.core.dispatcher import Dispatcher
kernels = {}  # every @njit function nnlib has imported, once
for name, module in list(sys.modules.items()):
    if name.startswith("nnlib"):
        for obj in vars(module).values():
            if isinstance(obj, Dispatcher):
                kernels[id(obj)] = obj
compiled = sum(len(k.signatures) for k in kernels.values())
print(json.dumps({"import_s": seconds, "kernels": len(kernels), "compiled": compiled,
                  "kernel_modules_at_import": loaded}))
"""

FIRST_FIT_SCRIPT = """
import json, sys, time
start = time.perf_counter()
import numpy as np
from nnlib import SGD, Dense, Sequential, Sigmoid
from nnlib.data import load_digits
imported = time.perf_counter()
X, y = load_digits()
model = Sequential([Dense(64, 32), Sigmoid(), Dense(32, 10)], dtype=sys.argv[1])
ready = time.perf_counter()
model.fit(X / 16, y, epochs=1, batch_size=32, optimizer=SGD(0.1), verbose=False)
done = time.perf_counter()
print(json.dumps({"import_s": imported - start, "first_fit_s": done - ready}))
"""


def _run(script, args=(), cache_dir=None):
    """The JSON a script prints as its last line, run by this Python from the repo root."""
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"the start-up script failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_import(repeats=3):
    """{"import_s": median seconds of `import nnlib`, "kernels", "compiled_at_import"}."""
    runs = [_run(IMPORT_SCRIPT) for _ in range(repeats)]
    return {"import_s": float(np.median([r["import_s"] for r in runs])),
            "kernels": runs[0]["kernels"],
            "compiled_at_import": max(r["compiled"] for r in runs),
            "kernel_modules_at_import": runs[0]["kernel_modules_at_import"]}


def measure_first_fit(dtype):
    """{"cold_s", "warm_s"}: the digits model's first one-epoch fit, compiling / from cache."""
    with tempfile.TemporaryDirectory(prefix="nnlib-bench-cache-") as cache_dir:
        cold = _run(FIRST_FIT_SCRIPT, [dtype], cache_dir)
        warm = _run(FIRST_FIT_SCRIPT, [dtype], cache_dir)
    return {"cold_s": cold["first_fit_s"], "warm_s": warm["first_fit_s"],
            "import_warm_s": warm["import_s"]}


def measure_startup(dtypes=("float32", "float64"), import_repeats=3):
    """Import time and, per dtype, the cold and warm first fit."""
    result = measure_import(import_repeats)
    result["first_fit"] = {dtype: measure_first_fit(dtype) for dtype in dtypes}
    return result
