"""Start JupyterLab on the course: the one command behind ``make lab``.

``make lab`` runs ``python -m nncourse.lab --root-dir <repo> [LAB_ARGS]``, which
replaces itself with ``python -m jupyterlab`` from the same environment,
rooted at the repository and opening ``notebooks/README.md``. Jupyter prints
the URL (with its token) as usual.

The browser tests (``tests/browser/``) start the server with the same
``python -m nncourse.lab``, via :class:`LabServer`, on a free loopback port with
a random token, and stop it (and its kernels) afterwards, so a broken
``make lab`` command fails the test suite.
"""
import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "/lab/tree/notebooks/README.md"
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"


def lab_argv(root_dir=ROOT, extra_args=()):
    """The command line that starts JupyterLab on ``root_dir`` (a list of str).

    ``extra_args`` are passed to ``jupyter lab`` unchanged (e.g. ``--no-browser``).
    As root (containers, these course machines) Jupyter refuses to start
    without ``--allow-root``, so it is added there.
    """
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [sys.executable, "-m", "jupyterlab",
            f"--ServerApp.root_dir={Path(root_dir).resolve()}",
            f"--LabApp.default_url={DEFAULT_URL}", *as_root, *extra_args]


def free_port():
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A headless JupyterLab on 127.0.0.1 started by ``python -m nncourse.lab``.

    Use as a context manager: ``with LabServer(root) as lab: lab.url(...)``.
    ``extra_args`` go after the loopback/port/token options; ``env`` updates
    the server's environment; the server's log goes to ``log_path``.
    """

    def __init__(self, root_dir, extra_args=(), env=None, log_path=None):
        self.root_dir = Path(root_dir)
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.extra_args = list(extra_args)
        self.env = {**os.environ, **(env or {})}
        self.log_path = Path(log_path) if log_path else self.root_dir / "jupyter-lab.log"
        self.process = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path="/lab"):
        """``path`` on this server with the token as a query parameter."""
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}{sep}token={self.token}"

    def argv(self):
        """``python -m nncourse.lab`` (what ``make lab`` runs), headless on our port and token."""
        headless = ["--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                    "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}"]
        return [sys.executable, "-m", "nncourse.lab", "--root-dir", str(self.root_dir),
                *headless, *self.extra_args]

    def start(self, timeout=60):
        """Start the server and wait until its API answers; return self."""
        with open(self.log_path, "wb") as log:
            # Own process group, so stop() can end anything it left behind.
            self.process = subprocess.Popen(
                self.argv(), cwd=self.root_dir, env=self.env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with code {self.process.returncode} while starting; "
                    f"its log:\n{self.log_text()}")
            try:
                self.api("/api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.25)
        raise TimeoutError(f"JupyterLab did not answer within {timeout} s; its log:\n"
                           f"{self.log_text()}")

    def api(self, path, method="GET", timeout=10):
        """Call the server's REST API; return the decoded JSON (or None)."""
        request = urllib.request.Request(
            self.base + path, method=method, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def federated_extensions(self):
        """Names of the prebuilt lab extensions the server hands to the browser."""
        request = urllib.request.Request(self.url("/lab"))
        with urllib.request.urlopen(request, timeout=10) as response:
            page = response.read().decode()
        start = page.index('id="jupyter-config-data"')
        start = page.index(">", start) + 1
        config = json.loads(page[start:page.index("</script>", start)])
        return [ext["name"] for ext in config.get("federated_extensions", [])]

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout=20):
        """Shut the server and its kernels down; kill them if they do not stop."""
        if self.process is None or self.process.poll() is not None:
            return
        try:  # the server's own shutdown also shuts its kernels down
            self.api("/api/shutdown", method="POST", timeout=timeout)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def main(argv=None):
    """``python -m nncourse.lab [--root-dir DIR] [jupyter lab options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m nncourse.lab", description="Open JupyterLab on the course.",
        epilog="Other options (e.g. --no-browser) are passed to jupyter lab.")
    parser.add_argument("--root-dir", default=str(ROOT),
                        help="folder JupyterLab shows (default: the repository)")
    args, rest = parser.parse_known_args(argv)
    command = lab_argv(args.root_dir, rest)
    sys.stdout.flush()
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
