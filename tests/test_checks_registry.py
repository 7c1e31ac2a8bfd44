"""Every check in the registry rejects NaN, inf, a wrong shape and a 1%-off answer, by name.

The wrong answers are built generically, so a new chapter's exercises are
covered as soon as their check is registered (``nncourse.checks.registry()``)
and their solution notebook exists: the reference answer of exercise N.k is
the function that ``solutions/*.ipynb`` passes to ``check("N.k", ...)``, and
each wrong answer wraps it and spoils what it returns:

- ``nan`` / ``inf``: every float in the result becomes NaN / inf (an answer
  made only of ints, like labels or counts, becomes a float array of them);
- ``shape``: every array gets one more entry along its last axis, every
  number becomes two numbers;
- ``off``: every float is 1% too large, every whole number about 1% (at
  least 1) too large (only where the answer is unique, see
  ``NO_UNIQUE_ANSWER``).

A function that returns nothing and updates its arguments in place has those
updates spoiled instead; a CUDA kernel (a builder that returns one) has the
device arrays it writes (those a launch changed) spoiled after each launch. The
check must reject each with ``CheckFailed`` whose message names the problem:
"nan" or "inf", the shape, or the expected value.

Excluded, with the reason, rather than silently passed:
- ``NO_UNIQUE_ANSWER``: exercises any of many answers solves (weights that
  compute a gate, a random initialisation judged by its statistics, a
  diagnostic judged by ranges): an answer 1% off is still right there.
- kernels and the ``shape`` case: the caller allocates the array a kernel
  writes, so a kernel cannot produce a wrong shape (writing past the end is
  tested in tests/test_checks_ch06.py).
Written answers and plots have no check in the registry, so they never
appear here.
"""
import ast
import copy
import functools
import importlib
import linecache
import re
import types
from pathlib import Path

import nbformat
import numpy as np
import pytest
from IPython.core.inputtransformer2 import TransformerManager

import nncourse.checks as checks_package
from nncourse.checks import CheckFailed, check, registry

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = sorted(registry(), key=lambda key: tuple(map(int, key.split("."))))
KINDS = ("nan", "inf", "shape", "off")

NO_UNIQUE_ANSWER = {
    "1.4": "any weights that compute the majority of three inputs pass; 1% larger ones still do",
    "2.5": "any weights that compute 'exactly one of three' with confident outputs pass",
    "5.5": "a random initialisation is judged by its mean and spread (3% tolerance)",
}

# What a message must contain for each kind of wrong answer (case-insensitive).
NAMES_THE_PROBLEM = {
    "nan": r"\bnan\b",
    "inf": r"\binf\b|infinite",
    "shape": r"shape|single number|\bone (whole )?number|\bone relative error|\d+ values|\d+ weights",
    "off": r"expected|should be|relative error|differ|must be|is not right|no longer match",
}


# ----------------------------------------------------------------- the reference answers
_PLAIN_STATEMENTS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)


def _definitions(source, filename):
    """The imports, definitions and constants of a cell's code (no side effects).

    A constant is an assignment to plain names whose value calls nothing:
    literals, and containers of names such as a table of functions.

    The cell's code is registered under ``filename`` in linecache, as IPython
    does, so that ``inspect.getsource`` finds it (the kernel checks read it).
    """
    code = TransformerManager().transform_cell(source)
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    tree = ast.parse(code)
    kept = []
    for node in tree.body:
        if isinstance(node, _PLAIN_STATEMENTS):
            kept.append(node)
        elif (isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets)
              and not any(isinstance(n, ast.Call) for n in ast.walk(node.value))):
            kept.append(node)
    return ast.Module(body=kept, type_ignores=[])


def _checked_names(source):
    """{exercise id: name} for every ``check("N.k", name)`` in a grading cell."""
    found = {}
    for node in ast.walk(ast.parse(TransformerManager().transform_cell(source))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check"
                and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[1], ast.Name)):
            found[node.args[0].value] = node.args[1].id
    return found


@functools.lru_cache(maxsize=None)
def reference_answers():
    """{exercise id: the solution notebooks' function for it}, from solutions/*.ipynb."""
    answers = {}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        namespace = {"__name__": f"solution_{path.stem}"}
        for index, cell in enumerate(nbformat.read(str(path), as_version=4).cells):
            if cell.cell_type != "code":
                continue
            if cell.metadata.get("nbgrader", {}).get("grade"):
                answers.update({key: namespace[name] for key, name in _checked_names(cell.source).items()
                                if name in namespace})
            else:
                filename = f"<{path.relative_to(ROOT)} cell {index}>"
                for node in _definitions(cell.source, filename).body:
                    statement = ast.Module(body=[node], type_ignores=[])
                    try:
                        exec(compile(statement, filename, "exec"), namespace)  # noqa: S102
                    except NameError:  # a constant built from a value this reading skipped
                        if not isinstance(node, ast.Assign):
                            raise
    return answers


# ----------------------------------------------------------------- spoiling an answer
def _is_number(value):
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "iuf"
    return isinstance(value, (int, float, np.integer, np.floating))


def _is_kernel(value):
    return callable(getattr(value, "__getitem__", None)) and type(value).__module__.startswith("numba")


def _leaves(value):
    """Every number or array inside nested tuples, lists and dicts."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value] if _is_number(value) else []


def _floats_only(value):
    """Spoil only the float entries when there are any (labels next to them stay right)."""
    return any(np.asarray(leaf).dtype.kind == "f" for leaf in _leaves(value))


def spoil_array(arr, kind):
    """A copy of the numbers ``arr`` with the problem ``kind``."""
    arr = np.asarray(arr)
    if kind == "nan":
        return np.full(arr.shape, np.nan)
    if kind == "inf":
        return np.full(arr.shape, np.inf)
    if kind == "off" and arr.dtype.kind == "f":
        return arr * 1.01
    if kind == "off":  # whole numbers stay whole: about 1% off, at least 1
        step = np.maximum(1, np.round(np.abs(arr) * 0.01)).astype(arr.dtype)
        return arr + np.where(arr < 0, -step, step)
    if arr.ndim == 0:  # shape: one number becomes two
        return np.array([arr, arr])
    return np.concatenate([arr, arr[..., :1]], axis=-1)  # one more entry along the last axis


def spoil(value, kind, floats_only):
    """``value`` with every (float) number spoiled; tuples, lists and dicts keep their form."""
    if isinstance(value, dict):
        return {key: spoil(item, kind, floats_only) for key, item in value.items()}
    if isinstance(value, list) and value and all(_is_number(item) and np.ndim(item) == 0 for item in value):
        if floats_only and not any(isinstance(item, (float, np.floating)) for item in value):
            return value
        return list(spoil_array(value, kind))  # a list of numbers is one array
    if isinstance(value, (list, tuple)):
        return type(value)(spoil(item, kind, floats_only) for item in value)
    if not _is_number(value) or floats_only and np.asarray(value).dtype.kind != "f":
        return value
    spoiled = spoil_array(value, kind)
    return spoiled if isinstance(value, np.ndarray) or spoiled.ndim else spoiled[()]


def _spoil_in_place(now, before, kind):
    """Spoil the arrays a function changed in place: ``now`` are its arguments, ``before`` copies."""
    changed = 0
    if isinstance(now, (list, dict)):
        keys = now.keys() if isinstance(now, dict) else range(len(now))
        for key in keys:
            item, old = now[key], before[key]
            if isinstance(item, np.ndarray) and kind == "shape" and not np.array_equal(item, old):
                now[key] = spoil_array(item, kind)
                changed += 1
            else:
                changed += _spoil_in_place(item, old, kind)
    elif isinstance(now, np.ndarray) and now.dtype.kind == "f" and not np.array_equal(now, before):
        if kind == "shape":
            pytest.skip("an array updated in place keeps its shape; no wrong shape to hand back")
        now[...] = spoil_array(now, kind)
        changed += 1
    return changed


class SpoiledKernel:
    """A CUDA kernel whose outputs (the device arrays a launch changed) are spoiled after every launch."""

    def __init__(self, kernel, kind):
        self.kernel, self.kind = kernel, kind
        self.py_func = getattr(kernel, "py_func", None) or getattr(kernel, "fn", None)  # its source

    def __getitem__(self, launch_config):
        launch = self.kernel[launch_config]

        def run(*args):
            arrays = [a for a in args if hasattr(a, "copy_to_host")]
            before = [a.copy_to_host() for a in arrays]
            launch(*args)
            for out, old in zip(arrays, before):  # an output written in place (e.g. sgd_step's p) too
                now = out.copy_to_host()
                if not np.array_equal(now, old, equal_nan=True):
                    out.copy_to_device(spoil_array(now, self.kind))
        return run


def spoiled(answer, kind):
    """``answer`` (a correct function) turned into one that gives a wrong result of ``kind``."""
    def wrong(*args, **kwargs):
        before = copy.deepcopy((args, kwargs))
        result = answer(*args, **kwargs)
        if _is_kernel(result):
            if kind == "shape":
                pytest.skip("a kernel writes into an array its caller allocates: it cannot "
                            "return a wrong shape")
            return SpoiledKernel(result, kind)
        if isinstance(result, types.GeneratorType):
            result = list(result)
        if _leaves(result):
            return spoil(result, kind, _floats_only(result))
        if not _spoil_in_place([list(args), kwargs], [list(before[0]), before[1]], kind):
            raise AssertionError(f"cannot spoil {answer.__name__}: it returns no numbers and "
                                 f"changes no array in place; exclude it here with a reason")
        return result
    wrong.__name__ = answer.__name__
    return wrong


# ----------------------------------------------------------------- the tests
def test_every_registered_exercise_has_a_reference_answer():
    missing = [key for key in EXERCISES if key not in reference_answers()]
    assert not missing, (f"no solutions/*.ipynb grading cell calls check(id, fn) for {missing}: "
                         f"the tests below need the solution to build wrong answers from")


def test_the_exclusions_name_registered_exercises():
    assert set(NO_UNIQUE_ANSWER) <= set(EXERCISES), sorted(set(NO_UNIQUE_ANSWER) - set(EXERCISES))


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_reference_answer_passes_its_check(exercise_id, capsys):
    check(exercise_id, reference_answers()[exercise_id])
    assert f"Exercise {exercise_id} (" in capsys.readouterr().out


CASES = [(key, kind) for key in EXERCISES for kind in KINDS
         if not (kind == "off" and key in NO_UNIQUE_ANSWER)]


@pytest.mark.parametrize("exercise_id, kind", CASES)
def test_a_spoiled_answer_is_rejected_with_a_message_that_names_the_problem(exercise_id, kind):
    wrong = spoiled(reference_answers()[exercise_id], kind)
    with pytest.raises(CheckFailed, match=rf"^Exercise {re.escape(exercise_id)} \(") as failure:
        check(exercise_id, wrong)
    assert failure.value.error is None, f"the check crashed on the answer instead of judging it: {failure.value}"
    assert re.search(NAMES_THE_PROBLEM[kind], str(failure.value), re.IGNORECASE), str(failure.value)


# ----------------------------------------------------------------- NaN-safe comparisons
_NAN_UNSAFE = {ast.LtE: ast.Gt, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE}


class _NanUnsafe(ast.NodeTransformer):
    """Rewrite ``not a <= b`` as ``a > b`` (and alike): equal for numbers, not for NaN."""

    def __init__(self):
        self.sites = 0

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        inner = node.operand
        if (isinstance(node.op, ast.Not) and isinstance(inner, ast.Compare) and len(inner.ops) == 1
                and type(inner.ops[0]) in _NAN_UNSAFE):
            self.sites += 1
            return ast.copy_location(ast.Compare(inner.left, [_NAN_UNSAFE[type(inner.ops[0])]()],
                                                 inner.comparators), node)
        return node


def _chapter_modules():
    """{module name: [exercise ids]} of the registry."""
    modules = {}
    for key, entry in registry().items():
        modules.setdefault(entry.check.__module__, []).append(key)
    return modules


def _mutable(name):
    transformer = _NanUnsafe()
    transformer.visit(ast.parse(Path(importlib.import_module(name).__file__).read_text(encoding="utf-8")))
    return transformer.sites


@pytest.fixture
def restored_registry():
    """The check registry as it was, after a test that re-registers mutated checks."""
    saved = dict(checks_package._REGISTRY)
    yield
    checks_package._REGISTRY.clear()
    checks_package._REGISTRY.update(saved)


@pytest.mark.parametrize("module", [name for name in _chapter_modules() if _mutable(name)])
def test_nan_is_rejected_even_where_a_tolerance_test_is_written_nan_unsafe(module, restored_registry):
    """Plant ``error > TOLERANCE`` for ``not error <= TOLERANCE`` (issue 19, item 1), in every
    such comparison of the module: NaN and inf answers must still fail, by name, because the
    shared helpers test for them explicitly before any comparison."""
    source = Path(importlib.import_module(module).__file__).read_text(encoding="utf-8")
    tree = ast.fix_missing_locations(_NanUnsafe().visit(ast.parse(source)))
    planted = types.ModuleType(module)
    planted.__dict__["__name__"] = module
    exec(compile(tree, f"<{module} with NaN-unsafe comparisons>", "exec"), planted.__dict__)  # noqa: S102
    for exercise_id in _chapter_modules()[module]:
        assert checks_package._REGISTRY[exercise_id].check.__code__.co_filename.startswith("<")  # planted
        for kind in ("nan", "inf"):
            with pytest.raises(CheckFailed, match=rf"^Exercise {re.escape(exercise_id)} \(") as failure:
                check(exercise_id, spoiled(reference_answers()[exercise_id], kind))
            assert re.search(NAMES_THE_PROBLEM[kind], str(failure.value), re.IGNORECASE), str(failure.value)
