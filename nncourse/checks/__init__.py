"""Instant feedback for the exercises: ``check("1.2", perceptron_update)``.

Each chapter has a module ``nncourse.checks.chNN`` that registers one check per
exercise with ``@exercise("N.k", "title")``. A check calls the learner's
function on small inputs, compares with nnlib's reference and either
returns a one-line summary (printed as a pass) or raises ``CheckFailed``
with what is wrong on which input: expected vs got, wrong shape, wrong
dtype, returned None, NaN. A stub's ``NotImplementedError`` passes through
unchanged, so an untouched exercise shows its own "Exercise N.k: ..." text;
a check can never pass a stub.

The comparison helpers below (``expect_array``, ``expect_scalar``, ...) are
also what the hidden tests in ``solutions/`` use; ``call`` runs the learner's
function (with optional ``hints`` per exception type) and ``show`` formats a
value for a message.
"""
import importlib

import numpy as np

_REGISTRY = {}


class CheckFailed(AssertionError):
    """A learner's answer is wrong; the message says how."""


def exercise(exercise_id, title):
    """Register the decorated function as the check for exercise ``exercise_id``."""
    def register(fn):
        _REGISTRY[exercise_id] = (title, fn)
        return fn
    return register


def check(exercise_id, answer, **options):
    """Run the check of ``exercise_id`` on ``answer``; print a pass line or raise CheckFailed.

    Returns None, so a cell that ends with ``check(...)`` shows only the pass line.
    """
    title, fn = _lookup(exercise_id)
    try:
        summary = fn(answer, **options)
    except CheckFailed as failure:
        raise CheckFailed(f"Exercise {exercise_id} ({title}): {failure}") from None
    print(f"\u2714 Exercise {exercise_id} ({title}) passed" + (f": {summary}" if summary else "."))


def _lookup(exercise_id):
    if exercise_id not in _REGISTRY:
        chapter = str(exercise_id).split(".")[0]
        try:
            importlib.import_module(f"nncourse.checks.ch{int(chapter):02d}")
        except (ValueError, ModuleNotFoundError):
            pass
    if exercise_id not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none loaded"
        raise KeyError(f"no check for exercise {exercise_id!r} (known: {known}).")
    return _REGISTRY[exercise_id]


# ---------------------------------------------------------------- helpers
def call(fn, *args, what=None, hints=None, **kwargs):
    """Call the learner's function; any error other than the stub's becomes CheckFailed.

    ``what`` describes the input in the message (default: the arguments);
    ``hints`` maps an exception type to one more sentence of advice, e.g.
    ``{FloatingPointError: "exp overflowed: use the two-branch form."}``.
    """
    if not callable(fn):
        raise CheckFailed(f"expected a function, got {type(fn).__name__} {fn!r}.")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as exc:  # the learner's bug, reported with its input
        shown = what or _describe_args(args, kwargs)
        advice = next((f" {text}" for kind, text in (hints or {}).items() if isinstance(exc, kind)), "")
        raise CheckFailed(
            f"your function raised {type(exc).__name__}: {exc} (on {shown}).{advice}") from None


def _describe_args(args, kwargs):
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return "input " + ", ".join(parts)


def show(value):
    """A short text for a value in a message: small arrays in full, big ones by shape."""
    if isinstance(value, np.ndarray):
        if value.size <= 8:
            return np.array2string(value, precision=3, separator=", ").replace("\n", "")
        return f"array of shape {value.shape}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return repr(value)


_short = show  # the name the helpers below use


def expect_array(got, expected, what, rtol=1e-6, atol=1e-8, dtype_kind=None):
    """Fail with a specific message unless ``got`` equals ``expected`` (as arrays)."""
    expected = np.asarray(expected)
    if got is None:
        raise CheckFailed(f"{what}: your function returned None; did you forget `return`?")
    try:
        arr = np.asarray(got)
    except Exception:  # noqa: BLE001 - anything that will not become an array
        raise CheckFailed(f"{what}: expected an array, got {type(got).__name__}.") from None
    if arr.dtype.kind not in "biuf":
        raise CheckFailed(f"{what}: expected numbers, got dtype {arr.dtype}.")
    if arr.shape != expected.shape:
        raise CheckFailed(f"{what}: expected shape {expected.shape}, got {arr.shape}.")
    if dtype_kind and arr.dtype.kind not in dtype_kind:
        wanted = " or ".join(dict.fromkeys(_KIND_NAMES[k] for k in dtype_kind))
        raise CheckFailed(
            f"{what}: expected {wanted} values, got dtype {arr.dtype}; "
            f"convert with .astype({_KIND_NAMES[dtype_kind[0]]}).")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise CheckFailed(f"{what}: your result contains NaN or inf: {_short(arr)}.")
    if not np.allclose(arr, expected, rtol=rtol, atol=atol):
        diff = np.abs(arr.astype(float) - expected.astype(float))
        worst = np.unravel_index(np.argmax(diff), diff.shape) if diff.ndim else ()
        if expected.size <= 8:  # small: show both in full
            where = f" (largest difference at index {tuple(int(i) for i in worst)})" if worst else ""
            raise CheckFailed(f"{what}: expected {_short(expected)}, got {_short(arr)}{where}.")
        n_wrong = int((~np.isclose(arr, expected, rtol=rtol, atol=atol)).sum())
        index = tuple(int(i) for i in worst)
        raise CheckFailed(
            f"{what}: {n_wrong} of {expected.size} entries differ; the largest difference is at "
            f"index {index}: expected {float(expected[worst]):.6g}, got {float(arr[worst]):.6g}.")
    return arr


_KIND_NAMES = {"b": "bool", "i": "int", "u": "int", "f": "float"}


def expect_scalar(got, expected, what, rtol=1e-6, atol=1e-8):
    """Fail unless ``got`` is one finite number close to ``expected``; return it as a float.

    ``expected=None`` accepts any finite number (e.g. a bias the learner chose).
    """
    if got is None:
        raise CheckFailed(f"{what}: your function returned None; did you forget `return`?")
    try:
        arr = np.asarray(got)
    except Exception:  # noqa: BLE001 - anything that will not become an array
        arr = np.array(None)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        raise CheckFailed(f"{what}: expected a single number, got {_short(got)}.")
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        near = "" if expected is None else f" near {expected:.6g}"
        raise CheckFailed(f"{what}: got {value}; expected a finite number{near}.")
    if expected is not None and not np.isclose(value, expected, rtol=rtol, atol=atol):
        raise CheckFailed(f"{what}: expected {expected:.6g}, got {value:.6g}.")
    return value


def expect_tuple(got, length, what):
    """Fail unless ``got`` is a tuple/list of ``length`` items."""
    if got is None:
        raise CheckFailed(f"{what}: your function returned None; did you forget `return`?")
    if not isinstance(got, (tuple, list)) or len(got) != length:
        raise CheckFailed(f"{what}: expected {length} values (a tuple), got {_short(got)}.")
    return got


def rng(seed=0):
    """The generator every check uses, so feedback is the same on every run."""
    return np.random.default_rng(seed)
