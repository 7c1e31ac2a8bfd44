"""Fixtures for the browser tests: JupyterLab started like ``make lab``, and
Debian's Chromium driven headless by Playwright.

- ``lab``: one JupyterLab for the session, started by ``nncourse.lab`` (the
  module behind ``make lab``) on a free 127.0.0.1 port with a random token,
  rooted at a temporary copy of ``notebooks/`` so no test can change the
  files under test; settings, workspaces and runtime files live in temp
  folders too. Stopped (kernels included) at the end, also after failures.
- ``browser``: /usr/bin/chromium, or $CHROMIUM (never a downloaded browser),
  headless, ``--no-sandbox``; closed at the end, also after failures. Where
  it is missing (a learner's laptop, not root) the tests that need it are
  skipped with one line saying how to run them; under CI (CI=true) they
  fail instead.
- ``lab_page``: a fresh browser context and JupyterLab workspace per test;
  JavaScript console errors are collected in ``lab_page.console_errors``; on
  failure a screenshot goes to test-artifacts/browser/; afterwards the
  page closes and the test's kernels are shut down.
"""
import json
import os
import shutil
import uuid
from pathlib import Path

import pytest
from labpage import LabPage
from playwright.sync_api import sync_playwright

from nncourse.lab import ROOT, LabServer

CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"  # the Makefile exports CHROMIUM
UNDER_CI = os.environ.get("CI", "").lower() == "true"
SKIP_WITHOUT_CHROMIUM = (
    f"no Chromium at {CHROMIUM}, so the browser tests are skipped; to run them, install it "
    "(Debian/Ubuntu: sudo apt-get install chromium) and run make test again, "
    "or set CHROMIUM=/path/to/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"

# Known-harmless console errors, matched as substrings; each entry needs a
# comment saying why it is harmless. Empty: JupyterLab 4.6 + ipywidgets 8.1 in
# Chromium log no errors for the course notebooks, so every error fails a test.
HARMLESS_CONSOLE = ()

# Settings a learner would not change but the tests need: no toast asking
# to fetch Jupyter news (it would cover part of the page; no internet here).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Outside CI, skip a test that needs Chromium where it is missing, before anything starts.

    (Skipped here rather than by a marker, so that pytest -ra shows one line for all of them.)
    """
    if "browser" in item.fixturenames and not UNDER_CI and not Path(CHROMIUM).exists():
        pytest.skip(SKIP_WITHOUT_CHROMIUM)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def _write_settings(folder):
    for name, values in LAB_SETTINGS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="session")
def lab(tmp_path_factory, artifacts):
    """JupyterLab on a temp copy of notebooks/ (tests add their own notebooks there)."""
    home = tmp_path_factory.mktemp("lab-home")
    root = home / "root"
    notebooks = ROOT / "notebooks"
    if notebooks.is_dir():
        shutil.copytree(notebooks, root / "notebooks",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    _write_settings(home / "settings")
    env = {"JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTER_CONFIG_DIR": str(home / "config")}
    server = LabServer(root, env=env, log_path=artifacts / "jupyter-lab.log")
    with server:
        yield server


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():  # only under CI: elsewhere these tests are skipped
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` "
                    "(as root: apt-get install -y chromium).")
    with sync_playwright() as playwright:
        # --no-sandbox: Chromium's sandbox refuses to run as root (these machines, CI
        # containers); --disable-dev-shm-usage: containers often have a tiny /dev/shm.
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield chromium
        finally:
            chromium.close()


def _unexpected(message):
    return not any(known in message for known in HARMLESS_CONSOLE)


def _collect_console_errors(page, errors):
    """Append unexpected console errors and uncaught exceptions to ``errors``."""
    def on_console(message):
        if message.type == "error" and _unexpected(message.text):
            errors.append(message.text)

    def on_page_error(exc):
        if _unexpected(str(exc)):
            errors.append(f"uncaught: {exc}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)


@pytest.fixture
def lab_page(request, lab, browser, artifacts):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    driver = LabPage(page, lab, workspace=f"test-{uuid.uuid4().hex[:8]}")
    _collect_console_errors(page, driver.console_errors)
    try:
        yield driver
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            page.screenshot(path=artifacts / f"{_safe(request.node.name)}-failure.png")
    finally:
        context.close()
        for session in lab.api("/api/sessions"):  # this test's kernels
            lab.api(f"/api/sessions/{session['id']}", method="DELETE")


def _safe(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
