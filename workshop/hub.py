"""``make workshop``: the course on JupyterHub for a room of learners, on 127.0.0.1.

    python workshop/hub.py [--port 8000] [--dir build/workshop] [--proxy PATH]

Starts configurable-http-proxy (the public port) and JupyterHub
(``workshop/jupyterhub_config.py``) as two processes, prints the URL and how
to stop, and watches both:

- Ctrl-C (or SIGTERM) stops everything: the learners' servers first (their
  saved notebooks stay in ``<dir>/homes/<name>/``), then the hub, then the
  proxy;
- SIGHUP restarts the hub alone (e.g. after editing the config): the proxy and
  the learners' servers keep running, so learners keep working;
- a hub or proxy that dies is started again.

The password learners share comes from WORKSHOP_PASSWORD; without it one is
made up and printed. Learners' servers run as the user who runs this, so
it refuses to run as root unless WORKSHOP_AS_ROOT=yes (see the README).
"""
import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
COURSE = HERE.parent
CONFIG = HERE / "jupyterhub_config.py"
DEFAULT_PROXY = COURSE / "build/chp/node_modules/configurable-http-proxy/bin/configurable-http-proxy"
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def log(message):
    print(f"[workshop {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tagged_pids(state):
    """PIDs of processes whose environment has WORKSHOP_DIR=<state> (Linux /proc)."""
    tag = f"WORKSHOP_DIR={state}".encode() + b"\0"
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if tag in (proc / "environ").read_bytes() + b"\0":
                found.append(int(proc.name))
        except OSError:  # gone, or not ours
            continue
    return [pid for pid in found if pid != os.getpid()]


def become_subreaper():
    """Adopt orphaned descendants (learners' servers outlive a hub restart); Linux only."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans(keep):
    """Collect adopted children that exited (not ``keep``: those are Popen's to wait for)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(proc.name)
        if fields[0] == "Z" and int(fields[1]) == os.getpid() and pid not in keep:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


class Workshop:
    """The proxy and the hub of one workshop folder; ``start()``, ``restart_hub()``, ``stop()``."""

    def __init__(self, state, port, password, proxy=DEFAULT_PROXY, node=None, env=None):
        self.state = Path(state).resolve()
        self.port = port
        self.proxy_script = Path(proxy).resolve()
        self.node = node or os.environ.get("WORKSHOP_NODE") or "node"
        self.hub_port, self.api_port = free_port(), free_port()
        self.env = {**os.environ, **(env or {}),
                    "WORKSHOP_DIR": str(self.state), "WORKSHOP_PASSWORD": password,
                    "WORKSHOP_PORT": str(port), "WORKSHOP_HUB_PORT": str(self.hub_port),
                    "WORKSHOP_PROXY_API_PORT": str(self.api_port),
                    "CONFIGPROXY_AUTH_TOKEN": secrets.token_hex(32),
                    "WORKSHOP_SERVICE_TOKEN": secrets.token_hex(32)}
        self.hub = self.proxy = None
        self.hub_starts = 0
        # Servers that outlive a hub restart become our children (subreaper): collect
        # them when they exit, or the hub would take their zombies for running servers.
        threading.Thread(target=self._reap_forever, daemon=True).start()

    def _reap_forever(self, every=0.5):
        while True:
            reap_orphans(keep={p.pid for p in (self.hub, self.proxy) if p is not None})
            time.sleep(every)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/"

    def _spawn(self, argv, log_name):
        with open(self.state / log_name, "ab") as out:
            return subprocess.Popen(argv, cwd=self.state, env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def start_proxy(self, timeout=30):
        hub = f"http://127.0.0.1:{self.hub_port}"
        self.proxy = self._spawn(
            [self.node, str(self.proxy_script), "--ip", "127.0.0.1", "--port", str(self.port),
             "--api-ip", "127.0.0.1", "--api-port", str(self.api_port), "--default-target", hub,
             "--error-target", f"{hub}/hub/error", "--log-level", "warn"], "proxy.log")
        self._wait(lambda: self._get(f"http://127.0.0.1:{self.api_port}/api/routes",
                                     token=self.env["CONFIGPROXY_AUTH_TOKEN"]),
                   self.proxy, "configurable-http-proxy", "proxy.log", timeout)

    def start_hub(self, timeout=120):
        self.hub = self._spawn([str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG)],
                               "hub.log")
        self.hub_starts += 1
        self._wait(lambda: self._get(f"{self.url}hub/api/"), self.hub, "JupyterHub", "hub.log",
                   timeout)
        (self.state / "launcher.json").write_text(json.dumps(  # for scripts: who is running
            {"pid": os.getpid(), "url": self.url, "hub_pid": self.hub.pid,
             "proxy_pid": self.proxy.pid, "hub_starts": self.hub_starts}))

    def start(self):
        self.state.mkdir(parents=True, exist_ok=True)
        self.start_proxy()
        try:
            self.start_hub()
        except BaseException:
            self.stop()
            raise
        return self

    def restart_hub(self):
        """Stop the hub and start it again; the proxy and learners' servers keep running."""
        log("restarting the hub (learners' servers keep running)")
        self._terminate(self.hub)
        self.start_hub()
        log(f"hub running again (pid {self.hub.pid})")

    def stop(self):
        """Stop learners' servers, the hub, the proxy, and anything tagged with this folder."""
        if self.hub is not None and self.hub.poll() is None:
            self._stop_servers()
        self._terminate(self.hub)
        self._terminate(self.proxy)
        leftovers = tagged_pids(self.state)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in leftovers:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while leftovers and time.monotonic() < deadline:
                leftovers = tagged_pids(self.state)
                time.sleep(0.1)

    def _stop_servers(self, timeout=30):
        api = f"http://127.0.0.1:{self.hub_port}/hub/api"
        token = self.env["WORKSHOP_SERVICE_TOKEN"]
        try:
            users = self._get(f"{api}/users?state=active", token=token) or []
            # all at once: the hub answers a DELETE only when that server stopped (or after 10 s)
            with ThreadPoolExecutor(max_workers=16) as pool:
                list(pool.map(lambda user: self._request(
                    f"{api}/users/{user['name']}/server", "DELETE", token, timeout=30), users))
            deadline = time.monotonic() + timeout
            while self._get(f"{api}/users?state=active", token=token) and time.monotonic() < deadline:
                time.sleep(0.5)
        except (OSError, ValueError) as exc:
            log(f"could not stop the learners' servers through the hub ({exc}); killing them")

    @staticmethod
    def _terminate(process, timeout=15):
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log(f"pid {process.pid} did not exit within {timeout} s of SIGTERM: killing it")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)

    def _wait(self, ready, process, name, log_name, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = (self.state / log_name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with code {process.returncode} while starting; "
                                   f"the end of {self.state / log_name}:\n{tail}")
            try:
                ready()
                return
            except (OSError, ValueError):
                time.sleep(0.25)
        raise TimeoutError(f"{name} did not answer within {timeout} s; see {self.state / log_name}")

    @staticmethod
    def _request(url, method="GET", token=None, timeout=10):
        headers = {"Authorization": f"token {token}"} if token else {}
        request = urllib.request.Request(url, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def _get(self, url, token=None):
        return self._request(url, token=token)

    def watch(self, stop_after=None):
        """Run until SIGINT/SIGTERM (or ``stop_after`` seconds); SIGHUP restarts the hub."""
        wanted = []
        signal.signal(signal.SIGHUP, lambda *_: wanted.append("restart"))
        signal.signal(signal.SIGTERM, lambda *_: wanted.append("stop"))
        deadline = time.monotonic() + stop_after if stop_after else None
        crashes = 0
        try:
            while "stop" not in wanted:
                if deadline and time.monotonic() > deadline:
                    log(f"--stop-after {stop_after:g} s reached")
                    break
                if "restart" in wanted:
                    wanted.clear()
                    self.restart_hub()
                elif self.proxy.poll() is not None or self.hub.poll() is not None:
                    crashes += 1
                    if crashes > 5:
                        raise RuntimeError("the hub or the proxy keeps dying: see hub.log, proxy.log")
                    log("the proxy or the hub exited; starting them again (see proxy.log, hub.log)")
                    if self.proxy.poll() is not None:
                        self.start_proxy()
                    self._terminate(self.hub)  # a fresh hub puts the routes back into the proxy
                    self.start_hub()
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            log("stopping: learners' servers, then the hub and the proxy")
            self.stop()
            log(f"stopped; learners' work is in {self.state / 'homes'}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python workshop/hub.py", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("WORKSHOP_PORT", 8000)),
                        help="public port on 127.0.0.1 (default 8000, or WORKSHOP_PORT)")
    parser.add_argument("--dir", default=os.environ.get("WORKSHOP_DIR", COURSE / "build/workshop"),
                        help="workshop folder: learners' homes, hub database, logs")
    parser.add_argument("--proxy", default=DEFAULT_PROXY, help="configurable-http-proxy's script")
    parser.add_argument("--stop-after", type=float, help="stop by itself after this many seconds")
    args = parser.parse_args(argv)

    if hasattr(os, "geteuid") and os.geteuid() == 0 and os.environ.get("WORKSHOP_AS_ROOT") != "yes":
        sys.exit("workshop: refusing to run as root: every learner's code would run as root. "
                 "Run it as an ordinary user (e.g. `useradd -m workshop; su workshop -c 'make workshop'`), "
                 "or set WORKSHOP_AS_ROOT=yes on a throwaway machine.")
    if not Path(args.proxy).is_file():
        sys.exit(f"workshop: {args.proxy} is missing: run `make workshop-deps`")
    password = os.environ.get("WORKSHOP_PASSWORD", "")
    generated = not password
    if generated:
        password = "-".join(secrets.token_hex(2) for _ in range(3))  # e.g. 3f1a-90bc-77de
    if len(password) < 8:
        sys.exit("workshop: WORKSHOP_PASSWORD must have at least 8 characters")

    become_subreaper()
    workshop = Workshop(args.dir, args.port, password, proxy=args.proxy)
    try:
        workshop.start()
    except (RuntimeError, TimeoutError) as exc:
        sys.exit(f"workshop: {exc}")
    shown = password if generated else "(the one in WORKSHOP_PASSWORD)"
    print(f"\nWorkshop running at {workshop.url}\n"
          f"  learners: log in with a name of their choice (lowercase letters, digits, - or _)\n"
          f"            and the password {shown}\n"
          f"  their folders: {workshop.state / 'homes'}/<name>/\n"
          f"  stop: Ctrl-C here (or kill {os.getpid()}); restart the hub only: kill -HUP {os.getpid()}\n",
          flush=True)
    workshop.watch(stop_after=args.stop_after)


if __name__ == "__main__":
    main()
