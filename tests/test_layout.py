"""The library apart from the course machinery (issue 10).

``nnlib`` is the library a learner reads; ``nncourse`` (checks, widgets,
grader, release tool, lab launcher) is the course package of the same
distribution. nnlib never imports nncourse, except ``nnlib/checks.py``: the
compatibility alias that keeps ``from nnlib.checks import check`` in
learners' saved notebooks working.
"""
import ast
import importlib
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NNLIB = ROOT / "nnlib"
SHIM = NNLIB / "checks.py"
LIBRARY_MODULES = ["nnlib", "nnlib.functional", "nnlib.data", "nnlib.mnist", "nnlib.viz",
                   "nnlib.gradcheck", "nnlib.layers", "nnlib.model", "nnlib.optim",
                   "nnlib.history", "nnlib.perceptron"]


def course_imports(path):
    """(line, text) of every import of nncourse in a Python file, static or by name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        found += [(node.lineno, name) for name in names if name.split(".")[0] == "nncourse"]
    return found


def test_the_scan_sees_every_kind_of_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import nncourse.checks\nfrom nncourse import grade\nimport numpy\n"
                      "import importlib\nimportlib.import_module('nncourse.widgets')\n"
                      "__import__('nncourse')\nfrom nnlib import data\n")
    assert course_imports(sample) == [(1, "nncourse.checks"), (2, "nncourse"),
                                      (5, "nncourse.widgets"), (6, "nncourse")]


def test_nothing_in_nnlib_imports_nncourse_but_the_checks_alias():
    files = sorted(NNLIB.rglob("*.py"))
    assert SHIM in files and len(files) > 10
    offenders = {str(p.relative_to(ROOT)): course_imports(p) for p in files if p != SHIM}
    assert {name: found for name, found in offenders.items() if found} == {}
    assert course_imports(SHIM), "nnlib/checks.py should re-export nncourse.checks"


def test_the_course_machinery_lives_in_nncourse_only():
    for moved in ("checks", "widgets", "grade"):
        assert not (NNLIB / moved).exists(), f"nnlib/{moved}/ should have moved to nncourse/{moved}/"
        assert (ROOT / "nncourse" / moved / "__init__.py").is_file()
    assert (ROOT / "nncourse" / "__init__.py").is_file()  # a regular package, not a namespace
    for moved, now in (("course.py", "release.py"), ("lab.py", "lab.py")):
        assert not (NNLIB / moved).exists()
        assert (ROOT / "nncourse" / now).is_file()


def test_the_library_runs_without_the_course_package():
    code = ("import importlib, sys\n"
            f"for name in {LIBRARY_MODULES!r}:\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'nncourse'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_from_nnlib_checks_import_check_still_works_and_is_the_same_object():
    from nnlib.checks import check

    import nncourse.checks
    assert check is nncourse.checks.check
    shim = importlib.import_module("nnlib.checks")
    assert shim.__all__ and "check" in shim.__all__
    for name in shim.__all__:
        assert getattr(shim, name) is getattr(nncourse.checks, name), name
    assert "compatibility alias" in shim.__doc__.lower() and "nncourse.checks" in shim.__doc__


@pytest.mark.parametrize("command, target", [("nnlib-grade", "nncourse.grade.cli:main"),
                                             ("nnlib-course", "nncourse.release:main")])
def test_the_commands_keep_their_names_and_point_into_nncourse(command, target):
    scripts = {ep.name: ep for ep in importlib.metadata.entry_points(group="console_scripts")}
    assert scripts[command].value == target
    assert callable(scripts[command].load())


@pytest.mark.parametrize("module, prog", [("nncourse.grade", "nnlib-grade"),
                                          ("nncourse.release", "python -m nncourse.release"),
                                          ("nncourse.lab", "python -m nncourse.lab")])
def test_python_dash_m_entry_points_answer_help(module, prog):
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"usage: {prog} ")


def test_a_notebook_saved_before_the_move_still_runs_its_checks():
    code = ("import numpy as np\n"
            "from nnlib.checks import check, hint\n"
            "def majority_weights():\n"
            "    return np.ones(3), -1.5\n"
            "check('1.4', majority_weights)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("\u2714 Exercise 1.4 (majority_weights) passed")
