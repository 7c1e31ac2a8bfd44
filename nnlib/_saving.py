"""File helpers behind ``Sequential.save`` / ``load`` / ``from_file``.

A saved model is one .npz file: ``__spec__`` (JSON: each layer's type and
constructor arguments, and the dtype), the parameters ``p0, p1, ...`` in
the order of ``Sequential.parameters()`` (W then b of each Dense layer) and
the running statistics ``s0, s1, ...`` in the order of ``buffers()``.
"""
import json
import os

import numpy as np


def npz_path(path):
    """np.savez appends ".npz" to names without it; load must look for the same file."""
    if isinstance(path, (str, os.PathLike)) and not os.fspath(path).endswith(".npz"):
        return os.fspath(path) + ".npz"
    return path


def read_saved(path, known_types):
    """(spec, [parameter arrays], [buffer arrays]) from a file written by Sequential.save."""
    path = npz_path(path)
    try:
        with np.load(path) as data:
            spec = json.loads(str(data["__spec__"]))
            n_params = sum(k.startswith("p") and k[1:].isdigit() for k in data.files)
            n_buffers = sum(k.startswith("s") and k[1:].isdigit() for k in data.files)
            params = [data[f"p{i}"] for i in range(n_params)]
            buffers = [data[f"s{i}"] for i in range(n_buffers)]
            spec["layers"]  # noqa: B018 (a KeyError here means: not our file)
    except FileNotFoundError:
        raise
    except (KeyError, ValueError, TypeError, OSError) as exc:  # no __spec__, not an .npz, ...
        raise ValueError(
            f"{path} is not a model written by Sequential.save ({type(exc).__name__}: "
            f"{exc}); save the model with model.save(path) first."
        ) from None
    unknown = [s["type"] for s in spec["layers"] if s["type"] not in known_types]
    if unknown:
        raise ValueError(
            f"{path} contains layers this nnlib does not know: {unknown}; "
            f"known layers are {sorted(known_types)}."
        )
    return spec, params, buffers
