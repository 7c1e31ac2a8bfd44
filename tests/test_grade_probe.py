"""Plain-data transport and replay (nncourse.grade.probe, nncourse.grade.judge), without a kernel."""
import json
from collections import namedtuple

import numpy as np
import pytest

from nncourse.grade import probe
from nncourse.grade.decode import DecodeError, decode
from nncourse.grade.judge import Replay, ReplayDiverged, judge, read_payload
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


def test_digests_agree_for_equal_inputs_and_differ_for_others():
    x = np.arange(6.0).reshape(2, 3)
    assert probe.digest((x, 1.0), {}) == probe.digest((x.copy(), 1.0), {})
    assert probe.digest((x, 1.0), {}) == probe.digest((roundtrip(x), roundtrip(1.0)), {})
    assert probe.digest((x,), {}) != probe.digest((x.T.copy(),), {})
    assert probe.digest((x,), {}) != probe.digest((x.astype(np.float32),), {})
    assert probe.digest((1,), {}) != probe.digest((1.0,), {}) != probe.digest((True,), {})
    assert probe.digest((AlwaysEqual(),), {}) == probe.digest((roundtrip(AlwaysEqual()),), {})


def record_calls(fn, *calls):
    """Record calls of ``fn`` as the kernel's probe would; return the JSON-ready payload."""
    namespace = {"f": fn}
    recorder = probe.Recorder("tok")
    recorder.begin(namespace, ["f"], [])
    for args in calls:
        try:
            namespace["f"](*args)
        except Exception:  # noqa: BLE001 - recorded
            pass
    return json.loads(json.dumps({"token": "tok", "calls": recorder.calls, "values": recorder.values,
                                  "functions": sorted(recorder.saved)}))


def test_replay_returns_the_recorded_results_and_refuses_other_inputs():
    x = np.array([-1.0, 2.0])
    replay = Replay(record_calls(lambda z: np.maximum(z, 0), (x,))["calls"])
    stub = replay.stub("f")
    with pytest.raises(ReplayDiverged, match="other inputs"):
        stub(x * 2)
    replay = Replay(record_calls(lambda z: np.maximum(z, 0), (x,))["calls"])
    assert np.array_equal(replay.stub("f")(x.copy()), [0.0, 2.0])
    replay.finish()
    with pytest.raises(ReplayDiverged, match="more often"):
        replay.stub("f")(x)


def test_replay_writes_back_in_place_changes_and_raises_the_recorded_exceptions():
    def update(w):
        w += 1.0
        raise ValueError("shapes do not match")
    w = np.zeros(2)
    calls = record_calls(update, (w.copy(),))["calls"]
    replay, fresh = Replay(calls), np.zeros(2)
    with pytest.raises(ValueError, match="shapes do not match"):
        replay.stub("f")(fresh)
    assert np.array_equal(fresh, [1.0, 1.0])


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
def test_judge_decides_from_the_recorded_values(fn, status, message):
    payload = record_calls(fn, (np.array([-1.0, 2.0]),))
    verdict = judge(CELL, payload, NAMESPACE)
    assert verdict.status == status
    assert message in verdict.message


def test_a_stub_is_not_attempted_and_a_missing_function_fails():
    def stub(z):
        raise NotImplementedError("Exercise 9.1: return max(z, 0)")
    assert judge(CELL, record_calls(stub, (np.array([-1.0, 2.0]),)), NAMESPACE).status == "not attempted"
    empty = {"token": "t", "calls": [], "values": {}, "functions": []}
    verdict = judge(CELL, empty, NAMESPACE)
    assert verdict.status == "failed" and "name 'f' is not defined" in verdict.message


def test_judge_ignores_forged_calls_that_were_never_asked_for():
    payload = record_calls(lambda z: np.maximum(z, 0.0), (np.array([-1.0, 2.0]),), (np.array([5.0]),))
    verdict = judge(CELL, payload, NAMESPACE)
    assert verdict.status == "failed" and "called 2 times in the notebook but 1 times" in verdict.message


def test_read_payload_wants_exactly_one_result_with_the_token():
    good = json.dumps({"token": "t", "calls": [], "values": {}, "functions": []})
    assert read_payload(["not json", good], "t")["calls"] == []
    with pytest.raises(ValueError, match="exactly one"):
        read_payload([good, good], "t")
    with pytest.raises(ValueError, match="exactly one"):
        read_payload([good.replace('"t"', '"forged"')], "t")


def record_cell(namespace, functions, source):
    """Run a grading cell's source in-process with the recorder, as the kernel would."""
    recorder = probe.Recorder("tok")
    recorder.begin(namespace, functions, [])
    try:
        exec(source, namespace)
    except Exception:  # noqa: BLE001 - the kernel-side failure does not matter to the judge
        pass
    return json.loads(json.dumps({"token": "tok", "calls": recorder.calls, "values": recorder.values,
                                  "functions": sorted(recorder.saved)}))


SCALER_TEST = ("from nncourse.checks import call, expect_array\n"
               "times3 = call(make_scaler, 3.0)\n"
               "expect_array(times3(np.arange(3.0)), [0.0, 3.0, 6.0], 'make_scaler(3)([0, 1, 2])')\n")


@pytest.mark.parametrize("make_scaler, status", [
    (lambda k: (lambda x: k * x), "passed"),
    (lambda k: (lambda x: k + x), "failed"),
])
def test_a_returned_function_is_recorded_and_replayed_as_a_handle(make_scaler, status):
    cell = GradingCell("check_9_2", "9.2", SCALER_TEST, 1, ["make_scaler"], [])
    payload = record_cell({"np": np, "make_scaler": make_scaler}, ["make_scaler"], SCALER_TEST)
    assert [c["fn"] for c in payload["calls"]] == ["make_scaler", "handle#0"]
    assert judge(cell, payload, NAMESPACE).status == status


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
def test_a_returned_cuda_kernel_is_replayed_launch_by_launch(body, status):
    build, source = kernel_builder(body)
    import linecache  # so inspect can read the kernel's source, as IPython makes it for cells
    linecache.cache["<kernel cell>"] = (len(source), None, source.splitlines(True), "<kernel cell>")
    payload = record_cell({"np": np, "build": build}, ["build"], KERNEL_TEST)
    assert [c["fn"] for c in payload["calls"]] == ["build", "handle#0[]"]
    assert payload["calls"][0]["value"]["source"].startswith("@cuda.jit")
    cell = GradingCell("check_9_3", "9.3", KERNEL_TEST, 1, ["build"], [])
    assert judge(cell, payload, NAMESPACE).status == status
