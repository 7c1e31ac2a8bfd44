"""Optimizers: they see (param, grad) pairs and update each param in place.

SGD with momentum (notebook 05):  v = mu v - lr (g + wd p);  p = p + v.
Adam (notebook 05): bias-corrected first and second moments of g.
``weight_decay`` (L2 regularisation) adds wd * p to each weight gradient;
the model applies it to the parameters each layer names in ``decayed``
(weights), never to biases.

``clip_norm`` (notebook 09): before each step, when the global norm of all
the gradients together, ||g|| = sqrt(sum over every gradient array of the
sum of its squared entries), exceeds clip_norm, every gradient is scaled
by clip_norm / ||g||: the step keeps its direction and its length is capped
(Pascanu, Mikolov & Bengio, 2013; PyTorch's ``clip_grad_norm_``). Clipping
each entry on its own would change the direction. Applied before weight
decay; the layers' own gradient arrays are left as they were.

``step(pairs, backend)`` runs the NumPy reference below, or the update
kernels of ``nnlib.backends.ops(backend)`` (Numba or CUDA); the fused
trainers use the same state arrays, so a model can switch between paths
without the optimizer noticing.
"""
import numpy as np

from nnlib._validate import check_positive_float
from nnlib.backends import check_backend, ops
from nnlib.kernels.codes import OPT_ADAM, OPT_SGD, Hyper


class Optimizer:
    """Shared bookkeeping: one state slot per parameter position, a step count t."""

    code = None  # kernel code, see nnlib.kernels.codes
    n_slots = 0  # state arrays per parameter

    def __init__(self, lr, weight_decay, clip_norm=None):
        self.lr = check_positive_float(lr, "lr")
        self.clip_norm = None if clip_norm is None else check_positive_float(
            clip_norm, "clip_norm", example=5.0)
        self.weight_decay = check_positive_float(weight_decay, "weight_decay",
                                                 allow_zero=True, example=1e-4)
        self.t = 0
        self.state = None  # list (one entry per param) of tuples of arrays

    def init_state(self, params):
        """Zeroed state arrays shaped like each parameter (kept across fit calls)."""
        shapes = [(p.shape, p.dtype) for p in params]
        if self.state is None or [(s[0].shape, s[0].dtype) for s in self.state] != shapes:
            self.state = [tuple(np.zeros_like(p) for _ in range(self.n_slots)) for p in params]
            self.t = 0
        return self.state

    def step(self, pairs, backend="numpy", decay=None):
        """Update every param of ``pairs`` = [(param, grad), ...] in place.

        ``decay[i]`` says whether pair i gets weight decay (default: 2-D
        params, i.e. weights, do; biases do not). Models pass the layers'
        own rule (``Layer.decayed``).
        """
        backend = check_backend(backend)
        pairs = [(p, _check_pair(i, p, g, self.lr, backend)) for i, (p, g) in enumerate(pairs)]
        if self.clip_norm is not None:
            pairs = clip_by_global_norm(pairs, self.clip_norm)
        state = self.init_state([p for p, _ in pairs])
        self.t += 1
        kernels = None if backend == "numpy" else ops(backend)
        for i, (p, g) in enumerate(pairs):
            wd = self.weight_decay if (decay[i] if decay else p.ndim > 1) else 0.0
            if kernels is None:
                self._numpy(p, g, *state[i], wd)
            else:
                # reshape(-1) of a C-contiguous array is a view, so the
                # kernel's in-place update lands in p (_check_pair made sure).
                flat = [a.reshape(-1) for a in (p, g) + state[i]]
                self._kernel(kernels, *flat, wd)

    def hyper(self):
        """The settings as the kernels read them: a ``codes.Hyper``."""
        raise NotImplementedError

    def _clip_repr(self):
        return "" if self.clip_norm is None else f", clip_norm={self.clip_norm}"


def global_norm(grads):
    """||g|| = sqrt(sum of every squared entry of every array in ``grads``), a float."""
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))


def clip_by_global_norm(pairs, clip_norm):
    """(param, grad) pairs with the grads scaled by clip_norm / ||g|| when ||g|| > clip_norm.

    New gradient arrays; the ones passed in are not changed.
    """
    norm = global_norm([g for _, g in pairs])
    if norm <= clip_norm:
        return pairs
    scale = clip_norm / norm
    return [(p, (g * scale).astype(p.dtype)) for p, g in pairs]


def _check_pair(i, p, g, lr, backend):
    """The gradient of pair i as a C-contiguous array of p's shape and dtype.

    p is updated in place, so it must be a float array (C-contiguous for the
    Numba kernels, which update a flat view of it).
    """
    is_float = isinstance(p, np.ndarray) and p.dtype.kind == "f"
    if not is_float or (backend != "numpy" and not p.flags.c_contiguous):
        raise TypeError(
            f"parameter {i} must be a C-contiguous float NumPy array (it is updated "
            f"in place), got {type(p).__name__} {getattr(p, 'dtype', '')}; create "
            f"it with np.ascontiguousarray(p, dtype=np.float64)."
        )
    g = np.ascontiguousarray(g, dtype=p.dtype)
    if g.shape != p.shape:
        raise ValueError(
            f"gradient {i} has shape {g.shape} but its parameter has shape {p.shape}; "
            f"pass (param, grad) pairs with matching shapes."
        )
    if not np.isfinite(g).all():
        raise FloatingPointError(
            f"gradient {i} contains NaN or inf; lower the learning rate "
            f"(lr={lr}) or check the loss."
        )
    return g


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (heavy-ball) momentum."""

    code = OPT_SGD
    n_slots = 1

    def __init__(self, lr=0.1, momentum=0.0, weight_decay=0.0, clip_norm=None):
        super().__init__(lr, weight_decay, clip_norm)
        self.momentum = check_positive_float(momentum, "momentum", allow_zero=True, example=0.9)
        if self.momentum >= 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}; 0.9 is usual.")

    def _numpy(self, p, g, v, wd):
        v *= self.momentum
        v -= self.lr * (g + wd * p)
        p += v

    def _kernel(self, kernels, p, g, v, wd):
        kernels.sgd_update(p, g, v, self.lr, self.momentum, wd)

    def hyper(self):
        return Hyper(lr=self.lr, momentum=self.momentum, beta1=0.0, beta2=0.0, eps=0.0,
                     weight_decay=self.weight_decay)

    def __repr__(self):
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay}"
                f"{self._clip_repr()})")


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): per-parameter step sizes from running moments."""

    code = OPT_ADAM
    n_slots = 2

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, clip_norm=None):
        super().__init__(lr, weight_decay, clip_norm)
        if np.shape(betas) != (2,):
            raise ValueError(
                f"betas must be a pair (beta1, beta2), got {betas!r}; (0.9, 0.999) is usual."
            )
        b1, b2 = betas
        for name, beta in (("betas[0]", b1), ("betas[1]", b2)):
            check_positive_float(beta, name, allow_zero=True, example=0.9)
            if beta >= 1:
                raise ValueError(f"{name} must be in [0, 1), got {beta}; (0.9, 0.999) is usual.")
        self.betas = (float(b1), float(b2))
        self.eps = check_positive_float(eps, "eps", example=1e-8)

    def _numpy(self, p, g, m, v, wd):
        b1, b2 = self.betas
        g = g + wd * p
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        m_hat = m / (1 - b1 ** self.t)
        v_hat = v / (1 - b2 ** self.t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def _kernel(self, kernels, p, g, m, v, wd):
        kernels.adam_update(p, g, m, v, self.lr, self.betas[0], self.betas[1], self.eps, self.t, wd)

    def hyper(self):
        return Hyper(lr=self.lr, momentum=0.0, beta1=self.betas[0], beta2=self.betas[1],
                     eps=self.eps, weight_decay=self.weight_decay)

    def __repr__(self):
        return (f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay}{self._clip_repr()})")
