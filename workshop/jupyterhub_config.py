"""JupyterHub for a workshop room on one machine: started by ``workshop/hub.py``.

Run ``make workshop``, not ``jupyterhub`` directly: the launcher starts
configurable-http-proxy on its own (so a hub restart does not cut learners
off), chooses the internal ports and tokens, and passes them here as
environment variables:

  WORKSHOP_DIR            the workshop folder: database, cookie secret, homes/
  WORKSHOP_PASSWORD       the shared password learners log in with (8+ characters)
  WORKSHOP_ADMIN_PASSWORD optional (32+ characters): lets WORKSHOP_INSTRUCTOR log in as admin
  WORKSHOP_INSTRUCTOR     the admin's user name (default: instructor)
  WORKSHOP_PORT           the public port (the proxy's), on 127.0.0.1
  WORKSHOP_HUB_PORT, WORKSHOP_PROXY_API_PORT, CONFIGPROXY_AUTH_TOKEN,
  WORKSHOP_SERVICE_TOKEN  internal: chosen by the launcher
  WORKSHOP_MEM_LIMIT      per-process memory cap of a learner's server and kernels (default 4G)
  WORKSHOP_CPU_LIMIT      CPUs per learner, for spawners that enforce it (default 1)
  WORKSHOP_CULL_TIMEOUT   seconds idle before the culler stops a learner's server (default 3600)

Nothing secret is in this file: the passwords come from the environment.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for course_spawner, next to this file
from course_spawner import WorkshopSpawner  # noqa: E402

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

env = os.environ
state = Path(env["WORKSHOP_DIR"]).resolve()
venv_bin = Path(sys.executable).parent  # the course's .venv: the learners' environment too
instructor = env.get("WORKSHOP_INSTRUCTOR", "instructor")

# --- network: everything on the loopback interface -------------------------
c.JupyterHub.bind_url = f"http://127.0.0.1:{env['WORKSHOP_PORT']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{env['WORKSHOP_HUB_PORT']}"
# The launcher runs configurable-http-proxy itself: restarting the hub then
# leaves the proxy and its routes to the learners' servers untouched.
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env['WORKSHOP_PROXY_API_PORT']}"
c.ConfigurableHTTPProxy.auth_token = env["CONFIGPROXY_AUTH_TOKEN"]

# --- state that survives a hub restart --------------------------------------
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = False  # a hub restart must not stop the learners' servers

# --- log in: one shared password for the room --------------------------------
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = env["WORKSHOP_PASSWORD"]
if env.get("WORKSHOP_ADMIN_PASSWORD"):
    c.SharedPasswordAuthenticator.admin_password = env["WORKSHOP_ADMIN_PASSWORD"]
    c.Authenticator.admin_users = {instructor}
c.Authenticator.allow_all = True  # anyone in the room who knows the password
# Names become folder names: keep them short and plain.
c.Authenticator.username_pattern = r"^[a-z][a-z0-9_-]{0,31}$"

# --- each learner's server: the course's environment, their own folder -------
c.JupyterHub.spawner_class = WorkshopSpawner
c.WorkshopSpawner.home_dir_template = str(state / "homes" / "{username}")
c.Spawner.cmd = [str(venv_bin / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab/tree/exercises"
c.Spawner.ip = "127.0.0.1"
c.Spawner.start_timeout = 180  # 25 servers starting at once on 2 cores take a while
c.Spawner.http_timeout = 180
c.Spawner.poll_interval = 10  # notice a server that died within seconds
c.Spawner.mem_limit = env.get("WORKSHOP_MEM_LIMIT", "4G")
c.Spawner.cpu_limit = float(env.get("WORKSHOP_CPU_LIMIT", "1"))
if hasattr(os, "geteuid") and os.geteuid() == 0:  # the launcher refuses root unless told
    c.Spawner.args = ["--allow-root"]
c.Spawner.environment = {
    "PATH": os.pathsep.join([str(venv_bin), "/usr/local/bin", "/usr/bin", "/bin"]),
    "VIRTUAL_ENV": str(venv_bin.parent),
    "LANG": env.get("LANG", "C.UTF-8"),
    # tags every process of this workshop, so the launcher can clean up after itself
    "WORKSHOP_DIR": str(state),
}
for name in ("NUMBA_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK"):
    if name in env:
        c.Spawner.environment[name] = env[name]

# --- services: the idle culler, and the launcher's own token -----------------
cull_timeout = int(env.get("WORKSHOP_CULL_TIMEOUT", "3600"))
c.JupyterHub.services = [
    {"name": "idle-culler",
     "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                 f"--timeout={cull_timeout}", f"--cull-every={min(300, max(30, cull_timeout // 4))}"],
     "environment": {"WORKSHOP_DIR": str(state)}},
    {"name": "workshop-launcher", "api_token": env["WORKSHOP_SERVICE_TOKEN"]},
]
c.JupyterHub.load_roles = [
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    {"name": "workshop-launcher", "services": ["workshop-launcher"],
     "scopes": ["list:users", "read:users", "read:servers", "delete:servers"]},
]
