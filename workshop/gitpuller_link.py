"""Make nbgitpuller links: one click puts the course (or its updates) into a learner's folder.

    python workshop/gitpuller_link.py https://hub.example.org \\
        --repo https://github.com/OWNER/REPO --branch main --open exercises/01_perceptron.ipynb

The link goes to the hub; after log-in, nbgitpuller (installed in the course
image) clones the repository into ``~/<folder>`` the first time, and on later
clicks pulls the new commits, merging them so that a learner's changes are
kept (a file the learner changed is never overwritten; a file they deleted
comes back). Then it opens ``--open`` in JupyterLab.
"""
import argparse
import sys
from urllib.parse import urlencode, urlsplit


def folder_of(repo):
    """The folder nbgitpuller clones ``repo`` into by default: the URL's last part, as is.

    (``.../course.git`` goes to ``course.git``: nbgitpuller keeps the suffix.)
    """
    return repo.rstrip("/").split("/")[-1]


def gitpuller_link(hub, repo, branch="main", open_path="exercises/01_perceptron.ipynb",
                   folder=None, interface="lab"):
    """The URL a learner clicks: ``<hub>/hub/user-redirect/git-pull?repo=...&urlpath=...``.

    ``hub``: the hub's address (http or https); ``repo``: a git URL the hub can
    reach; ``open_path``: a file of the repository to open afterwards
    (relative to it); ``folder``: where to clone, relative to the learner's home
    (default: the repository's name); ``interface``: "lab" or "tree".
    """
    if urlsplit(hub).scheme not in ("http", "https") or not urlsplit(hub).netloc:
        raise ValueError(f"hub must be an http(s) address like https://hub.example.org, not {hub!r}")
    if not repo or not branch:
        raise ValueError("repo and branch are required")
    if interface not in ("lab", "tree"):
        raise ValueError(f"interface must be 'lab' or 'tree', not {interface!r}")
    folder = (folder or folder_of(repo)).strip("/")
    target = f"{folder}/{open_path.lstrip('/')}" if open_path else folder
    query = {"repo": repo, "branch": branch, "urlpath": f"{interface}/tree/{target}"}
    if folder != folder_of(repo):
        query["targetPath"] = folder
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{urlencode(query)}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python workshop/gitpuller_link.py", description=__doc__.split("\n")[0])
    parser.add_argument("hub", help="the hub's address, e.g. https://hub.example.org")
    parser.add_argument("--repo", required=True, help="the course's git repository URL")
    parser.add_argument("--branch", default="main")
    parser.add_argument("--open", default="exercises/01_perceptron.ipynb", dest="open_path",
                        help="file to open after the pull (relative to the repository)")
    parser.add_argument("--folder", help="folder in the learner's home (default: the repository's name)")
    parser.add_argument("--interface", default="lab", choices=("lab", "tree"))
    args = parser.parse_args(argv)
    try:
        print(gitpuller_link(args.hub, args.repo, args.branch, args.open_path, args.folder, args.interface))
    except ValueError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
