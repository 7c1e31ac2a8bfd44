"""Datasets for the course: toy sets, the UCI digits, a train/test split.

Every toy set is generated from a seed with ``np.random.default_rng(seed)``,
so the same call gives the same data on every machine. Each returns
``(X, y)`` with ``X`` float64 of shape (n, 2) and ``y`` int64 of shape (n,);
classes are balanced (``n_samples`` split as evenly as possible, the first
classes get one more) and the rows are shuffled.

Notebooks: logic gates in ``notebooks/01_perceptron.ipynb``; blobs, moons,
circles and spirals in chapters 1-4; the digits in
``notebooks/05_digits.ipynb``. MNIST lives in :mod:`nnlib.mnist` and is
re-exported here as :func:`load_mnist`.
"""
import functools
import gzip
import hashlib
import importlib.resources
import io
import math
import numbers

import numpy as np

from nnlib.mnist import ChecksumError, DownloadError, load_mnist, parse_idx

__all__ = [
    "logic_gate", "blobs", "moons", "circles", "spirals", "load_digits",
    "train_test_split", "load_mnist", "parse_idx", "ChecksumError", "DownloadError",
    "load_digit_images",
]

_GATES = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "nand": [1, 1, 1, 0],
    "xor": [0, 1, 1, 0],
}

DIGITS_FILE = "datasets/digits.csv.gz"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
DIGITS_SHAPE = (1797, 65)  # 64 pixels + 1 label per row


# ---------------------------------------------------------------- checks
def _check_n_samples(n_samples, n_classes):
    ok = isinstance(n_samples, numbers.Integral) and not isinstance(n_samples, bool)
    if not ok or n_samples < n_classes:
        raise ValueError(
            f"n_samples must be a whole number >= {n_classes} (one sample per "
            f"class at least), got {n_samples!r}; pass e.g. n_samples=200."
        )
    return int(n_samples)


def _check_nonneg(value, name, example):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value < 0:
        raise ValueError(
            f"{name} must be a finite number >= 0, got {value!r}; "
            f"pass e.g. {name}={example} ({name}=0 gives noise-free data)."
        )
    return float(value)


def _class_sizes(n_samples, n_classes):
    """Balanced class sizes: [n // k + 1] * (n % k) + [n // k] * rest."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (c < extra) for c in range(n_classes)]


def _shuffled(X, y, rng):
    order = rng.permutation(len(y))
    return X[order].astype(np.float64), y[order].astype(np.int64)


def _labels(sizes):
    return np.repeat(np.arange(len(sizes)), sizes)  # (n,)


# ---------------------------------------------------------------- toy sets
def logic_gate(name):
    """The truth table of a two-input logic gate.

    ``name`` is "and", "or", "nand" or "xor" (any case). Returns ``X`` float64
    (4, 2), the corners [[0,0],[0,1],[1,0],[1,1]], and ``y`` int64 (4,), the
    gate's output for each row. XOR is the set a single perceptron cannot
    learn (``notebooks/01_perceptron.ipynb``).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string such as 'xor', got {type(name).__name__}.")
    key = name.strip().lower()
    if key not in _GATES:
        valid = ", ".join(repr(g) for g in _GATES)
        raise ValueError(f"unknown logic gate {name!r}; choose one of {valid}.")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)  # (4, 2)
    return X, np.array(_GATES[key], dtype=np.int64)


def _blob_centers(centers):
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        k = int(centers)
        if k < 1:
            raise ValueError(f"centers must be >= 1, got {k}; pass e.g. centers=2.")
        # k centres evenly on a circle, neighbours at least 4 apart.
        radius = max(4.0, 2.0 / math.sin(math.pi / k)) if k > 1 else 0.0
        angle = 2 * np.pi * np.arange(k) / k
        return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (k, 2)
    arr = np.asarray(centers, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) == 0 or not np.isfinite(arr).all():
        raise ValueError(
            f"centers must be an int or a finite array of shape (k, 2), got shape "
            f"{arr.shape}; e.g. centers=[[-2, 0], [2, 0]]."
        )
    return arr


def blobs(n_samples=200, centers=2, std=1.0, seed=0):
    """Gaussian blobs: class c is drawn from N(centres[c], std**2 I).

    ``centers`` is an int k (k centres evenly spaced on a circle around the
    origin, radius max(4, 2 / sin(pi / k)), so neighbours are >= 4 apart) or
    an array of shape (k, 2). Returns ``X`` float64 (n_samples, 2) and ``y``
    int64 (n_samples,) in 0..k-1. Used in chapters 1-2 (linear separability).
    """
    mu = _blob_centers(centers)  # (k, 2)
    n = _check_n_samples(n_samples, len(mu))
    std = _check_nonneg(std, "std", 1.0)
    rng = np.random.default_rng(seed)
    y = _labels(_class_sizes(n, len(mu)))  # (n,)
    X = mu[y] + std * rng.standard_normal((n, 2))  # (n, 2)
    return _shuffled(X, y, rng)


def moons(n_samples=200, noise=0.1, seed=0):
    """Two interleaving half-circles, the classic non-linear set.

    Class 0: (cos t, sin t), t evenly in [0, pi] (upper unit half-circle).
    Class 1: (1 - cos t, 0.5 - sin t), the lower half-circle centred (1, 0.5).
    Gaussian noise of standard deviation ``noise`` is added to both
    coordinates. Returns ``X`` float64 (n_samples, 2), ``y`` int64 (n_samples,).
    Used in chapters 2-4 (hidden layers bend the decision boundary).
    """
    n0, n1 = _class_sizes(_check_n_samples(n_samples, 2), 2)
    noise = _check_nonneg(noise, "noise", 0.1)
    rng = np.random.default_rng(seed)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    outer = np.stack([np.cos(t0), np.sin(t0)], axis=1)  # (n0, 2)
    inner = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)  # (n1, 2)
    X = np.concatenate([outer, inner]) + noise * rng.standard_normal((n0 + n1, 2))
    return _shuffled(X, _labels([n0, n1]), rng)


def circles(n_samples=200, noise=0.05, factor=0.5, seed=0):
    """A small circle inside a large one.

    Class 0: the unit circle (cos t, sin t); class 1: the circle of radius
    ``factor`` (0 < factor < 1); angles t evenly spaced in [0, 2 pi). Gaussian
    noise of standard deviation ``noise`` is added to both coordinates.
    Returns ``X`` float64 (n_samples, 2), ``y`` int64 (n_samples,).
    Used in chapters 2-4 (no straight line separates the classes).
    """
    n0, n1 = _class_sizes(_check_n_samples(n_samples, 2), 2)
    noise = _check_nonneg(noise, "noise", 0.05)
    ok = isinstance(factor, numbers.Real) and not isinstance(factor, bool)
    if not ok or not 0 < factor < 1:
        raise ValueError(f"factor must be between 0 and 1 (exclusive), got {factor!r}; "
                         f"pass e.g. factor=0.5 for an inner circle of radius 0.5.")
    rng = np.random.default_rng(seed)
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    outer = np.stack([np.cos(t0), np.sin(t0)], axis=1)  # (n0, 2)
    inner = factor * np.stack([np.cos(t1), np.sin(t1)], axis=1)  # (n1, 2)
    X = np.concatenate([outer, inner]) + noise * rng.standard_normal((n0 + n1, 2))
    return _shuffled(X, _labels([n0, n1]), rng)


def spirals(n_samples=300, n_classes=3, noise=0.2, seed=0):
    """The CS231n spiral: ``n_classes`` arms winding out from the origin.

    For class j with m points: r = linspace(0, 1, m),
    t = linspace(4 j, 4 (j + 1), m) + noise * N(0, 1), point = r (sin t, cos t).
    The noise perturbs the angle, not the radius, so every point has norm
    <= 1. Returns ``X`` float64 (n_samples, 2) and ``y`` int64 (n_samples,) in
    0..n_classes-1. Used in chapters 3-4 (softmax classifier vs. a small MLP).
    """
    ok = isinstance(n_classes, numbers.Integral) and not isinstance(n_classes, bool)
    if not ok or n_classes < 1:
        raise ValueError(f"n_classes must be a whole number >= 1, got {n_classes!r}; "
                         f"pass e.g. n_classes=3.")
    sizes = _class_sizes(_check_n_samples(n_samples, int(n_classes)), int(n_classes))
    noise = _check_nonneg(noise, "noise", 0.2)
    rng = np.random.default_rng(seed)
    arms = []
    for j, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)  # (m,)
        t = np.linspace(4.0 * j, 4.0 * (j + 1), m) + noise * rng.standard_normal(m)
        arms.append(r[:, None] * np.stack([np.sin(t), np.cos(t)], axis=1))  # (m, 2)
    return _shuffled(np.concatenate(arms), _labels(sizes), rng)


# ---------------------------------------------------------------- digits
def _digits_file():
    """The packaged digits file (an importlib.resources Traversable)."""
    return importlib.resources.files(__package__).joinpath(DIGITS_FILE)


def read_packaged(source, sha256, what):
    """The bytes of a data file shipped with nnlib, checked against its SHA-256.

    ``source``: an importlib.resources Traversable; ``what`` names the file in
    the errors: FileNotFoundError when it is missing, ChecksumError when its
    digest is not ``sha256``, each saying how to fix it (reinstall).
    """
    fix = "reinstall nnlib-course (pip install --force-reinstall nnlib-course)"
    if not source.is_file():
        raise FileNotFoundError(f"the {what} {source} is missing; {fix}.")
    raw = source.read_bytes()
    actual = hashlib.sha256(raw).hexdigest()
    if actual != sha256:
        raise ChecksumError(
            f"the {what} {source} is damaged: expected SHA-256 {sha256}, got {actual}; {fix}."
        )
    return raw


@functools.lru_cache(maxsize=1)
def _digits_arrays():
    """Read, verify and parse the digits once per process: X (1797, 64), y (1797,)."""
    source = _digits_file()
    raw = read_packaged(source, DIGITS_SHA256, "digits data file")
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64)
    if table.shape != DIGITS_SHAPE:  # cannot happen with the right checksum
        raise ValueError(f"{source} has shape {table.shape}, expected {DIGITS_SHAPE}; "
                         f"reinstall nnlib-course (pip install --force-reinstall nnlib-course).")
    X, y = table[:, :64].astype(np.float64), table[:, 64]  # (1797, 64), (1797,)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def load_digits(return_images=False):
    """The UCI optical-recognition handwritten digits (8x8 pixels, 10 classes).

    Returns ``X`` float64 (1797, 64), the raw pixel counts 0..16 row by row
    (learners usually scale with ``X / 16``), and ``y`` int64 (1797,), the
    digit 0..9. With ``return_images=True`` also returns ``images`` float64
    (1797, 8, 8), the same pixels as pictures. The file is checked against
    its SHA-256 before parsing and parsed once per process; every call hands
    out fresh copies. Source and licence (CC BY 4.0):
    ``nnlib/datasets/DIGITS_LICENSE.txt``. Used in ``notebooks/05_digits.ipynb``.
    """
    X_cached, y_cached = _digits_arrays()
    X, y = X_cached.copy(), y_cached.copy()
    if return_images:
        return X, y, X.reshape(-1, 8, 8).copy()  # (1797, 8, 8)
    return X, y


def load_digit_images():
    """The digits as a batch of one-channel images, the layout of a conv layer (notebook 08).

    Returns ``images`` float64 (1797, 1, 8, 8), "NCHW" (batch, channels,
    height, width) as ``nnlib.layers.Conv2D`` and PyTorch take them, pixel
    counts 0..16 (scale with ``/ 16``), and ``y`` int64 (1797,): the same
    digits, in the same order, as ``load_digits``.
    """
    X, y = load_digits()
    return X.reshape(-1, 1, 8, 8), y  # (1797, 1, 8, 8)


# ---------------------------------------------------------------- split
def _n_test(test_size, n):
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, numbers.Real) and not isinstance(test_size, bool) \
            and 0 < test_size < 1:
        # round() first: 0.07 * 100 is 7.000000000000001, which ceil makes 8
        n_test = math.ceil(round(test_size * n, 6))
    else:
        raise ValueError(f"test_size must be a fraction in (0, 1) or a whole count, "
                         f"got {test_size!r}; pass e.g. test_size=0.2.")
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"test_size={test_size!r} puts {n_test} of {n} samples in the "
                         f"test set; both sets need at least one sample.")
    return n_test


def _stratified_test_index(y, n_test, rng):
    """Pick test rows so each class keeps its share (largest-remainder rounding)."""
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        rare = classes[counts.argmin()].item()  # plain Python value for the message
        raise ValueError(f"stratify=True needs at least 2 samples per class, but class "
                         f"{rare!r} has 1; drop it or use stratify=False.")
    quota = n_test * counts / len(y)  # (n_classes,)
    take = np.floor(quota).astype(np.int64)
    leftover = np.argsort(-(quota - take), kind="stable")[: n_test - take.sum()]
    take[leftover] += 1
    picks = [rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, take)]
    return np.concatenate(picks)


def train_test_split(X, y, test_size=0.2, seed=0, stratify=False):
    """Shuffle and split ``X`` and ``y`` into a training and a test part.

    ``X`` has shape (n, ...) and ``y`` shape (n, ...); ``test_size`` is a
    fraction in (0, 1) (the test set gets ceil(test_size * n) rows) or a
    whole number of rows. With ``stratify=True`` each class of the 1-D labels
    ``y`` keeps its proportion in the test set (to within one sample).
    Returns ``X_train, X_test, y_train, y_test``, shuffled with
    ``np.random.default_rng(seed)``.
    """
    X, y = np.asarray(X), np.asarray(y)
    n_X = len(X) if X.ndim else "a scalar"
    n_y = len(y) if y.ndim else "a scalar"
    if X.ndim == 0 or y.ndim == 0 or n_X != n_y:
        raise ValueError(f"X and y must have the same length (one label per sample), "
                         f"got len(X) = {n_X} and len(y) = {n_y}.")
    n_test = _n_test(test_size, len(y))
    rng = np.random.default_rng(seed)
    if stratify:
        if y.ndim != 1:
            raise ValueError(f"stratify=True needs 1-D class labels, got y of shape "
                             f"{y.shape}; for one-hot labels pass y.argmax(axis=1).")
        test = rng.permutation(_stratified_test_index(y, n_test, rng))
    else:
        test = rng.permutation(len(y))[:n_test]
    is_test = np.zeros(len(y), dtype=bool)
    is_test[test] = True
    train = rng.permutation(np.flatnonzero(~is_test))
    return X[train], X[test], y[train], y[test]
