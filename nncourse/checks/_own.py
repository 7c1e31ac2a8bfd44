"""Catch an answer that merely calls nnlib's own implementation of the exercise.

nnlib ships the reference of many exercises (``nnlib.functional.relu_backward``
is what exercise 4.1 is compared with). An answer that calls it has learned
nothing, so a check calls the learner's function through ``call_own``: while
the function runs, a profile hook (``sys.setprofile``; nothing is patched)
watches for a call of one of the exercise's forbidden nnlib functions and
raises ``ReferenceUsed`` inside the learner's code. So:

- in the notebook the check fails with "write it yourself; nnlib's version is
  the reference you are compared with";
- in ``nnlib-grade`` the recorded answer is that exception (the grader's probe
  records what the function raised), which the replayed check turns into the
  same failure: the exercise earns no points.

Only Python functions are seen (a Numba dispatcher is not a Python frame);
the forbidden names are dotted paths (``module.function`` or
``module.Class.method``), resolved when first needed.
"""
import importlib
import sys

from nncourse.checks import CheckFailed, call

ADVICE = ("Write it yourself: nnlib's version is the reference your answer is compared "
          "with. Later exercises may use nnlib for what earlier chapters taught.")


class ReferenceUsed(Exception):
    """Raised inside the learner's function when it calls a forbidden nnlib function."""


def resolve(dotted):
    """The code object of the function at ``dotted`` ("pkg.module.fn" or "pkg.module.Class.fn")."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            obj = getattr(obj, name)
        obj = getattr(obj, "__func__", obj)  # a classmethod or bound method
        return obj.__code__
    raise ImportError(f"cannot resolve {dotted!r}")


def call_own(fn, *args, forbidden=(), what=None, hints=None, **kwargs):
    """``call(fn, ...)``, failing with a clear message if ``fn`` calls a ``forbidden`` function."""
    watched = {resolve(name): name for name in forbidden}

    def watch(frame, event, _arg):
        if event == "call" and frame.f_code in watched:
            raise ReferenceUsed(f"you called {watched[frame.f_code]}, nnlib's own implementation "
                                f"of this exercise.")

    previous = sys.getprofile()
    sys.setprofile(watch if watched else previous)
    try:
        return call(fn, *args, what=what, hints=hints, **kwargs)
    except CheckFailed as failure:
        if type(failure.error).__name__ == ReferenceUsed.__name__:  # the grader rebuilds it by name
            raise CheckFailed(str(failure.error), ADVICE) from None
        raise
    finally:
        sys.setprofile(previous)
