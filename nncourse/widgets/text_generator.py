"""Chapter 9 widget: a trained character model writing text, with a temperature and a prompt.

Taught in ``notebooks/09_recurrence.ipynb``. The model is the chapter's
character-level language model, a ``Sequential([LSTM(V, H,
return_sequences=True), TimeDense(H, V)])`` trained on one-hot characters;
``vocab`` is its ``nnlib.text.Vocabulary``.

Generation (:func:`generate_text`) reads the prompt, then repeatedly takes
the scores z of the next character after the text so far, turns them into
probabilities p = softmax(z / temperature) and draws the next character
from p with a seeded generator. A temperature below 1 sharpens p towards
the most likely character (repetitive, "safe" text), above 1 flattens it
(more surprises, more misspellings). The model reads at most ``context``
characters back (it was trained on windows of 64), each time from h_0 = 0.
"""
import html

import ipywidgets as widgets
import numpy as np

from nnlib import functional as F
from nncourse.widgets import _render

CONTEXT = 64  # characters the model reads before each new one (its training windows)


def next_char_scores(model, vocab, text, context=CONTEXT):
    """The model's scores z (V,) for the character after ``text`` (its last ``context`` characters)."""
    ids = vocab.encode(text[-context:])
    x = F.one_hot(ids, len(vocab))[None]  # (1, T, V)
    return model.forward(x)[0, -1]  # (V,): the scores after the last step


def generate_text(model, vocab, prompt, n_chars, temperature, seed=0, context=CONTEXT):
    """``n_chars`` characters drawn one at a time after ``prompt``; returns them (without the prompt)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}; 1.0 samples the model as it is.")
    if not prompt:
        raise ValueError("prompt must have at least one character, e.g. 'We the People'.")
    rng = np.random.default_rng(seed)
    text = prompt
    for _ in range(n_chars):
        z = next_char_scores(model, vocab, text, context)
        p = F.softmax((z / temperature)[None])[0]  # (V,), max-shifted inside softmax
        text += vocab.chars[rng.choice(len(vocab), p=p)]
    return text[len(prompt):]


class TextGenerator(_render.Explorer):
    """Sliders for the temperature and the length, a box for the prompt; the generated text below."""

    def __init__(self, model, vocab, prompt="We the People", temperature=1.0, n_chars=160, seed=0):
        self.model, self.vocab, self.seed = model, vocab, seed
        style = {"description_width": "initial"}
        self.temperature = widgets.FloatSlider(value=temperature, min=0.1, max=2.0, step=0.1,
                                               description="temperature", style=style)
        self.n_chars = widgets.IntSlider(value=n_chars, min=20, max=400, step=20,
                                         description="characters", style=style)
        self.prompt = widgets.Text(value=prompt, description="prompt", continuous_update=False)
        self.status = widgets.HTML()
        self.output = widgets.HTML()
        for control in (self.temperature, self.n_chars, self.prompt):
            control.observe(lambda _change: self.update(), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.temperature, self.n_chars]), self.prompt,
                                    self.status, self.output])
        self.text = ""
        self.update()

    def update(self):
        """Generate afresh (same seed) for the current settings; show it, or what is wrong with the prompt."""
        prompt, temperature = self.prompt.value, self.temperature.value
        try:
            self.text = generate_text(self.model, self.vocab, prompt, self.n_chars.value,
                                      temperature, self.seed)
        except ValueError as exc:  # an unknown character in the prompt, an empty prompt
            self.text = ""
            self.status.value = f"<b>Cannot generate:</b> {html.escape(str(exc))}"
            self.output.value = ""
            return
        self.status.value = (f"generated at temperature {temperature:.1f}, seed {self.seed}, "
                             f"{len(self.text)} characters after the prompt:")
        self.output.value = (f"<pre style='white-space: pre-wrap; max-width: 60em'><b>"
                             f"{html.escape(prompt)}</b>{html.escape(self.text)}</pre>")

    def __repr__(self):
        return (f"TextGenerator(temperature={self.temperature.value}, "
                f"prompt={self.prompt.value!r}, characters={self.n_chars.value})")
