"""nncourse: the course machinery around nnlib (same distribution, ``nnlib-course``).

- ``nncourse.checks``: ``check("N.k", answer)``, the instant feedback of the exercises;
- ``nncourse.widgets``: the sliders and explorers of the lecture notebooks;
- ``nncourse.grade``: the ``nnlib-grade`` autograder;
- ``nncourse.release``: ``solutions/`` -> ``exercises/`` (``make release``, ``nnlib-course``);
- ``nncourse.lab``: the JupyterLab launcher behind ``make lab``.

nnlib itself never imports this package (``nnlib/checks.py``, an alias kept
for saved notebooks, is the one exception).
"""
