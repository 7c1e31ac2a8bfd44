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

A failed check shows as one block in the notebook (``_render``): the
exercise, what is wrong on which input, the likely mistake, how to ask for a
``hint``, and the learner's own frames when their code raised; never
nnlib's or nncourse's. The cell still fails (the exception is raised).
"""
import importlib
import pkgutil
import textwrap
from typing import NamedTuple

import numpy as np

from nncourse.checks import _moved, _render

_REGISTRY = {}
_HINTS_SHOWN = {}


class Exercise(NamedTuple):
    """A registry entry: the exercise's title, its check function and its hints."""
    title: str
    check: object
    hints: tuple = ()


class CheckFailed(AssertionError):
    """A learner's answer is wrong; the message says how.

    ``CheckFailed(problem, advice="", error=None)``: ``problem`` says what is
    wrong on which input, ``advice`` names the likely mistake, ``error`` is the
    exception the learner's own code raised when that is what went wrong.
    ``str()`` is all of it on one line (what the grader reports); ``check``
    adds the exercise in front. In IPython it renders as one block without
    library frames (``_render_traceback_``, see ``nncourse.checks._render``).
    """

    def __init__(self, problem, advice="", error=None, exercise=None):
        self.problem, self.advice = str(problem), str(advice or "").strip()
        self.error, self.exercise = error, exercise  # exercise: (id, title, number of hints)
        text = f"{self.problem} {self.advice}" if self.advice else self.problem
        super().__init__(f"Exercise {exercise[0]} ({exercise[1]}): {text}" if exercise else text)

    def with_advice(self, advice):
        """This failure with one more sentence about the likely mistake (a new CheckFailed)."""
        joined = " ".join(part for part in (self.advice, str(advice or "").strip()) if part)
        return CheckFailed(self.problem, joined, self.error, self.exercise)

    def _render_traceback_(self):
        return _render.failure_block(self)


def exercise(exercise_id, title, hints=()):
    """Register the decorated function as the check for exercise ``exercise_id``.

    ``hints``: progressive hints, a nudge first and then the key equation,
    never the code; ``hint("N.k")`` shows them one at a time.
    """
    def register(fn):
        _REGISTRY[exercise_id] = Exercise(title, fn, tuple(hints))
        return fn
    return register


def check(exercise_id, answer, **options):
    """Run the check of ``exercise_id`` on ``answer``; print a pass line or raise CheckFailed.

    Returns None, so a cell that ends with ``check(...)`` shows only the pass line.
    An old chapter's id with that chapter's function (``check("6.2",
    build_tiled_matmul)`` from a speedups notebook saved before it became
    chapter 7) runs the exercise's current check (``_moved``).
    """
    exercise_id, moved_note = _moved.current_id(exercise_id, answer)
    if moved_note:
        print(moved_note)
    try:
        title, fn, hints = _lookup(exercise_id)
    except KeyError as unknown:
        raise _render.attach(unknown, lambda unknown=unknown: _render.message_block(
            f"check({exercise_id!r}, ...)", unknown.args[0])) from None
    try:
        importlib.import_module(f"{__name__}.forbidden").refuse(exercise_id, answer)  # not nnlib's own
        summary = fn(answer, **options)
    except CheckFailed as failure:
        raise CheckFailed(failure.problem, failure.advice, failure.error,
                          (exercise_id, title, len(hints))) from None
    except NotImplementedError as stub:  # the learner's stub: its own type and text stay
        _render.attach(stub, lambda stub=stub: _render.unfinished_block(stub, exercise_id, title))
        raise
    print(f"\u2714 Exercise {exercise_id} ({title}) passed" + (f": {summary}" if summary else "."))


def hint(exercise_id, number=None):
    """Print a hint for exercise ``exercise_id``: the next one each call, or hint ``number`` (1, 2, ...)."""
    title, _, hints = _lookup(exercise_id)
    if not hints:
        print(f"Exercise {exercise_id} ({title}) has no hints: its check's message says what is "
              f"wrong on which input.")
        return
    if number is None:
        number = min(_HINTS_SHOWN.get(exercise_id, 0) + 1, len(hints))
    if not (isinstance(number, int) and 1 <= number <= len(hints)):
        raise ValueError(f"exercise {exercise_id} has hints 1 to {len(hints)}, not {number!r}.")
    _HINTS_SHOWN[exercise_id] = max(number, _HINTS_SHOWN.get(exercise_id, 0))
    more = ", the last one" if number == len(hints) else f'; run hint("{exercise_id}") again for the next'
    print(f"Hint {number} of {len(hints)} for exercise {exercise_id} ({title}){more}:")
    print(textwrap.fill(hints[number - 1], 88, initial_indent="  ", subsequent_indent="  "))


def registry():
    """Every exercise of the course's chapter modules (``chNN``), by id: {id: Exercise}."""
    chapters = [f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__)
                if m.name.startswith("ch") and m.name[2:].isdigit()]
    for name in chapters:
        importlib.import_module(name)
    found = {key: entry for key, entry in _REGISTRY.items() if entry.check.__module__ in chapters}
    return dict(sorted(found.items(), key=lambda item: tuple(map(int, item[0].split(".")))))


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
        advice = next((text for kind, text in (hints or {}).items() if isinstance(exc, kind)), "")
        raise CheckFailed(f"your function raised {type(exc).__name__}: {exc} (on {shown}).",
                          advice, error=exc) from None


def _describe_args(args, kwargs):
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return "input " + ", ".join(parts) if parts else "no input: it takes no arguments"


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


def expect_finite(arr, what):
    """Fail unless every entry of the array ``arr`` is a finite number; return it.

    NaN and inf are failures in their own right, named as such, tested
    before any comparison (a comparison with NaN is False either way round,
    so ``error > tolerance`` would let it through).
    """
    arr = np.asarray(arr)
    if arr.dtype.kind in "fc":
        bad = [name for name, test in (("NaN", np.isnan), ("inf", np.isinf)) if test(arr).any()]
        if bad:
            raise CheckFailed(f"{what}: your result contains {' and '.join(bad)}: {_short(arr)}.")
    return arr


def expect_numbers(got, what, shape=None):
    """Fail unless ``got`` is an array (or number) of finite numbers; return it as an array.

    ``shape``: the shape it must have, ``None`` in a place for any length,
    e.g. ``(None, 3)`` for any number of rows of 3.
    """
    if got is None:
        raise CheckFailed(f"{what}: your function returned None; did you forget `return`?")
    try:
        arr = np.asarray(got)
    except Exception:  # noqa: BLE001 - anything that will not become an array
        raise CheckFailed(f"{what}: expected an array, got {type(got).__name__}.") from None
    if arr.dtype.kind not in "biuf":
        raise CheckFailed(f"{what}: expected numbers, got dtype {arr.dtype}.")
    if shape is not None and (arr.ndim != len(shape) or any(
            want is not None and have != want for have, want in zip(arr.shape, shape))):
        shown = str(tuple("any" if n is None else n for n in shape)).replace("'", "")
        raise CheckFailed(f"{what}: expected shape {shown}, got {arr.shape}.")
    return expect_finite(arr, what)


def expect_array(got, expected, what, rtol=1e-6, atol=1e-8, dtype_kind=None):
    """Fail with a specific message unless ``got`` equals ``expected`` (as arrays)."""
    expected = np.asarray(expected)
    arr = expect_numbers(got, what, expected.shape)  # None, not numbers, shape, NaN or inf
    if dtype_kind and arr.dtype.kind not in dtype_kind:
        wanted = " or ".join(dict.fromkeys(_KIND_NAMES[k] for k in dtype_kind))
        raise CheckFailed(
            f"{what}: expected {wanted} values, got dtype {arr.dtype}; "
            f"convert with .astype({_KIND_NAMES[dtype_kind[0]]}).")
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
    if not np.isfinite(value):  # explicit: NaN fails every comparison below, either way round
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
