"""Plain-data transport and live calls (nncourse.grade.probe, judge, decode), without a kernel.

``local_remote`` runs probe's server in this process in place of a kernel:
the same JSON travels both ways, so what the judge decides here is what it
decides with a sandboxed kernel.
"""
import json
from collections import namedtuple

import numpy as np
import pytest

from nncourse.grade import probe
from nncourse.grade.decode import DecodeError, bounded_json, decode
from nncourse.grade.judge import Remote, judge, read_payload
from nncourse.grade.notebook import GradingCell


def roundtrip(value):
    return decode(json.loads(json.dumps(probe.encode(value))))


@pytest.mark.parametrize("value", [
    None, True, 3, -2**70, 0.1, float("inf"), "text", [1, 2.5, "a"], (1, (2, 3)), {"w": 1, 2: [None]},
    3 + 4j, b"\x00\xff",
    np.arange(12, dtype=np.int32).reshape(3, 4), np.linspace(0, 1, 5, dtype=np.float32),
    np.array([True, False]), np.array(["a", "bc"]), np.zeros((0, 3)), np.float64(2.5), np.int8(-3),
])
def test_plain_values_survive_the_trip_exactly(value):
    back = roundtrip(value)
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)
    elif isinstance(value, float) and value != value:
        assert back != back
    else:
        assert back == value


def test_namedtuples_and_array_subclasses_arrive_as_plain_tuples_and_arrays():
    Pair = namedtuple("Pair", "w b")
    assert roundtrip(Pair(np.ones(2), 0.5))[1] == 0.5 and type(roundtrip(Pair(1, 2))) is tuple
    assert type(roundtrip(np.ma.masked_array([1.0, 2.0]))) is np.ndarray


class AlwaysEqual:
    def __eq__(self, other):
        return True


class SneakyFloat(float):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [AlwaysEqual(), SneakyFloat(1.0), print, np.array([AlwaysEqual()])[0]])
def test_objects_with_custom_classes_arrive_as_markers_that_equal_nothing(value):
    back = roundtrip(value)
    assert isinstance(back, probe.Opaque)
    assert back != 1.0 and not np.asarray(back == np.zeros(3)).any()
    assert "object of type" in repr(back)


@pytest.mark.parametrize("data, problem", [
    ({"~": "pickle", "b64": ""}, "unknown recorded value tag"),
    ({"~": "nd", "dtype": "|O", "shape": [1], "b64": "AAAAAAAAAAA="}, "not a plain numeric dtype"),
    ({"~": "nd", "dtype": "<f8", "shape": [3], "b64": "AAAAAAAAAAA="}, "shape does not match"),
    ({"~": "nd", "dtype": "<f8", "shape": [1], "b64": "not base64!"}, "not valid base64"),
    ({"~": "tuple"}, "no item list"),
    ({"no": "tag"}, "unexpected recorded value"),
])
def test_decode_refuses_anything_but_what_encode_makes(data, problem):
    with pytest.raises(DecodeError, match=problem):
        decode(data)


class LocalServer(probe.Server):
    """probe.Server with its messages kept in a list, and input() answered by the grader's callback."""

    def publish(self, payload):
        payload["token"] = self.token
        self.out.append(json.dumps(payload))

    def ask(self, prompt):
        return self.on_input(prompt)


def local_remote(namespace, mutates=None):
    server = LocalServer("tok", namespace)

    def transport(method, request, on_input):
        server.out, server.on_input = [], on_input
        getattr(server, method)(request)
        return server.out
    return Remote(transport, "tok", mutates)


CELL = GradingCell("check_9_1_f", "9.1", source=(
    "from nncourse.checks import call, expect_array\n"
    "expect_array(call(f, np.array([-1.0, 2.0])), np.array([0.0, 2.0]), 'f([-1, 2])')\n"
    "print('\\u2714 Exercise 9.1 (f) passed: 1 input.')"), points=1, functions=["f"], values=[])
NAMESPACE = {"np": np}


@pytest.mark.parametrize("fn, status, message", [
    (lambda z: np.maximum(z, 0.0), "passed", "Exercise 9.1 (f) passed: 1 input."),
    (lambda z: z, "failed", "f([-1, 2]): expected [0., 2.], got [-1., 2.]"),
    (lambda z: AlwaysEqual(), "failed", "expected numbers, got dtype object"),
    (lambda z: None, "failed", "returned None"),
    (lambda z: [][1], "failed", "your function raised IndexError"),
])
def test_judge_decides_from_the_values_the_kernel_sent(fn, status, message):
    verdict = judge(CELL, local_remote({"f": fn}), NAMESPACE)
    assert verdict.status == status
    assert message in verdict.message


def test_a_stub_is_not_attempted_and_a_missing_function_fails():
    def stub(z):
        raise NotImplementedError("Exercise 9.1: return max(z, 0)")
    assert judge(CELL, local_remote({"f": stub}), NAMESPACE).status == "not attempted"
    verdict = judge(CELL, local_remote({}), NAMESPACE)
    assert verdict.status == "failed" and "name 'f' is not defined" in verdict.message


def test_a_student_s_exception_message_reaches_the_feedback_short_and_on_one_line():
    def chatty(z):
        raise ValueError("line one\nline two " + "x" * 5000)
    verdict = judge(CELL, local_remote({"f": chatty}), NAMESPACE)
    assert "line one line two xxx" in verdict.message and "\n" not in verdict.message
    assert verdict.message.count("x") <= probe.MAX_MESSAGE


def test_read_payload_wants_exactly_one_answer_with_the_token():
    good = json.dumps({"token": "t", "value": 1})
    assert read_payload(["not json", good], "t")["value"] == 1
    with pytest.raises(ValueError, match="exactly one"):
        read_payload([good, good], "t")
    with pytest.raises(ValueError, match="exactly one"):
        read_payload([good.replace('"t"', '"forged"')], "t")


def test_a_deeply_nested_answer_is_refused_before_it_is_parsed():
    forged = '{"token": "t", "value": ' + "[" * 100_000 + "]" * 100_000 + "}"  # issue 11, finding 6
    with pytest.raises(ValueError, match="nested more than 64 levels"):
        read_payload([forged], "t")
    with pytest.raises(DecodeError, match="larger than the grader accepts"):
        bounded_json("[" + "0," * 100 + "0]", max_bytes=100)


SCALER_TEST = ("from nncourse.checks import call, expect_array\n"
               "times3 = call(make_scaler, 3.0)\n"
               "expect_array(times3(np.arange(3.0)), [0.0, 3.0, 6.0], 'make_scaler(3)([0, 1, 2])')\n")


@pytest.mark.parametrize("make_scaler, status", [
    (lambda k: (lambda x: k * x), "passed"),
    (lambda k: (lambda x: k + x), "failed"),
])
def test_a_returned_function_stays_in_the_kernel_and_is_called_there(make_scaler, status):
    cell = GradingCell("check_9_2", "9.2", SCALER_TEST, 1, ["make_scaler"], [])
    assert judge(cell, local_remote({"make_scaler": make_scaler}), NAMESPACE).status == status


KERNEL_TEST = ("from numba import cuda\n"
               "kernel = build()\n"
               "z = np.array([-1.0, 2.0, -3.0, 4.0])\n"
               "d_a = cuda.to_device(np.zeros(4))\n"
               "kernel[1, 4](cuda.to_device(z), d_a)\n"
               "assert 'cuda.jit' in __import__('inspect').getsource(kernel.py_func)\n"
               "np.testing.assert_array_equal(d_a.copy_to_host(), np.maximum(z, 0.0))\n")


def kernel_builder(body):
    source = ("def build():\n    @cuda.jit\n    def relu_kernel(z, a):\n        i = cuda.grid(1)\n"
              f"        if i < z.size:\n            {body}\n    return relu_kernel\n")
    from numba import cuda
    namespace = {"cuda": cuda, "np": np}
    exec(compile(source, "<kernel cell>", "exec"), namespace)
    return namespace["build"], source


@pytest.mark.parametrize("body, status", [("a[i] = max(z[i], 0.0)", "passed"), ("a[i] = z[i]", "failed")])
def test_a_returned_cuda_kernel_is_launched_in_the_kernel_and_its_outputs_come_back(body, status):
    build, source = kernel_builder(body)
    import linecache  # so inspect can read the kernel's source, as IPython makes it for cells
    linecache.cache["<kernel cell>"] = (len(source), None, source.splitlines(True), "<kernel cell>")
    cell = GradingCell("check_9_3", "9.3", KERNEL_TEST, 1, ["build"], [])
    assert judge(cell, local_remote({"build": build}), NAMESPACE).status == status


STEERED = GradingCell("check_9_4", "9.4", source=(  # the expected value is computed after the call
    "from nncourse.checks import call, expect_array\n"
    "x = np.array([1.0, -2.0, 3.0])\n"
    "got = call(double, x)\n"
    "expect_array(got, 2 * x, 'double(x)')\n"), points=1, functions=["double"], values=[])


def zero_inputs(x):
    x[:] = 0.0  # issue 11, finding 4: zero the inputs in place, then return what they now imply
    return np.zeros_like(x)


def test_a_function_that_zeroes_its_inputs_cannot_steer_the_expected_value():
    mutates = {"double": (["x"], set())}  # the solution does not change x in place
    verdict = judge(STEERED, local_remote({"double": zero_inputs}, mutates), NAMESPACE)
    assert verdict.status == "failed" and "expected [ 2., -4., 6.], got [0., 0., 0.]" in verdict.message
    honest = judge(STEERED, local_remote({"double": lambda x: 2 * x}, mutates), NAMESPACE)
    assert honest.status == "passed"


def test_in_place_changes_come_back_where_the_solution_makes_them():
    cell = GradingCell("check_9_5", "9.5", source=(
        "params = {'w': np.ones(2)}\n"
        "call_result = step(params, np.array([0.5, 0.5]))\n"
        "assert np.array_equal(params['w'], [0.5, 0.5]), params['w']\n"), points=1, functions=["step"], values=[])

    def step(params, g):
        params["w"] -= g
    mutates = {"step": (["params", "g"], {"params"})}
    assert judge(cell, local_remote({"step": step}, mutates), NAMESPACE).status == "passed"
    assert judge(cell, local_remote({"step": step}, {}), NAMESPACE).status == "failed"


def test_read_only_inputs_stay_read_only_in_the_kernel():
    cell = GradingCell("check_9_6", "9.6", source=(
        "x = np.arange(3.0)\nx.flags.writeable = False\nf(x)\n"), points=1, functions=["f"], values=[])

    def writes(x):
        x[0] = 1.0
    verdict = judge(cell, local_remote({"f": writes}), NAMESPACE)
    assert verdict.status == "failed" and "read-only" in verdict.message


def test_a_function_of_the_tests_is_called_back_in_the_grader():
    cell = GradingCell("check_9_7", "9.7", source=(
        "secret = 7.0\n"
        "def loss(w):\n    return float(np.sum(w ** 2)) + secret\n"
        "assert apply(loss, np.array([1.0, 2.0])) == 12.0\n"
        "assert apply(np.sum, np.array([1.0, 2.0])) == 3.0\n"), points=1, functions=["apply"], values=[])
    remote = local_remote({"apply": lambda fn, w: fn(w)})
    assert judge(cell, remote, NAMESPACE).status == "passed"
    assert remote.answered == 1  # np.sum went by name; only `loss` was called back


def test_generators_arrive_in_the_state_the_tests_made():
    cell = GradingCell("check_9_8", "9.8", source=(
        "got = draw(np.random.default_rng(5))\n"
        "assert np.array_equal(got, np.random.default_rng(5).normal(size=3))\n"), points=1,
        functions=["draw"], values=[])
    assert judge(cell, local_remote({"draw": lambda rng: rng.normal(size=3)}), NAMESPACE).status == "passed"


def test_calling_the_nnlib_function_the_exercise_asks_for_scores_nothing():
    from nnlib.functional import dense_forward
    cell = GradingCell("check_9_9", "9.9", source=(
        "x, W, b = np.ones((2, 3)), np.ones((3, 2)), np.zeros(2)\n"
        "assert np.array_equal(f(x, W, b), x @ W + b)\n"), points=1, functions=["f"], values=[])
    copied = local_remote({"f": lambda x, W, b: dense_forward(x, W, b)[0]})
    verdict = judge(cell, copied, NAMESPACE, forbidden=("nnlib.functional.dense.dense_forward",))
    assert verdict.status == "failed"
    assert "calls nnlib's own `nnlib.functional.dense.dense_forward`" in verdict.message
    own = judge(cell, local_remote({"f": lambda x, W, b: x @ W + b}), NAMESPACE,
                forbidden=("nnlib.functional.dense.dense_forward",))
    assert own.status == "passed" and own.nnlib == []


def test_switching_off_the_call_record_fails_the_exercise():
    import sys

    def sneaky(z):
        sys.setprofile(None)
        return np.maximum(z, 0.0)
    verdict = judge(CELL, local_remote({"f": sneaky}), NAMESPACE)
    assert verdict.status == "failed" and "switched off the grader's record" in verdict.message


def test_the_tests_numpy_error_state_applies_to_the_student_s_function():
    cell = GradingCell("check_9_10", "9.10", source=(
        "from nncourse.checks.ch02 import call_strict\n"
        "call_strict(f, np.array([-1000.0, 0.0]))\n"), points=1, functions=["f"], values=[])
    naive = judge(cell, local_remote({"f": lambda z: 1 / (1 + np.exp(-z))}), NAMESPACE)
    assert naive.status == "failed" and "FloatingPointError" in naive.message and "np.exp overflowed" in naive.message
    stable = judge(cell, local_remote({"f": lambda z: np.exp(-np.logaddexp(0, -z))}), NAMESPACE)
    assert stable.status == "passed"
