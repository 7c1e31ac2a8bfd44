"""A student's kernel: own process and folder, limits, a time limit per cell, restarts.

``Kernel`` talks to ipykernel through jupyter_client directly (rather than
nbclient's notebook loop) because grading must survive what ends that loop:
a cell that never returns is killed after ``Limits.timeout`` seconds even if
it swallows KeyboardInterrupt, a kernel that dies (``os._exit``, a segfault,
memory over the limit) is noticed within a tenth of a second, and either way
the caller gets an ``Outcome`` and can ``restart`` and go on.

The kernel process is started by ``boot.py`` (limits, die-with-parent, file
guard), in a temporary ``Workspace`` (cwd, HOME, TMPDIR, caches), with an
environment built from scratch: nothing of the grader's environment but
PATH/PYTHONPATH and the CUDA switches, so no variable names the solutions.
Where the machine allows, it runs inside a ``sandbox.Sandbox`` of its own
(bubblewrap namespaces, its own uid, cgroups; see ``sandbox``), which
``close`` empties: nothing the kernel started survives it.
"""
import hashlib
import json
import os
import queue
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec

from nncourse.grade.decode import DecodeError, bounded_json

from nncourse.grade.sandbox import Sandbox, detect

BOOT = Path(__file__).with_name("boot.py")
PASS_ENV = ("PATH", "PYTHONPATH", "LD_LIBRARY_PATH", "NUMBA_ENABLE_CUDASIM",
            "NUMBA_DISABLE_CUDA", "CUDA_VISIBLE_DEVICES")
MAX_STDOUT = 20_000
MAX_PAYLOADS = 16
# What the grader reads from a kernel is bounded before it is decoded: ZMQ drops (and
# disconnects) a frame over MAX_FRAME, a message over MAX_MESSAGE in all is ignored, and each
# JSON frame is checked for size, then depth, before json.loads (see decode.bounded_json).
MAX_FRAME = 72 * 2**20
MAX_MESSAGE = 80 * 2**20
MAX_FRAMES = 16


class KernelStartError(RuntimeError):
    """The kernel did not come up (memory limit too low, broken environment...)."""


@dataclass
class Limits:
    """Per-cell and per-notebook wall clock (s), memory and file size (bytes)."""
    timeout: float = 20.0
    notebook_timeout: float = 300.0
    memory: int = 4 * 2**30
    fsize: int = 2**30
    startup: float = 60.0


@dataclass
class Outcome:
    """What one execution did: status is "ok", "error", "timeout" or "died"."""
    status: str = "ok"
    ename: str = ""
    evalue: str = ""
    traceback: list = field(default_factory=list)
    payloads: list = field(default_factory=list)  # strings published with probe.MIME
    stdout: str = ""
    seconds: float = 0.0


class Workspace:
    """A temporary folder per submission: the kernel's cwd, HOME, TMPDIR and caches."""

    def __init__(self, parent=None, files_from=None):
        self.root = Path(tempfile.mkdtemp(prefix="nnlib-grade-", dir=parent)).resolve()
        self.work = self.root / "work"
        if files_from is not None:
            shutil.copytree(files_from, self.work, symlinks=True)
        else:
            self.work.mkdir()
        for name in ("home", "tmp", "mpl", "numba"):
            (self.root / name).mkdir(exist_ok=True)
        _seed_caches(self.root)

    def env(self):
        env = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
        env.update(USER="student", LOGNAME="student", HOME=str(self.root / "home"), TMPDIR=str(self.root / "tmp"),
                   MPLCONFIGDIR=str(self.root / "mpl"), NUMBA_CACHE_DIR=str(self.root / "numba"),
                   LANG="C.UTF-8", PYTHONHASHSEED="0", MALLOC_ARENA_MAX="2",
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   NUMBA_NUM_THREADS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
        return env

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def _seed_caches(root):
    """Copy the grader's Matplotlib font list and Numba cache so kernels start warm.

    Copies, not shared folders: a kernel can write into its caches, and a
    poisoned cache must not reach another student or the grader.
    """
    try:
        import matplotlib
        for font_list in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
            shutil.copy2(font_list, root / "mpl")
    except (ImportError, OSError):
        pass
    cache = os.environ.get("NUMBA_CACHE_DIR")
    if cache and Path(cache).is_dir() and _size(Path(cache)) < 64 * 2**20:
        shutil.copytree(cache, root / "numba", dirs_exist_ok=True)


def _size(folder):
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def guard_config(limits, workspace, deny=(), readonly=(), protect=(), nproc=0):
    """The JSON handed to boot.py: limits and salted hashes of the guarded folders."""
    salt = secrets.token_hex(16)

    def hashes(paths):
        return [hashlib.sha256((salt + os.path.realpath(p)).encode("utf-8", "surrogateescape")).hexdigest()
                for p in paths if p]
    cache = os.environ.get("NUMBA_CACHE_DIR")
    return {"memory": int(limits.memory), "fsize": int(limits.fsize),
            "cpu": int(limits.notebook_timeout + 120), "salt": salt,
            "deny": hashes(list(deny) + [cache]), "readonly": hashes(readonly),
            "allow": hashes([workspace.root]), "protect": [int(p) for p in protect], "nproc": int(nproc)}


def source_folders():
    """The folders of the nnlib and nncourse packages (the library and this grader)."""
    import nnlib
    return [Path(nnlib.__file__).resolve().parent, Path(__file__).resolve().parents[1]]


def sandbox_readable(deny=()):
    """What a sandboxed kernel sees read-only besides the system: site-packages, nnlib, nncourse, PYTHONPATH.

    A folder that holds a denied one (the course root holds solutions/) is left out.
    """
    import site
    denied = [os.path.realpath(d) for d in deny if d]
    folders = [*source_folders(), *site.getsitepackages(), site.getusersitepackages(),
               *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    keep = []
    for folder in folders:
        real = os.path.realpath(folder) if folder else ""
        if real and os.path.isdir(real) and not any(d == real or d.startswith(real.rstrip("/") + "/")
                                                      for d in denied):
            keep.append(real)
    return keep


def default_readonly():
    """Folders no submission may write to: nnlib, nncourse and the Python environment."""
    import site
    folders = {*source_folders(), Path(sys.prefix).resolve()}
    folders |= {Path(p) for p in site.getsitepackages() if Path(p).exists()}
    return sorted(str(f) for f in folders)


class Kernel:
    """One student's kernel; ``execute`` never raises for what the student's code does."""

    def __init__(self, workspace, limits, deny=(), readonly=(), protect=(), isolation=None):
        self.workspace, self.limits = workspace, limits
        self.guard = dict(deny=deny, readonly=readonly, protect=set(protect) | {os.getpid()})
        self.isolation = isolation or detect()
        self.sandbox = None
        self.km = self.kc = None
        self.starts = 0

    def start(self):
        if self.sandbox is None:
            self.sandbox = Sandbox(self.isolation, self.limits)
        config = guard_config(self.limits, self.workspace, nproc=self.sandbox.nproc, **self.guard)
        config["sandboxed"] = self.isolation.sandboxed
        # IPC sockets inside the workspace: no TCP port another process could reach (and in the
        # sandbox the kernel's network namespace is its own).
        self.km = KernelManager(transport="ipc", ip=str(self.workspace.root / f"ipc-{self.starts}"))
        argv = [sys.executable, str(BOOT), json.dumps(config), "-f", "{connection_file}"]
        self.km._kernel_spec = KernelSpec(
            argv=self.sandbox.command(argv, self.workspace, sandbox_readable(self.guard["deny"])),
            display_name="nnlib-grade", language="python")
        self.km.connection_file = str(self.workspace.root / f"kernel-{self.starts}.json")
        self.km.write_connection_file()
        self.sandbox.give(self.workspace.root)  # its uid must read the connection file, own its folder
        self.starts += 1
        with open(self.workspace.root / "kernel.log", "ab") as log:  # its stderr, for crash reports
            self.km.start_kernel(env=self.workspace.env(), cwd=str(self.workspace.work),
                                 stdout=log, stderr=log)
        self.context = zmq.Context()
        self.context.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME)
        self.kc = self.km.client(context=self.context)
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=self.limits.startup)
        except RuntimeError as exc:
            self.shutdown()
            raise KernelStartError(f"the kernel did not start: {exc}") from None

    def restart(self):
        self.shutdown()
        self.start()

    def shutdown(self):
        """Stop the kernel and every process it started (the sandbox stays for a restart)."""
        if self.kc is not None:
            self.kc.stop_channels()
            self.context.destroy(linger=0)
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - already dead is fine
                pass
        if self.sandbox is not None:
            self.sandbox.kill_all()
        self.km = self.kc = None

    def close(self):
        """Shut down and give the sandbox back (its cgroups removed, its uid released)."""
        self.shutdown()
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    def exit_code(self):
        """The kernel process's exit status (negative: killed by that signal), None if running."""
        try:
            code = self.km.provisioner.process.poll()
        except AttributeError:
            return None
        if code is not None and self.isolation.sandboxed and 128 < code <= 128 + 64:
            return 128 - code  # bwrap reports a child killed by signal N as 128 + N
        return code

    def execute(self, code, timeout, silent=False, on_input=None):
        """Run ``code``; wait at most ``timeout`` seconds; report what happened.

        Nothing is stored in the kernel's history (``In``/``Out``). ``on_input(prompt)``
        answers the kernel's input() requests (the grader's callbacks); without it the
        kernel's input() raises.
        """
        start = time.monotonic()
        msg_id = self.kc.execute(code, silent=silent, store_history=False, allow_stdin=on_input is not None)
        outcome, idle, replied = Outcome(), False, False
        while not (idle and replied):
            if time.monotonic() - start > timeout:
                outcome.status = "timeout"
                break
            if not self.km.is_alive():
                outcome.status = "died"
                break
            idle = self._read_iopub(msg_id, outcome) or idle
            replied = replied or self._read_reply(msg_id, outcome)
            if on_input is not None:
                self._answer_input(msg_id, on_input)
        outcome.seconds = time.monotonic() - start
        return outcome

    def _receive(self, channel, timeout):
        """The next message on ``channel`` (None: nothing within ``timeout`` s, or refused unread)."""
        socket = channel.socket
        if not socket.poll(int(timeout * 1000)):
            return None
        frames = socket.recv_multipart(copy=True)
        if len(frames) > MAX_FRAMES + 8 or sum(len(f) for f in frames) > MAX_MESSAGE:
            return None
        try:
            _, parts = channel.session.feed_identities(frames)
            for part in parts[1:5]:  # header, parent header, metadata, content
                bounded_json(part, MAX_MESSAGE)
            return channel.session.deserialize(parts)
        except (DecodeError, ValueError, TypeError, KeyError, RecursionError):
            return None

    def _read_iopub(self, msg_id, outcome):
        msg = self._receive(self.kc.iopub_channel, 0.05)
        if msg is None or msg["parent_header"].get("msg_id") != msg_id:
            return False
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and len(outcome.stdout) < MAX_STDOUT:
            outcome.stdout += str(content.get("text", ""))[:MAX_STDOUT]
        elif kind in ("display_data", "execute_result"):
            data = content.get("data")
            payload = data.get(_mime()) if isinstance(data, dict) else None
            if isinstance(payload, str) and len(outcome.payloads) < MAX_PAYLOADS:
                outcome.payloads.append(payload)
        return kind == "status" and content.get("execution_state") == "idle"

    def _read_reply(self, msg_id, outcome):
        msg = self._receive(self.kc.shell_channel, 0)
        if msg is None or msg["parent_header"].get("msg_id") != msg_id:
            return False
        content = msg["content"]
        if content.get("status") != "ok":
            outcome.status = "error"
            outcome.ename = str(content.get("ename", "Error"))[:200]
            outcome.evalue = str(content.get("evalue", ""))[:2000]
            traceback = content.get("traceback")
            outcome.traceback = [str(line)[:2000] for line in traceback[:50]] if isinstance(traceback, list) else []
        return True

    def _answer_input(self, msg_id, on_input):
        msg = self._receive(self.kc.stdin_channel, 0)
        if msg is None or msg["msg_type"] != "input_request" or msg["parent_header"].get("msg_id") != msg_id:
            return
        self.kc.input(on_input(str(msg["content"].get("prompt", ""))))


def _mime():
    from nncourse.grade.probe import MIME
    return MIME
