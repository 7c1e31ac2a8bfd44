"""``import nnlib`` makes the public submodules reachable as attributes, lazily (issue 20).

Each test runs in a fresh interpreter, so what ``import nnlib`` loads is
measured from scratch. Speed is judged by which modules get imported, never
by wall time.
"""
import json
import subprocess
import sys

import pytest

PUBLIC = ["data", "functional", "gradcheck", "history", "layers", "mnist", "model", "optim",
          "perceptron", "viz"]
NOT_AT_IMPORT = ["nnlib.data", "nnlib.mnist", "nnlib.viz", "nnlib.gradcheck", "matplotlib",
                 "matplotlib.pyplot", "nncourse", "ipywidgets", "IPython"]


def fresh(code):
    """Run ``code`` in a new interpreter; return what it printed as JSON."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_import_nnlib_loads_neither_the_data_loaders_nor_the_plots():
    loaded = fresh("import json, sys\nimport nnlib\n"
                   f"print(json.dumps([m for m in {NOT_AT_IMPORT!r} if m in sys.modules]))")
    assert loaded == []


def test_nnlib_data_works_after_import_nnlib_alone():
    result = fresh("import json, sys\nimport nnlib\n"
                   "X, y = nnlib.data.load_digits()\n"
                   "print(json.dumps([list(X.shape), 'nnlib.data' in sys.modules, "
                   "nnlib.data is sys.modules['nnlib.data'], 'matplotlib' in sys.modules]))")
    assert result == [[1797, 64], True, True, False]


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_submodule_is_an_attribute_of_nnlib(name):
    result = fresh("import importlib, json\nimport nnlib\n"
                   f"module = getattr(nnlib, {name!r})\n"
                   f"print(json.dumps([module.__name__, module is importlib.import_module('nnlib.{name}'), "
                   f"{name!r} in dir(nnlib)]))")
    assert result == [f"nnlib.{name}", True, True]


def test_a_misspelt_attribute_is_still_an_attribute_error():
    import nnlib
    with pytest.raises(AttributeError, match="module 'nnlib' has no attribute 'dat'"):
        nnlib.dat  # noqa: B018 - the access is the test
    assert not hasattr(nnlib, "checks_helpers")


def test_the_course_package_is_not_reachable_through_nnlib_attributes():
    loaded = fresh("import json, sys\nimport nnlib\n"
                   "names = [n for n in dir(nnlib) if not n.startswith('_')]\n"
                   "[getattr(nnlib, n) for n in names]\n"
                   "print(json.dumps('nncourse' in sys.modules))")
    assert loaded is False
