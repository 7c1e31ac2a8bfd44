"""Grade one notebook: run it cell by cell in its own kernel, judge every grading cell.

``grade_notebook`` restores the grading cells (``notebook.restore``) and runs
the student's cells in a ``runner.Kernel`` (in its sandbox). A grading cell
never runs there: at its place, the grader installs ``probe``'s server in
the kernel and ``judge`` runs the cell in this process, calling the
student's functions in the kernel through it. A cell that hangs or kills the
kernel costs only itself: the kernel is restarted, the cells that ran fine
are run again to rebuild the state, functions that hung or crashed are not
called again, and the remaining exercises are graded.
"""
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nncourse.grade import probe
from nncourse.grade.judge import KernelLost, Remote, base_namespace, judge
from nncourse.grade.notebook import exercise_label, flags, parse, restore, run_time_names, syntax_error
from nncourse.grade.runner import Kernel, KernelStartError, Limits, Workspace, default_readonly
from nncourse.grade.seed import new_seed

PROBE_SOURCE = Path(probe.__file__).read_text(encoding="utf-8")  # read before any kernel runs
MAX_RESTARTS = 8
MAX_NOTES = 30
SERVER = """def __nnlib_grade_server(source, token):
    import types
    probe = types.ModuleType("nnlib_grade_probe")
    exec(compile(source, "<nnlib-grade probe>", "exec"), probe.__dict__)
    return probe.Server(token, globals())
__nnlib_grade__ = __nnlib_grade_server({source!r}, {token!r})
del __nnlib_grade_server"""
SIGNALS = {-11: "a segmentation fault (SIGSEGV)", -6: "an abort (SIGABRT)", -7: "a bus error (SIGBUS)",
           -9: "being killed (SIGKILL)", -24: "using more CPU time than allowed (SIGXCPU)"}


@dataclass
class ExerciseResult:
    grade_id: str
    label: str
    points: float
    max_points: float
    status: str      # passed, failed, not attempted, timeout, crashed, not run, error
    feedback: str


@dataclass
class NotebookResult:
    assignment: str
    status: str = "ok"                       # ok | timeout | crashed | crashed,timeout | invalid | error
    exercises: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    flags: list = field(default_factory=list)  # for the instructor: reference use, tampering
    error: str = ""
    seconds: float = 0.0
    restarts: int = 0
    seed: int = None                           # the grading seed of the hidden inputs
    sandbox: str = ""                          # the isolation it ran in: full, namespaces or none

    @property
    def total(self):
        return sum(e.points for e in self.exercises)

    @property
    def possible(self):
        return sum(e.max_points for e in self.exercises)

    def to_dict(self):
        return dict(asdict(self), total=self.total, possible=self.possible)


def grade_notebook(nb, assignment, limits=None, namespace=None, files_from=None,
                   workspace_parent=None, deny=(), protect=(), seed=None, isolation=None):
    """Grade notebook ``nb`` (already read and checked) against ``assignment``.

    ``seed``: the grading seed of the hidden inputs (default: a fresh one,
    recorded in the result); ``isolation``: a ``sandbox.Isolation`` (default:
    the best this machine gives).
    """
    limits = limits or Limits()
    namespace = namespace if namespace is not None else base_namespace(assignment)
    started = time.monotonic()
    workspace = Workspace(parent=workspace_parent, files_from=files_from)
    kernel = Kernel(workspace, limits, deny=[assignment.path.parent, *deny],
                    readonly=default_readonly(), protect=protect, isolation=isolation)
    result = NotebookResult(assignment.name, seed=new_seed() if seed is None else int(seed),
                            sandbox=kernel.isolation.level)
    try:
        plan = restore(nb, assignment)
        result.flags = flags(plan)
        kernel.start()
        session = Session(kernel, plan, assignment, limits, namespace, result.seed)
        session.run()
        session.fill(result)
        result.flags += session.flags
    except KernelStartError as exc:
        result.status, result.error = "error", str(exc)
        result.exercises = [_result(g, "error", str(exc)) for g in assignment.grading.values()]
    finally:
        kernel.close()
        workspace.cleanup()
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _result(spec, status, feedback, points=0.0):
    return ExerciseResult(spec.grade_id, spec.label, points, spec.points, status, feedback)


class Session:
    """The run of one plan in one kernel, with restarts."""

    def __init__(self, kernel, plan, assignment, limits, namespace, seed=None):
        self.kernel, self.plan, self.assignment = kernel, plan, assignment
        self.limits, self.namespace, self.seed = limits, namespace, seed
        self.flags = []
        self.replayable, self.failed, self.quarantine = [], {}, {}
        self.results, self.notes, self.issues = {}, [], set()
        self.restarts, self.stopped = 0, ""
        self.deadline = time.monotonic() + limits.notebook_timeout

    def run(self):
        for cell in self.plan:
            left = self.deadline - time.monotonic()
            if self.stopped or left <= 1:
                if not self.stopped:
                    self.issues.add("timeout")
                reason = self.stopped or f"the notebook used up its {self.limits.notebook_timeout:.0f} s"
                if cell.kind == "grading":
                    self.results[cell.grade_id] = _result(self.assignment.grading[cell.grade_id],
                                                          "not run", f"not run: {reason}.")
                continue
            timeout = min(left, max(self.limits.timeout, 3 * cell.seconds + 2))
            if cell.kind == "grading":
                self.results[cell.grade_id] = self.grading_cell(cell, timeout)
            else:
                self.code_cell(cell, timeout)

    def fill(self, result):
        result.exercises = [self.results.get(gid) or _result(spec, "not run", "not run.")
                            for gid, spec in self.assignment.grading.items()]
        result.notes, result.restarts = self.notes[:MAX_NOTES], self.restarts
        if len(self.notes) > MAX_NOTES:
            result.notes.append(f"... and {len(self.notes) - MAX_NOTES} more notes.")
        result.status = ",".join(sorted(self.issues)) or "ok"

    # ------------------------------------------------------------ the student's cells
    def code_cell(self, cell, timeout):
        blocked = sorted(run_time_names(parse(cell.source)) & set(self.quarantine))
        if blocked:
            self.notes.append(f"{where(cell)} was skipped: it calls `{blocked[0]}`, which "
                              f"{self.quarantine[blocked[0]]} in the tests.")
            return
        outcome = self.kernel.execute(cell.source, timeout)
        if outcome.status == "ok":
            self.replayable.append(cell)
            return
        problem = self.describe(cell, outcome, timeout)
        self.failed[cell.grade_id or cell.number] = problem
        self.notes.append(problem)
        if outcome.status in ("timeout", "died"):
            self.recover(outcome.status)

    def describe(self, cell, outcome, timeout):
        if outcome.status == "timeout":
            return f"{where(cell)} did not finish within {timeout:.0f} s and was stopped (an endless loop?)."
        if outcome.status == "died":
            return f"{where(cell)} crashed the kernel: {self.crash_reason()}."
        if outcome.ename in ("SyntaxError", "IndentationError", "TabError"):
            line, message = syntax_error(cell.source) or ("?", outcome.evalue)
            return f"{where(cell)} has a {outcome.ename} on line {line}: {probe.short(message)}."
        first = probe.short((outcome.evalue.strip().splitlines() or [""])[0])
        if outcome.ename == "NotImplementedError" and first.startswith("Exercise "):
            return f"{where(cell)} stopped at an unfinished exercise ({first})."
        return f"{where(cell)} raised {probe.short(outcome.ename, 60)}: {first}"

    def crash_reason(self):
        code = self.kernel.exit_code()
        if code in SIGNALS:
            return SIGNALS[code]
        memory = f"{self.limits.memory / 2**30:.3g} GiB"
        if code is None or code == 0:
            return f"the kernel process ended (out of memory beyond the {memory} limit?)"
        return f"the Python process exited with code {code} (os._exit? memory beyond the {memory} limit?)"

    def recover(self, kind):
        self.issues.add("timeout" if kind == "timeout" else "crashed")
        if self.restarts >= MAX_RESTARTS:
            self.stopped = f"the kernel hung or crashed {self.restarts + 1} times"
            self.kernel.shutdown()
            return
        self.restarts += 1
        try:
            self.kernel.restart()
        except KernelStartError as exc:
            self.stopped = str(exc)
            return
        for cell in self.replayable:  # rebuild the state the next cells expect
            outcome = self.kernel.execute(cell.source, max(self.limits.timeout, 3 * cell.seconds + 2))
            if outcome.status != "ok":
                self.notes.append(f"after the restart, {where(cell)} failed ({outcome.status}); "
                                  f"the cells after it may miss what it defines.")
                if outcome.status in ("timeout", "died"):
                    self.kernel.restart()
                break

    # ------------------------------------------------------------ grading cells
    def grading_cell(self, cell, timeout):
        spec = self.assignment.grading[cell.grade_id]
        blocked = sorted(set(spec.functions) & set(self.quarantine))
        if blocked:
            status = "timeout" if "finish" in self.quarantine[blocked[0]] else "crashed"
            return _result(spec, status, f"{status}: `{blocked[0]}` {self.quarantine[blocked[0]]} "
                                         f"in an earlier test, so it was not called again.")
        token = secrets.token_hex(12)
        prepared = self.kernel.execute(SERVER.format(source=PROBE_SOURCE, token=token), 30, silent=True)
        if prepared.status != "ok":
            if prepared.status in ("timeout", "died"):
                self.recover(prepared.status)
            return _result(spec, "error", f"the grader could not prepare this test "
                                          f"({prepared.ename or prepared.status}: {probe.short(prepared.evalue)}).")
        deadline = time.monotonic() + timeout

        def transport(method, request, on_input):
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelLost("timeout")
            outcome = self.kernel.execute(f"__nnlib_grade__.{method}({request!r})", left, silent=True,
                                          on_input=on_input)
            if outcome.status in ("timeout", "died"):
                raise KernelLost(outcome.status)
            if outcome.status != "ok":
                raise ValueError(f"the grader's call into your notebook failed ({probe.short(outcome.ename, 60)}: "
                                 f"{probe.short(outcome.evalue)}); did the notebook change `__nnlib_grade__`?")
            return outcome.payloads

        remote = Remote(transport, token, self.assignment.mutates)
        try:
            judgement = judge(spec, remote, self.namespace, self.assignment.forbidden.get(spec.label, ()), self.seed)
        except KernelLost as exc:
            return self.lost(spec, exc.status, timeout)
        used = [name for name in judgement.nnlib  # public functions only: not their private helpers
                if name.startswith("nnlib.") and not any(part.startswith("_") for part in name.split("."))]
        if used:
            self.flags.append(f"{spec.label}: the student's code called {', '.join(used[:5])}"
                              f"{' ...' if len(used) > 5 else ''}")
        if not remote.profiled:
            self.flags.append(f"{spec.label}: the student's code switched off the grader's call record (sys.setprofile)")
        return self.combine(spec, judgement)

    def lost(self, spec, status, timeout):
        """A grading cell whose calls hung or crashed the kernel: 0 points, say which."""
        if status == "timeout":
            reason, status = "did not finish", "timeout"
            text = f"timeout: the tests did not finish within {timeout:.0f} s (an endless loop?)"
        else:
            reason, status = "crashed the kernel", "crashed"
            text = f"crashed: the kernel died during the tests: {self.crash_reason()}"
        for name in spec.functions:
            self.quarantine[name] = reason
        self.recover("timeout" if status == "timeout" else "died")
        return _result(spec, status, text + "; the kernel was restarted and grading went on.")

    def combine(self, spec, judgement):
        if judgement.status == "passed":
            return _result(spec, "passed", judgement.message, points=spec.points)
        context = [self.failed[self.assignment.functions[name]] for name in spec.functions
                   if self.assignment.functions.get(name) in self.failed]
        if not context and "is not defined" in judgement.message and self.failed:
            context = [next(iter(self.failed.values()))]
        feedback = judgement.message if judgement.status == "not attempted" or not context else \
            f"{context[0]} So: {judgement.message}"
        return _result(spec, judgement.status, feedback)


def where(cell):
    """How feedback names a cell: its position, and its exercise when it has one."""
    if cell.grade_id.startswith("ex_"):
        return f"cell {cell.number} (your code for exercise {exercise_label(cell.grade_id)})"
    return f"cell {cell.number}"
