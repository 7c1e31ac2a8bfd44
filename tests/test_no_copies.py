"""No exercise answer is a copy of code the learner can read (issue 12, issue 21).

For every solution region (``### BEGIN SOLUTION`` ... ``### END SOLUTION``)
in ``solutions/*.ipynb`` (every chapter that exists, parametrized), the test
looks for the most similar stretch of code in

- every code cell of every lecture notebook ``notebooks/*.ipynb``, and
- every source file of the library, ``nnlib/**/*.py`` (nnlib holds the
  reference of many exercises: an answer must not be its copy either),

and fails on a near copy, naming the exercise and the lecture cell or file.

How code is compared
--------------------
Both sides are tokenized with Python's ``tokenize``. Comments, docstrings,
blank lines and indentation are dropped; every identifier the code chooses
(variables, functions, parameters, modules) becomes ``ID``, so renaming
``w`` to ``weights`` changes nothing; keywords, operators, numbers, builtins
(``range``, ``zip``, ...) and attribute names after a dot (``.astype``,
``np.exp``, ``.T``) stay, because they carry the method of a solution;
strings become ``STR``. A sliding window as long as the region (in tokens)
moves over each reference; the windows that share the most 4-token shingles
with the region are scored with ``difflib.SequenceMatcher.ratio`` (1.0:
identical token streams), and the best score is the region's similarity.

How the threshold was chosen (measured; ``python tests/test_no_copies.py``
prints the table again)
-----------------------------------------------------------------------------
Measured on the course as issue 12 found it (before any rewrite):

- the copies the issue names score 0.81-1.00: 2.1 sigmoid and 2.3 log_loss
  1.00 (lecture 02 cells 5 and 8), 3.2 mlp_forward 0.96, 2.5 0.91, 4.2 0.88
  (nnlib's ``dense_backward``), 5.4 0.86, 1.3 0.84 (lecture 01's ``train``),
  1.2 0.82 (nnlib's ``perceptron.update``), 6.2 0.82 (``matmul_tiled``),
  4.3 0.81; 4.5, which follows lecture 04 line by line over 137 tokens, 0.75;
- honest short answers reach 0.76-0.78 by chance: 3.4 ``count_parameters``
  (37 tokens) shares ``for m, n in zip(sizes[:-1], sizes[1:])`` with a
  lecture cell, 5.5's He initialisation (40 tokens) is three lines any
  author writes the same way; with hundreds of windows in nnlib and the
  lectures, a short answer finds a similar-looking stretch somewhere;
- answers of two lines are "simply the natural way to write a formula":
  ``z = X @ w + b`` then ``return (z > 0).astype(int)`` is what anyone
  writes, and there is no other way to say it. Regions shorter than
  ``MIN_TOKENS`` tokens (about two lines of code) are reported, never flagged.

After the rework of chapters 1-3 their highest similarities (regions of at
least ``MIN_TOKENS`` tokens) are 0.61 (chapter 1, 1.2 ``margin_update``), 0.71
(chapter 2, 2.5's weight matrices) and 0.76 (chapter 3, 3.4's
``zip(sizes[:-1], sizes[1:])`` loop, an idiom, not a copy).

So a region of ``MIN_TOKENS`` to ``LONG_TOKENS`` tokens fails from
``THRESHOLD = 0.80`` (above the chance matches of short answers, below every
named copy); a region of ``LONG_TOKENS`` tokens or more fails from
``LONG_THRESHOLD = 0.75``: a long window averages chance matches out (the
honest long answers of chapters 1-3 score below 0.65), and a long answer
at 0.75 follows its source line by line. Not caught: answers that rewrite
a lecture cell with a few changed lines (as 7.1 once did, at 0.72): the
test finds copies, a reviewer still reads the exercises.

After the rework of chapters 4-7 and the new chapters 8-10 (2026-12-01) no
region is flagged; the highest similarity per chapter is 0.61, 0.71, 0.76,
0.66, 0.73, 0.61, 0.71, 0.63, 0.62 (chapters 1-8 and 10) and 9's is
printed by ``python tests/test_no_copies.py``. There is no list of known
copies: a copy fails the suite, in every chapter.
"""
import difflib
import io
import json
import keyword
import re
import sys
import tokenize
from functools import lru_cache
from pathlib import Path

import builtins
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
THRESHOLD = 0.80  # regions of MIN_TOKENS to LONG_TOKENS tokens
LONG_THRESHOLD, LONG_TOKENS = 0.75, 100  # longer regions: chance similarity is lower
MIN_TOKENS = 24  # about two lines of code: shorter answers are the natural way to write a formula
SHINGLE = 4
CANDIDATES = 32  # windows per reference scored with difflib


_KEEP = set(dir(builtins)) | {"self"}


# ----------------------------------------------------------------- tokens
def _strip_magics(source):
    """Notebook code without IPython magics and shell escapes (they do not tokenize)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def normalized_tokens(source):
    """The token stream of ``source`` as strings, identifiers renamed away (see the docstring)."""
    source = _strip_magics(source)
    out, previous, line_start = [], None, True
    try:
        stream = list(tokenize.generate_tokens(io.StringIO(source + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        stream = None
    if stream is None:  # not valid Python on its own: a rough regex tokenizer
        for text in re.findall(r"[A-Za-z_]\w*|\d+\.?\d*(?:e-?\d+)?|\S", source):
            if text[0].isalpha() or text[0] == "_":
                out.append(text if keyword.iskeyword(text) or text in _KEEP or previous == "." else "ID")
            else:
                out.append(text)
            previous = text
        return out
    for tok in stream:
        kind, text = tok.type, tok.string
        if kind in (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
                    tokenize.ENCODING, tokenize.ENDMARKER):
            continue
        if kind == tokenize.NEWLINE:
            if not line_start:
                out.append(";")
            line_start = True
            previous = ";"
            continue
        if kind == tokenize.STRING:
            if line_start:  # a docstring or a bare string statement: drop the statement
                previous = "STR_STATEMENT"
                continue
            out.append("STR")
        elif kind == tokenize.NAME:
            out.append(text if keyword.iskeyword(text) or text in _KEEP or previous == "." else "ID")
        else:
            out.append(text)
        line_start, previous = False, text
    return out


# ----------------------------------------------------------------- sources
def solution_regions():
    """[(notebook name, exercise label, region source)] over every solution notebook."""
    found = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] != "code" or BEGIN not in source:
                continue
            stub = cell.get("metadata", {}).get("nnlib", {}).get("stub", "")
            label = stub.split(":")[0] if stub else cell.get("metadata", {}).get(
                "nbgrader", {}).get("grade_id", "?")
            lines, inside, chunks = [], False, []
            for line in source.splitlines():
                if line.strip().startswith(BEGIN):
                    inside, lines = True, []
                elif line.strip().startswith(END):
                    inside = False
                    chunks.append("\n".join(lines))
                elif inside:
                    lines.append(line)
            for chunk in chunks:
                found.append((path.name, label, _dedent(chunk)))
    return found


def _dedent(text):
    lines = [line for line in text.splitlines() if line.strip()]
    indent = min((len(line) - len(line.lstrip()) for line in lines), default=0)
    return "\n".join(line[indent:] for line in lines)


@lru_cache(maxsize=None)
def references():
    """[(where, tokens)]: every lecture code cell, and every nnlib source file."""
    refs = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for index, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code":
                source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                refs.append((f"notebooks/{path.name} cell {index}", normalized_tokens(source)))
    for path in sorted((ROOT / "nnlib").rglob("*.py")):
        refs.append((str(path.relative_to(ROOT)), normalized_tokens(path.read_text(encoding="utf-8"))))
    return [(where, tokens) for where, tokens in refs if tokens]


# ----------------------------------------------------------------- similarity
def _shingles(tokens):
    return [tuple(tokens[i:i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)]


def best_match(region_tokens, reference_tokens):
    """(similarity, start) of the most similar window of ``reference_tokens``.

    Windows are as long as the region. The ``CANDIDATES`` windows holding
    the most of the region's shingles (plus the start, when the reference is
    short) are scored with difflib's ratio.
    """
    n = len(region_tokens)
    if len(reference_tokens) <= n:
        return difflib.SequenceMatcher(None, region_tokens, reference_tokens, autojunk=False).ratio(), 0
    wanted = set(_shingles(region_tokens))
    hits = np.array([s in wanted for s in _shingles(reference_tokens)], dtype=np.int64)
    if not hits.any():
        return 0.0, 0
    span = max(n - SHINGLE + 1, 1)
    counts = np.convolve(hits, np.ones(span, dtype=np.int64), mode="full")[span - 1:]  # window sums
    counts = counts[: len(reference_tokens) - n + 1]
    starts = np.argsort(-counts, kind="stable")[:CANDIDATES]
    best = (0.0, 0)
    for start in starts:
        window = reference_tokens[start:start + n]
        ratio = difflib.SequenceMatcher(None, region_tokens, window, autojunk=False).ratio()
        best = max(best, (ratio, int(start)))
    return best


@lru_cache(maxsize=None)
def measure(notebook, label):
    """(similarity, where, n_tokens) of one region against every reference."""
    source = next(src for nb, lab, src in solution_regions() if nb == notebook and lab == label)
    tokens = normalized_tokens(source)
    best = (0.0, "nothing", len(tokens))
    for where, ref in references():
        similarity, _ = best_match(tokens, ref)
        if similarity > best[0]:
            best = (similarity, where, len(tokens))
    return best


def threshold(n_tokens):
    """The similarity from which a region of ``n_tokens`` tokens counts as a copy."""
    return LONG_THRESHOLD if n_tokens >= LONG_TOKENS else THRESHOLD


def is_copy(similarity, n_tokens):
    return n_tokens >= MIN_TOKENS and similarity >= threshold(n_tokens)


def _params():
    params = []
    for notebook, label, _ in solution_regions():
        params.append(pytest.param(notebook, label, id=f"{notebook}:{label}"))
    return params


# ----------------------------------------------------------------- tests
def test_there_are_solution_regions_and_references():
    assert solution_regions(), "solutions/ holds no solution regions"
    assert any(where.startswith("notebooks/") for where, _ in references())
    assert any(where.startswith("nnlib/") for where, _ in references())


@pytest.mark.parametrize("notebook, label", _params())
def test_no_solution_is_a_copy_of_lecture_or_library_code(notebook, label):
    similarity, where, n_tokens = measure(notebook, label)
    assert not is_copy(similarity, n_tokens), (
        f"{label} in solutions/{notebook} is a near copy of {where} (similarity {similarity:.2f} "
        f">= {threshold(n_tokens)}, identifiers renamed away, {n_tokens} tokens): ask for another case, a "
        f"generalisation or a prediction instead, or remove the code from the lecture (issue 12).")


def test_the_tokenizer_renames_identifiers_but_keeps_the_method():
    a = normalized_tokens("w_new = w + lr * error * x  # comment\nreturn w_new")
    b = normalized_tokens("weights = v + eta * err * sample\nreturn weights")
    assert a == b
    assert normalized_tokens("np.exp(-z)") == ["ID", ".", "exp", "(", "-", "ID", ")", ";"]
    assert normalized_tokens('def f(x):\n    """Doc."""\n    return x') == \
        ["def", "ID", "(", "ID", ")", ":", ";", "return", "ID", ";"]


def test_a_renamed_copy_is_caught_and_a_different_method_is_not():
    lecture = normalized_tokens(
        "for _ in range(epochs):\n    count = 0\n    for x_n, y_n in zip(X, y):\n"
        "        count += int(step(x_n @ w + b) != y_n)\n        w, b = update(w, b, x_n, y_n, lr)\n"
        "    mistakes.append(count)\n    if count == 0:\n        break\n")
    renamed = normalized_tokens(
        "for epoch in range(n):\n    errs = 0\n    for a, t in zip(data, labels):\n"
        "        errs += int(threshold(a @ v + c) != t)\n        v, c = rule(v, c, a, t, eta)\n"
        "    history.append(errs)\n    if errs == 0:\n        break\n")
    other = normalized_tokens(
        "margins = (2 * y - 1) * (X @ w + b)\nworst = np.argmin(margins)\n"
        "while margins[worst] <= margin and steps < limit:\n    w = w + lr * s[worst] * X[worst]\n"
        "    steps += 1\n    margins = s * (X @ w + b)\n    worst = np.argmin(margins)\n")
    assert best_match(renamed, ["ID", "="] + lecture + ["return", "ID"])[0] >= 0.95
    assert best_match(other, lecture)[0] < THRESHOLD


def report():
    """Per chapter, the most similar region and its similarity (run this file to print it)."""
    by_chapter = {}
    for notebook, label, _ in solution_regions():
        similarity, where, n_tokens = measure(notebook, label)
        chapter = int(notebook[:2])
        flagged = is_copy(similarity, n_tokens)
        by_chapter.setdefault(chapter, []).append((similarity, label, where, n_tokens, flagged))
    lines = [f"threshold {THRESHOLD} ({LONG_THRESHOLD} from {LONG_TOKENS} tokens), "
             f"regions of at least {MIN_TOKENS} tokens"]
    for chapter, rows in sorted(by_chapter.items()):
        counted = [row for row in rows if row[3] >= MIN_TOKENS] or rows
        top = max(counted)
        lines.append(f"chapter {chapter}: highest {top[0]:.2f} ({top[1]} vs {top[2]}, {top[3]} tokens); "
                     f"flagged: {[row[1] for row in rows if row[4]]}")
        for similarity, label, where, n_tokens, flagged in sorted(rows, reverse=True):
            mark = "COPY" if flagged else ("short" if n_tokens < MIN_TOKENS else "")
            lines.append(f"    {similarity:.2f} {label:14s} {n_tokens:4d} tokens  {where}  {mark}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(report() + "\n")
