"""What the grader runs inside the student's kernel: record answers as plain data.

Before each grading cell the grader sends this file's source to the kernel
and calls ``Recorder.begin``: every exercise function the cell uses is
wrapped so that each outermost call records a digest of its inputs, the value
it returned (or the exception it raised), the warnings it emitted and the
input arrays it changed in place (NumPy or CUDA device arrays, also inside a
list, tuple or dict argument). A returned function or CUDA kernel comes back
to the caller as a ``Handle`` whose calls and ``[grid, block]`` launches are
recorded the same way. ``Recorder.end`` unwraps everything and publishes the
records as one display_data message of type ``MIME``: JSON, never pickles.

The grader never trusts this code (the student's process can change anything
in it): it reads the JSON with ``nncourse.grade.decode``, where any object that
is not plain data becomes an ``Opaque`` marker that equals nothing, and it
computes ``digest`` itself to check that its replay asks for the same inputs.

Only the standard library is imported at top level (NumPy lazily), so the
source can be executed in a kernel that has not imported nnlib.
"""
import base64
import hashlib
import json
import warnings

MIME = "application/x-nnlib-grade"
MAX_DEPTH = 32
NUMERIC_KINDS = "biufcU"


class Opaque:
    """Stands for a value the grader will not rebuild (a custom object, a function...)."""

    def __init__(self, type_name):
        self.type_name = str(type_name)[:200]

    def __repr__(self):
        return f"<object of type {self.type_name}>"


# ------------------------------------------------------------------ encode
def encode(value, depth=0):
    """``value`` as JSON-able plain data; unknown objects become opaque markers."""
    import numpy as np
    kind = type(value)
    if depth > MAX_DEPTH:
        return {"~": "opaque", "type": "too deeply nested"}
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is complex:
        return {"~": "complex", "re": value.real, "im": value.imag}
    if kind is bytes:
        return {"~": "bytes", "b64": base64.b64encode(value).decode()}
    if isinstance(value, np.ndarray):
        return _encode_array(np.asarray(value), depth)
    if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
        return {"~": "np", "dtype": value.dtype.str, "b64": base64.b64encode(value.tobytes()).decode()}
    if kind is list:
        return [encode(item, depth + 1) for item in value]
    if isinstance(value, tuple):  # namedtuples arrive as plain tuples
        return {"~": "tuple", "items": [encode(item, depth + 1) for item in tuple.__iter__(value)]}
    if kind is dict:
        return {"~": "dict", "items": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    return {"~": "opaque", "type": _type_name(value)}


def _encode_array(arr, depth):
    if arr.dtype.kind in NUMERIC_KINDS and arr.dtype.fields is None:
        data = base64.b64encode(arr.tobytes(order="C")).decode()
        return {"~": "nd", "dtype": arr.dtype.str, "shape": list(arr.shape), "b64": data}
    if arr.dtype.kind == "O" and arr.size <= 10_000:
        return {"~": "ndobj", "shape": list(arr.shape), "items": [encode(x, depth + 1) for x in arr.flat]}
    return {"~": "opaque", "type": f"ndarray of dtype {arr.dtype}"}


def _type_name(value):
    if callable(value):
        return "callable"
    kind = type(value)
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', '?')}"


def _is_device_array(value):
    return hasattr(value, "copy_to_host") and hasattr(value, "shape") and not isinstance(value, type)


def _host(value):
    return value.copy_to_host() if _is_device_array(value) else value


# ------------------------------------------------------------------ digest
def digest(args, kwargs):
    """A hash of a call's inputs that is equal in the kernel and in the grader's replay."""
    h = hashlib.sha256()
    _feed(h, tuple(args), 0)
    _feed(h, dict(sorted(kwargs.items())), 0)
    return h.hexdigest()[:32]


def _feed(h, value, depth):
    import numpy as np
    kind = type(value)
    if depth > MAX_DEPTH:
        h.update(b"X")
    elif value is None or kind is bool:
        h.update(b"N" if value is None else b"B1" if value else b"B0")
    elif kind is int or kind is float:
        h.update((b"I" + str(value).encode()) if kind is int else (b"F" + float.hex(value).encode()))
    elif kind is str:
        h.update(b"S" + str(len(value)).encode() + b":" + value.encode("utf-8", "replace"))
    elif _is_device_array(value) or (isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS):
        arr = np.ascontiguousarray(_host(value))
        h.update(b"A" + arr.dtype.str.encode() + repr(arr.shape).encode() + arr.tobytes())
    elif isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
        h.update(b"G" + value.dtype.str.encode() + value.tobytes())
    elif kind is list or isinstance(value, tuple):
        h.update((b"L" if kind is list else b"T") + str(len(value)).encode() + b"[")
        for item in value:
            _feed(h, item, depth + 1)
    elif kind is dict:
        h.update(b"D" + str(len(value)).encode() + b"{")
        for key in sorted(value, key=repr):
            _feed(h, key, depth + 1)
            _feed(h, value[key], depth + 1)
    elif getattr(value, "_nnlib_handle", None) is not None:
        h.update(b"H" + str(value._nnlib_handle).encode())
    elif type(value).__name__ == "Opaque":
        h.update(b"O" + str(getattr(value, "type_name", "?")).encode())
    else:
        h.update(b"O" + _type_name(value).encode())
    h.update(b";")


# ------------------------------------------------------------------ record
class Recorder:
    """Wraps the exercise functions for the duration of one grading cell."""

    def __init__(self, token):
        self.token = token
        self.calls, self.saved, self.values, self.handles, self.depth = [], {}, {}, 0, 0

    def begin(self, namespace, function_names, value_names):
        for name in function_names:
            if name in namespace and callable(namespace[name]):
                self.saved[name] = namespace[name]
                namespace[name] = self.wrap(name, namespace[name])
            elif name in namespace:
                self.values[name] = encode(namespace[name])
        for name in value_names:
            if name in namespace:
                self.values[name] = encode(namespace[name])

    def wrap(self, name, fn):
        recorder = self

        def recorded(*args, **kwargs):
            return recorder.call(name, fn, args, kwargs)

        recorded.__name__ = getattr(fn, "__name__", name)
        recorded.__doc__ = getattr(fn, "__doc__", None)
        recorded.__wrapped__ = fn
        return recorded

    def call(self, name, fn, args, kwargs, key=()):
        """Run fn(*args, **kwargs); record it unless it is nested in a recorded call."""
        if self.depth:
            return fn(*args, **kwargs)
        inputs = tuple(key) + tuple(args)  # key: a launch's (grid, block), part of the inputs
        record = {"fn": name, "args": digest(inputs, kwargs)}
        before = [(path, _host(arr).copy()) for path, arr in _arrays_in(inputs, kwargs)]
        self.calls.append(record)
        self.depth += 1
        caught = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                result = fn(*args, **kwargs)
        except BaseException as exc:
            record["raised"] = [type(exc).__name__, str(exc)[:2000]]
            raise
        finally:
            self.depth -= 1
            record["mutated"] = _changed(before, inputs, kwargs)
            _redeliver(caught, record)
        if _function_like(result):
            return self.handle(record, result)
        record["value"] = encode(result)
        return result

    def handle(self, record, target):
        """A returned function or kernel: record it as a handle, give back a recording proxy."""
        number, self.handles = self.handles, self.handles + 1
        source_fn = getattr(target, "py_func", None) or getattr(target, "fn", None) or target
        record["value"] = {"~": "handle", "id": number, "name": str(getattr(source_fn, "__name__", "f")),
                           "source": _source(source_fn)}
        return Handle(self, number, target)

    def end(self, namespace):
        for name, original in self.saved.items():
            namespace[name] = original
        payload = {"token": self.token, "calls": self.calls, "values": self.values,
                   "functions": sorted(self.saved)}
        from IPython.display import publish_display_data
        publish_display_data({MIME: json.dumps(payload)})


class Handle:
    """What the tests get instead of a returned function or CUDA kernel: calls are recorded."""

    def __init__(self, recorder, number, target):
        self._nnlib_handle, self._recorder, self._target = number, recorder, target

    def __call__(self, *args, **kwargs):
        return self._recorder.call(f"handle#{self._nnlib_handle}", self._target, args, kwargs)

    def __getitem__(self, config):  # a CUDA launch: kernel[grid, block](...)
        launch = self._target[config]
        key = (config,)
        return lambda *args, **kwargs: self._recorder.call(
            f"handle#{self._nnlib_handle}[]", launch, args, kwargs, key=key)

    def __getattr__(self, name):  # e.g. kernel.py_func for the tests that read the source
        if name.startswith("_nnlib") or name in ("_recorder", "_target"):
            raise AttributeError(name)
        return getattr(self._target, name)


def _function_like(value):
    """A function, callable object or CUDA kernel (launched with kernel[grid, block])."""
    if isinstance(value, type):
        return False
    launchable = hasattr(type(value), "__getitem__") and (hasattr(value, "py_func") or hasattr(value, "fn"))
    return callable(value) or launchable


def _source(fn):
    try:
        import inspect
        import textwrap
        return textwrap.dedent(inspect.getsource(fn))[:100_000]
    except (TypeError, OSError):
        return ""


def _arrays_in(args, kwargs):
    """(path, array) for every NumPy/device array input, top level and one list/tuple/dict deep."""
    import numpy as np

    def is_array(v):
        return isinstance(v, np.ndarray) or _is_device_array(v)
    found = []
    for key, value in list(enumerate(args)) + list(kwargs.items()):
        if is_array(value):
            found.append(([key], value))
        elif type(value) in (list, tuple):
            found += [([key, i], v) for i, v in enumerate(value) if is_array(v)]
        elif type(value) is dict:  # e.g. params["W1"] -= lr * dW1
            found += [([key, k], v) for k, v in value.items() if type(k) in (str, int) and is_array(v)]
    return found


def _changed(before, args, kwargs):
    """[path, new value] of every input array the call changed in place."""
    import numpy as np
    changed = []
    for path, old in before:
        now = _host(_at(args, kwargs, path))
        if not np.array_equal(now, old, equal_nan=old.dtype.kind in "fc"):
            changed.append([path, encode(np.asarray(now))])
    return changed


def _at(args, kwargs, path):
    value = args[path[0]] if type(path[0]) is int else kwargs[path[0]]
    return value[path[1]] if len(path) > 1 else value


def _redeliver(caught, record):
    """Record the warnings a call emitted, then show them as if nothing had caught them."""
    if caught:
        record["warnings"] = [[w.category.__name__, str(w.message)[:500]] for w in caught[:20]]
    for message in caught:
        warnings._showwarnmsg(message)
