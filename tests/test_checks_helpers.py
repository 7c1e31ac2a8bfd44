"""The shared pieces of nncourse.checks: registry, check(), call() and the expect_* helpers."""
import numpy as np
import pytest

from nncourse.checks import CheckFailed, call, check, exercise, expect_array, expect_scalar, expect_tuple, show


@exercise("99.1", "double")
def _check_double(fn):
    expect_array(call(fn, np.array([1.0, 2.0])), np.array([2.0, 4.0]), "double([1, 2])")
    return "doubles."


def test_check_prints_a_pass_line_and_prefixes_a_failure_with_the_exercise(capsys):
    assert check("99.1", lambda x: 2 * x) is None
    assert capsys.readouterr().out == "\u2714 Exercise 99.1 (double) passed: doubles.\n"
    with pytest.raises(CheckFailed, match=r"^Exercise 99\.1 \(double\): double\(\[1, 2\]\): expected"):
        check("99.1", lambda x: 3 * x)


def test_an_unknown_exercise_names_the_known_ones():
    with pytest.raises(KeyError, match="no check for exercise '98.7'"):
        check("98.7", print)


def test_call_lets_the_stub_through_and_turns_other_errors_into_advice():
    def stub(x):
        raise NotImplementedError("Exercise 99.1: write it")

    with pytest.raises(NotImplementedError, match="^Exercise 99.1: write it$"):
        call(stub, 1)
    with pytest.raises(CheckFailed, match=r"raised ZeroDivisionError: division by zero \(on input 1\)\. "
                                          r"Do not divide by x\.$"):
        call(lambda x: 1 / 0, 1, hints={ArithmeticError: "Do not divide by x."})
    with pytest.raises(CheckFailed, match="expected a function, got int 3"):
        call(3)


def test_expect_array_names_shape_dtype_nan_and_the_worst_entry():
    with pytest.raises(CheckFailed, match=r"expected shape \(2, 3\), got \(3, 2\)"):
        expect_array(np.zeros((3, 2)), np.zeros((2, 3)), "z")
    with pytest.raises(CheckFailed, match=r"expected int values, got dtype float64; convert with \.astype\(int\)"):
        expect_array(np.zeros(3), np.zeros(3, dtype=int), "y_hat", dtype_kind="iu")
    with pytest.raises(CheckFailed, match="contains NaN: "):
        expect_array(np.array([np.nan, 1.0]), np.ones(2), "a")
    with pytest.raises(CheckFailed, match=r"1 of 20 entries differ; the largest difference is at index "
                                          r"\(2, 3\): expected 0, got 5"):
        big = np.zeros((4, 5))
        big[2, 3] = 5.0
        expect_array(big, np.zeros((4, 5)), "dW")
    with pytest.raises(CheckFailed, match="returned None"):
        expect_array(None, np.zeros(2), "z")


def test_expect_scalar_and_expect_tuple():
    assert expect_scalar(np.array([2.5]), 2.5, "loss") == 2.5
    assert expect_scalar(7, None, "b") == 7.0  # None: any finite number
    with pytest.raises(CheckFailed, match="expected a single number, got 'abc'"):
        expect_scalar("abc", None, "b")
    with pytest.raises(CheckFailed, match="got inf; expected a finite number near 1"):
        expect_scalar(np.inf, 1.0, "loss")
    with pytest.raises(CheckFailed, match=r"expected 2 values \(a tuple\), got \[0., 0.\]"):
        expect_tuple(np.zeros(2), 2, "the return value")


def test_show_keeps_messages_short():
    assert show(np.array([1.0, 0.5])) == "[1. , 0.5]"
    assert show(np.zeros((10, 10))) == "array of shape (10, 10)"
    assert show(0.1 + 0.2) == "0.3"
