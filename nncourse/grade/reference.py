"""Which nnlib functions an exercise must not call: nnlib's own version of what it asks for.

The grader records, inside the sandbox, the nnlib functions a student's code
calls while an exercise is graded (``probe.Server.profiler``); calling one
listed here for that exercise scores 0 for it, with a note saying which.

One table for the course: where ``nncourse.checks`` defines
``REFERENCE_CALLS`` (kept by the exercises' authors), that table is used;
until then, this one. Entries are module.qualname prefixes
("nnlib.perceptron.Perceptron" covers its methods).
"""
REFERENCE_CALLS = {
    "1.1": ("nnlib.perceptron.predict", "nnlib.perceptron.Perceptron"),
    "1.2": ("nnlib.perceptron.update", "nnlib.perceptron.Perceptron"),
    "1.3": ("nnlib.perceptron.Perceptron",),
    "2.1": ("nnlib.functional.activations.sigmoid", "nnlib.functional.activations.sigmoid_forward"),
    "2.3": ("nnlib.functional.losses.binary_cross_entropy",),
    "3.1": ("nnlib.functional.dense.dense_forward",),
    "4.1": ("nnlib.functional.activations.sigmoid_backward",),
    "4.2": ("nnlib.functional.dense.dense_backward",),
    "4.3": ("nnlib.functional.losses.softmax_cross_entropy",),
}


def reference_calls(labels):
    """{label: (prefixes, ...)} for the exercises ``labels`` of an assignment."""
    table = REFERENCE_CALLS
    try:
        import nncourse.checks as checks
        table = getattr(checks, "REFERENCE_CALLS", None) or table
    except ImportError:
        pass
    return {label: tuple(table.get(label, ())) for label in labels}
