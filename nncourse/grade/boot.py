"""Start a student's kernel under limits: ``python boot.py CONFIG -f CONNECTION_FILE``.

Run by the grader as the kernel command (see ``runner.Kernel``), as a plain
script so nothing from nnlib or nncourse is imported before the limits are in place.
CONFIG is JSON with:

- ``memory``: bytes of address space (RLIMIT_AS; a huge allocation then
  raises MemoryError or kills this kernel, never the machine);
- ``cpu``: CPU seconds before the kernel is killed (RLIMIT_CPU), a backstop
  behind the grader's wall-clock timeouts; ``fsize``: largest file it may write;
  ``nproc``: processes and threads of its uid (RLIMIT_NPROC; only in a sandbox
  with a uid of its own, 0 otherwise);
- ``salt``, ``deny``, ``readonly``, ``allow``: salted SHA-256 hashes of folders.
  An audit hook refuses, through Python's file APIs, any access inside a
  ``deny`` folder (the solutions, the submissions, the grades) and any write
  inside a ``readonly`` one (nnlib, nncourse, the Python environment), except inside
  ``allow`` (the kernel's own working folder). Only hashes are passed, so the
  kernel is never told where the solutions are.
- ``protect``: process ids the kernel may not signal (the grader's).
- ``sandboxed``: the kernel runs in a PID namespace, where its parent is pid 1,
  which ipykernel's parent poller takes for "the grader is gone"; the poller
  is switched off (bwrap's --die-with-parent does its job there).

Then the kernel dies with its parent (PR_SET_PDEATHSIG) and no core files
are written. The guard is a speed bump, not a sandbox: code using ctypes or
a subprocess can bypass it, which is why verdicts never depend on it (see
``nncourse.grade``) and why high-stakes grading belongs in a container.
"""
import hashlib
import json
import os
import resource
import signal
import sys

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
PATH_EVENTS = {"os.listdir": 0, "os.scandir": 0, "glob.glob": 0, "os.chdir": 0,
               "shutil.copytree": 0, "shutil.copyfile": 0, "shutil.rmtree": 0}
WRITE_EVENTS = {"os.remove": 0, "os.rmdir": 0, "os.mkdir": 0, "os.rename": (0, 1),
                "os.link": (0, 1), "os.symlink": (0, 1), "os.truncate": 0, "os.chmod": 0,
                "os.utime": 0, "shutil.move": (0, 1), "shutil.copyfile": 1, "shutil.copytree": 1}


def set_limits(config):
    for name, key in (("RLIMIT_AS", "memory"), ("RLIMIT_CPU", "cpu"), ("RLIMIT_FSIZE", "fsize"),
                      ("RLIMIT_NPROC", "nproc")):
        if config.get(key):
            limit = int(config[key])
            resource.setrlimit(getattr(resource, name), (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def die_with_parent():
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: ipykernel's parent poller still applies
        pass


class Guard:
    """The audit hook: folder checks by salted hash, so no path is stored here."""

    def __init__(self, config):
        self.salt = config["salt"].encode()
        self.deny, self.readonly = set(config["deny"]), set(config["readonly"])
        self.allow, self.protect = set(config["allow"]), set(config["protect"])
        self.busy = False

    def tags(self, path):
        """Which of allow/deny/readonly the real path of ``path`` lies in."""
        if isinstance(path, int) or path is None:
            return set()
        real = os.path.realpath(os.fsdecode(path))
        found = set()
        while True:
            digest = hashlib.sha256(self.salt + real.encode("utf-8", "surrogateescape")).hexdigest()
            found |= {tag for tag, hashes in (("allow", self.allow), ("deny", self.deny),
                                               ("readonly", self.readonly)) if digest in hashes}
            parent = os.path.dirname(real)
            if parent == real:
                return found
            real = parent

    def check(self, path, write):
        tags = self.tags(path)
        if "allow" in tags:
            return
        if "deny" in tags or (write and "readonly" in tags):
            raise PermissionError(f"the grader does not let submissions {'write' if write else 'read'} "
                                  f"{os.fsdecode(path)!r}.")

    def __call__(self, event, args):
        if self.busy:
            return
        self.busy = True
        try:
            self.audit(event, args)
        finally:
            self.busy = False

    def audit(self, event, args):
        if event == "open":
            path, mode, flags = args
            write = bool(mode and any(c in str(mode) for c in "wax+")) or bool((flags or 0) & WRITE_FLAGS)
            self.check(path, write)
        elif event in ("os.kill", "os.killpg"):
            if args[0] in self.protect or args[0] < 0:
                raise PermissionError("the grader does not let submissions signal other processes.")
        else:
            for index in _indices(PATH_EVENTS.get(event)):
                if index < len(args):
                    self.check(args[index], write=False)
            for index in _indices(WRITE_EVENTS.get(event)):
                if index < len(args):
                    self.check(args[index], write=True)


def _indices(spec):
    if spec is None:
        return ()
    return spec if isinstance(spec, tuple) else (spec,)


def main():
    config = json.loads(sys.argv[1])
    set_limits(config)
    die_with_parent()
    if config.get("sandboxed"):
        os.environ.pop("JPY_PARENT_PID", None)
    sys.addaudithook(Guard(config))
    del sys.path[0]  # this script's folder must not shadow top-level modules
    sys.argv = [sys.argv[0]] + sys.argv[2:]
    from ipykernel import kernelapp
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
