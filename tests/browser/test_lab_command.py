"""`make lab` and `make system-deps`: the commands behind the browser tests.

`make lab` must run ``python -m nncourse.lab`` (the module the browser tests
start JupyterLab with); LabServer must start it, report a failed start with
the server's log, and stop the server together with its kernels.
`make system-deps` must be a no-op when Chromium exists, even without apt.
"""
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from nncourse.lab import DEFAULT_URL, ROOT, LabServer, lab_argv

MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="GNU make is not installed")


def make(*args, env=None):
    """Run make in the repository, free of the flags of a make that may be running pytest."""
    env = {k: v for k, v in (env or os.environ).items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run([MAKE, "--no-print-directory", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@needs_make
def test_make_lab_runs_nnlib_lab_with_lab_args():
    result = make("-n", "lab", "LAB_ARGS=--no-browser --port=9999")
    assert result.returncode == 0, result.stderr
    recipe = result.stdout.strip().splitlines()[-1]
    assert recipe.endswith(f'/python -m nncourse.lab --root-dir "{ROOT}" --no-browser --port=9999')


def test_lab_argv_roots_jupyterlab_at_the_folder(tmp_path):
    argv = lab_argv(tmp_path, ["--no-browser"])
    assert argv[1:3] == ["-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in argv
    assert f"--LabApp.default_url={DEFAULT_URL}" in argv
    assert argv[-1] == "--no-browser"
    assert ("--allow-root" in argv) == (os.geteuid() == 0)


def test_failed_start_raises_with_the_server_log(tmp_path):
    server = LabServer(tmp_path, extra_args=["--ServerApp.port_retries=notanumber"])
    with pytest.raises(RuntimeError, match="JupyterLab exited with code .* while starting"):
        server.start(timeout=60)
    assert server.process.poll() is not None


def _processes_mentioning(text):
    """PIDs of running processes whose command line contains ``text``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:  # the process ended while we looked
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc to find kernels")
def test_lab_server_stops_with_its_kernels(tmp_path):
    runtime = tmp_path / "runtime"  # kernels get their connection file here
    server = LabServer(tmp_path, env={"JUPYTER_RUNTIME_DIR": str(runtime)})
    with server:
        assert server.api("/api/status")["started"]
        kernel = server.api("/api/kernels", method="POST")
        deadline = time.monotonic() + 30
        while not _processes_mentioning(str(runtime)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _processes_mentioning(str(runtime)), f"kernel {kernel['id']} never started"
    assert server.process.poll() is not None, "the server still runs after stop()"
    deadline = time.monotonic() + 10
    while _processes_mentioning(str(runtime)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _processes_mentioning(str(runtime)), "a kernel outlived the server"


@needs_make
def test_system_deps_is_a_no_op_when_chromium_exists_even_without_apt(tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    no_apt = {**os.environ, "PATH": str(tmp_path)}  # no apt-get, no id, nothing
    result = make("-s", "system-deps", f"CHROMIUM={chromium}", env=no_apt)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@needs_make
def test_system_deps_without_chromium_or_apt_says_what_to_do(tmp_path):
    no_apt = {**os.environ, "PATH": str(tmp_path)}
    result = make("-s", "system-deps", f"CHROMIUM={tmp_path / 'missing'}", env=no_apt)
    assert result.returncode != 0
    assert "apt-get is unavailable" in result.stderr and "install Chromium" in result.stderr
