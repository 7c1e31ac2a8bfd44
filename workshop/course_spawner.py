"""The spawner of the one-machine workshop: a learner's server in their own course folder.

``WorkshopSpawner`` is JupyterHub's ``SimpleLocalProcessSpawner`` (every
learner's server runs as the user who started the hub, in a home folder of
its own under the workshop folder) plus three things:

- before each start, the course is copied into the learner's home:
  ``notebooks/`` and ``exercises/``, file by file, *only the files the home
  does not have yet*. The first start copies everything; later starts add new
  files (a chapter released during the workshop) and never overwrite the
  learner's work;
- ``mem_limit`` is enforced as an address-space limit (RLIMIT_AS) on the
  server and, inherited, on each of its kernels: a per-process cap, not a
  per-learner total (the local spawners cannot do that; SystemdSpawner,
  DockerSpawner and KubeSpawner can);
- learners' processes run at a lower CPU priority (nice 5), so the hub and
  the proxy stay responsive when every kernel is busy. ``cpu_limit`` is not
  enforced by a local spawner.

No isolation between learners: they all run as one Unix user and can read
each other's files. Fine for a workshop room; see the README for production.
"""
import os
import resource
import shutil
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner

COURSE = Path(__file__).resolve().parent.parent
COURSE_FOLDERS = ("notebooks", "exercises")
SKIP = {".ipynb_checkpoints", "__pycache__"}  # folders never copied
NICE = 5


def copy_course(home, course=COURSE, folders=COURSE_FOLDERS):
    """Copy the course files that ``home`` lacks; return their paths relative to home.

    A file that exists in ``home`` is never touched, whatever its content.
    """
    home, course = Path(home), Path(course)
    copied = []
    for folder in folders:
        source = course / folder
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(course)
            if not path.is_file() or SKIP.intersection(relative.parts):
                continue
            target = home / relative
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied.append(relative)
    return copied


class WorkshopSpawner(SimpleLocalProcessSpawner):
    """SimpleLocalProcessSpawner + the course in each home + a memory cap per process."""

    async def start(self):
        home = Path(self.home_dir)
        home.mkdir(parents=True, exist_ok=True)
        copied = copy_course(home)
        if copied:
            self.log.info("Copied %d course files into %s", len(copied), home)
        return await super().start()

    def make_preexec_fn(self, name):
        chdir_home = super().make_preexec_fn(name)
        limit = int(self.mem_limit) if self.mem_limit else None

        def preexec():
            chdir_home()
            os.nice(NICE)
            if limit:
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        return preexec
