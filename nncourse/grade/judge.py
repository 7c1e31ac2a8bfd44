"""The verdict of one grading cell, decided in the grader's process from plain data.

The grading cell's code (trusted: it comes from solutions/) runs a second
time here, in a fresh namespace holding the solution notebook's imports and,
for each exercise function, a *replay*: a stand-in that checks it is called
with the same inputs as in the kernel (by digest) and returns what the
student's function returned there, decoded from JSON by ``decode.decode``. So
``check(...)`` and the hidden tests compare the student's answers against
nnlib's reference with this process's NumPy and nnlib, which the student's
code never touched. Whatever the kernel printed or patched does not matter.
"""
import builtins
import contextlib
import io
import json
import linecache
import re
import types
import warnings
from dataclasses import dataclass

from nncourse.grade import probe
from nncourse.grade.decode import DecodeError, decode
from nncourse.grade.notebook import to_python

MAX_PAYLOAD = 64 * 2**20


class ReplayDiverged(BaseException):
    """The tests asked for a call the notebook never made (BaseException: no check may catch it)."""


@dataclass
class Judgement:
    status: str    # "passed", "failed", "not attempted"
    message: str


class Replay:
    """Hands back the recorded results of the student's functions, call by call."""

    def __init__(self, calls):
        self.calls, self.position = calls, 0

    def stub(self, name):
        def replayed(*args, **kwargs):
            return self.next(name, args, kwargs)
        replayed.__name__ = replayed.__qualname__ = name
        return replayed

    def next(self, name, args, kwargs, key=()):
        if self.position >= len(self.calls):
            raise ReplayDiverged(f"the tests called `{name}` more often than it was called in your "
                                 f"notebook (did the notebook stop early?).")
        record = self.calls[self.position]
        self.position += 1
        if record.get("fn") != name or record.get("args") != probe.digest(tuple(key) + tuple(args), kwargs):
            raise ReplayDiverged(f"call {self.position} of the tests went to `{name}` with other inputs "
                                 f"than in your notebook; the notebook changed what the tests do.")
        for path, value in record.get("mutated") or []:
            _write_back(tuple(key) + tuple(args), kwargs, path, decode(value))
        for category, text in record.get("warnings") or []:
            warnings.warn(str(text), _warning_class(category), stacklevel=3)
        if "raised" in record:
            raise _rebuild_exception(*record["raised"])
        return decode(record.get("value"), handles=lambda data: HandleStub(self, data))

    def finish(self):
        if self.position != len(self.calls):
            raise ReplayDiverged(f"your functions were called {len(self.calls)} times in the notebook "
                                 f"but {self.position} times by the tests; the notebook changed what the tests do.")


class HandleStub:
    """Replays a function or CUDA kernel that a student's function returned."""

    def __init__(self, replay, data):
        self._replay, self._nnlib_handle = replay, data.get("id")
        self.__name__ = str(data.get("name", "f"))
        self.py_func = self.fn = _function_with_source(self.__name__, str(data.get("source", "")))

    def __call__(self, *args, **kwargs):
        return self._replay.next(f"handle#{self._nnlib_handle}", args, kwargs)

    def __getitem__(self, config):
        return lambda *args, **kwargs: self._replay.next(
            f"handle#{self._nnlib_handle}[]", args, kwargs, key=(config,))


def _function_with_source(name, source):
    """A do-nothing function whose inspect.getsource() is ``source`` (for checks that read code)."""
    filename = f"<student's {name} {id(source)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile("def f():\n    pass\n", filename, "exec").co_consts[0]
    return types.FunctionType(code, {}, name)


def read_payload(texts, token):
    """The one payload of this grading cell (a dict), or raise ValueError saying what is wrong."""
    found = []
    for text in texts:
        if len(text) > MAX_PAYLOAD:
            raise ValueError("your functions returned more data than the grader accepts (64 MB).")
        try:
            data = json.loads(text)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("token") == token:
            found.append(data)
    if len(found) != 1:
        raise ValueError("the grader did not receive exactly one result for this test "
                         f"({len(found)}); something in the notebook interfered with the grader.")
    data = found[0]
    if not (isinstance(data.get("calls"), list) and isinstance(data.get("values"), dict)
            and isinstance(data.get("functions"), list)):
        raise ValueError("the grader received a malformed result for this test.")
    return data


def judge(cell, payload, namespace):
    """Run grading cell ``cell`` here against ``payload``; return a Judgement."""
    ns = dict(namespace, __builtins__=builtins, __name__="__nnlib_grade__")
    try:
        replay = Replay(payload["calls"])
        for name in cell.functions:
            if name in payload["functions"]:
                ns[name] = replay.stub(name)
        for name, value in payload["values"].items():
            if name in cell.functions or name in cell.values:
                ns[name] = decode(value, handles=lambda data: HandleStub(replay, data))
    except DecodeError as exc:
        return Judgement("failed", f"the grader could not read your results: {exc}")
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            exec(compile(to_python(cell.source), f"<grading cell {cell.grade_id}>", "exec"), ns)
            replay.finish()
    except NotImplementedError as exc:
        if re.match(r"^Exercise \d+\.\d+", str(exc)):
            return Judgement("not attempted", str(exc))
        return Judgement("failed", f"NotImplementedError: {exc}")
    except KeyboardInterrupt:
        raise
    except ReplayDiverged as exc:
        return Judgement("failed", str(exc))
    except BaseException as exc:  # noqa: BLE001 - the check's verdict, e.g. CheckFailed
        return Judgement("failed", _one_line(f"{_exception_name(exc)}{exc}"))
    return Judgement("passed", _pass_line(printed.getvalue()))


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
        target = args[path[0]] if isinstance(path[0], int) else kwargs[path[0]]
        target = target[path[1]] if len(path) > 1 else target
        if hasattr(target, "copy_to_device"):  # a CUDA device array
            target.copy_to_device(np.ascontiguousarray(value, dtype=target.dtype))
        else:
            np.copyto(target, value)
    except Exception:  # noqa: BLE001 - wrong shape/dtype: the tests see the array unchanged
        pass


def _rebuild_exception(name, message):
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
