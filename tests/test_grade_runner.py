"""The grader's kernel (nncourse.grade.runner + boot): limits, guard, timeouts, deaths, restarts."""
import os
from pathlib import Path

import pytest

from nncourse.grade.runner import Kernel, Limits, Workspace, default_readonly


@pytest.fixture(scope="module")
def denied(tmp_path_factory):
    folder = tmp_path_factory.mktemp("secret")
    (folder / "answers.ipynb").write_text("the solutions")
    return folder


@pytest.fixture(scope="module")
def kernel(denied):
    workspace = Workspace()
    kernel = Kernel(workspace, Limits(memory=2 * 2**30), deny=[denied], readonly=default_readonly())
    kernel.start()
    yield kernel
    kernel.close()
    workspace.cleanup()


def run(kernel, code, timeout=10):
    return kernel.execute(code, timeout)


def test_the_kernel_runs_under_the_memory_and_core_limits(kernel):
    out = run(kernel, "import resource\nprint(resource.getrlimit(resource.RLIMIT_AS), "
                      "resource.getrlimit(resource.RLIMIT_CORE))")
    assert out.status == "ok", out.evalue
    assert out.stdout.strip() == f"({2 * 2**30}, {2 * 2**30}) (0, 0)"


def test_a_huge_allocation_fails_with_memory_error_not_the_machine(kernel):
    out = run(kernel, "import numpy as np\nbig = np.zeros((2**15, 2**15))  # 8 GiB")
    assert (out.status, out.ename) == ("error", "MemoryError")


def test_the_kernel_works_in_its_own_folder_with_a_scrubbed_environment(kernel):
    out = run(kernel, "import os, json\nprint(json.dumps([os.getcwd(), dict(os.environ)]))")
    cwd, env = __import__("json").loads(out.stdout)
    assert Path(cwd) == kernel.workspace.work
    assert env["HOME"].startswith(str(kernel.workspace.root))
    assert "solutions" not in out.stdout and "secret" not in out.stdout
    assert not set(env) & {k for k in os.environ if k.startswith(("JPY_", "PYTEST", "VIRTUAL_ENV"))} - {"JPY_PARENT_PID"}


def test_the_guard_refuses_denied_folders_and_writes_to_nnlib_and_nncourse(kernel, denied):
    repo = Path(__file__).resolve().parents[1]
    for code in (f"open({str(denied / 'answers.ipynb')!r}).read()",
                 f"import os\nos.listdir({str(denied)!r})",
                 f"import glob\nglob.glob({str(denied)!r} + '/*')",
                 f"open({str(repo / 'nnlib' / 'zz_forged.py')!r}, 'w')",
                 f"open({str(repo / 'nncourse' / 'checks' / 'zz_forged.py')!r}, 'w')"):
        out = run(kernel, code)
        assert (out.status, out.ename) == ("error", "PermissionError"), code
        assert "the grader does not let submissions" in out.evalue
    assert run(kernel, "import nncourse.checks\nopen('mine.txt', 'w').write('ok')").status == "ok"


def test_the_kernel_may_not_signal_the_grader(kernel):
    out = run(kernel, f"import os, signal\nos.kill({os.getpid()}, signal.SIGTERM)")
    assert (out.status, out.ename) == ("error", "PermissionError")


def test_an_endless_loop_that_swallows_interrupts_times_out_and_the_kernel_restarts(kernel):
    out = run(kernel, "while True:\n    try:\n        pass\n    except BaseException:\n        pass", timeout=2)
    assert out.status == "timeout" and 2 <= out.seconds < 5
    kernel.restart()
    assert run(kernel, "print(6 * 7)").stdout.strip() == "42"


@pytest.mark.parametrize("code, exit_code", [
    ("import os\nos._exit(3)", 3),
    ("import ctypes\nctypes.string_at(0)", -11),
])
def test_kernel_death_is_reported_with_its_cause(kernel, code, exit_code):
    out = run(kernel, code)
    assert out.status == "died" and out.seconds < 5
    assert kernel.exit_code() == exit_code
    kernel.restart()
    assert run(kernel, "print('alive')").stdout.strip() == "alive"
