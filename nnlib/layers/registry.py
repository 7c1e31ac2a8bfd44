"""Every layer type a saved model may name, and how to rebuild one from its spec."""
from nnlib.layers.activations import ReLU, Sigmoid, Tanh
from nnlib.layers.dense import Dense

LAYER_TYPES = {cls.__name__: cls for cls in (Dense, ReLU, Sigmoid, Tanh)}


def register(cls):
    """Add a layer class to the types ``Sequential.save`` / ``from_file`` know; returns cls."""
    LAYER_TYPES[cls.__name__] = cls
    return cls


def layer_from_spec(spec):
    """A fresh layer from {"type": name, "config": {...}} (files of nnlib 0.1: n_in, n_out)."""
    cls = LAYER_TYPES[spec["type"]]
    config = spec.get("config")
    if config is None:  # the first file format stored Dense sizes only
        config = {"n_in": spec["n_in"], "n_out": spec["n_out"]} if cls is Dense else {}
    return cls(**config)
