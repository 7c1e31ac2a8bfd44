"""The workshop set-up (workshop/): JupyterHub for a room, its load test, and the paper parts.

- the small load test: 4 learners (endless loop, kernel crash, full, partial)
  and both faults (a server killed, the hub restarted), graded by nnlib-grade;
- ``make workshop`` itself: it prints the URL and how to stop, a learner logs
  in, opens a notebook and runs a cell, Ctrl-C stops everything;
- the course copied into a learner's folder without overwriting their work;
- the hub's configuration as JupyterHub loads it;
- configurable-http-proxy's pinned tree runs on Debian 12's nodejs 18;
- the nbgitpuller link generator, the Zero to JupyterHub values file and the
  image recipe (these two are only read here: no cluster or container runtime).

Everything listens on 127.0.0.1 and stops by itself; leftover processes are
killed by the workshop folder they carry in their environment.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKSHOP = ROOT / "workshop"
sys.path.insert(0, str(WORKSHOP))  # the workshop scripts are files, not a package

import gitpuller_link  # noqa: E402
from course_spawner import copy_course  # noqa: E402
from hub import DEFAULT_PROXY, free_port, tagged_pids  # noqa: E402

UNDER_CI = os.environ.get("CI", "").lower() == "true"
needs_proxy = pytest.mark.skipif(
    not UNDER_CI and not DEFAULT_PROXY.exists(),
    reason="configurable-http-proxy is not installed (it needs node and npm), so the workshop "
           "tests are skipped; to run them: sudo apt-get install nodejs npm, then make test")


def _kill_tagged(state):
    for pid in tagged_pids(Path(state).resolve()):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _require_proxy():
    assert DEFAULT_PROXY.exists(), f"{DEFAULT_PROXY} is missing: run `make workshop-deps`"


# --------------------------------------------------------------------------
# The small load test
# --------------------------------------------------------------------------
@needs_proxy
def test_small_load_test_with_both_faults(tmp_path):
    _require_proxy()
    out = tmp_path / "loadtest"
    command = [sys.executable, str(WORKSHOP / "loadtest.py"), "--learners", "4",
               "--faults", "kill,restart", "--out", str(out), "--deadline", "240"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        _kill_tagged(out / "workshop")
    report = json.loads((out / "report.json").read_text())
    assert report["problems"] == [], output
    assert process.returncode == 0, output
    assert report["kinds"] == {"full": 1, "partial": 1, "blank": 0, "loop": 1, "crash": 1}
    assert report["graded"] == {"learner00": "5/8 timeout", "learner01": "3/8 crashed",
                                "learner02": "8/8 ok", "learner03": "3/8 ok"}
    for key in ("server_start_s", "kernel_start_s", "login_s"):
        assert report[key]["n"] == 4, key
    assert report["cell_round_trip_s"]["n"] > 20
    kill, restart = report["faults"]["kill"], report["faults"]["restart"]
    assert kill["survived"] and kill["learner"] == "learner02" and len(kill["killed_pids"]) >= 2
    assert restart["survived"] and restart["new_hub_pid"] != restart["old_hub_pid"]
    assert restart["cells_run_while_hub_down"] > 0
    assert any("interrupted" in e for e in report["events"]["learner00"])  # the endless loop
    others = [e for name, events in report["events"].items() if name != "learner00" for e in events]
    assert not any("interrupted" in e for e in others), others  # nobody else had to press stop
    assert any("died" in e for e in report["events"]["learner01"])  # os._exit
    assert report["peak_memory_mib"]["pss"] > 0
    assert "time to a running server" in output and "problems: none" in output


# --------------------------------------------------------------------------
# make workshop, as an instructor runs it
# --------------------------------------------------------------------------
def _make_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return {**env, **extra}


@needs_proxy
@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")
def test_make_workshop_serves_the_course_and_stops_on_ctrl_c(tmp_path):
    import requests
    import websocket

    _require_proxy()
    port, state, password = free_port(), tmp_path / "room", uuid.uuid4().hex[:10]
    env = _make_env(WORKSHOP_PASSWORD=password, WORKSHOP_AS_ROOT="yes")
    make = subprocess.Popen(
        ["make", "--no-print-directory", "workshop", f"WORKSHOP_PORT={port}", f"WORKSHOP_DIR={state}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(line.startswith("  stop:") for line in lines):
            line = make.stdout.readline()
            if not line and make.poll() is not None:
                break
            lines.append(line)
        printed = "".join(lines)
        assert f"Workshop running at http://127.0.0.1:{port}/" in printed, printed
        assert "stop: Ctrl-C here" in printed and "kill -HUP" in printed, printed
        assert password not in printed  # the password given in the environment is not echoed

        base = f"http://127.0.0.1:{port}"
        http = requests.Session()
        http.get(f"{base}/hub/login", timeout=30)
        wrong = http.post(f"{base}/hub/login", allow_redirects=False, timeout=30,
                          data={"username": "ana", "password": "not-the-password",
                                "_xsrf": http.cookies.get("_xsrf")})
        assert wrong.status_code == 403
        login = http.post(f"{base}/hub/login", allow_redirects=False, timeout=30,
                          data={"username": "ana", "password": password, "_xsrf": http.cookies.get("_xsrf")})
        assert login.status_code == 302
        token = http.post(f"{base}/hub/api/users/ana/tokens", json={"note": "test"}, timeout=30,
                          headers={"X-XSRFToken": http.cookies.get("_xsrf")}).json()["token"]
        auth = {"Authorization": f"token {token}"}
        assert requests.post(f"{base}/hub/api/users/ana/server", headers=auth, timeout=30).status_code in (201, 202)
        ready_by = time.monotonic() + 120
        while not (requests.get(f"{base}/hub/api/users/ana", headers=auth, timeout=30)
                   .json()["servers"].get("", {}).get("ready")):
            assert time.monotonic() < ready_by, "ana's server did not start within 120 s"
            time.sleep(0.3)

        # her own copy of the course, opened through her server
        notebook = requests.get(f"{base}/user/ana/api/contents/exercises/01_perceptron.ipynb",
                                headers=auth, timeout=30).json()
        assert notebook["type"] == "notebook" and notebook["content"]["cells"]
        assert (state / "homes/ana/exercises/01_perceptron.ipynb").is_file()
        session = requests.post(f"{base}/user/ana/api/sessions", headers=auth, timeout=60, json={
            "path": "exercises/01_perceptron.ipynb", "type": "notebook", "name": "",
            "kernel": {"name": "python3"}}).json()
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}/user/ana/api/kernels/{session['kernel']['id']}/channels",
            header=[f"Authorization: token {token}"], timeout=60)
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({"header": {"msg_id": msg_id, "msg_type": "execute_request", "session": "s",
                                       "username": "ana", "version": "5.3"},
                            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                            "content": {"code": "import nnlib, os\nprint(6 * 7, os.environ['HOME'])",
                                        "silent": False}}))
        printed_by_kernel = None
        while printed_by_kernel is None:
            msg = json.loads(ws.recv())
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                printed_by_kernel = msg["content"]["text"]
            assert msg["msg_type"] != "error", msg["content"]
        ws.close()
        assert printed_by_kernel.split() == ["42", str((state / "homes/ana").resolve())]
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)  # Ctrl-C in the terminal
        try:
            rest, _ = make.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            rest, _ = make.communicate()
        _kill_tagged(state)
    assert "stopped; learners' work is in" in rest, rest
    assert tagged_pids(state.resolve()) == []
    assert (state / "homes/ana/exercises/01_perceptron.ipynb").is_file()  # work kept after the stop


def test_make_workshop_refuses_root_unless_told(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root is refused")
    env = {k: v for k, v in os.environ.items() if k != "WORKSHOP_AS_ROOT"}
    result = subprocess.run([sys.executable, str(WORKSHOP / "hub.py"), "--dir", str(tmp_path)],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "refusing to run as root" in result.stderr and "WORKSHOP_AS_ROOT=yes" in result.stderr
    assert not list(tmp_path.iterdir())  # nothing started, nothing written


# --------------------------------------------------------------------------
# Each learner's copy of the course
# --------------------------------------------------------------------------
def test_first_start_copies_the_course_later_starts_never_overwrite(tmp_path):
    course, home = tmp_path / "course", tmp_path / "home"
    (course / "exercises/.ipynb_checkpoints").mkdir(parents=True)
    (course / "notebooks/data").mkdir(parents=True)
    (course / "exercises/01.ipynb").write_text("released 1")
    (course / "exercises/.ipynb_checkpoints/01-checkpoint.ipynb").write_text("checkpoint")
    (course / "notebooks/data/table.json").write_text("{}")
    (course / "solutions").mkdir()
    (course / "solutions/01.ipynb").write_text("answers")

    first = copy_course(home, course=course)
    assert sorted(map(str, first)) == ["exercises/01.ipynb", "notebooks/data/table.json"]
    assert not (home / "solutions").exists() and not (home / "exercises/.ipynb_checkpoints").exists()

    (home / "exercises/01.ipynb").write_text("my work")  # the learner works...
    (home / "notebooks/data/table.json").unlink()  # ...and deletes a file
    (course / "exercises/01.ipynb").write_text("released 1, fixed")  # the course changes
    (course / "exercises/02.ipynb").write_text("released 2")  # a new chapter is released

    later = copy_course(home, course=course)
    assert sorted(map(str, later)) == ["exercises/02.ipynb", "notebooks/data/table.json"]
    assert (home / "exercises/01.ipynb").read_text() == "my work"
    assert copy_course(home, course=course) == []


def test_the_real_course_is_what_a_learner_gets(tmp_path):
    copied = {str(p) for p in copy_course(tmp_path)}
    assert "exercises/01_perceptron.ipynb" in copied and "notebooks/README.md" in copied
    assert not any(p.startswith("solutions") for p in copied)


# --------------------------------------------------------------------------
# The hub's configuration, loaded the way JupyterHub loads it
# --------------------------------------------------------------------------
def test_hub_config_takes_secrets_from_the_environment_and_keeps_servers(monkeypatch, tmp_path):
    from traitlets.config.loader import PyFileConfigLoader

    env = {"WORKSHOP_DIR": str(tmp_path), "WORKSHOP_PASSWORD": "room-password-1", "WORKSHOP_PORT": "8123",
           "WORKSHOP_HUB_PORT": "8124", "WORKSHOP_PROXY_API_PORT": "8125",
           "CONFIGPROXY_AUTH_TOKEN": "t1", "WORKSHOP_SERVICE_TOKEN": "t2", "WORKSHOP_CULL_TIMEOUT": "1200"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = PyFileConfigLoader("jupyterhub_config.py", path=str(WORKSHOP)).load_config()
    assert config.SharedPasswordAuthenticator.user_password == "room-password-1"
    assert "room-password-1" not in (WORKSHOP / "jupyterhub_config.py").read_text()
    assert config.JupyterHub.bind_url == "http://127.0.0.1:8123"
    assert config.JupyterHub.hub_bind_url == "http://127.0.0.1:8124"
    assert config.JupyterHub.cleanup_servers is False
    assert config.ConfigurableHTTPProxy.should_start is False
    assert config.Spawner.cmd == [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
    assert config.WorkshopSpawner.home_dir_template == str(tmp_path.resolve() / "homes" / "{username}")
    assert config.Spawner.mem_limit == "4G"
    culler = next(s for s in config.JupyterHub.services if s["name"] == "idle-culler")
    assert culler["command"][1:3] == ["-m", "jupyterhub_idle_culler"] and "--timeout=1200" in culler["command"]
    roles = {r["name"]: r for r in config.JupyterHub.load_roles}
    assert "delete:servers" in roles["idle-culler"]["scopes"]
    pattern = re.compile(config.Authenticator.username_pattern)
    assert pattern.match("ana") and pattern.match("learner-07")
    assert not pattern.match("../etc") and not pattern.match("Ana") and not pattern.match("")


# --------------------------------------------------------------------------
# configurable-http-proxy: pinned for Debian 12's nodejs 18
# --------------------------------------------------------------------------
def _admits(spec, version):
    """Whether an npm "engines.node" range admits ``version`` (the forms the lock file uses)."""
    version = tuple(int(x) for x in version.split("."))
    for alternative in spec.split("||"):
        alternative = alternative.strip()
        if alternative in ("*", ""):
            return True
        match = re.fullmatch(r"(\^|>=|>)\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", alternative)
        assert match, f"a node range this test cannot read: {spec!r}"
        op, bound = match.group(1), tuple(int(x or 0) for x in match.group(2, 3, 4))
        if (op == ">=" and version >= bound) or (op == ">" and version > bound) or \
                (op == "^" and version[0] == bound[0] and version >= bound):
            return True
    return False


def test_admits_reads_npm_ranges():
    assert _admits(">= 18", "18.19.0") and _admits("^16 || ^18 || >=20", "18.19.0")
    assert not _admits(">=20", "18.19.0") and not _admits(">=22.12.0", "18.20.4")
    assert not _admits("^16", "18.19.0") and _admits("*", "18.19.0")


def test_every_package_of_the_pinned_proxy_runs_on_debian_12_nodejs_18():
    lock = json.loads((WORKSHOP / "proxy/package-lock.json").read_text())
    declared = json.loads((WORKSHOP / "proxy/package.json").read_text())["dependencies"]
    chp = lock["packages"]["node_modules/configurable-http-proxy"]["version"]
    assert declared == {"configurable-http-proxy": chp}  # an exact pin, locked
    too_new = {name: package["engines"]["node"] for name, package in lock["packages"].items()
               if "node" in package.get("engines", {})
               and not _admits(package["engines"]["node"], "18.19.0")}
    assert too_new == {}, f"these need a newer node than Debian 12's 18.19: {too_new}"


# --------------------------------------------------------------------------
# nbgitpuller links
# --------------------------------------------------------------------------
def test_gitpuller_link_round_trips():
    link = gitpuller_link.gitpuller_link("https://hub.example.org/", "https://github.com/o/nn-course",
                                         branch="spring", open_path="exercises/01_perceptron.ipynb")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "hub.example.org", "/hub/user-redirect/git-pull")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {"repo": "https://github.com/o/nn-course", "branch": "spring",
                     "urlpath": "lab/tree/nn-course/exercises/01_perceptron.ipynb"}


def test_gitpuller_link_with_a_folder_and_a_dot_git_url():
    link = gitpuller_link.gitpuller_link("http://127.0.0.1:8000", "https://git.example.org/c/course.git",
                                         folder="nnlib-course", open_path="notebooks/README.md",
                                         interface="tree")
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query["targetPath"] == "nnlib-course"
    assert query["urlpath"] == "tree/tree/nnlib-course/notebooks/README.md"
    # nbgitpuller's own default folder keeps the .git suffix; the link must agree with it
    plain = gitpuller_link.gitpuller_link("http://h", "https://git.example.org/c/course.git", open_path="")
    assert parse_qs(urlsplit(plain).query)["urlpath"] == ["lab/tree/course.git"]


def test_gitpuller_link_uses_the_argument_names_nbgitpuller_reads():
    handlers = Path(__import__("nbgitpuller").__file__).parent / "handlers.py"
    source = handlers.read_text()
    for name in ("repo", "branch", "urlpath", "targetPath"):
        assert f"get_argument('{name}'" in source, name


@pytest.mark.parametrize("hub, repo, error", [
    ("hub.example.org", "https://github.com/o/r", "http"),
    ("https://hub.example.org", "", "repo"),
])
def test_gitpuller_link_rejects_bad_input(hub, repo, error):
    with pytest.raises(ValueError, match=error):
        gitpuller_link.gitpuller_link(hub, repo)


def test_gitpuller_link_command_prints_the_link():
    result = subprocess.run([sys.executable, str(WORKSHOP / "gitpuller_link.py"), "https://hub.example.org",
                             "--repo", "https://github.com/o/nn-course"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("https://hub.example.org/hub/user-redirect/git-pull?repo=")


# --------------------------------------------------------------------------
# Beyond one machine: read, not deployed
# --------------------------------------------------------------------------
def test_z2jh_values_limit_learners_cull_and_hold_no_password():
    import yaml

    text = (WORKSHOP / "z2jh/values.yaml").read_text()
    values = yaml.safe_load(text)
    single = values["singleuser"]
    assert single["memory"]["limit"] and single["cpu"]["limit"]
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] > 0
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] == "shared-password"
    assert "user_password" not in values["hub"]["config"]["SharedPasswordAuthenticator"]
    assert "gitpuller" in " ".join(single["lifecycleHooks"]["postStart"]["exec"]["command"])
    assert single["defaultUrl"].startswith("/lab/tree/nnlib-course/")


def test_image_recipe_installs_the_course_extras_that_exist():
    dockerfile = (WORKSHOP / "image/Dockerfile").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    for extra in re.findall(r'/srv/course\[([a-z,]+)\]', dockerfile)[0].split(","):
        assert re.search(rf"^{extra} = \[", pyproject, re.M), f"no extra {extra!r} in pyproject.toml"
    assert 'CMD ["jupyterhub-singleuser"]' in dockerfile and "USER jovyan" in dockerfile
    ignored = (WORKSHOP / "image/Dockerfile.dockerignore").read_text().split()
    assert ".venv" in ignored and "build" in ignored
