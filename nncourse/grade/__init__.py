"""``nnlib-grade``: autograding of the course's exercise notebooks (see the README, section For instructors).

Modules, in the order a notebook meets them:

- ``notebook``: read a submission (clear errors for anything that is not a
  notebook of this assignment) and restore the grading cells from
  ``solutions/`` by nbgrader ``grade_id``, hidden tests included;
- ``runner`` + ``boot`` + ``sandbox``: a fresh kernel per submission in a
  sandbox of its own (bubblewrap namespaces, its own uid, cgroups), with a
  memory limit, a time limit per cell and per notebook, restarts;
- ``judge`` runs each grading cell *in the grader's process*, calling the
  exercise functions live in the kernel, where ``probe``'s server answers as
  plain data; ``decode`` rebuilds it strictly, bounded; ``seed`` gives hidden
  tests inputs from the grading seed; ``reference`` says which nnlib
  functions an exercise must not call;
- ``grader``: one notebook end to end; ``batch``: a folder, in parallel;
  ``report``: table, feedback files, grades.csv/json; ``schema``: nbgrader
  v3 metadata; ``cli``: the command.

Threat model
------------
The student controls every byte of the notebook and everything that runs in
its kernel. The grader must not give points that the student's functions did
not earn, and one submission must not change another's grade. So:

1. Test code comes only from ``solutions/``: every cell that is, or claims to
   be, a grading cell is replaced or dropped; deleted ones are put back. Points
   come from the solution's metadata.
2. Test code never runs in the kernel: the grader runs it, and each call of
   an exercise function is a request to the kernel with the inputs as JSON;
   the answer (value, exception, warnings, in-place changes, nnlib calls) is
   JSON, bounded (size, then depth) and decoded strictly; an object whose
   ``__eq__`` always returns True arrives as an opaque marker. The test's
   source, expected values and hidden inputs (drawn from a grading seed the
   notebook never contains) never enter the kernel, so reading ``In``, the
   history or the caller's frame finds nothing. In-place changes reach the
   test only for arguments the solution changes in place, so a function that
   zeroes its inputs cannot steer a test that computes expected values from
   them after the call. Calling nnlib's own version of the exercise (recorded
   by behaviour, not by regex) scores 0 for that exercise.
3. A kernel that hangs, dies (``os._exit``, a segfault) or allocates too much
   costs only the test it was in: it is killed, restarted, the cells that ran
   before are replayed, and grading goes on; functions that hung or crashed
   are not called again.
4. Each kernel runs in its own sandbox (``sandbox``): it cannot see the
   course root, the solutions, the submissions, the grades or the other
   kernels, nor reach the network; its processes are limited and all killed
   with it. Where no sandbox is possible, ``check`` says so and ``batch``
   refuses unless ``--no-sandbox``; the audit hook of ``boot.py`` then stays
   as a speed bump (ctypes gets past it). In a batch, every result file is
   rewritten from memory at the end and ``--resume`` reads old results
   before any kernel starts.

What this does not stop: a student who copies nnlib's source (rather than
calling it) computes the right answers; the flags list every nnlib function
a student's code called, and the patterns that look like tampering, for the
instructor to read.
"""
