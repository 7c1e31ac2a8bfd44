"""One sandbox per kernel: bubblewrap namespaces, a uid of its own, cgroup limits.

``detect()`` finds what this machine allows, once per process:

- ``full`` (root, ``bwrap`` and ``setpriv`` present and working): the kernel
  runs under ``bwrap`` in its own PID, network, IPC, UTS and mount
  namespaces, as an unprivileged uid leased from a pool for this kernel alone
  (``UID_BASE``..., no passwd entry needed), with no capabilities and
  ``no_new_privs``. Its file system is a fresh tmpfs holding read-only
  binds of the system (``/usr``, ``/etc``...), the Python installation, the
  virtual environment and nnlib/nncourse, plus its own workspace read-write:
  the course root, ``solutions/``, the submissions, the grades and the other
  kernels' workspaces are simply not there. Its processes sit in a pids
  cgroup (and a memory cgroup where the hierarchy is writable) and are all
  killed when the kernel ends (``cgroup.kill``, else one by one, and
  everything left of its uid), so nothing it starts outlives it.
- ``namespaces`` (not root, ``bwrap`` works through user namespaces): the
  same namespaces and file system, but the kernel keeps the grader's uid, so
  there is no per-kernel process limit (RLIMIT_NPROC would count all of the
  user's processes) and no cgroup unless one is writable.
- ``none`` (no ``bwrap``, or it cannot create namespaces here): the kernel is
  a plain child process; only the audit-hook guard of ``boot.py`` and the
  rlimits apply. ``check`` says so once; ``batch`` refuses unless told
  ``--no-sandbox``.

Set ``NNLIB_GRADE_SANDBOX=none`` (or ``namespaces``) to ask for less than
the machine allows (tests use it to exercise the fallbacks).
"""
import errno
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

UID_BASE, UID_COUNT = 1_500_000_000, 4096  # far above any login or subuid range
LOCK_DIR = Path("/run/nnlib-grade")
MAX_PROCESSES = 128                          # threads count too: ipykernel alone uses ~10
CGROUP_ROOT = Path("/sys/fs/cgroup")
SYSTEM_PATHS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")
LEVELS = ("none", "namespaces", "full")


@dataclass(frozen=True)
class Isolation:
    level: str           # "full", "namespaces" or "none"
    reason: str = ""     # why it is not "full" (empty when it is)
    bwrap: str = ""
    setpriv: str = ""

    @property
    def sandboxed(self):
        return self.level != "none"

    def warning(self):
        """One line for the user when isolation is weaker than ``full`` (empty when it is full)."""
        if self.level == "full":
            return ""
        if self.level == "namespaces":
            return (f"the grading sandbox is weaker here ({self.reason}): kernels get their own namespaces "
                    f"and file system view but share your uid and have no per-kernel process limit.")
        return (f"grading runs UNSANDBOXED ({self.reason}): a submission's code can read and write anything "
                f"your user can. Fine for checking your own work; never for grading others.")


@lru_cache(maxsize=None)
def detect():
    """What isolation this machine gives (see the module docstring); probed once per process."""
    wanted = os.environ.get("NNLIB_GRADE_SANDBOX", "full")
    if wanted not in LEVELS:
        wanted = "full"
    if wanted == "none":
        return Isolation("none", "NNLIB_GRADE_SANDBOX=none")
    bwrap = shutil.which("bwrap") or ""
    if not bwrap:
        return Isolation("none", "bubblewrap (bwrap) is not installed; on Debian/Ubuntu: apt-get install bubblewrap")
    root = os.geteuid() == 0
    setpriv = shutil.which("setpriv") or ""
    full = root and setpriv and wanted == "full"
    probe = [bwrap, *namespace_flags(as_root=root), "--ro-bind", "/", "/", "--"]
    probe += [setpriv, "--reuid", str(UID_BASE), "--regid", str(UID_BASE), "--clear-groups", "true"] if full \
        else ["true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20)
        problem = done.stderr.strip().splitlines()[-1] if done.returncode else ""
    except (OSError, subprocess.SubprocessError) as exc:
        problem = str(exc)
    if problem:
        return Isolation("none", f"bubblewrap cannot create namespaces here: {problem[:200]}")
    if full:
        return Isolation("full", "", bwrap, setpriv)
    why = "not running as root" if not root else "setpriv is missing" if not setpriv else \
        "NNLIB_GRADE_SANDBOX=namespaces"
    return Isolation("namespaces", why, bwrap)


def namespace_flags(as_root):
    flags = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
             "--die-with-parent", "--new-session"]
    return flags if as_root else ["--unshare-user", *flags]


# ------------------------------------------------------------------ uids
class UidLease:
    """An unprivileged uid for one kernel, held by an flock on LOCK_DIR/UID (released at exit)."""

    def __init__(self):
        LOCK_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        start = (os.getpid() * 7) % UID_COUNT
        for i in range(UID_COUNT):
            uid = UID_BASE + (start + i) % UID_COUNT
            handle = open(LOCK_DIR / str(uid), "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            self.uid, self.handle = uid, handle
            return
        raise RuntimeError(f"all {UID_COUNT} sandbox uids are in use")

    def release(self):
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def kill_uid(uid):
    """SIGKILL every process whose real uid is ``uid`` (the lease makes it this kernel's alone)."""
    for _ in range(20):
        found = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                if os.stat(entry.path).st_uid == uid:
                    os.kill(int(entry.name), signal.SIGKILL)
                    found += 1
            except OSError:
                continue
        if not found:
            return
        time.sleep(0.05)


# ------------------------------------------------------------------ cgroups
def _own_paths():
    """{hierarchy: path of this process's cgroup}; key "" is cgroup v2."""
    paths = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    except (OSError, ValueError):
        pass
    return paths


def _v2_mount():
    for candidate in (CGROUP_ROOT, CGROUP_ROOT / "unified"):
        if (candidate / "cgroup.procs").exists() and (candidate / "cgroup.controllers").exists():
            return candidate
    return None


class Cgroups:
    """This kernel's cgroups: v2 (for cgroup.kill, and pids/memory where enabled) and v1 pids/memory."""

    counter = 0

    def __init__(self, name, max_processes, memory):
        self.dirs, self.notes = [], []
        own = _own_paths()
        v2 = _v2_mount()
        places = []
        if v2 is not None and "" in own:
            places.append(("v2", v2 / own[""].lstrip("/")))
        for controller in ("pids", "memory"):
            if controller in own and (CGROUP_ROOT / controller / "cgroup.procs").exists():
                places.append((controller, CGROUP_ROOT / controller / own[controller].lstrip("/")))
        for kind, parent in places:
            _remove_stale(parent / "nnlib-grade")
            folder = parent / "nnlib-grade" / name
            try:
                folder.mkdir(parents=True)
            except OSError as exc:
                self.notes.append(f"{kind} cgroup: {exc.strerror}")
                continue
            self.dirs.append((kind, folder))
            self._limit(folder, "pids.max", max_processes)
            self._limit(folder, "memory.max", memory)
            self._limit(folder, "memory.limit_in_bytes", memory)

    @classmethod
    def create(cls, max_processes, memory):
        cls.counter += 1
        return cls(f"{os.getpid()}-{cls.counter}-{time.monotonic_ns() % 10**9}", max_processes, memory)

    @staticmethod
    def _limit(folder, knob, value):
        if (folder / knob).exists():
            try:
                (folder / knob).write_text(str(int(value)))
            except OSError:
                pass

    @property
    def procs_files(self):
        return [str(folder / "cgroup.procs") for _, folder in self.dirs]

    def limited(self, knob):
        """Whether some cgroup of this kernel enforces ``knob`` (e.g. "pids.max")."""
        for _, folder in self.dirs:
            try:
                if (folder / knob).read_text().strip() not in ("", "max"):
                    return True
            except OSError:
                continue
        return False

    def pids(self):
        found = set()
        for _, folder in self.dirs:
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                continue
        return found

    def kill(self):
        """Kill every process in these cgroups; True when they are empty afterwards."""
        for kind, folder in self.dirs:
            if kind == "v2" and (folder / "cgroup.kill").exists():
                try:
                    (folder / "cgroup.kill").write_text("1")
                except OSError:
                    pass
        for _ in range(50):
            left = self.pids()
            if not left:
                return True
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        return not self.pids()

    def remove(self):
        self.kill()
        for _, folder in self.dirs:
            for _ in range(20):
                try:
                    folder.rmdir()
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY:
                        break
                    time.sleep(0.05)
        self.dirs = []


def _remove_stale(parent):
    """Remove the empty cgroups of grader processes that died without cleaning up."""
    try:
        children = [c for c in parent.iterdir() if c.is_dir()]
    except OSError:
        return
    for child in children:
        owner = child.name.split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            try:
                child.rmdir()
            except OSError:
                pass


# ------------------------------------------------------------------ the sandbox
class Sandbox:
    """The isolation of one kernel (kept across its restarts); ``close`` kills all that is left in it."""

    def __init__(self, isolation, limits):
        self.isolation = isolation
        self.lease = UidLease() if isolation.level == "full" else None
        self.uid = self.lease.uid if self.lease else None
        self.cgroups = Cgroups.create(MAX_PROCESSES, limits.memory) if isolation.sandboxed else None

    @property
    def nproc(self):
        """RLIMIT_NPROC for the kernel: only with a uid of its own (else it counts the user's processes)."""
        return MAX_PROCESSES if self.uid is not None else 0

    def give(self, path):
        """Hand ``path`` (a folder, recursively, or a file) to the kernel's uid."""
        if self.uid is None:
            return
        targets = [Path(path)] + (list(Path(path).rglob("*")) if Path(path).is_dir() else [])
        for target in targets:
            try:
                os.lchown(target, self.uid, self.uid)
            except OSError:
                pass

    def command(self, argv, workspace, readable=()):
        """``argv`` wrapped: join the cgroups, then bwrap (and setpriv) around it."""
        if not self.isolation.sandboxed:
            return list(argv)
        root = self.uid is not None
        binds = bind_list([*SYSTEM_PATHS, sys.base_prefix, sys.prefix, *readable])
        cmd = [self.isolation.bwrap, *namespace_flags(as_root=os.geteuid() == 0),
               "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp",
               "--perms", "1777", "--tmpfs", "/var/tmp", "--perms", "1777", "--tmpfs", "/dev/shm"]
        for device in sorted(Path("/dev").glob("nvidia*")):  # a real GPU, when there is one
            cmd += ["--dev-bind", str(device), str(device)]
        for path in _parents(binds + [str(workspace.root)]):
            cmd += ["--perms", "0755", "--dir", path]
        for path in binds:
            cmd += (["--symlink", os.readlink(path), path] if os.path.islink(path)
                    else ["--ro-bind", path, path])
        cmd += ["--bind", str(workspace.root), str(workspace.root), "--chdir", str(workspace.work), "--"]
        if root:
            cmd += [self.isolation.setpriv, "--reuid", str(self.uid), "--regid", str(self.uid),
                    "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
        cmd += list(argv)
        procs = self.cgroups.procs_files if self.cgroups else []
        if procs:  # join the cgroups before anything of the kernel exists
            cmd = ["/bin/sh", "-c", 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 97; shift; done; shift; '
                   'exec "$@"', "nnlib-grade-sandbox", *procs, "--", *cmd]
        return cmd

    def kill_all(self):
        """Kill every process of this sandbox (its cgroups, and its uid when it has one)."""
        if self.cgroups is not None:
            self.cgroups.kill()
        if self.uid is not None:
            kill_uid(self.uid)

    def close(self):
        self.kill_all()
        if self.cgroups is not None:
            self.cgroups.remove()
        if self.lease is not None:
            self.lease.release()
            self.lease = None


def bind_list(paths):
    """Existing paths, deduplicated, none inside another (the outer bind already shows it)."""
    found = []
    for path in sorted({os.path.abspath(p) for p in paths if p and os.path.lexists(p)}):
        if not any(path == f or path.startswith(f.rstrip("/") + "/") for f in found if not os.path.islink(f)):
            found.append(path)
    return found


def _parents(paths):
    """Folders to create (0755, empty) so that each bind's mount point exists."""
    mounted = [p for p in paths]
    parents = set()
    for path in paths:
        parent = os.path.dirname(path)
        while parent not in ("/", "", "/tmp", "/var/tmp", "/dev", "/proc"):
            if not any(parent == m or parent.startswith(m.rstrip("/") + "/") for m in mounted if m != path):
                parents.add(parent)
            parent = os.path.dirname(parent)
    return sorted(parents, key=lambda p: (p.count("/"), p))
