"""Which stacks the fused trainers take: Dense [activation] Dense [activation] ...

Shared by ``numba_fused`` and ``cuda_fused``, which stand side by side.
"""
from nnlib.kernels.codes import ACT_CODES, IDENTITY


def dense_stack(layers):
    """(dense layers, activation code after each) for a fusable stack, else None.

    None for anything else: an activation first, two activations in a row,
    or any layer that is neither Dense nor an elementwise activation.
    """
    from nnlib.layers import Activation, Dense

    dense, acts = [], []
    for layer in layers:
        if type(layer) is Dense:
            dense.append(layer)
            acts.append(IDENTITY)
        elif isinstance(layer, Activation) and layer.op in ACT_CODES and dense and acts[-1] == IDENTITY:
            acts[-1] = ACT_CODES[layer.op]
        else:
            return None
    return (dense, acts) if dense else None
