"""Which nnlib functions an exercise must not call: nnlib's own version of what it asks for.

The grader records, inside the sandbox, the nnlib functions a student's code
calls while an exercise is graded (``probe.Server.profiler``); calling one
listed for that exercise scores 0 for it, with a note saying which.

One table for the course: ``nncourse.checks.forbidden.FORBIDDEN``, which the
checks use too. Its entries are public dotted paths (``nnlib.functional.sigmoid``);
the recorder sees a function's defining module and qualified name, so each
entry is turned into that form here ("nnlib.functional.activations.sigmoid";
a class, "nnlib.layers.dense.Dense", covers its methods as a prefix).
"""
from nncourse.checks.forbidden import FORBIDDEN, _resolve


def canonical(path):
    """"module.qualname" of the object at a public dotted path (the path itself if it does not import)."""
    obj = _resolve(path)
    obj = getattr(obj, "__func__", obj)
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{qualname}" if module and qualname else path


def reference_calls(labels):
    """{label: (prefixes, ...)} for the exercises ``labels`` of an assignment."""
    return {label: tuple(sorted({canonical(p) for p in FORBIDDEN.get(label, ())}))
            for label in labels}
