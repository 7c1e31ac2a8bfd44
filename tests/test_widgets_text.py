"""The chapter 9 widget (TextGenerator), driven in plain Python (no browser).

A small character model is trained on a repetitive text so that its samples
are predictable: at a low temperature it repeats the text, at a high one it
makes mistakes. Moving a control regenerates; a bad prompt is a clear message.
"""
import ipywidgets as widgets
import numpy as np
import pytest

from nnlib import LSTM, Adam, Sequential, TimeDense
from nnlib import functional as F
from nnlib.text import Vocabulary, next_char_windows
from nncourse.widgets import TextGenerator
from nncourse.widgets.text_generator import generate_text

TEXT = "abcde " * 60


@pytest.fixture(scope="module")
def trained():
    vocab = Vocabulary(TEXT)
    inputs, targets = next_char_windows(vocab.encode(TEXT), 12, stride=3)
    model = Sequential([LSTM(len(vocab), 16, return_sequences=True), TimeDense(16, len(vocab))], seed=0)
    model.fit(F.one_hot(inputs, len(vocab)), targets, epochs=30, batch_size=16,
              loss="sequence_cross_entropy", optimizer=Adam(0.02, clip_norm=5.0), verbose=False)
    return model, vocab


def test_low_temperature_continues_the_pattern(trained):
    model, vocab = trained
    assert generate_text(model, vocab, "abc", 12, 0.2, seed=0) == "de abcde abc"


def test_generation_is_seeded_and_temperature_matters(trained):
    model, vocab = trained
    assert generate_text(model, vocab, "a", 40, 1.0, seed=3) == generate_text(model, vocab, "a", 40, 1.0, seed=3)
    cold = generate_text(model, vocab, "a", 200, 0.2, seed=1)
    hot = generate_text(model, vocab, "a", 200, 5.0, seed=1)
    wrong = lambda s: sum(s[i + 1] != "bcde a"[("abcde ".index(s[i]))] for i in range(len(s) - 1))  # noqa: E731
    assert wrong(cold) == 0 and wrong(hot) > 20


def test_controls_regenerate_and_show_the_text(trained):
    model, vocab = trained
    widget = TextGenerator(model, vocab, prompt="ab", temperature=1.0, n_chars=40)
    assert isinstance(widget.temperature, widgets.FloatSlider)
    assert widget.temperature.description == "temperature"
    assert len(widget.text) == 40 and "temperature 1.0" in widget.status.value
    widget.temperature.value = 0.1
    assert widget.text == generate_text(model, vocab, "ab", 40, 0.1, seed=0)
    assert "temperature 0.1" in widget.status.value and "<b>ab</b>" in widget.output.value
    widget.n_chars.value = 60
    assert len(widget.text) == 60
    assert "TextGenerator(temperature=0.1" in repr(widget)


def test_a_bad_prompt_is_a_message_not_a_traceback(trained):
    model, vocab = trained
    widget = TextGenerator(model, vocab, prompt="ab")
    widget.prompt.value = "abz"
    assert "Cannot generate" in widget.status.value and "&#x27;z&#x27;" in widget.status.value
    assert widget.text == "" and widget.output.value == ""
    widget.prompt.value = ""
    assert "at least one character" in widget.status.value
    with pytest.raises(ValueError, match="temperature"):
        generate_text(model, vocab, "a", 5, 0.0)
