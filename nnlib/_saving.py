"""File helpers behind ``Sequential.save`` / ``load`` / ``from_file``.

A saved model is one .npz file: ``__spec__`` (JSON: the layer types and
sizes, and the dtype) and the parameters ``p0, p1, ...`` in the order of
``Sequential.parameters()`` (W then b of each Dense layer).
"""
import json
import os

import numpy as np


def npz_path(path):
    """np.savez appends ".npz" to names without it; load must look for the same file."""
    if isinstance(path, (str, os.PathLike)) and not os.fspath(path).endswith(".npz"):
        return os.fspath(path) + ".npz"
    return path


def describe_layer(kind, n_in, n_out):
    """"Dense(2, 3)" or "ReLU()": how error messages name a layer."""
    return f"{kind}({n_in}, {n_out})" if kind == "Dense" else f"{kind}()"


def read_saved(path, known_types):
    """(spec, [parameter arrays]) from a file written by Sequential.save."""
    path = npz_path(path)
    try:
        with np.load(path) as data:
            spec = json.loads(str(data["__spec__"]))
            n_params = 2 * sum(s["type"] == "Dense" for s in spec["layers"])
            saved = [data[f"p{i}"] for i in range(n_params)]
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
    return spec, saved
