"""What the grader runs inside the student's kernel: call the exercise functions, answer as plain data.

The grading cells never run in the kernel (a student's function could read
the caller's frame, the cell's source or ``In``; see ``nncourse.grade``).
They run in the grader's process, where every call of an exercise function
becomes a request to this ``Server``: the inputs arrive as plain data
(``encode``'s JSON), are rebuilt here (``rebuild``), the student's function
is called, and the answer goes back as one display_data message of type
``MIME``: the returned value (arrays as dtype/shape/bytes) or the exception
(type and a short message), the warnings, the input arrays the call changed
in place, and the nnlib functions it called (``sys.setprofile``). A returned
function or CUDA kernel stays here as a *handle* that later requests call or
launch; a function the tests pass in (a callback) stays in the grader and is
called through ``input()`` (the kernel's stdin channel).

The grader never trusts this code (the student's process can change anything
in it): it reads the JSON with ``nncourse.grade.decode``, bounded, where any
object that is not plain data becomes an ``Opaque`` marker that equals nothing.

Only the standard library is imported at top level (NumPy lazily), so the
source can be executed in a kernel that has not imported nnlib. The grader
side uses ``encode`` (with ``callables``) for the inputs it sends.
"""
import base64
import json
import sys
import warnings

MIME = "application/x-nnlib-grade"
MAX_DEPTH = 32
NUMERIC_KINDS = "biufcU"
MAX_MESSAGE = 160        # characters of a student's exception message that reach the feedback
MAX_NNLIB_CALLS = 200
CALLBACK_PROMPT = "\x00nnlib-grade-callback "


class Opaque:
    """Stands for a value the grader will not rebuild (a custom object, a function...)."""

    def __init__(self, type_name):
        self.type_name = str(type_name)[:200]

    def __repr__(self):
        return f"<object of type {self.type_name}>"


def short(text, limit=MAX_MESSAGE):
    """A student's text as it may appear in feedback: one line, printable, at most ``limit`` characters."""
    text = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ------------------------------------------------------------------ encode
def encode(value, depth=0, callables=None):
    """``value`` as JSON-able plain data; unknown objects become opaque markers.

    ``callables(value)`` (grader side) turns a function or a replayed handle into
    a reference the kernel can rebuild; without it they are opaque.
    """
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
        return _encode_array(np.asarray(value), depth, callables)
    if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
        return {"~": "np", "dtype": value.dtype.str, "b64": base64.b64encode(value.tobytes()).decode()}
    if _is_device_array(value):
        return {"~": "device", "array": _encode_array(value.copy_to_host(), depth, None)}
    if isinstance(value, np.random.Generator):
        return {"~": "generator", "bit_generator": type(value.bit_generator).__name__,
                "state": _plain_state(value.bit_generator.state)}
    if kind is list:
        return [encode(item, depth + 1, callables) for item in value]
    if isinstance(value, tuple):  # namedtuples arrive as plain tuples
        return {"~": "tuple", "items": [encode(item, depth + 1, callables) for item in tuple.__iter__(value)]}
    if kind is dict:
        return {"~": "dict", "items": [[encode(k, depth + 1, callables), encode(v, depth + 1, callables)]
                                       for k, v in value.items()]}
    if callables is not None and (callable(value) or hasattr(value, "_nnlib_handle")):
        reference = callables(value)
        if reference is not None:
            return reference
    return {"~": "opaque", "type": _type_name(value)}


def _encode_array(arr, depth, callables):
    if arr.dtype.kind in NUMERIC_KINDS and arr.dtype.fields is None:
        data = base64.b64encode(arr.tobytes(order="C")).decode()
        found = {"~": "nd", "dtype": arr.dtype.str, "shape": list(arr.shape), "b64": data}
        if not arr.flags.writeable:
            found["readonly"] = True
        return found
    if arr.dtype.kind == "O" and arr.size <= 10_000:
        return {"~": "ndobj", "shape": list(arr.shape),
                "items": [encode(x, depth + 1, callables) for x in arr.flat]}
    return {"~": "opaque", "type": f"ndarray of dtype {arr.dtype}"}


def _plain_state(state):
    """A bit generator's state (nested dicts of ints/strings, maybe arrays) as JSON-able data."""
    if isinstance(state, dict):
        return {str(k): _plain_state(v) for k, v in state.items()}
    if hasattr(state, "tolist"):
        return {"~list": state.tolist(), "dtype": str(state.dtype)}
    return state


def _type_name(value):
    if callable(value):
        return "callable"
    kind = type(value)
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', '?')}"


def _is_device_array(value):
    return hasattr(value, "copy_to_host") and hasattr(value, "shape") and not isinstance(value, type)


def _host(value):
    return value.copy_to_host() if _is_device_array(value) else value


# ------------------------------------------------------------------ rebuild (kernel side)
def rebuild(data, server):
    """The value the grader's ``encode`` sent, rebuilt in the kernel (device arrays, generators, handles)."""
    import numpy as np
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [rebuild(item, server) for item in data]
    tag = data.get("~")
    if tag == "tuple":
        return tuple(rebuild(item, server) for item in data["items"])
    if tag == "dict":
        return {rebuild(k, server): rebuild(v, server) for k, v in data["items"]}
    if tag == "nd":
        raw = base64.b64decode(data["b64"])
        arr = np.frombuffer(raw, dtype=np.dtype(data["dtype"])).reshape(data["shape"]).copy()
        if data.get("readonly"):
            arr.flags.writeable = False
        return arr
    if tag == "np":
        return np.frombuffer(base64.b64decode(data["b64"]), dtype=np.dtype(data["dtype"]))[0]
    if tag == "ndobj":
        items = [rebuild(item, server) for item in data["items"]]
        arr = np.empty(len(items), dtype=object)
        arr[:] = items
        return arr.reshape(data["shape"])
    if tag == "complex":
        return complex(data["re"], data["im"])
    if tag == "bytes":
        return base64.b64decode(data["b64"])
    if tag == "device":
        from numba import cuda
        return cuda.to_device(rebuild(data["array"], server))
    if tag == "generator":
        generator = np.random.Generator(getattr(np.random, data["bit_generator"])())
        generator.bit_generator.state = _state_back(data["state"])
        return generator
    if tag == "ref":
        import importlib
        return getattr(importlib.import_module(data["module"]), data["name"])
    if tag == "handle":
        return server.handles[data["id"]]
    if tag == "callback":
        return Callback(server, data["id"], data.get("name", "f"))
    return Opaque(data.get("type", "?"))


def _state_back(state):
    import numpy as np
    if isinstance(state, dict) and "~list" in state:
        return np.array(state["~list"], dtype=state["dtype"])
    if isinstance(state, dict):
        return {k: _state_back(v) for k, v in state.items()}
    return state


class Callback:
    """A function of the grader's tests, passed to the student's function: called in the grader."""

    def __init__(self, server, number, name):
        self.server, self.number, self.__name__ = server, number, str(name)

    def __call__(self, *args, **kwargs):
        request = json.dumps({"callback": self.number, "args": encode(list(args)), "kwargs": encode(kwargs)})
        reply = json.loads(self.server.ask(CALLBACK_PROMPT + request))
        if "raised" in reply:
            raise RuntimeError(f"the test's function {self.__name__} raised {reply['raised']}")
        return rebuild(reply.get("value"), self.server)


# ------------------------------------------------------------------ serve
class Server:
    """Answers the grader's requests during one grading cell (see the module docstring)."""

    def __init__(self, token, namespace):
        self.token, self.namespace, self.handles = token, namespace, {}
        self.nnlib = _nnlib_folder()

    def ask(self, prompt):
        from IPython import get_ipython
        return get_ipython().kernel.raw_input(prompt)

    def publish(self, payload):
        from IPython.display import publish_display_data
        payload["token"] = self.token
        publish_display_data({MIME: json.dumps(payload)})

    def prepare(self, request):
        """Which exercise functions the notebook defines, and the plain values the tests read."""
        request = json.loads(request)
        functions, values = [], {}
        for name in request["functions"]:
            if name in self.namespace and callable(self.namespace[name]):
                functions.append(name)
            elif name in self.namespace:
                values[name] = self.answer_value(self.namespace[name])
        for name in request["values"]:
            if name in self.namespace:
                values[name] = self.answer_value(self.namespace[name])
        self.publish({"functions": functions, "values": values})

    def answer_value(self, value):
        return self.handle(value) if _function_like(value) else encode(value)

    def handle(self, target):
        """A function or kernel that stays here; the grader gets its number, name and source."""
        number = len(self.handles)
        self.handles[number] = target
        source_fn = getattr(target, "py_func", None) or getattr(target, "fn", None) or target
        return {"~": "handle", "id": number, "name": str(getattr(source_fn, "__name__", "f"))[:100],
                "source": _source(source_fn)}

    def call(self, request):
        request = json.loads(request)
        name = request["fn"]
        if name.startswith("handle#"):
            target = self.handles[int(name.split("#")[1].rstrip("[]"))]
        else:
            target = self.namespace[name]
        args = list(rebuild(request["args"], self))
        kwargs = rebuild(request["kwargs"], self)
        if name.endswith("[]"):  # a CUDA launch: kernel[grid, block](...)
            target = target[rebuild(request["launch"], self)]
        record = {}
        before = [(path, _host(arr).copy()) for path, arr in _arrays_in(args, kwargs)]
        profiler = self.profiler(set())
        caught = []
        import numpy as np
        errstate = {kind: mode if mode in ("ignore", "warn", "raise", "print") else "warn"
                    for kind, mode in dict(request.get("errstate") or {}).items()
                    if kind in ("divide", "over", "under", "invalid")}
        try:
            with warnings.catch_warnings(record=True) as caught, np.errstate(**errstate):
                warnings.simplefilter("always")
                sys.setprofile(profiler)
                try:
                    result = target(*args, **kwargs)
                finally:
                    record["profiled"] = sys.getprofile() is profiler
                    sys.setprofile(None)
            record["value"] = self.handle(result) if _function_like(result) else encode(result)
        except BaseException as exc:  # noqa: BLE001 - reported, whatever it is
            record["raised"] = [type(exc).__name__[:60], short(exc)]
        calls = profiler.seen
        record["mutated"] = _changed(before, args, kwargs)
        record["warnings"] = [[w.category.__name__[:60], short(w.message, 300)] for w in caught[:20]]
        record["nnlib"] = sorted(calls)[:MAX_NNLIB_CALLS]
        self.publish(record)

    def profiler(self, seen):
        """A sys.setprofile hook that notes each nnlib function called (module.qualname)."""
        folder = self.nnlib

        def hook(frame, event, arg):
            if event == "call" and folder and frame.f_code.co_filename.startswith(folder):
                if len(seen) < MAX_NNLIB_CALLS:
                    seen.add(_qualified(frame, folder))
        hook.seen = seen
        return hook


def _nnlib_folder():
    import importlib.util
    import os
    spec = importlib.util.find_spec("nnlib")
    if spec is None or not spec.origin:
        return ""
    return os.path.dirname(os.path.realpath(spec.origin)) + os.sep


def _qualified(frame, folder):
    import os
    module = os.path.realpath(frame.f_code.co_filename)[len(folder):]
    module = module[:-3] if module.endswith(".py") else module
    module = "nnlib." + module.replace(os.sep, ".")
    module = module[: -len(".__init__")] if module.endswith(".__init__") else module
    return f"{module}.{getattr(frame.f_code, 'co_qualname', frame.f_code.co_name)}"


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
        try:
            now = _host(_at(args, kwargs, path))
        except (IndexError, KeyError, TypeError):
            continue
        if not np.array_equal(now, old, equal_nan=old.dtype.kind in "fc"):
            changed.append([path, encode(np.asarray(now))])
    return changed


def _at(args, kwargs, path):
    value = args[path[0]] if type(path[0]) is int else kwargs[path[0]]
    return value[path[1]] if len(path) > 1 else value
