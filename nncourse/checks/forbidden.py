"""Which nnlib functions an exercise's answer must not call (issue 12, issue 21).

nnlib ships the reference of many exercises (``nnlib.perceptron.predict``,
``nnlib.functional.sigmoid_backward``, ...). An answer that merely calls
nnlib's implementation of the very function it is asked to write earns no
points: ``check`` refuses it with :data:`MESSAGE`, and the grader refuses it
with the same table. Later exercises may of course use nnlib for what
earlier chapters taught; only the entries below are refused.

``FORBIDDEN``: exercise id -> dotted paths of the nnlib objects its answer
must not use. Each chapter adds its own entries (one table for the course).

Two ways to look, for two callers:

- :func:`violations` (``check`` calls it through :func:`refuse`): the
  learner's function object, its code (nested functions and lambdas
  included), the globals and closure values it names, attribute chains on
  modules (``F.sigmoid_backward``), and the learner's own functions it
  calls (defined in the same notebook), recursively;
- :func:`violations_in_source` (for the grader, which has the notebook's
  cells but not the kernel's objects): the exercise cell's source, with the
  imports of the other cells (``context``) to resolve aliases such as
  ``from nnlib import functional as F``.

Both compare *objects* (``nnlib.functional.sigmoid_backward`` is the same
function as ``nnlib.functional.activations.sigmoid_backward``), so any alias
or import path is caught.
"""
import ast
import importlib
import types

from nncourse.checks import CheckFailed

FORBIDDEN = {
    # chapter 1: nnlib.perceptron is the reference of the perceptron exercises
    "1.1": ("nnlib.perceptron.predict", "nnlib.perceptron.Perceptron"),
    "1.2": ("nnlib.perceptron.update", "nnlib.perceptron.Perceptron"),
    "1.3": ("nnlib.perceptron.update", "nnlib.perceptron.Perceptron"),
    # chapter 2: activations and losses of nnlib.functional
    "2.1": ("nnlib.functional.sigmoid", "nnlib.functional.sigmoid_forward", "nnlib.layers.Sigmoid"),
    "2.2": ("nnlib.functional.sigmoid_backward",),
    "2.3": ("nnlib.functional.binary_cross_entropy", "nnlib.functional.losses.binary_cross_entropy_with_logits"),
    "2.4": ("nnlib.functional.sigmoid_backward", "nnlib.functional.binary_cross_entropy",
            "nnlib.functional.mse", "nnlib.functional.dense_backward",
            "nnlib.gradcheck.numerical_gradient"),
    # chapter 3: the dense layer and the model
    "3.1": ("nnlib.functional.dense_forward", "nnlib.layers.Dense", "nnlib.Dense"),
    "3.2": ("nnlib.Sequential",),
    # chapter 4: backpropagation (checks also watch the call: nncourse.checks._own)
    "4.1": ("nnlib.functional.activations.relu_backward", "nnlib.layers.base.Layer.backward"),
    "4.3": ("nnlib.functional.losses.softmax_cross_entropy",),
    "4.4": ("nnlib.model.Sequential.backward", "nnlib.model.Sequential.fit",
            "nnlib.layers.base.Layer.backward", "nnlib.backends.layerwise.backward",
            "nnlib.gradcheck.numerical_gradient"),
    "4.5": (),
    # chapter 5: training on the digits
    "5.1": (),
    "5.2": ("nnlib.optim.Optimizer.step", "nnlib.optim.SGD._numpy"),
    "5.3": ("nnlib.model.Sequential.evaluate",),
    "5.4": (),
    "5.5": ("nnlib.layers.dense.Dense.reset",),
    # chapter 6: batch norm and dropout
    "6.3": ("nnlib.functional.norm.batchnorm_forward", "nnlib.functional.norm.batchnorm_running_forward",
            "nnlib.layers.norm.BatchNorm"),
    "6.4": ("nnlib.functional.norm.batchnorm_backward", "nnlib.layers.norm.BatchNorm"),
    "6.5": ("nnlib.functional.norm.dropout_forward", "nnlib.functional.norm.dropout_mask_forward",
            "nnlib.layers.norm.Dropout"),
    "6.6": ("nnlib.functional.norm.dropout_backward", "nnlib.layers.norm.Dropout"),
    # chapter 7: speedups (nnlib's own CUDA kernels)
    "7.1": ("nnlib.kernels.cuda.sgd_kernel", "nnlib.kernels.cuda.sgd_update"),
    "7.2": ("nnlib.kernels.cuda_matmul.tiled_kernel", "nnlib.kernels.cuda_matmul.make_blocked_kernel",
            "nnlib.kernels.cuda_matmul.matmul"),
    # chapter 8: convolution and max pooling (nnlib.functional.conv and its kernels)
    "8.1": ("nnlib.functional.conv.output_size", "nnlib.layers.conv.Conv2D"),
    "8.2": ("nnlib.functional.conv.conv2d_forward", "nnlib.backends.numba_conv.conv2d_forward",
            "nnlib.backends.cuda_conv.conv2d_forward", "nnlib.kernels.conv_cpu.conv2d_forward",
            "nnlib.kernels.conv_cpu.im2col", "nnlib.layers.conv.Conv2D"),
    "8.3": ("nnlib.functional.conv.conv2d_backward", "nnlib.functional.conv.conv2d_forward",
            "nnlib.backends.numba_conv.conv2d_backward", "nnlib.backends.cuda_conv.conv2d_backward",
            "nnlib.kernels.conv_cpu.conv2d_backward", "nnlib.layers.conv.Conv2D",
            "nnlib.gradcheck.numerical_gradient"),
    "8.4": ("nnlib.functional.conv.maxpool2d_backward", "nnlib.functional.conv.maxpool2d_forward",
            "nnlib.backends.numba_conv.maxpool2d_backward", "nnlib.backends.cuda_conv.maxpool2d_backward",
            "nnlib.kernels.conv_cpu.maxpool2d_backward", "nnlib.layers.conv.MaxPool2D"),
    "8.5": ("nnlib.model.Sequential", "nnlib.layers.conv.Conv2D", "nnlib.layers.dense.Dense"),
    # chapter 9: recurrence
    "9.1": ("nnlib.functional.recurrent.rnn_forward", "nnlib.functional.recurrent.rnn_backward",
            "nnlib.layers.recurrent.RNN", "nnlib.gradcheck.numerical_gradient"),
    "9.2": ("nnlib.optim.clip_by_global_norm", "nnlib.optim.global_norm"),
    "9.3": ("nnlib.functional.losses.softmax",),
    "9.4": (),
    "9.5": ("nnlib.functional.recurrent.lstm_forward",),
    # chapter 10: the GAN's losses (10.3 and 10.4 may use anything)
    "10.1": ("nnlib.functional.losses.binary_cross_entropy_with_logits",
             "nnlib.functional.losses.binary_cross_entropy"),
    "10.2": ("nnlib.functional.losses.binary_cross_entropy_with_logits",
             "nnlib.functional.losses.binary_cross_entropy"),
    "10.3": (),
    "10.4": (),
}

# Exercises whose checks call the answer through ``nncourse.checks._own.call_own``,
# which watches the call itself for these entries (and so does the grader, which
# replays those calls): ``refuse`` leaves them to it, so both say the same thing.
CHECKED_AT_CALL = frozenset({"4.1", "4.3", "4.4", "4.5", "5.1", "5.2", "5.3", "5.4", "5.5"})

MESSAGE = ("your {function} calls {names}: write it yourself; nnlib's version is the "
           "reference you are compared with.")


def forbidden_objects(exercise_id):
    """{object: dotted path} of the entries of ``exercise_id`` that import (others are skipped)."""
    found = {}
    for path in FORBIDDEN.get(str(exercise_id), ()):
        obj = _resolve(path)
        if obj is not None:
            found[id(obj)] = path
    return found


def message(exercise_id, names, function="answer"):
    """The text a learner (and the grader's feedback) reads for an answer that calls ``names``."""
    return MESSAGE.format(function=function, names=", ".join(sorted(names)))


# ----------------------------------------------------------------- runtime (check)
def violations(exercise_id, answer):
    """The dotted paths of forbidden nnlib objects that ``answer`` (a function) uses; sorted."""
    forbidden = forbidden_objects(exercise_id)
    if not forbidden or not callable(answer):
        return []
    hits, seen = set(), set()
    _visit(answer, forbidden, hits, seen, getattr(answer, "__globals__", {}), depth=0)
    return sorted(hits)


def refuse(exercise_id, answer):
    """Raise CheckFailed if ``answer`` merely calls nnlib's implementation (``check`` calls this)."""
    if str(exercise_id) in CHECKED_AT_CALL:
        return
    names = violations(exercise_id, answer)
    if names:
        raise CheckFailed(message(exercise_id, names, getattr(answer, "__name__", "answer")))


def _visit(fn, forbidden, hits, seen, learner_globals, depth):
    if id(fn) in seen or depth > 4:
        return
    seen.add(id(fn))
    if id(fn) in forbidden:
        hits.add(forbidden[id(fn)])
        return
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    scope = getattr(fn, "__globals__", learner_globals)
    values = [cell.cell_contents for cell in (getattr(fn, "__closure__", None) or ())
              if _filled(cell)]
    values += list(getattr(fn, "__defaults__", None) or ())
    for names in _names(code):
        values += [scope[name] for name in names if name in scope]
    modules = [v for v in values if isinstance(v, types.ModuleType)]
    all_names = {name for names in _names(code) for name in names}
    for _ in range(3):  # attribute chains: F.sigmoid_backward, nnlib.functional.dense_forward
        found = [getattr(m, n) for m in modules for n in all_names if hasattr(m, n)]
        values += found
        modules = [v for v in found if isinstance(v, types.ModuleType)]
    for value in values:
        if id(value) in forbidden:
            hits.add(forbidden[id(value)])
        elif isinstance(value, types.FunctionType) and getattr(value, "__module__", None) in (
                "__main__", getattr(fn, "__module__", None)) and not _is_library(value):
            _visit(value, forbidden, hits, seen, learner_globals, depth + 1)  # the learner's own helper


def _names(code):
    """co_names of ``code`` and of every code object nested in it (lambdas, inner functions)."""
    yield code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _filled(cell):
    try:
        cell.cell_contents
    except ValueError:  # an empty closure cell
        return False
    return True


def _is_library(fn):
    module = getattr(fn, "__module__", "") or ""
    return module.split(".")[0] in ("nnlib", "nncourse", "numpy")


def _resolve(path):
    """The object at a dotted path such as 'nnlib.functional.sigmoid', or None."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj
    return None


# ----------------------------------------------------------------- source (grader)
def violations_in_source(exercise_id, source, context=""):
    """Forbidden nnlib objects named in ``source`` (an exercise cell's code); sorted dotted paths.

    ``context``: the code of the notebook's other cells, for their imports
    (``from nnlib import functional as F`` in the first cell). Code that does
    not parse (a learner's syntax error) is skipped.
    """
    forbidden = forbidden_objects(exercise_id)
    if not forbidden:
        return []
    aliases = {}
    for text in (context, source):
        tree = _parse(text)
        if tree is not None:
            aliases.update(_imports(tree))
    tree = _parse(source)
    if tree is None:
        return []
    hits = set()
    for node in ast.walk(tree):
        dotted = _dotted(node, aliases)
        if dotted:
            obj = _resolve(dotted)
            if obj is not None and id(obj) in forbidden:
                hits.add(forbidden[id(obj)])
    for dotted in _imports(tree).values():  # an import inside the cell names it too
        obj = _resolve(dotted)
        if obj is not None and id(obj) in forbidden:
            hits.add(forbidden[id(obj)])
    return sorted(hits)


def _parse(text):
    lines = [line for line in (text or "").splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _imports(tree):
    """{local name: dotted path} of every import in ``tree``."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _dotted(node, aliases):
    """'nnlib.functional.sigmoid' for F.sigmoid (with F an alias of nnlib.functional), else None."""
    if not isinstance(node, (ast.Name, ast.Attribute)):
        return None
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id]] + parts[::-1])
