"""``nnlib-grade``: autograding of the course's exercise notebooks (see the README, section For instructors).

Modules, in the order a notebook meets them:

- ``notebook``: read a submission (clear errors for anything that is not a
  notebook of this assignment) and restore the grading cells from
  ``solutions/`` by nbgrader ``grade_id``, hidden tests included;
- ``runner`` + ``boot``: a fresh kernel per submission in its own temporary
  folder, with a memory limit, a time limit per cell and per notebook, no
  core files, a guard on the solutions/submissions/grades folders, restarts;
- ``probe`` (runs inside the kernel) records what the exercise functions
  return as plain data; ``decode`` rebuilds it strictly;
- ``judge``: re-runs each grading cell *in the grader's process* against
  replays of those recorded answers and decides the points;
- ``grader``: one notebook end to end; ``batch``: a folder, in parallel;
  ``report``: table, feedback files, grades.csv/json; ``schema``: nbgrader
  v3 metadata; ``cli``: the command.

Threat model
------------
The student controls every byte of the notebook and everything that runs in
its kernel (same OS user as the grader). The grader must not give points that
the student's functions did not earn. So:

1. Test code comes only from ``solutions/``: every cell that is, or claims to
   be, a grading cell is replaced or dropped; deleted ones are put back. Points
   come from the solution's metadata.
2. No verdict is read from the kernel. Around each grading cell the kernel
   runs the (restored) tests once, which calls the student's functions on the
   visible and hidden inputs; each outermost call is recorded as JSON: a digest
   of the inputs, the returned value (arrays as dtype/shape/bytes), exceptions,
   warnings and in-place changes. The grader then runs the same trusted test
   code in its own process, with the solution's imports and its own NumPy and
   nnlib, where each student function is a replay that returns the recorded
   value if, and only if, it is asked for the same inputs in the same order.
   Printed "passed" text, exit statuses, patched ``check``/``np.allclose``/
   nnlib, a replaced ``sys.modules``, hidden tracebacks, files written: none of
   it reaches that process. An object whose ``__eq__`` always returns True
   arrives as an opaque marker that equals nothing. To score, the recorded
   values must be the right answers to the hidden inputs.
3. A kernel that hangs, dies (``os._exit``, a segfault) or allocates too much
   costs only the test it was in: it is killed, restarted, the cells that ran
   before are replayed, and grading goes on; functions that hung or crashed
   are not called again.
4. The kernel gets no path to the solutions: its cwd is a temporary folder,
   its environment is rebuilt from scratch, and the restored test code is sent
   cell by cell over the kernel protocol. An audit hook in the kernel refuses
   file access (via Python's file APIs) inside the solutions, submissions and
   grades folders, writes into nnlib, nncourse and the Python environment, and signals to
   the grader; only salted hashes of those folders are handed to the kernel.
   In a batch, every result file is rewritten from memory at the end and
   ``--resume`` reads old results before any kernel starts.

What this does not stop: a student's function that computes the right answer
by calling nnlib's reference (``nnlib.functional``...) or by reading the test's
own expected-value expression from the caller's frame gets the points. Such
code is *flagged* for the instructor (``flags`` in the results), not graded
down. The audit hook is a speed bump: code using ctypes or a subprocess can
reach any file the grader's OS user can, solutions/ included, and so copy a
solution. The verdict path (point 2) does not rely on the hook, but for exams
run each batch in a throwaway container or VM that holds nothing else.
"""
