"""What a learner sees when a check fails: one block, and only their own frames.

IPython asks an exception for ``_render_traceback_()`` before it formats a
traceback (``InteractiveShell.showtraceback``); the list of lines it returns
is the whole red error block of the cell. The cell still fails: the
exception is raised as usual, so "Run All" stops there, nbval and nbclient
see an error output, and the grader's kernel reports an error.

- A failed check (``CheckFailed`` from ``check``) renders as: which
  exercise, what is wrong on which input, the likely mistake, how to ask for
  a hint (when the exercise has hints), and, if the learner's own code
  raised, that error's traceback cut to the learner's frames.
- An unfinished exercise (the stub's ``NotImplementedError``) keeps its type
  and text (the grader and the exercise tests read them); only its rendering
  is replaced, by attaching ``_render_traceback_`` to that one instance.

Frames from nnlib, nncourse, the standard library and installed packages
never appear. Outside IPython nothing changes: ``str(exc)`` is the one-line
message and Python prints its usual traceback.
"""
import os
import sys
import sysconfig
import textwrap
import traceback
import types
from pathlib import Path

WIDTH = 88
BOLD_RED, RESET = "\x1b[1;31m", "\x1b[0m"
FAILED, UNFINISHED = "\u2718", "\u270e"  # heavy ballot x, pencil
INTERNAL_PREFIXES = ("<frozen ", "<nnlib-grade")  # code objects that are not the learner's


def failure_block(failure):
    """The lines IPython shows for a CheckFailed (see the module docstring)."""
    if failure.exercise:
        exercise_id, title, n_hints = failure.exercise
        lines = [_header(f"{FAILED} Exercise {exercise_id} ({title}) did not pass")]
    else:
        exercise_id, n_hints = None, 0
        lines = [_header(f"{FAILED} Check failed")]
    lines += _paragraph(failure.problem)
    if failure.advice:
        lines += _paragraph(f"Likely mistake: {failure.advice}")
    if n_hints:
        lines += _paragraph(f'Stuck? Run hint("{exercise_id}") for a hint '
                            f"({n_hints} for this exercise, one more each time you ask).")
    if failure.error is not None:
        frames = learner_traceback(failure.error)
        if frames:
            lines += ["", "Your code raised the error here:", *frames]
    return lines


def unfinished_block(stub, exercise_id, title):
    """The lines IPython shows for an exercise's stub ``NotImplementedError``."""
    lines = [_header(f"{UNFINISHED} Exercise {exercise_id} ({title}) is not written yet")]
    lines += _paragraph(f"NotImplementedError: {stub}")
    lines += _paragraph("Replace the `raise NotImplementedError(...)` line with your code, "
                        "then run this cell again.")
    frames = learner_traceback(stub)
    if frames:
        lines += ["", "Your code raised it here:", *frames]
    return lines


def message_block(title, message):
    """A header and a message, no frames: for a check() call that could not start."""
    return [_header(f"{FAILED} {title}"), *_paragraph(message)]


def attach(exc, render):
    """Make IPython show ``render()`` for this one exception instance.

    IPython looks the hook up on the instance (``hasattr(value,
    "_render_traceback_")``), so a built-in exception keeps its type and
    message for everyone who reads them. If rendering fails, IPython falls
    back to its usual traceback; this never hides the error.
    """
    try:
        exc._render_traceback_ = render
    except AttributeError:  # an exception type without __dict__: keep the usual traceback
        pass
    return exc


def _header(text):
    return f"{BOLD_RED}{text}{RESET}"


def _paragraph(text):
    return textwrap.wrap(str(text), WIDTH, initial_indent="  ", subsequent_indent="  ",
                         break_long_words=False, break_on_hyphens=False) or [""]


# ------------------------------------------------------------ learner's frames
def learner_traceback(error):
    """``error``'s traceback with only the learner's frames, formatted as IPython would.

    Returns [] when none of the frames is the learner's (e.g. a NumPy function
    passed as the answer). The exception chain (``__cause__``/``__context__``)
    is left out: it would lead back into the check.
    """
    tb = learner_frames(error.__traceback__)
    if tb is None:
        return []
    saved = error.__cause__, error.__context__, error.__suppress_context__
    error.__cause__ = error.__context__ = None
    try:
        shell = _ipython()
        if shell is not None:
            return list(shell.InteractiveTB.structured_traceback(type(error), error, tb, tb_offset=0))
        return "".join(traceback.format_exception(type(error), error, tb)).rstrip("\n").split("\n")
    finally:
        error.__cause__, error.__context__, error.__suppress_context__ = saved


def learner_frames(tb):
    """A new traceback chain holding only the frames of ``tb`` in learner code (or None)."""
    kept = []
    while tb is not None:
        if is_learner_file(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    chain = None
    for entry in reversed(kept):
        chain = types.TracebackType(chain, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return chain


def is_learner_file(filename):
    """True unless ``filename`` is nnlib, nncourse, the standard library or an installed package."""
    if filename.startswith("<"):
        return not filename.startswith(INTERNAL_PREFIXES)
    path = os.path.realpath(filename)
    return not any(path == root or path.startswith(root + os.sep) for root in _library_roots())


_ROOTS = []


def _library_roots():
    if not _ROOTS:
        import nnlib
        roots = {Path(nnlib.__file__).resolve().parent, Path(__file__).resolve().parents[1]}
        paths = sysconfig.get_paths()
        roots |= {Path(paths[key]).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib")
                  if paths.get(key)}
        _ROOTS.extend(sorted(str(root) for root in roots))
    return _ROOTS


def _ipython():
    """The running IPython shell, or None (IPython is never imported here)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None
