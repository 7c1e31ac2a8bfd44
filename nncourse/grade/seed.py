"""The grading seed: hidden inputs that the notebook never contains.

A hidden test that draws its inputs with ``hidden_rng(41)`` gets
``np.random.default_rng(41)`` when the solution notebook runs on its own
(nbval, a course author), and, while the grader judges it, a generator
seeded from 41 *and* the grading seed, which the grader chooses per
submission and records in the results (``--resume`` reuses it, so a grade is
reproducible). The grading cell runs only in the grader's process (see
``judge``), so the student's kernel never learns the seed or the inputs.

    from nncourse.grade.seed import hidden_rng
    _rng = hidden_rng(41)
    _x = _rng.normal(size=(8, 6))
"""
import contextlib
import hashlib
import secrets

_current = None


def new_seed():
    """A fresh grading seed (64 random bits, as an int)."""
    return secrets.randbits(64)


def student_seed(batch_seed, student):
    """The grading seed of one student in a batch: the batch's seed and the name, hashed."""
    digest = hashlib.sha256(f"{int(batch_seed)}:{student}".encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "little")


def hidden_seed(default):
    """``default`` outside grading; inside, a seed mixed from it and the grading seed."""
    if _current is None:
        return default
    digest = hashlib.sha256(f"{_current}:{default}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def hidden_rng(default):
    """``np.random.default_rng`` of ``hidden_seed(default)``."""
    import numpy as np
    return np.random.default_rng(hidden_seed(default))


@contextlib.contextmanager
def hidden_seed_context(seed):
    """Judge with grading seed ``seed`` (None: the notebook's own seeds)."""
    global _current
    before, _current = _current, seed
    try:
        yield
    finally:
        _current = before
