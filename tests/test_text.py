"""The bundled public-domain text (nnlib.text): checksum, content, vocabulary, windows."""
import hashlib
import importlib.resources

import numpy as np
import pytest

from nnlib import text
from nnlib.data import ChecksumError


def test_the_text_is_the_constitution_and_matches_its_checksum():
    raw = importlib.resources.files("nnlib").joinpath(text.TEXT_FILE).read_bytes()
    assert len(raw) < 200_000
    assert hashlib.sha256(raw).hexdigest() == text.TEXT_SHA256
    body = text.load_constitution()
    assert body.startswith("The Constitution of the United States of America")
    assert "We the People of the United States" in body and len(body) == 45345


def test_a_damaged_file_is_refused(monkeypatch):
    text.load_constitution.cache_clear()
    monkeypatch.setattr(text, "TEXT_SHA256", "0" * 64)
    try:
        with pytest.raises(ChecksumError, match="damaged"):
            text.load_constitution()
    finally:
        text.load_constitution.cache_clear()


def test_the_licence_file_names_source_and_checksum():
    licence = importlib.resources.files("nnlib").joinpath(
        "datasets/US_CONSTITUTION_LICENSE.txt").read_text()
    assert "miscfiles" in licence and "public domain" in licence and text.TEXT_SHA256 in licence


def test_vocabulary_round_trip_and_clear_error(clear_error):
    vocab = text.Vocabulary("hello world")
    ids = vocab.encode("low")
    assert ids.dtype == np.int64 and vocab.decode(ids) == "low" and len(vocab) == 8
    clear_error(lambda: vocab.encode("hex"), "'x'", "vocabulary")


def test_next_char_windows_shift_by_one():
    ids = np.arange(20)
    X, Y = text.next_char_windows(ids, 4)
    assert X.shape == Y.shape == (4, 4)
    np.testing.assert_array_equal(Y, X + 1)
    np.testing.assert_array_equal(X[:, 0], [0, 4, 8, 12])
