"""Backends: the one place that decides where a model's maths runs.

``Sequential(backend=...)`` asks :func:`trainer_for` once, when it is built,
and passes the backend down (to each layer call, the loss and the optimizer
step) as an argument: no layer stores it, nothing re-decides it.

- ``"numpy"``: the readable reference, ``nnlib.functional``, layer by layer.
- ``"numba"`` (default): compiled CPU kernels. A stack of Dense layers, each
  optionally followed by one activation, trains as one compiled call per
  epoch (:mod:`nnlib.backends.numba_fused`), and so does one that also holds
  BatchNorm and Dropout layers (:mod:`nnlib.backends.numba_fused_norm`); any
  other stack runs layer by layer with each layer's own Numba kernels
  (:mod:`nnlib.backends.layerwise`).
- ``"cuda"``: numba.cuda kernels on an NVIDIA GPU; the same split, with
  :mod:`nnlib.backends.cuda_fused` for Dense stacks (notebook 07); stacks
  with BatchNorm or Dropout run layer by layer there.

A layer lists the modules that hold its kernels for each backend
(``Layer.kernels``); a layer without kernels for the chosen backend is an
error that names the backend, never a silent run somewhere else.
"""
import functools
import importlib

from nnlib._validate import check_choice

BACKENDS = ("numba", "numpy", "cuda")
DEFAULT_BACKEND = "numba"

# Where each backend's losses and optimizer updates live (same signatures
# as the reference in nnlib.functional / nnlib.optim).
OPS_MODULES = {
    "numpy": "nnlib.functional",
    "numba": "nnlib.backends.numba_ops",
    "cuda": "nnlib.backends.cuda_ops",
}


def check_backend(backend):
    """The backend name, or a clear error listing the choices."""
    backend = check_choice(backend, "backend", BACKENDS)
    if backend == "cuda":
        problem = cuda_problem()
        if problem:
            raise RuntimeError(problem)
    return backend


def ops(backend):
    """The module with ``backend``'s losses (``LOSSES``) and optimizer updates."""
    return importlib.import_module(OPS_MODULES[backend])


@functools.lru_cache(maxsize=None)
def cuda_problem():
    """None when numba.cuda can run here (a GPU, or the simulator); else what is wrong and what to do.

    Asked once per process: the answer cannot change after Numba is imported
    (the simulator is chosen at import), and ``check_backend`` runs on every
    optimizer step of a layer-by-layer CUDA fit.
    """
    try:  # numba-cuda is optional (the "gpu" extra); imported only when asked for
        from numba import cuda
    except ImportError as exc:
        return (f"backend='cuda' needs the numba-cuda package ({exc}). Install it with "
                f"pip install 'numba-cuda>=0.30,<0.31' (or pip install -e '.[gpu]'), or use backend='numba'.")
    if not cuda.is_available():
        return ("backend='cuda' found no usable NVIDIA GPU (numba.cuda.is_available() is False). "
                "Use backend='numba' on this machine, or run the CUDA code in Numba's simulator "
                "(slow, for correctness checks only) by setting NUMBA_ENABLE_CUDASIM=1 before "
                "Numba is imported.")
    return None


def trainer_for(backend, layers):
    """The trainer that runs ``layers`` on ``backend``: fused where the stack allows, else layer by layer.

    Every trainer has the same three calls: ``start_fit(X, y_int, y_float)``
    (once per fit: the data's one trip to the device, a no-op on the CPU),
    ``train_epoch(X, y_int, y_float, order, batch_size, optimizer, loss) ->
    (mean loss, correct count)`` and ``predict(X) -> output``.
    """
    from nnlib.backends.layerwise import LayerwiseTrainer

    backend = check_backend(backend)
    if backend == "numba":
        from nnlib.backends.numba_fused import NumbaFusedMLP
        from nnlib.backends.numba_fused_norm import NumbaFusedNormMLP
        fused = NumbaFusedMLP.build(layers) or NumbaFusedNormMLP.build(layers)
        if fused is None:  # conv stacks: layer by layer with single-threaded BLAS (notebook 08)
            from nnlib.backends.numba_conv_trainer import NumbaConvTrainer
            fused = NumbaConvTrainer.build(layers)
    elif backend == "cuda":
        from nnlib.backends.cuda_fused import CudaFusedMLP
        fused = CudaFusedMLP.build(layers)
    else:
        fused = None
    return fused if fused is not None else LayerwiseTrainer(layers, backend)
