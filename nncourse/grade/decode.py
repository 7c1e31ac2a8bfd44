"""Turn what the student's kernel sent (``probe.encode``'s JSON) back into values, strictly.

Only None/bool/int/float/str, lists, tuples, dicts, bytes, complex numbers,
NumPy arrays and scalars of bool/int/float/complex/str dtype are built;
anything else arrives as a ``probe.Opaque`` marker. A returned function or
CUDA kernel arrives as a *handle*, which ``handles`` (the judge's replay)
turns into a stand-in. Nothing is unpickled, imported or called here, and
sizes are bounded, so malformed or hostile input only raises DecodeError.
"""
import base64
import json

import numpy as np

from nncourse.grade.probe import MAX_DEPTH, NUMERIC_KINDS, Opaque

MAX_ITEMS = 1_000_000
MAX_JSON_BYTES = 64 * 2**20
MAX_JSON_DEPTH = 64
MAX_CONTAINERS = 2_000_000
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')


class DecodeError(ValueError):
    """The kernel sent something that is not the plain data ``probe.encode`` makes."""


def json_depth(text):
    """How deeply the JSON ``text`` (str or bytes) nests, found without parsing it (no recursion).

    Escaped backslashes, then escaped quotes, are dropped, then every byte but
    quotes and brackets: what is left is short, and a quote toggles "inside a string".
    """
    data = text.encode("utf-8", "surrogatepass") if type(text) is str else bytes(text)
    data = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    depth = deepest = 0
    inside = False
    for byte in data:
        if byte == 34:                 # '"'
            inside = not inside
        elif not inside:
            depth += 1 if byte in (91, 123) else -1   # '[' '{' open, ']' '}' close
            if depth > deepest:
                deepest = depth
    return deepest


def bounded_json(text, max_bytes=MAX_JSON_BYTES, max_depth=MAX_JSON_DEPTH):
    """``json.loads(text)`` after checking its size, then its nesting depth; DecodeError otherwise."""
    if type(text) not in (str, bytes):
        raise DecodeError(f"expected JSON text, got {type(text).__name__}.")
    if len(text) > max_bytes:
        raise DecodeError(f"the data is larger than the grader accepts ({max_bytes >> 20} MB).")
    containers = text.count("[" if type(text) is str else b"[") + text.count("{" if type(text) is str else b"{")
    if containers > MAX_CONTAINERS or json_depth(text) > max_depth:
        raise DecodeError(f"the data is nested more than {max_depth} levels deep or holds too many containers.")
    try:
        return json.loads(text)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise DecodeError(f"the data is not valid JSON ({type(exc).__name__}).") from None


def decode(data, handles=None):
    """The value ``data`` stands for; ``handles(data)`` builds returned functions (else Opaque)."""
    return Decoder(handles)(data)


class Decoder:
    def __init__(self, handles=None):
        self.budget, self.handles = MAX_ITEMS, handles

    def __call__(self, data, depth=0):
        self.budget -= 1
        if depth > MAX_DEPTH + 2 or self.budget < 0:
            raise DecodeError("the recorded values are too large or too deeply nested.")
        if data is None or type(data) in (bool, int, float, str):
            return data
        if type(data) is list:
            return [self(item, depth + 1) for item in data]
        if type(data) is not dict or type(data.get("~")) is not str:
            raise DecodeError(f"unexpected recorded value of type {type(data).__name__}.")
        tag = data["~"]
        if tag == "tuple":
            return tuple(self(item, depth + 1) for item in _items(data))
        if tag == "dict":
            try:
                return {self(k, depth + 1): self(v, depth + 1) for k, v in _items(data)}
            except (TypeError, ValueError):
                raise DecodeError("a recorded dict is malformed or has unhashable keys.") from None
        if tag in ("nd", "np", "ndobj"):
            return self.array(tag, data, depth)
        if tag == "complex":
            return complex(_number(data.get("re")), _number(data.get("im")))
        if tag == "bytes":
            return _b64(data.get("b64"))
        if tag == "opaque":
            return Opaque(data.get("type", "?"))
        if tag in ("device", "generator"):  # a CUDA device array or a Generator: not plain data
            return Opaque("CUDA device array" if tag == "device" else "numpy.random.Generator")
        if tag == "handle":
            return self.handles(data) if self.handles else Opaque("function")
        raise DecodeError(f"unknown recorded value tag {tag!r}.")

    def array(self, tag, data, depth):
        if tag == "ndobj":
            items = [self(item, depth + 1) for item in _items(data)]
            arr = np.empty(len(items), dtype=object)
            arr[:] = items
            return arr.reshape(_shape(data.get("shape"), len(items)))
        dtype, raw = _dtype(data.get("dtype")), _b64(data.get("b64"))
        if tag == "np":
            if len(raw) != dtype.itemsize:
                raise DecodeError("a recorded NumPy scalar has the wrong size.")
            return np.frombuffer(raw, dtype=dtype)[0]
        if len(raw) % dtype.itemsize:
            raise DecodeError("a recorded array's data is not a whole number of items.")
        size = len(raw) // dtype.itemsize
        self.budget -= size // 64
        return np.frombuffer(raw, dtype=dtype).reshape(_shape(data.get("shape"), size)).copy()


def _items(data):
    items = data.get("items")
    if type(items) is not list:
        raise DecodeError("a recorded container has no item list.")
    return items


def _number(x):
    if type(x) not in (int, float):
        raise DecodeError("a recorded complex number has non-numeric parts.")
    return x


def _b64(text):
    if type(text) is not str:
        raise DecodeError("recorded binary data is missing.")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise DecodeError("recorded binary data is not valid base64.") from None


def _dtype(text):
    try:
        dtype = np.dtype(text) if type(text) is str else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.itemsize > 4096:
        raise DecodeError(f"recorded dtype {text!r} is not a plain numeric dtype.")
    return dtype


def _shape(shape, size):
    if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
        raise DecodeError("a recorded array has an invalid shape.")
    count = 1
    for n in shape:
        count *= n
    if count != size:
        raise DecodeError("a recorded array's shape does not match its data.")
    return tuple(shape)
