"""`make lab` and `make system-deps`: the commands behind the browser tests.

`make lab` must run ``python -m nncourse.lab`` (the module the browser tests
start JupyterLab with); LabServer must start it, report a failed start with
the server's log, and stop the server together with its kernels.
`make system-deps` must be a no-op when Chromium exists, even without apt.
"""
import os
import shutil
import subprocess
import sys
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


def _no_ci(env):
    return {k: v for k, v in env.items() if k != "CI"}


@needs_make
def test_system_deps_without_chromium_or_apt_says_what_to_do_under_ci(tmp_path):
    no_apt = {**os.environ, "PATH": str(tmp_path), "CI": "true"}
    result = make("-s", "system-deps", f"CHROMIUM={tmp_path / 'missing'}", env=no_apt)
    assert result.returncode != 0
    assert "apt-get is unavailable" in result.stderr and "install Chromium" in result.stderr


@needs_make
def test_system_deps_without_chromium_or_apt_carries_on_outside_ci(tmp_path):
    """A laptop without apt (macOS): set-up goes on; the browser tests skip themselves."""
    no_apt = _no_ci({**os.environ, "PATH": str(tmp_path)})
    result = make("-s", "system-deps", f"CHROMIUM={tmp_path / 'missing'}", env=no_apt)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def _fake_tools(folder):
    """`id` saying uid 1000 and an `apt-get` that records being called, in ``folder``."""
    for name, body in (("id", "echo 1000"), ("apt-get", f"touch {folder}/apt-get-called; exit 1"),
                       ("apt-cache", f"touch {folder}/apt-get-called; exit 1")):
        tool = folder / name
        tool.write_text(f"#!/bin/sh\n{body}\n")
        tool.chmod(0o755)


@needs_make
@pytest.mark.parametrize("ci", [False, True])
def test_system_deps_as_a_user_without_chromium_never_calls_apt(tmp_path, ci):
    """Not root (a learner's laptop): no apt-get; outside CI set-up goes on, under CI it stops."""
    _fake_tools(tmp_path)
    env = {**_no_ci(os.environ), "PATH": f"{tmp_path}:/usr/bin:/bin"}
    if ci:
        env["CI"] = "true"
    result = make("-s", "system-deps", f"CHROMIUM={tmp_path / 'missing'}", env=env)
    assert not (tmp_path / "apt-get-called").exists()
    if ci:
        assert result.returncode != 0
        assert "sudo apt-get install -y chromium" in result.stderr
    else:
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@needs_make
def test_make_lab_installs_only_what_the_course_needs():
    """`make lab` installs the course and its GPU part, not the test tools or browser driver."""
    result = make("-n", "-B", "lab", "LAB_ARGS=--no-browser")
    assert result.returncode == 0, result.stderr
    installs = [line for line in result.stdout.splitlines() if "pip install" in line and " -e " in line]
    assert installs == [f"{'.venv/bin'}/python -m pip install --quiet -e '.[gpu]'"], result.stdout


def test_browser_tests_skip_with_one_line_without_chromium_outside_ci(tmp_path):
    """Without Chromium, outside CI: every browser test is skipped, with one line saying how to run them."""
    env = {**_no_ci(os.environ), "CHROMIUM": str(tmp_path / "no-chromium")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-rs",
         "tests/browser/test_lab_widgets.py", "-k", "slider or broken"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    skip_lines = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skip_lines) == 1, result.stdout
    assert "no Chromium at" in skip_lines[0] and "apt-get install chromium" in skip_lines[0]
    assert " passed" not in result.stdout and " failed" not in result.stdout


def test_browser_tests_fail_without_chromium_under_ci(tmp_path):
    env = {**os.environ, "CI": "true", "CHROMIUM": str(tmp_path / "no-chromium")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
         "tests/browser/test_lab_widgets.py", "-k", "test_run_all_that_stops"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode != 0
    assert "is missing: run `make system-deps`" in result.stdout
