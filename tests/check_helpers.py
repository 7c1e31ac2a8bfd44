"""What every tests/test_checks_chNN.py needs: a stub and a "fails with" assertion.

Not a test module (no test_ prefix); imported like tests/grade_toy.py.
"""
import pytest

from nncourse.checks import CheckFailed, check


def stub(exercise_id):
    """A function that behaves like the generated exercise stub of ``exercise_id``."""
    def fn(*args, **kwargs):
        raise NotImplementedError(f"Exercise {exercise_id}: write this function")
    return fn


def fails_with(exercise_id, wrong, *messages):
    """Assert the check of ``exercise_id`` rejects ``wrong`` with every message; return the text.

    An empty message is refused: ``"" in text`` is always true, so it would test nothing.
    """
    assert all(message for message in messages), f"an empty expected message tests nothing: {messages!r}"
    with pytest.raises(CheckFailed, match=rf"^Exercise {exercise_id} \(") as failure:
        check(exercise_id, wrong)
    for message in messages:
        assert message in str(failure.value), str(failure.value)
    return str(failure.value)
