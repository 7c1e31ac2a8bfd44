"""``make workshop-loadtest``: N simulated learners on the workshop's JupyterHub, with faults.

    python workshop/loadtest.py [--learners 25] [--faults kill,restart] [--out DIR]

Everything runs on 127.0.0.1 and stops by itself (every wait is bounded; a
``--deadline`` stops the whole run). The steps:

1. ``workshop/hub.py`` (what ``make workshop`` runs) starts the proxy and the
   hub in a fresh workshop folder.
2. N learners at once, each in a thread: log in through the hub's login form,
   get an API token through the hub's REST API, start their server and wait
   until it answers, open ``exercises/01_perceptron.ipynb`` through the
   server's contents API, start a kernel, run the notebook cell by cell
   through the kernel's websocket (``--think`` seconds between cells), and
   save it through the contents API after every check cell and at the end.
   Answers: learner 0 writes an endless loop in exercise 1.3 (and interrupts
   the kernel after ``--patience`` seconds, as a learner presses stop; the
   set-up cell of imports everyone waits for, up to ``--kernel-timeout``),
   learner 1 calls ``os._exit`` in exercise 1.2 (the kernel dies and is
   restarted), the others cycle through full (the solution cells of
   ``solutions/01_perceptron.ipynb``), partial (1.1 and 1.4) and blank.
3. Faults (``--faults``): ``kill``: the first full learner's server and
   kernel are killed (SIGKILL) after they saved exercise 1.2; their next
   request must get a server again, their saved work must be there, and they
   go on. ``restart``: ``--restart-at`` seconds after every learner has a
   kernel, the hub is restarted (SIGHUP to the launcher); learners keep
   running cells meanwhile, and afterwards every server must be the same
   process, known to the new hub.
4. The instructor: ``workshop/collect.py`` collects every learner's notebook,
   grades them with ``nnlib-grade batch`` and hands back the feedback.

Checked: every learner's saved notebook holds their answers and outputs, is
graded with the total its answers earn (8, 3, 0, 5 for the loop, 3 for the
crash), and has its feedback file; nothing of the workshop runs after the
stop. Reported: p50/p95/max of time to a running server, kernel start and
cell round trip (the set-up cell of imports apart); peak memory (PSS and
RSS summed over the hub, proxy, servers and kernels); wall time. Exit
status 1 if a check failed.
"""
import argparse
import csv
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import websocket

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from hub import DEFAULT_PROXY, free_port, tagged_pids  # noqa: E402

COURSE = HERE.parent
ASSIGNMENT = "01_perceptron"
NOTEBOOK = f"exercises/{ASSIGNMENT}.ipynb"
EXPECTED_TOTAL = {"full": 8, "partial": 3, "blank": 0, "loop": 5, "crash": 3}
# Cells are named by exercise (grade_id prefix), so renaming an exercise's function
# does not break the test: 1.1 and 1.4 are worth 2 + 1, 1.3 is worth 3 (see solutions/).
PARTIAL = ("ex_1_1_", "ex_1_4_")
LOOP_IN, CRASH_IN = "ex_1_3_", "ex_1_2_"
KILL_AFTER = "check_1_2_"  # the kill fault strikes after this cell is saved
RETRY_STATUS = {502, 503, 504}


# --------------------------------------------------------------------------
# The learners' answers, from the solution notebook
# --------------------------------------------------------------------------
def source(cell):
    """A cell's source as one string (files store a list of lines, the contents API one string)."""
    return "".join(cell["source"])


def grade_id(cell):
    """The cell's grade_id cut to its exercise prefix ("ex_1_2_margin_update" -> "ex_1_2_")."""
    full = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    match = re.match(r"((?:ex|check|answer)_\d+_\d+_?)", full or "")
    return match.group(1) if match else full


def solution_cells():
    """grade_id -> source of each code cell a learner writes, as in solutions/ (with markers)."""
    notebook = json.loads((COURSE / "solutions" / f"{ASSIGNMENT}.ipynb").read_text())
    return {grade_id(c): "".join(c["source"]) for c in notebook["cells"]
            if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("solution")}


def decode_frame(raw):
    """A kernel message from a websocket frame: text is JSON; a binary frame (a message with
    buffers, e.g. a widget's) is jupyter_server's layout: a big-endian uint32 count n, n uint32
    offsets, then the parts, the first of which is the message's JSON."""
    if isinstance(raw, str):
        return json.loads(raw)
    n = int.from_bytes(raw[:4], "big")
    offsets = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(n)] + [len(raw)]
    return json.loads(raw[offsets[0]:offsets[1]].decode("utf-8"))


def _answer(source, inserted=()):
    """A solution cell without its markers, with ``inserted`` lines at the top of the solution."""
    lines = []
    for line in source.splitlines():
        if line.strip() == "### BEGIN SOLUTION":
            indent = line[:len(line) - len(line.lstrip())]
            lines += [indent + extra for extra in inserted]
        elif line.strip() != "### END SOLUTION":
            lines.append(line)
    return "\n".join(lines)


def answers(kind, solutions):
    """grade_id -> the source a learner of this kind types into that exercise cell."""
    if kind == "blank":
        return {}
    if kind == "partial":
        return {gid: _answer(solutions[gid]) for gid in PARTIAL}
    filled = {gid: _answer(src) for gid, src in solutions.items()}
    if kind == "loop":
        filled[LOOP_IN] = _answer(solutions[LOOP_IN], ["while True:  # forgot to stop", "    pass"])
    if kind == "crash":
        filled[CRASH_IN] = _answer(solutions[CRASH_IN], ["import os", "os._exit(1)  # kills the kernel"])
    return filled


def kind_of(index):
    return "loop" if index == 0 else "crash" if index == 1 else ("full", "partial", "blank")[(index - 2) % 3]


# --------------------------------------------------------------------------
# Processes and memory
# --------------------------------------------------------------------------
def _environ(pid):
    try:
        return dict(item.split(b"=", 1) for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                    if b"=" in item)
    except OSError:
        return {}


def learner_pids(state, name):
    """PIDs of the learner's server and kernels (tagged with the workshop and their name)."""
    return [pid for pid in tagged_pids(state)
            if _environ(pid).get(b"JUPYTERHUB_USER") == name.encode()]


def server_pid(state, name):
    for pid in learner_pids(state, name):
        try:
            if b"jupyterhub-singleuser" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    return None


def memory_kib(pid):
    """(PSS, RSS) of a process in KiB, from /proc (0, 0 when it is gone)."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Pss", "Rss"):
                values[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return values.get("Pss", 0), values.get("Rss", 0)


class MemorySampler(threading.Thread):
    """Peak of the summed PSS/RSS of every process tagged with the workshop folder."""

    def __init__(self, state, every=0.5):
        super().__init__(daemon=True)
        self.state, self.every = state, every
        self.peak_pss = self.peak_rss = self.peak_processes = 0
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.every):
            pids = tagged_pids(self.state)
            sizes = [memory_kib(pid) for pid in pids]
            self.peak_pss = max(self.peak_pss, sum(s[0] for s in sizes))
            self.peak_rss = max(self.peak_rss, sum(s[1] for s in sizes))
            self.peak_processes = max(self.peak_processes, len(pids))


# --------------------------------------------------------------------------
# One learner
# --------------------------------------------------------------------------
class ServerGone(Exception):
    """The learner's server or kernel connection went away."""


class Learner:
    def __init__(self, index, run):
        self.index, self.run = index, run
        self.name = f"learner{index:02d}"
        self.kind = kind_of(index)
        self.answers = answers(self.kind, run.solutions)
        self.http = requests.Session()
        self.token = None
        self.times = {"server": None, "kernel": None, "login": None, "cells": [], "setup_cell": []}
        self.retries = 0
        self.events = []
        self.problems = []
        self.cells_while_hub_down = 0
        self.server_pid = None
        self.ws = None

    # ---- HTTP with bounded retries (the hub may be restarting) ----
    def call(self, method, path, expect=(200,), retry_for=None, **kwargs):
        retry_for = self.run.args.retry_for if retry_for is None else retry_for
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        deadline = time.monotonic() + retry_for
        while True:
            try:
                response = self.http.request(method, self.run.base + path, headers=headers,
                                             timeout=30, **kwargs)
                if response.status_code in expect:
                    return response
                problem = f"{method} {path}: HTTP {response.status_code} {response.text[:200]}"
                if response.status_code not in RETRY_STATUS:
                    raise ServerGone(problem) if path.startswith("/user/") else RuntimeError(problem)
            except requests.ConnectionError as exc:
                problem = f"{method} {path}: {exc}"
            if time.monotonic() > deadline:
                raise ServerGone(problem) if path.startswith("/user/") else RuntimeError(problem)
            self.retries += 1
            time.sleep(0.5)

    # ---- hub: log in, token, server ----
    def log_in(self):
        start = time.monotonic()
        self.call("GET", "/hub/login")
        xsrf = self.http.cookies.get("_xsrf")
        self.call("POST", "/hub/login", expect=(302,), allow_redirects=False,
                  data={"username": self.name, "password": self.run.password, "_xsrf": xsrf})
        xsrf = self.http.cookies.get("_xsrf")  # a new one, bound to the login
        reply = self.call("POST", f"/hub/api/users/{self.name}/tokens", expect=(200, 201),
                          headers={"X-XSRFToken": xsrf}, json={"note": "load test", "expires_in": 7200})
        self.token = reply.json()["token"]
        self.times["login"] = time.monotonic() - start

    def start_server(self):
        """Ask the hub for a server and wait until it answers through the proxy; return seconds."""
        start = time.monotonic()
        deadline = start + self.run.args.server_timeout
        requested = False
        while time.monotonic() < deadline:
            if not requested:
                reply = self.call("POST", f"/hub/api/users/{self.name}/server", expect=(201, 202, 400))
                # 400 "already running": the hub has not yet noticed that a killed server is gone
                requested = reply.status_code != 400
            server = self.call("GET", f"/hub/api/users/{self.name}").json()["servers"].get("")
            if requested and server and server["ready"]:
                self.call("GET", f"/user/{self.name}/api/status")
                self.server_pid = server_pid(self.run.state, self.name)
                return time.monotonic() - start
            time.sleep(0.25)
        raise RuntimeError(f"no server within {self.run.args.server_timeout} s")

    # ---- server: contents and kernel ----
    def load_notebook(self):
        return self.call("GET", f"/user/{self.name}/api/contents/{NOTEBOOK}?content=1").json()["content"]

    def save(self, notebook):
        self.call("PUT", f"/user/{self.name}/api/contents/{NOTEBOOK}",
                  json={"type": "notebook", "format": "json", "content": notebook})

    def start_kernel(self):
        start = time.monotonic()
        session = self.call("POST", f"/user/{self.name}/api/sessions", expect=(200, 201), json={
            "path": NOTEBOOK, "type": "notebook", "name": Path(NOTEBOOK).name,
            "kernel": {"name": "python3"}}).json()
        self.kernel_id = session["kernel"]["id"]
        self.connect()
        self.kernel_info(timeout=self.run.args.kernel_timeout)
        return time.monotonic() - start

    def connect(self):
        if self.ws is not None:
            self.ws.close()
        url = (self.run.base.replace("http://", "ws://") + f"/user/{self.name}/api/kernels/"
               f"{self.kernel_id}/channels?session_id={uuid.uuid4().hex}")
        try:
            self.ws = websocket.create_connection(url, timeout=30,
                                                  header=[f"Authorization: token {self.token}"])
        except (websocket.WebSocketException, OSError) as exc:
            raise ServerGone(f"websocket: {exc}") from exc
        self.ws.settimeout(0.5)
        self.session_id = uuid.uuid4().hex

    def send(self, msg_type, content):
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": msg_type, "username": self.name,
                       "session": self.session_id, "version": "5.3",
                       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            "parent_header": {}, "metadata": {}, "content": content, "channel": "shell",
            "buffers": []}))
        return msg_id

    def receive(self):
        """The next message from the kernel, or None after half a second of silence."""
        try:
            raw = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        except (websocket.WebSocketException, OSError) as exc:
            raise ServerGone(f"websocket: {exc}") from exc
        if not raw:
            raise ServerGone("websocket closed")
        return decode_frame(raw)

    def kernel_info(self, timeout):
        """Wait until the kernel answers a kernel_info_request (asked again every 2 s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg_id = self.send("kernel_info_request", {})
            asked = time.monotonic()
            while time.monotonic() - asked < 2:
                msg = self.receive()
                if msg and msg["msg_type"] == "kernel_info_reply" and \
                        msg["parent_header"].get("msg_id") == msg_id:
                    return
        raise ServerGone(f"the kernel did not answer within {timeout} s")

    def execute(self, code, patience):
        """Run one cell; return (outputs, execution_count, how, seconds).

        ``how`` is ok, error, died (the kernel), or interrupted: after ``patience``
        seconds the learner presses stop.
        """
        msg_id = self.send("execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": True})
        start = time.monotonic()
        outputs, count, reply, idle, interrupted = [], None, None, False, False
        while not (reply and idle):
            waited = time.monotonic() - start
            if waited > patience and not interrupted:
                # what a learner does: the stop button
                self.call("POST", f"/user/{self.name}/api/kernels/{self.kernel_id}/interrupt",
                          expect=(204,))
                interrupted = True
            elif waited > patience + self.run.args.kernel_timeout:
                raise ServerGone(f"no answer {waited:.0f} s after an interrupt")
            msg = self.receive()
            if msg is None:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] in ("restarting", "dead"):
                return outputs, None, "died", time.monotonic() - start
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
            elif kind in ("display_data", "execute_result"):
                output = {"output_type": kind, "data": content["data"],
                          "metadata": content.get("metadata", {})}
                if kind == "execute_result":
                    output["execution_count"] = content["execution_count"]
                outputs.append(output)
            elif kind == "error":
                outputs.append({"output_type": "error", "ename": content["ename"],
                                "evalue": content["evalue"], "traceback": content["traceback"]})
            elif kind == "execute_reply":
                reply, count = content, content.get("execution_count")
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        how = "interrupted" if interrupted else "ok" if reply["status"] == "ok" else "error"
        return outputs, count, how, time.monotonic() - start

    # ---- the session ----
    def fill(self, notebook):
        """The learner types their answers (and a note with their name in the answer cell)."""
        for cell in notebook["cells"]:
            gid = grade_id(cell)
            if gid in self.answers:
                cell["source"] = self.answers[gid]
            elif gid == "answer_1_5":
                cell["source"] = f"Written by {self.name} ({self.kind} answers)."
        return notebook

    def run_cells(self, notebook, start_at=0, replay=False):
        """Run the code cells from index ``start_at``; save after check cells. Return the next index."""
        cells = notebook["cells"]
        for i in range(start_at, len(cells)):
            cell = cells[i]
            if cell["cell_type"] != "code":
                continue
            if not replay:
                time.sleep(self.run.args.think)
            hub_down_before = self.run.hub_down.is_set()
            # The set-up cell (imports) may take a while when every kernel starts at
            # once: learners wait for it; on their own code they press stop sooner.
            first = i == next(j for j, c in enumerate(cells) if c["cell_type"] == "code")
            patience = self.run.args.kernel_timeout if first or replay else self.run.args.patience
            outputs, count, how, seconds = self.execute(source(cell), patience)
            cell["outputs"], cell["execution_count"] = outputs, count
            if how == "ok" and not replay:
                self.times["setup_cell" if first else "cells"].append(seconds)
            if how != "ok" and how != "error":
                self.events.append(f"cell {i}: {how} after {seconds:.1f} s")
            if how == "died":
                self.kernel_info(timeout=self.run.args.kernel_timeout)  # wait for the restarted kernel
            if hub_down_before and self.run.hub_down.is_set():
                self.cells_while_hub_down += 1
            if cell["metadata"].get("nbgrader", {}).get("grade") and not replay:
                self.save(notebook)
                if grade_id(cell) == KILL_AFTER and self.run.kill_victim == self.name:
                    self.run.kill_server(self)
        return len(cells)

    def recover(self, notebook, position):
        """After losing the server: get one again, reopen the saved notebook, re-run it up to ``position``."""
        start = time.monotonic()
        self.times["recovery_server"] = self.start_server()
        saved = self.load_notebook()
        mine = [c for c in saved["cells"] if grade_id(c) in self.answers]
        if any(source(c) != self.answers[grade_id(c)] for c in mine):
            self.problems.append("after the server was killed, the saved notebook lacks answers")
        check = next(c for c in saved["cells"] if grade_id(c) == KILL_AFTER)
        if not check.get("outputs"):
            self.problems.append(f"after the server was killed, the saved {KILL_AFTER} cell has no output")
        self.start_kernel()
        for i in range(position):  # "Run All Above"
            if saved["cells"][i]["cell_type"] == "code":
                self.execute(source(saved["cells"][i]), self.run.args.kernel_timeout)
        self.events.append(f"recovered from the killed server in {time.monotonic() - start:.1f} s "
                           f"(server {self.times['recovery_server']:.1f} s)")
        self.run.kill_recovered = True
        return saved

    def session(self):
        self.log_in()
        self.times["server"] = self.start_server()
        notebook = self.load_notebook()
        if [source(c) for c in notebook["cells"]] != [source(c) for c in self.run.released["cells"]]:
            self.problems.append("the notebook in the learner's folder is not the released exercise")
        self.times["kernel"] = self.start_kernel()
        self.run.kernel_ready(self)
        notebook = self.fill(notebook)
        position, recoveries = 0, 0
        while position < len(notebook["cells"]):
            try:
                position = self.run_cells(notebook, position)
            except ServerGone as exc:
                recoveries += 1
                if recoveries > 2:
                    raise
                self.events.append(f"lost the server: {exc}")
                position = self.run.kill_position.get(self.name, 0)
                saved = self.recover(notebook, position)
                notebook["cells"][:position] = saved["cells"][:position]
        self.save(notebook)
        self.ws.close()
        self.final_checks()

    def final_checks(self):
        """After the faults: the hub (restarted or not) knows this learner's running server."""
        server = self.call("GET", f"/hub/api/users/{self.name}").json()["servers"].get("")
        if not (server and server["ready"]):
            self.problems.append("the hub does not list the learner's server as running at the end")
        pid = server_pid(self.run.state, self.name)
        if pid != self.server_pid:
            self.problems.append(f"the learner's server changed from pid {self.server_pid} to {pid}")

    def __call__(self):
        try:
            self.session()
        except Exception as exc:  # noqa: BLE001 (reported, and fails the run)
            self.problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.run.learner_done(self)
        return self


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------
def percentiles(values):
    """p50, p95 (nearest rank) and max of ``values``, in seconds (None when empty)."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    ordered = sorted(values)

    def rank(p):
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]
    return {"n": len(ordered), "p50": round(rank(50), 3), "p95": round(rank(95), 3),
            "max": round(ordered[-1], 3)}


class LoadTest:
    def __init__(self, args):
        self.args = args
        self.state = Path(args.out).resolve() / "workshop"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.password = uuid.uuid4().hex[:12]
        self.solutions = solution_cells()
        self.released = json.loads((COURSE / NOTEBOOK).read_text())
        self.faults = set(filter(None, args.faults.split(",")))
        self.learners = [Learner(i, self) for i in range(args.learners)]
        full = [l.name for l in self.learners if l.kind == "full"]
        self.kill_victim = full[0] if "kill" in self.faults and full else None
        self.kill_position, self.kill_recovered, self.killed = {}, False, []
        self.hub_down = threading.Event()
        self.all_kernels = threading.Event()
        self.ready_count, self.done_count = 0, 0
        self.lock = threading.Lock()
        self.report = {"problems": [], "faults": {}}

    # ---- callbacks from learners ----
    def kernel_ready(self, learner):
        with self.lock:
            self.ready_count += 1
            if self.ready_count + self.done_count >= len(self.learners):
                self.all_kernels.set()

    def learner_done(self, learner):
        with self.lock:
            self.done_count += 1
            if self.ready_count + self.done_count >= len(self.learners):
                self.all_kernels.set()

    def kill_server(self, learner):
        """The kill fault: SIGKILL the learner's server and kernels, as the OOM killer would."""
        pids = learner_pids(self.state, learner.name)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.killed = pids
        notebook_cells = json.loads((self.state / "homes" / learner.name / NOTEBOOK).read_text())["cells"]
        self.kill_position[learner.name] = 1 + next(
            i for i, c in enumerate(notebook_cells) if grade_id(c) == KILL_AFTER)
        learner.events.append(f"server and kernel killed (pids {pids})")

    # ---- the launcher ----
    def start_workshop(self):
        self.state.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "WORKSHOP_PASSWORD": self.password, "WORKSHOP_AS_ROOT": "yes"}
        self.launcher_log = open(self.state.parent / "launcher.log", "wb")
        self.launcher = subprocess.Popen(
            [sys.executable, str(HERE / "hub.py"), "--port", str(self.port), "--dir", str(self.state),
             "--proxy", str(self.args.proxy), "--stop-after", str(self.args.deadline)],
            env=env, stdout=self.launcher_log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.launcher.poll() is not None:
                raise RuntimeError("the launcher exited: "
                                   + (self.state.parent / "launcher.log").read_text()[-3000:])
            if b"Workshop running at" in (self.state.parent / "launcher.log").read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError("the workshop did not start within 120 s")

    def launcher_info(self):
        try:
            return json.loads((self.state / "launcher.json").read_text())
        except (OSError, ValueError):
            return {}

    def restart_hub(self):
        """The restart fault: SIGHUP to the launcher; wait for a new hub process that answers."""
        before = self.launcher_info()["hub_pid"]
        start = time.monotonic()
        self.hub_down.set()
        os.kill(self.launcher.pid, signal.SIGHUP)
        while time.monotonic() - start < 120:
            info = self.launcher_info()
            if info.get("hub_pid") not in (None, before):
                try:
                    if requests.get(f"{self.base}/hub/api/", timeout=5).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
            time.sleep(0.1)
        else:
            self.report["problems"].append("the hub did not come back within 120 s of a restart")
        self.hub_down.clear()
        return {"old_hub_pid": before, "new_hub_pid": self.launcher_info().get("hub_pid"),
                "seconds_down": round(time.monotonic() - start, 2)}

    def stop_workshop(self):
        if self.launcher.poll() is None:
            self.launcher.send_signal(signal.SIGTERM)
            try:
                self.launcher.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(self.launcher.pid, signal.SIGKILL)
                self.launcher.wait(10)
        left = tagged_pids(self.state)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return left

    # ---- the instructor ----
    def grade(self):
        start = time.monotonic()
        result = subprocess.run(
            [sys.executable, str(HERE / "collect.py"), "--dir", str(self.state), "--assignment",
             ASSIGNMENT, "--timeout", str(self.args.grade_timeout), "--quiet"],
            capture_output=True, text=True, timeout=self.args.deadline)
        seconds = time.monotonic() - start
        print(result.stdout + result.stderr, flush=True)
        grades_csv = self.state / "grading" / ASSIGNMENT / "grades" / "grades.csv"
        if result.returncode not in (0, 1) or not grades_csv.exists():
            self.report["problems"].append(f"grading failed (exit {result.returncode}): {result.stderr[-500:]}")
            return {}, seconds
        with open(grades_csv, newline="") as f:
            return {row["student"]: row for row in csv.DictReader(f)}, seconds

    def check_learner(self, learner, grades):
        problems = [f"{learner.name}: {p}" for p in learner.problems]
        saved = self.state / "homes" / learner.name / NOTEBOOK
        notebook = json.loads(saved.read_text()) if saved.exists() else None
        if notebook is None:
            return problems + [f"{learner.name}: no saved notebook"]
        for cell in notebook["cells"]:
            gid = grade_id(cell)
            if gid in learner.answers and source(cell) != learner.answers[gid]:
                problems.append(f"{learner.name}: the saved notebook lost the answer in {gid}")
            if gid == "answer_1_5" and learner.name not in source(cell):
                problems.append(f"{learner.name}: the saved notebook lost the written answer")
        if not any(c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code"):
            problems.append(f"{learner.name}: the saved notebook has no outputs")
        row = grades.get(learner.name)
        expected = EXPECTED_TOTAL[learner.kind]
        if row is None:
            problems.append(f"{learner.name}: not graded")
        elif int(float(row["total"])) != expected:
            problems.append(f"{learner.name} ({learner.kind}): graded {row['total']}/{row['possible']}, "
                            f"expected {expected} (status {row['status']})")
        feedback = self.state / "homes" / learner.name / "feedback" / f"{ASSIGNMENT}.md"
        if not feedback.exists() or f"**Total: {expected} / 8 points**" not in feedback.read_text():
            problems.append(f"{learner.name}: no feedback file with the total in their folder")
        return problems

    def main(self):
        started = time.monotonic()
        self.start_workshop()
        sampler = MemorySampler(self.state)
        sampler.start()
        restart = None
        try:
            with ThreadPoolExecutor(max_workers=len(self.learners)) as pool:
                futures = [pool.submit(learner) for learner in self.learners]
                if "restart" in self.faults:
                    self.all_kernels.wait(self.args.deadline)
                    time.sleep(self.args.restart_at)
                    restart = self.restart_hub()
                for future in futures:
                    future.result(timeout=self.args.deadline)
            learners_done = time.monotonic()
            grades, grade_seconds = self.grade()
        finally:
            sampler.stopped.set()
            stop_start = time.monotonic()
            left = self.stop_workshop()
            stop_seconds = time.monotonic() - stop_start
            self.launcher_log.close()
        wall = time.monotonic() - started

        problems = self.report["problems"]
        for learner in self.learners:
            problems += self.check_learner(learner, grades)
        if left:
            problems.append(f"{len(left)} workshop processes still ran after the stop: {left}")
        if "kill" in self.faults:
            victim = next((l for l in self.learners if l.name == self.kill_victim), None)
            survived = bool(self.killed) and self.kill_recovered and victim is not None and not victim.problems
            self.report["faults"]["kill"] = {
                "learner": self.kill_victim, "killed_pids": self.killed, "survived": survived,
                "server_again_s": round(victim.times.get("recovery_server") or 0, 2) if victim else None}
            if not survived:
                problems.append("the kill fault: the learner did not get their server and work back")
        if "restart" in self.faults:
            during = sum(l.cells_while_hub_down for l in self.learners)
            restart["cells_run_while_hub_down"] = during
            restart["survived"] = bool(restart["new_hub_pid"] != restart["old_hub_pid"]) and not any(
                "server changed" in p or "does not list" in p for l in self.learners for p in l.problems)
            if during == 0:
                problems.append("the restart fault: no learner ran a cell while the hub was down")
            if not restart["survived"]:
                problems.append("the restart fault: servers were lost or not known to the new hub")
            self.report["faults"]["restart"] = restart

        cells = [t for l in self.learners for t in l.times["cells"]]
        self.report.update({
            "learners": len(self.learners),
            "kinds": {k: sum(l.kind == k for l in self.learners) for k in EXPECTED_TOTAL},
            "server_start_s": percentiles([l.times["server"] for l in self.learners if l.times["server"]]),
            "kernel_start_s": percentiles([l.times["kernel"] for l in self.learners if l.times["kernel"]]),
            "cell_round_trip_s": percentiles(cells),
            "setup_cell_s": percentiles([t for l in self.learners for t in l.times["setup_cell"]]),
            "login_s": percentiles([l.times["login"] for l in self.learners if l.times["login"]]),
            "peak_memory_mib": {"pss": round(sampler.peak_pss / 1024), "rss": round(sampler.peak_rss / 1024),
                                "processes": sampler.peak_processes},
            "http_retries": sum(l.retries for l in self.learners),
            "events": {l.name: l.events for l in self.learners if l.events},
            "learners_s": round(learners_done - started, 1),
            "grading_s": round(grade_seconds, 1),
            "stop_s": round(stop_seconds, 1),
            "wall_s": round(wall, 1),
            "graded": {name: f"{row['total']}/{row['possible']} {row['status']}" for name, row in grades.items()},
        })
        return self.report


def summary(report):
    def line(label, stats):
        if not stats["n"]:
            return f"  {label:26s} -"
        return (f"  {label:26s} p50 {stats['p50']:7.3f} s   p95 {stats['p95']:7.3f} s   "
                f"max {stats['max']:7.3f} s   (n={stats['n']})")
    mem = report["peak_memory_mib"]
    lines = [f"{report['learners']} learners {report['kinds']}",
             line("log in", report["login_s"]), line("time to a running server", report["server_start_s"]),
             line("kernel start", report["kernel_start_s"]), line("cell round trip", report["cell_round_trip_s"]),
             line("set-up cell (imports)", report["setup_cell_s"]),
             f"  peak memory                {mem['pss']} MiB PSS ({mem['rss']} MiB RSS summed) "
             f"in {mem['processes']} processes",
             f"  wall time                  {report['wall_s']} s (learners {report['learners_s']} s, "
             f"grading {report['grading_s']} s, stop {report['stop_s']} s); "
             f"{report['http_retries']} HTTP retries"]
    for name, fault in report["faults"].items():
        lines.append(f"  fault {name:20s} {json.dumps(fault)}")
    lines.append("  problems: " + ("none" if not report["problems"] else ""))
    lines += [f"    - {p}" for p in report["problems"]]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python workshop/loadtest.py", description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=25)
    parser.add_argument("--faults", default="kill,restart", help="comma-separated: kill, restart (or '')")
    parser.add_argument("--think", type=float, default=1.0, help="seconds a learner waits before each cell")
    parser.add_argument("--patience", type=float, default=10.0,
                        help="seconds before a learner interrupts a cell of their own code")
    parser.add_argument("--restart-at", type=float, default=3.0,
                        help="seconds after every learner has a kernel when the hub is restarted")
    parser.add_argument("--retry-for", type=float, default=60.0, help="seconds a request is retried")
    parser.add_argument("--server-timeout", type=float, default=240.0)
    parser.add_argument("--kernel-timeout", type=float, default=120.0)
    parser.add_argument("--grade-timeout", type=float, default=10.0, help="nnlib-grade --timeout")
    parser.add_argument("--deadline", type=float, default=1200.0, help="the whole run stops after this")
    parser.add_argument("--proxy", default=DEFAULT_PROXY)
    parser.add_argument("--out", default=COURSE / "build/workshop-loadtest",
                        help="folder for the workshop, logs and report.json (emptied first)")
    args = parser.parse_args(argv)
    if args.learners < 1:
        parser.error("--learners must be at least 1")
    out = Path(args.out)
    if out.exists():
        import shutil
        shutil.rmtree(out)
    out.mkdir(parents=True)

    def out_of_time(*_):
        raise TimeoutError(f"the load test ran past its --deadline of {args.deadline:g} s")
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(args.deadline) + 60)
    report = LoadTest(args).main()
    signal.alarm(0)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    print(summary(report), flush=True)
    print(f"report: {out / 'report.json'}; logs: {out / 'launcher.log'}, {out / 'workshop'}/hub.log")
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
