"""Grade a folder of submissions in parallel: ``nnlib-grade batch DIR --assignment A --out OUT``.

Each entry of DIR is one student: ``NAME.ipynb`` or a folder ``NAME/`` (its
notebook is ``A.ipynb``, or its only ``.ipynb``; the folder's other files are
copied next to it). Every submission is graded in a worker process of its
own (forked from this one after the assignment and the judge's modules are
loaded) with its own kernel and temporary folder; at most ``workers`` run at
once. A submission that is not a notebook, is corrupt, empty or from another
assignment gets a clear error and the batch goes on; so does one whose code
kills its worker. Results are written as they arrive:

- ``OUT/results/NAME.json`` (one per student, with the submission's SHA-256:
  ``--resume`` skips students whose submission is unchanged),
- ``OUT/feedback/NAME.md`` (what the student sees),
- ``OUT/grades.csv`` and ``OUT/grades.json`` at the end.

Resumed results are read before the first kernel starts, and every result
file is rewritten from memory at the end, so nothing a submission writes
while the batch runs ends up in the grades.

Every kernel runs in a sandbox of its own (``sandbox``): it cannot see the
other kernels, the submissions, the grades or the solutions, and nothing it
starts outlives it. Without a sandbox (no bubblewrap, or it cannot work
here) ``run_batch`` refuses, unless ``sandbox=False`` (``--no-sandbox``).
The batch's grading seed is recorded in every result and in grades.json;
``--resume`` grades with the same seed, so a grade does not change by
being regraded.
"""
import functools
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from nncourse.grade.aliases import old_names
from nncourse.grade.grader import NotebookResult, grade_notebook
from nncourse.grade.judge import base_namespace
from nncourse.grade.notebook import SubmissionError, check_assignment, read_submission
from nncourse.grade.report import feedback_markdown, write_csv, write_json
from nncourse.grade.runner import Limits, source_folders
from nncourse.grade.sandbox import Isolation, detect
from nncourse.grade.seed import new_seed, student_seed

SELF_CHECK = "(solution self-check)"
MAX_FOLDER_BYTES = 200 * 2**20
WORKER_MEMORY = 4 * 2**30   # what a worker may allocate beyond its start (what kernels send it, decoded)


class SandboxError(RuntimeError):
    """A batch that would grade other people's work without a sandbox."""


@dataclass
class Submission:
    student: str
    path: Path
    fingerprint: str = ""


@dataclass
class BatchSummary:
    results: dict = field(default_factory=dict)   # student -> result dict
    graded: int = 0
    skipped: int = 0
    seconds: float = 0.0
    self_check: str = ""                          # why the solution failed its own grading
    warnings: list = field(default_factory=list)
    seed: int = 0                                 # the batch's grading seed
    sandbox: str = ""                             # full, namespaces or none


def discover(folder, out=None):
    """One Submission per entry of ``folder`` (hidden entries and the output folder skipped)."""
    subs, seen = [], set()
    for entry in sorted(Path(folder).iterdir()):
        if entry.name.startswith((".", "__")) or (out and entry.resolve() == Path(out).resolve()):
            continue
        name = re.sub(r"[^\w.@+-]", "_", entry.stem if entry.is_file() else entry.name)[:100] or "_"
        student, n = name, 2
        while student in seen:
            student, n = f"{name}-{n}", n + 1
        seen.add(student)
        subs.append(Submission(student, entry, fingerprint(entry)))
    return subs


def fingerprint(path):
    """SHA-256 of a submission file, or of a folder's file names and contents."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(path.parent)).encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
    return digest.hexdigest()


def locate_notebook(sub, assignment_name):
    """(notebook path, folder to copy or None) of a submission; SubmissionError if there is none."""
    if not sub.path.is_dir():
        return sub.path, None
    books = sorted(p for p in sub.path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    names = [assignment_name] + old_names(assignment_name)  # a notebook saved under its old name too
    named = [p for p in books if p.stem in names]
    if len(named) == 1 or len(books) == 1:
        size = sum(p.stat().st_size for p in sub.path.rglob("*") if p.is_file())
        if size > MAX_FOLDER_BYTES:
            raise SubmissionError(f"the folder {sub.path.name}/ holds {size >> 20} MB; the limit is "
                                  f"{MAX_FOLDER_BYTES >> 20} MB.")
        return (named or books)[0], sub.path
    if not books:
        raise SubmissionError(f"the folder {sub.path.name}/ contains no notebook (.ipynb file).")
    raise SubmissionError(f"the folder {sub.path.name}/ contains {len(books)} notebooks "
                          f"({', '.join(p.name for p in books[:5])}) and none is named {assignment_name}.ipynb.")


def grade_submission(sub, assignment, limits, namespace, guard, seed=0, isolation=None):
    """Grade one submission; returns the result as a dict and never raises."""
    started = time.monotonic()
    try:
        notebook, files = locate_notebook(sub, assignment.name)
        nb = read_submission(notebook)
        check_assignment(nb, assignment, name=notebook.name)
        result = grade_notebook(nb, assignment, limits, namespace, files_from=files,
                                seed=student_seed(seed, sub.student), isolation=isolation, **guard)
    except SubmissionError as exc:
        result = NotebookResult(assignment.name, status="invalid", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch
        result = NotebookResult(assignment.name, status="error", error=f"{type(exc).__name__}: {exc}")
    result.seconds = round(time.monotonic() - started, 2)
    return dict(result.to_dict(), student=sub.student, fingerprint=sub.fingerprint,
                submission=sub.path.name)


def bound_memory(extra=WORKER_MEMORY):
    """Cap this process's address space at what it uses now plus ``extra`` (soft limit only).

    A worker decodes what a kernel sends; a flood then ends in MemoryError in
    this worker (its student's grade is "error"), never in the grader's
    machine running out. The hard limit stays, so kernels started from here set their own.
    """
    import resource
    try:
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * resource.getpagesize()
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = used + extra if hard == resource.RLIM_INFINITY else min(hard, used + extra)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (OSError, ValueError):
        pass


def _child(send, work, sub):
    try:
        bound_memory()
        send.send(work(sub))
    finally:
        send.close()
        os._exit(0)  # skip the parent's exit handlers (this is a forked copy)


def lost(sub, assignment, why):
    """The result of a submission whose grading process died or was stopped."""
    result = NotebookResult(assignment.name, status="error", error=why)
    return dict(result.to_dict(), student=sub.student, fingerprint=sub.fingerprint, submission=sub.path.name)


def run_pool(jobs, work, workers, on_done, deadline):
    """Run ``work(sub)`` for each job in at most ``workers`` forked processes.

    ``on_done(sub, result)`` gets each result (None when the process died
    without one, "timeout" when it ran past ``deadline`` seconds); returning
    False stops the pool.
    """
    ctx = multiprocessing.get_context("fork")
    pending, running, stop = list(jobs), {}, False
    while running or (pending and not stop):
        while pending and not stop and len(running) < workers:
            sub = pending.pop(0)
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(send, work, sub))
            proc.start()
            send.close()
            running[recv] = (proc, sub, time.monotonic())
        for conn in wait(list(running), timeout=1.0):
            proc, sub, _ = running.pop(conn)
            try:
                result = conn.recv()
            except (EOFError, OSError):
                result = None
            conn.close()
            proc.join(10)
            stop = on_done(sub, result) is False or stop
        for conn, (proc, sub, started) in list(running.items()):
            if stop or time.monotonic() - started > deadline:
                proc.kill()
                proc.join()
                conn.close()
                del running[conn]
                if not stop:
                    on_done(sub, "timeout")


class Batch:
    """The state of one batch run: outputs, progress, the self-check."""

    def __init__(self, assignment, out, progress):
        self.assignment, self.out = assignment, Path(out)
        self.summary = BatchSummary()
        for name in ("results", "feedback"):
            (self.out / name).mkdir(parents=True, exist_ok=True)
        from tqdm import tqdm
        tqdm.monitor_interval = 0  # no monitor thread: workers are forked
        self.bar = tqdm(total=0, desc=f"grading {assignment.name}", unit="nb",
                        disable=not progress, file=sys.stderr)

    def on_done(self, sub, result):
        if result is None:
            result = lost(sub, self.assignment, "the grading process died (the submission may have killed it).")
        elif result == "timeout":
            result = lost(sub, self.assignment, "grading took too long and was stopped.")
        result["batch_seed"] = self.summary.seed
        if sub.student == SELF_CHECK:
            if result["total"] < result["possible"] or result["status"] not in ("ok",):
                bad = [e for e in result["exercises"] if e["status"] != "passed"]
                why = result.get("error") or "; ".join(f"{e['label']}: {e['feedback']}" for e in bad[:3])
                self.summary.self_check = f"the solution scores {result['total']:g}/{result['possible']:g}: {why}"
                return False
            return True
        self.summary.results[sub.student] = result
        self.summary.graded += 1
        self.write_student(sub.student, result)
        self.bar.set_postfix_str(f"{sub.student}: {result['total']:g}/{result['possible']:g} {result['status']}")
        self.bar.update(1)
        return True

    def write_student(self, student, result):
        (self.out / "results" / f"{student}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        (self.out / "feedback" / f"{student}.md").write_text(
            feedback_markdown(student, _as_result(result)), encoding="utf-8")


def _as_result(data):
    from nncourse.grade.grader import ExerciseResult
    result = NotebookResult(data["assignment"], data["status"], notes=data.get("notes", []),
                            flags=data.get("flags", []), error=data.get("error", ""),
                            seconds=data.get("seconds", 0.0))
    result.exercises = [ExerciseResult(**e) for e in data.get("exercises", [])]
    return result


def load_previous(out):
    previous = {}
    for path in sorted((Path(out) / "results").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            previous[data["student"]] = data
        except (ValueError, KeyError, TypeError):
            continue
    return previous


def run_batch(folder, assignment, out, workers=2, resume=False, limits=None,
              self_check=True, progress=True, sandbox=True, seed=None):
    """Grade every submission in ``folder``; write the outputs to ``out``; return a BatchSummary.

    ``sandbox=False`` grades without a sandbox (never for an exam: see the
    README); with ``sandbox=True`` and none available, SandboxError.
    ``seed``: the batch's grading seed (default: the one of the results
    being resumed, else a fresh one).
    """
    started, limits = time.monotonic(), limits or Limits()
    isolation = detect() if sandbox else Isolation("none", "--no-sandbox")
    if sandbox and not isolation.sandboxed:
        raise SandboxError(f"refusing to grade a batch without a sandbox: {isolation.reason}. Install "
                           f"bubblewrap (see the README), or pass --no-sandbox where every submission is "
                           f"trusted (never for an exam).")
    folder, out = Path(folder).resolve(), Path(out).resolve()
    subs = discover(folder, out)
    previous = load_previous(out) if resume else {}
    if seed is None:
        seeds = {old.get("batch_seed") for old in previous.values()} - {None}
        seed = seeds.pop() if len(seeds) == 1 else new_seed()
    namespace = base_namespace(assignment)  # loaded before any kernel starts
    source_before = source_digest()
    batch = Batch(assignment, out, progress)
    batch.summary.seed, batch.summary.sandbox = int(seed), isolation.level
    if isolation.warning():
        batch.summary.warnings.append(isolation.warning())
    todo = []
    for sub in subs:
        old = previous.get(sub.student)
        if old and old.get("fingerprint") == sub.fingerprint and old.get("status") != "error" \
                and old.get("batch_seed") == seed:
            batch.summary.results[sub.student] = old
            batch.summary.skipped += 1
        else:
            todo.append(sub)
    batch.bar.reset(total=len(todo))
    scratch = tempfile.mkdtemp(prefix="nnlib-grade-batch-")
    guard = {"workspace_parent": scratch, "deny": [folder, out, scratch], "protect": [os.getpid()]}
    jobs = ([Submission(SELF_CHECK, assignment.path)] if self_check else []) + todo
    work = functools.partial(grade_submission, assignment=assignment, limits=limits,
                             namespace=namespace, guard=guard, seed=seed, isolation=isolation)
    try:
        run_pool(jobs, work, workers, batch.on_done, limits.notebook_timeout + 3 * limits.startup + 60)
    finally:
        batch.bar.close()
        shutil.rmtree(scratch, ignore_errors=True)
    summary = batch.summary
    for student, result in summary.results.items():  # undo anything written meanwhile
        batch.write_student(student, result)
    rows = sorted(summary.results.items())
    summary.seconds = time.monotonic() - started
    if not summary.self_check:
        write_csv(out / "grades.csv", assignment, rows)
        write_json(out / "grades.json", assignment, rows, summary.seconds, seed=summary.seed,
                   sandbox=summary.sandbox)
    if source_digest() != source_before:
        summary.warnings.append("nnlib's or nncourse's source files changed during the batch: a submission "
                                "may have written to them; check `git status` and regrade.")
    return summary


def source_digest():
    """SHA-256 of nnlib's and nncourse's Python sources, to notice a submission that wrote to them."""
    digest = hashlib.sha256()
    for root in source_folders():
        for path in sorted(root.rglob("*.py")):
            digest.update(f"{root.name}/{path.relative_to(root)}".encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
