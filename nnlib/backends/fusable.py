"""Which stacks the fused trainers take: Dense [activation] Dense [activation] ...

``dense_stack`` is shared by ``numba_fused`` and ``cuda_fused``, which stand
side by side; ``norm_stack`` (the same with BatchNorm and Dropout anywhere
after the first Dense) is for ``numba_fused_norm``.
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


def norm_stack(layers):
    """[(stage kind, layer, activation code), ...] for ``numba_fused_norm``, else None.

    Takes any stack that starts with Dense and holds only Dense, elementwise
    activations, BatchNorm and Dropout (in any order): an activation is
    fused into the stage before it (a new ACTIVATION stage only when that
    stage has one already), and Dropout(p=0) is left out (it is the
    identity and draws nothing). None for anything else.
    """
    from nnlib.kernels.mlp_norm_cpu import ACTIVATION, BATCHNORM, DENSE, DROPOUT
    from nnlib.layers import Activation, Dense
    from nnlib.layers.norm import BatchNorm, Dropout

    kinds = {Dense: DENSE, BatchNorm: BATCHNORM, Dropout: DROPOUT}
    if not layers or type(layers[0]) is not Dense:
        return None
    stages = []
    for layer in layers:
        if type(layer) in kinds:
            if not (type(layer) is Dropout and layer.p == 0.0):
                stages.append([kinds[type(layer)], layer, IDENTITY])
        elif isinstance(layer, Activation) and layer.op in ACT_CODES:
            if stages[-1][2] != IDENTITY:
                stages.append([ACTIVATION, layer, IDENTITY])
            stages[-1][2] = ACT_CODES[layer.op]
        else:
            return None
    return [tuple(stage) for stage in stages]
