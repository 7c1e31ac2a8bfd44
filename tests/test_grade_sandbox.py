"""One kernel's sandbox (nncourse.grade.sandbox): what it sees, reaches and leaves behind; the fallbacks.

Here the tests run as root with bubblewrap installed (``make test`` installs
it), so the kernel gets the full sandbox; the fallbacks (no bubblewrap, not
root) are forced with NNLIB_GRADE_SANDBOX, as the sandbox module documents.
"""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import grade_toy as toy
from nncourse.grade.runner import Kernel, Limits, Workspace, default_readonly
from nncourse.grade.sandbox import MAX_PROCESSES, UID_BASE, UID_COUNT, detect

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kernel():
    assert detect().level == "full", f"no full sandbox here: {detect().reason}"
    workspace = Workspace()
    kernel = Kernel(workspace, Limits(memory=2 * 2**30), deny=[ROOT / "solutions"], readonly=default_readonly())
    kernel.start()
    yield kernel
    kernel.close()
    workspace.cleanup()


def run(kernel, code, timeout=20):
    out = kernel.execute(code, timeout)
    assert out.status == "ok", (out.ename, out.evalue)
    return out.stdout.strip()


def processes_of(uid):
    found = []
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and os.stat(entry.path).st_uid == uid:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_the_kernel_runs_as_an_unprivileged_uid_of_its_own(kernel):
    uid, caps = run(kernel, "import os\nprint(os.getuid(), [l for l in open('/proc/self/status') "
                            "if l.startswith('CapEff')][0].split()[1])").split()
    assert int(uid) == kernel.sandbox.uid and UID_BASE <= int(uid) < UID_BASE + UID_COUNT
    assert int(caps, 16) == 0


def test_the_course_root_and_the_solutions_are_not_in_its_world(kernel):
    seen = json.loads(run(kernel, f"import json, os\nprint(json.dumps([os.path.exists({str(ROOT / 'solutions')!r}), "
                                  f"os.path.exists({str(ROOT / 'README.md')!r}), sorted(os.listdir({str(ROOT)!r}))]))"))
    assert seen[:2] == [False, False]
    assert set(seen[2]) <= {"nnlib", "nncourse", ".venv"}
    assert run(kernel, "import nnlib.functional, nncourse.checks\nprint('imported')") == "imported"


def test_it_sees_only_its_own_processes_and_cannot_signal_the_grader(kernel):
    pids = json.loads(run(kernel, "import json, os\nprint(json.dumps([p for p in os.listdir('/proc') if p.isdigit()]))"))
    assert len(pids) <= 3  # bubblewrap's init, the kernel, maybe a thread-less helper
    out = kernel.execute(f"import ctypes, os\nprint(ctypes.CDLL(None).kill({os.getpid()}, 0), "
                         f"ctypes.get_errno())", 20)
    assert out.stdout.split()[0] == "-1"  # ESRCH: the grader's pid names nothing in there


def test_its_network_is_its_own(kernel):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        out = kernel.execute(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3)", 20)
    assert out.status == "error" and out.ename in ("ConnectionRefusedError", "OSError", "TimeoutError")


def test_processes_and_threads_are_limited(kernel):
    assert kernel.sandbox.cgroups.limited("pids.max")
    started = int(run(kernel, "import threading\nstop, threads = threading.Event(), []\ntry:\n"
                              "    for _ in range(1000):\n"
                              "        threads.append(threading.Thread(target=stop.wait, daemon=True))\n"
                              "        threads[-1].start()\nexcept RuntimeError:\n    threads.pop()\n"
                              "stop.set()\nfor t in threads:\n    t.join()\nprint(len(threads))", timeout=30))
    assert 0 < started < MAX_PROCESSES


def test_nothing_it_starts_outlives_it(kernel):
    run(kernel, "import subprocess\nfor _ in range(3):\n"
                "    subprocess.Popen(['sleep', '600'], start_new_session=True)\nprint('started')")
    uid = kernel.sandbox.uid
    assert len(processes_of(uid)) >= 4  # the kernel and three sleepers in sessions of their own
    kernel.shutdown()
    assert processes_of(uid) == [] and kernel.sandbox.cgroups.pids() == set()
    kernel.start()
    assert run(kernel, "print('alive')") == "alive"


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "nncourse.grade", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, **(env or {})))


@pytest.fixture(scope="module")
def toy_course(tmp_path_factory):
    root = tmp_path_factory.mktemp("fallback")
    solution, exercise = toy.write_assignment(root)
    subs = root / "submissions"
    subs.mkdir()
    toy.variant(exercise, subs / "ada.ipynb", {gid: toy.solved_code(gid) for gid in toy.SOLUTIONS})
    return root, solution, subs


def test_without_a_sandbox_batch_refuses_unless_told_no_sandbox(toy_course):
    root, solution, subs = toy_course
    args = ["batch", subs, "--assignment", toy.NAME, "--solutions", solution.parent, "--quiet", "--no-self-check"]
    refused = run_cli(*args, "--out", root / "refused", env={"NNLIB_GRADE_SANDBOX": "none"})
    assert refused.returncode == 4 and "refusing to grade a batch without a sandbox" in refused.stderr
    assert not (root / "refused" / "grades.csv").exists()
    done = run_cli(*args, "--out", root / "unsandboxed", "--no-sandbox")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("UNSANDBOXED") == 1 and "sandbox: none" in done.stdout
    assert json.loads((root / "unsandboxed" / "grades.json").read_text())["students"]["ada"]["total"] == 5


def test_check_works_unsandboxed_and_says_so_once(toy_course):
    _, solution, _ = toy_course
    done = run_cli("check", solution, "--solutions", solution.parent, env={"NNLIB_GRADE_SANDBOX": "none"})
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("grading runs UNSANDBOXED") == 1 and "5/5" in done.stdout


def test_without_root_the_kernel_still_gets_its_namespaces(toy_course, monkeypatch):
    monkeypatch.setenv("NNLIB_GRADE_SANDBOX", "namespaces")
    detect.cache_clear()
    try:
        isolation = detect()
        assert isolation.level == "namespaces" and "weaker" in isolation.warning()
        workspace = Workspace()
        kernel = Kernel(workspace, Limits(), deny=[ROOT / "solutions"], isolation=isolation)
        kernel.start()
        try:
            seen = run(kernel, f"import os\nprint(os.path.exists({str(ROOT / 'solutions')!r}), "
                               f"len([p for p in os.listdir('/proc') if p.isdigit()]))").split()
            assert seen[0] == "False" and int(seen[1]) <= 3
        finally:
            kernel.close()
            workspace.cleanup()
    finally:
        detect.cache_clear()
