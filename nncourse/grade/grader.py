"""Grade one notebook: run it cell by cell in its own kernel, judge every grading cell.

``grade_notebook`` restores the grading cells (``notebook.restore``), runs
the plan in a ``runner.Kernel`` and, around each grading cell, installs the
recorder (``probe``) and reads its plain-data result, which ``judge`` turns
into a verdict in this process. A cell that hangs or kills the kernel costs
only itself: the kernel is restarted, the cells that ran fine are run again
to rebuild the state, functions that hung or crashed are not called again,
and the remaining exercises are graded.
"""
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nncourse.grade import probe
from nncourse.grade.judge import Judgement, base_namespace, judge, read_payload
from nncourse.grade.notebook import exercise_label, flags, parse, restore, run_time_names, syntax_error
from nncourse.grade.runner import Kernel, KernelStartError, Limits, Workspace, default_readonly

PROBE_SOURCE = Path(probe.__file__).read_text(encoding="utf-8")  # read before any kernel runs
MAX_RESTARTS = 8
PREAMBLE = """def __nnlib_grade_begin(source, token, functions, values, imports):
    for line in imports:  # names the tests use, in case a cell rebound them (e.g. `check = 1`)
        try:
            exec(line, globals())
        except Exception:
            pass
    import types
    probe = types.ModuleType("nnlib_grade_probe")
    exec(compile(source, "<nnlib-grade probe>", "exec"), probe.__dict__)
    recorder = probe.Recorder(token)
    recorder.begin(globals(), functions, values)
    return recorder
__nnlib_grade__ = __nnlib_grade_begin({source!r}, {token!r}, {functions!r}, {values!r}, {imports!r})
del __nnlib_grade_begin"""
POSTAMBLE = "__nnlib_grade__.end(globals())\ndel __nnlib_grade__"
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

    @property
    def total(self):
        return sum(e.points for e in self.exercises)

    @property
    def possible(self):
        return sum(e.max_points for e in self.exercises)

    def to_dict(self):
        return dict(asdict(self), total=self.total, possible=self.possible)


def grade_notebook(nb, assignment, limits=None, namespace=None, files_from=None,
                   workspace_parent=None, deny=(), protect=()):
    """Grade notebook ``nb`` (already read and checked) against ``assignment``."""
    limits = limits or Limits()
    namespace = namespace if namespace is not None else base_namespace(assignment)
    started = time.monotonic()
    workspace = Workspace(parent=workspace_parent, files_from=files_from)
    kernel = Kernel(workspace, limits, deny=[assignment.path.parent, *deny],
                    readonly=default_readonly(), protect=protect)
    result = NotebookResult(assignment.name)
    try:
        plan = restore(nb, assignment)
        result.flags = flags(plan)
        kernel.start()
        session = Session(kernel, plan, assignment, limits, namespace)
        session.run()
        session.fill(result)
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

    def __init__(self, kernel, plan, assignment, limits, namespace):
        self.kernel, self.plan, self.assignment = kernel, plan, assignment
        self.limits, self.namespace = limits, namespace
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
        result.notes, result.restarts = self.notes, self.restarts
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
            return f"{where(cell)} has a {outcome.ename} on line {line}: {message}."
        first = (outcome.evalue.strip().splitlines() or [""])[0][:200]
        if outcome.ename == "NotImplementedError" and first.startswith("Exercise "):
            return f"{where(cell)} stopped at an unfinished exercise ({first})."
        return f"{where(cell)} raised {outcome.ename}: {first}"

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
        setup = PREAMBLE.format(source=PROBE_SOURCE, token=token, functions=spec.functions,
                                values=spec.values, imports=self.assignment.imports)
        prepared = self.kernel.execute(setup, 30, silent=True)
        if prepared.status != "ok":
            if prepared.status in ("timeout", "died"):
                self.recover(prepared.status)
            return _result(spec, "error", f"the grader could not prepare this test "
                                          f"({prepared.ename or prepared.status}: {prepared.evalue[:200]}).")
        outcome = self.kernel.execute(spec.source, timeout)
        if outcome.status in ("timeout", "died"):
            return self.lost(spec, outcome, timeout)
        collected = self.kernel.execute(POSTAMBLE, 30)
        try:
            judgement = judge(spec, read_payload(collected.payloads, token), self.namespace)
        except ValueError as exc:
            judgement = Judgement("failed", str(exc))
        if collected.status in ("timeout", "died"):
            self.recover(collected.status)
        return self.combine(spec, outcome, judgement)

    def lost(self, spec, outcome, timeout):
        """A grading cell that hung or crashed the kernel: 0 points, say which."""
        if outcome.status == "timeout":
            reason, status = "did not finish", "timeout"
            text = f"timeout: the tests did not finish within {timeout:.0f} s (an endless loop?)"
        else:
            reason, status = "crashed the kernel", "crashed"
            text = f"crashed: the kernel died during the tests: {self.crash_reason()}"
        for name in spec.functions:
            self.quarantine[name] = reason
        self.recover(outcome.status)
        return _result(spec, status, text + "; the kernel was restarted and grading went on.")

    def combine(self, spec, outcome, judgement):
        if judgement.status == "passed" and outcome.status == "ok":
            return _result(spec, "passed", judgement.message, points=spec.points)
        if judgement.status == "passed":
            return _result(spec, "failed", f"the tests raised {outcome.ename}: {outcome.evalue[:200]}")
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
