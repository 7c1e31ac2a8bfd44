"""The verdict of one grading cell, decided in the grader's process; the kernel only answers calls.

The grading cell's code (trusted: it comes from solutions/) runs *only
here*, in a fresh namespace holding the solution notebook's imports. Each
exercise function in that namespace is a stub of a ``Remote``: calling it
sends the inputs, as plain data, to the student's kernel, where ``probe``'s
server calls the student's function and answers with the result as plain
data, which ``decode`` rebuilds strictly. So the test's source, its expected
values and its hidden inputs never enter the kernel (a student's function
cannot read them from the caller's frame, ``In`` or a file), and ``check``
and the hidden tests compare with this process's NumPy and nnlib, which the
student's code never touched. A function the tests pass in stays here and is
called back through the kernel's stdin channel.

In-place changes come back only where the solution itself changes that
argument in place (``notebook.mutated_parameters``; a CUDA kernel's
arguments always): the tests' other arrays stay as they built them, so a
function that zeroes its inputs cannot steer a test that computes the
expected value from them after the call.
"""
import builtins
import contextlib
import io
import itertools
import json
import linecache
import re
import time
import types
import warnings
from dataclasses import dataclass, field

from nncourse.grade import probe
from nncourse.grade.decode import DecodeError, bounded_json, decode
from nncourse.grade.notebook import to_python
from nncourse.grade.seed import hidden_seed_context

MAX_PAYLOAD = 64 * 2**20
MAX_CALLBACKS = 10_000
CALLABLE_MODULES = ("numpy", "math", "nnlib", "scipy", "builtins")


class KernelLost(BaseException):
    """The kernel hung ("timeout") or died ("died") while answering a call (no check may catch it)."""

    def __init__(self, status, function=""):
        super().__init__(status)
        self.status, self.function = status, function


@dataclass
class Judgement:
    status: str    # "passed", "failed", "not attempted"
    message: str
    nnlib: list = field(default_factory=list)   # nnlib functions the student's code called


class Remote:
    """The student's kernel as the tests see it: each exercise function is called there, live.

    ``transport(method, request, on_input)`` runs ``__nnlib_grade__.method(request)``
    in the kernel and returns the payload strings it published (or raises
    KernelLost); ``mutates`` maps an exercise function to (its parameter names,
    those the solution changes in place).
    """

    def __init__(self, transport, token, mutates=None):
        self.transport, self.token, self.mutates = transport, token, mutates or {}
        self.nnlib, self.profiled, self.callbacks = set(), True, {}
        self.answered = 0

    def request(self, method, data):
        texts = self.transport(method, json.dumps(data), self.answer_callback)
        return read_payload(texts, self.token)

    def prepare(self, functions, values):
        """(exercise functions the notebook defines, {name: value} of what the tests read from it)."""
        reply = self.request("prepare", {"functions": list(functions), "values": list(values)})
        defined = [name for name in reply.get("functions", []) if name in functions]
        found = reply.get("values") if isinstance(reply.get("values"), dict) else {}
        return defined, {name: self.decode(value) for name, value in found.items()
                         if name in functions or name in values}

    def stub(self, name):
        def remote(*args, **kwargs):
            return self.call(name, args, kwargs)
        remote.__name__ = remote.__qualname__ = name
        return remote

    def decode(self, data):
        return decode(data, handles=lambda handle: HandleStub(self, handle))

    def call(self, name, args, kwargs, launch=None):
        import numpy as np
        request = {"fn": name, "args": self.encode(list(args)), "kwargs": self.encode(dict(kwargs)),
                   "errstate": np.geterr()}  # the caller's np.errstate (e.g. a check's over="raise")
        if launch is not None:
            request["launch"] = self.encode(launch)
        record = self.request("call", request)
        calls = record.get("nnlib")
        self.nnlib |= {str(c)[:200] for c in calls[:probe.MAX_NNLIB_CALLS]} if isinstance(calls, list) else set()
        self.profiled = self.profiled and record.get("profiled") is True
        self.write_back(name, args, kwargs, record.get("mutated"))
        for category, text in _pairs(record.get("warnings"))[:20]:
            warnings.warn(probe.short(text, 300), _warning_class(category), stacklevel=3)
        if "raised" in record:
            kind, message = (_pairs([record["raised"]]) or [("Exception", "")])[0]
            raise _rebuild_exception(kind, probe.short(message))
        return self.decode(record.get("value"))

    def write_back(self, name, args, kwargs, mutated):
        """Copy in-place changes into the tests' arguments where the solution changes them too."""
        params, changes = self.mutates.get(name, ([], set()))
        for path, value in _pairs(mutated):
            if not isinstance(path, list) or not path:
                continue
            top = path[0]
            param = top if isinstance(top, str) else params[top] if isinstance(top, int) and top < len(params) else None
            if name.startswith("handle#") or param in changes:
                _write_back(args, kwargs, path, self.decode(value))

    def encode(self, value):
        return probe.encode(value, callables=self.reference)

    def reference(self, value):
        """How a function in the tests' inputs reaches the kernel: by name, as a handle, or as a callback."""
        if isinstance(value, HandleStub):
            return {"~": "handle", "id": value._nnlib_handle}
        module, name = getattr(value, "__module__", None) or "", getattr(value, "__name__", "")
        if module.split(".")[0] in CALLABLE_MODULES and name:
            try:
                if getattr(__import__(module, fromlist=[name]), name) is value:
                    return {"~": "ref", "module": module, "name": name}
            except (ImportError, AttributeError):
                pass
        if callable(value):
            number = len(self.callbacks)
            self.callbacks[number] = value
            return {"~": "callback", "id": number, "name": str(name or "f")[:100]}
        return None

    def answer_callback(self, prompt):
        """The kernel's input(): a call of one of the tests' functions, with the student's arguments."""
        if not prompt.startswith(probe.CALLBACK_PROMPT) or self.answered >= MAX_CALLBACKS:
            return json.dumps({"raised": "(not a call the grader made)"})
        self.answered += 1
        try:
            request = bounded_json(prompt[len(probe.CALLBACK_PROMPT):])
            function = self.callbacks[request["callback"]]
            args, kwargs = self.decode(request["args"]), self.decode(request["kwargs"])
            with contextlib.redirect_stdout(io.StringIO()):
                value = function(*args, **(kwargs if isinstance(kwargs, dict) else {}))
            return json.dumps({"value": self.encode(value)})
        except Exception as exc:  # noqa: BLE001 - the student's arguments may be anything
            return json.dumps({"raised": probe.short(f"{type(exc).__name__}: {exc}")})


class HandleStub:
    """A function or CUDA kernel a student's function returned: it stays in the kernel, calls go there."""

    def __init__(self, remote, data):
        self._remote, self._nnlib_handle = remote, data.get("id")
        self.__name__ = str(data.get("name", "f"))[:100]
        self.py_func = self.fn = _function_with_source(self.__name__, str(data.get("source", ""))[:100_000])

    def __call__(self, *args, **kwargs):
        return self._remote.call(f"handle#{self._nnlib_handle}", args, kwargs)

    def __getitem__(self, config):
        return lambda *args, **kwargs: self._remote.call(
            f"handle#{self._nnlib_handle}[]", args, kwargs, launch=config)


_SOURCES = itertools.count()


def _function_with_source(name, source):
    """A do-nothing function whose inspect.getsource() is ``source`` (for checks that read code)."""
    filename = f"<student's {name} {next(_SOURCES)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile("def f():\n    pass\n", filename, "exec").co_consts[0]
    return types.FunctionType(code, {}, name)


def read_payload(texts, token):
    """The one answer (a dict) to this request, or raise ValueError saying what is wrong.

    Each text is checked for size, then depth, before it is parsed.
    """
    found = []
    for text in texts:
        try:
            data = bounded_json(text, MAX_PAYLOAD)
        except DecodeError as exc:
            if "not valid JSON" in str(exc):
                continue
            raise ValueError(f"the grader could not read what your functions returned: {exc}") from None
        if isinstance(data, dict) and data.get("token") == token:
            found.append(data)
    if len(found) != 1:
        raise ValueError("the grader did not receive exactly one answer from your notebook "
                         f"({len(found)}); something in the notebook interfered with the grader.")
    return found[0]


def judge(cell, remote, namespace, forbidden=(), seed=None):
    """Run grading cell ``cell`` here, calling the student's functions through ``remote``.

    ``forbidden``: nnlib functions (prefixes of module.qualname) this exercise
    must not call. KernelLost propagates (the caller restarts the kernel).
    """
    ns = dict(namespace, __builtins__=builtins, __name__="__nnlib_grade__")
    printed = io.StringIO()
    try:
        defined, values = remote.prepare(cell.functions, cell.values)
        ns.update({name: remote.stub(name) for name in defined}, **values)
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings(), hidden_seed_context(seed):
            exec(compile(to_python(cell.source), f"<grading cell {cell.grade_id}>", "exec"), ns)
        verdict = Judgement("passed", _pass_line(printed.getvalue()))
    except NotImplementedError as exc:
        verdict = Judgement("not attempted", str(exc)) if re.match(r"^Exercise \d+\.\d+", str(exc)) else \
            Judgement("failed", f"NotImplementedError: {exc}")
    except (KeyboardInterrupt, KernelLost):
        raise
    except DecodeError as exc:
        verdict = Judgement("failed", f"the grader could not read your results: {exc}")
    except BaseException as exc:  # noqa: BLE001 - the check's verdict, e.g. CheckFailed
        verdict = Judgement("failed", _one_line(f"{_exception_name(exc)}{exc}"))
    verdict.nnlib = sorted(remote.nnlib)
    used = sorted(name for name in remote.nnlib if any(_within(name, f) for f in forbidden))
    if used:
        verdict.status = "failed"
        verdict.message = (f"your code calls nnlib's own `{used[0]}`, the function this exercise asks you to "
                           f"write: no points for it (write it yourself).")
    elif not remote.profiled:
        verdict.status = "failed"
        verdict.message = ("your code switched off the grader's record of the functions it calls "
                           "(sys.setprofile), so this exercise cannot be graded.")
    return verdict


def _within(name, prefix):
    return name == prefix or name.startswith(prefix + ".")


def _pairs(items):
    """[(a, b), ...] from a list of 2-item lists; anything malformed is dropped."""
    if not isinstance(items, list):
        return []
    return [(item[0], item[1]) for item in items if isinstance(item, list) and len(item) == 2]


def base_namespace(assignment):
    """The solution's imports, executed once here (before any kernel runs)."""
    ns = {"__builtins__": builtins}
    for line in assignment.imports:
        try:
            exec(compile(line, "<solution imports>", "exec"), ns)
        except Exception:  # noqa: BLE001 - a missing optional module fails its own tests
            pass
    for label in sorted({cell.label for cell in assignment.grading.values()}):
        chapter = label.split(".")[0]
        if chapter.isdigit():
            with contextlib.suppress(ImportError):
                __import__(f"nncourse.checks.ch{int(chapter):02d}")
    return ns


def _pass_line(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    passed = [line for line in lines if line.startswith("\u2714")]
    return _one_line((passed or lines or ["passed"])[-1].lstrip("\u2714 "))


def _one_line(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _exception_name(exc):
    return "" if type(exc).__name__ == "CheckFailed" else f"{type(exc).__name__}: "


def _write_back(args, kwargs, path, value):
    import numpy as np
    try:
        target = args[path[0]] if type(path[0]) is int else kwargs[path[0]]
        target = target[path[1]] if len(path) > 1 else target
        if hasattr(target, "copy_to_device"):  # a CUDA device array
            target.copy_to_device(np.ascontiguousarray(value, dtype=target.dtype))
        else:
            np.copyto(target, value)
    except Exception:  # noqa: BLE001 - wrong shape/dtype: the tests see the array unchanged
        pass


def _rebuild_exception(name, message):
    """The student's exception, as a builtin type when it is one (never anything it could define)."""
    kind = getattr(builtins, str(name), None)
    if isinstance(kind, type) and issubclass(kind, Exception):
        try:
            return kind(str(message))
        except Exception:  # noqa: BLE001 - exotic constructor signatures
            pass
    safe = re.sub(r"\W", "", str(name))[:60] or "Error"
    return type(safe, (Exception,), {})(str(message))


def _warning_class(name):
    kind = getattr(builtins, str(name), None)
    return kind if isinstance(kind, type) and issubclass(kind, Warning) else UserWarning
