"""What every registered exercise's check must do, for all chapters at once.

A stub (the generated exercise's body) raises its own "Exercise N.k: ..."
error through ``check``, never a pass; every exercise has two or three hints,
a nudge and then the key equation, never code; ``hint`` shows the last one.
The per-chapter files (tests/test_checks_chNN.py) hold what differs: the
correct answers and the named slips.
"""
import pytest

from nncourse.checks import check, hint, registry

from check_helpers import stub

IDS = sorted(registry(), key=lambda k: tuple(int(part) for part in k.split(".")))


def test_every_chapter_registers_exercises():
    assert {int(k.split(".")[0]) for k in IDS} == set(range(1, 11))


@pytest.mark.parametrize("exercise_id", IDS)
def test_a_stub_raises_its_own_not_implemented_error(exercise_id):
    with pytest.raises(NotImplementedError, match=rf"^Exercise {exercise_id}: write this"):
        check(exercise_id, stub(exercise_id))


@pytest.mark.parametrize("exercise_id", IDS)
def test_every_exercise_has_two_or_three_hints_that_never_show_code(exercise_id, capsys):
    hints = registry()[exercise_id].hints
    assert 2 <= len(hints) <= 3
    assert not any("return " in text or "def " in text for text in hints)
    hint(exercise_id, len(hints))
    assert f"Hint {len(hints)} of {len(hints)}" in capsys.readouterr().out
