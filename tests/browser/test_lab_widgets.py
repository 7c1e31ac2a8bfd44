"""The course's widgets in a real browser: JupyterLab + headless Chromium.

Each course notebook in COURSE_SLIDERS is opened (a temp copy), run with
Run > Run All Cells, and one slider is moved with the keyboard; the test
asserts that what it drives (accuracy text, plot) changed, and fails on
widget error text, on "Loading widget..." left after the kernel is idle, on
stderr/traceback output and on JavaScript console errors. Screenshots before
and after go to test-artifacts/browser/.
"""
import hashlib

import nbformat
import pytest
from labpage import Changes

from nncourse.lab import ROOT, WIDGETS_EXTENSION

pytestmark = pytest.mark.browser

ACCURACY = Changes("text", "accuracy")  # the accuracy text next to the sliders
PLOT = Changes("image")  # the plotted decision boundary / lines

# (notebook, slider description, key pressed on the slider, what must change).
# Only notebooks that exist: a listed notebook that is missing FAILS the test.
COURSE_SLIDERS = [
    # PerceptronExplorer on AND, w1 1 -> 3: (1, 0) crosses the line, 4/4 -> 3/4.
    ("01_perceptron.ipynb", "w1", "End", (ACCURACY, PLOT)),
    # CompositionExplorer on XOR, v2 10 -> -20: OR-like 3/4 becomes XOR 4/4.
    ("02_nonlinear.ipynb", "v2", "Home", (ACCURACY, PLOT)),
    # HiddenUnitsExplorer fitting a curve, 3 -> 50 hidden units: the error drops.
    ("03_feedforward.ipynb", "hidden units", "End", (Changes("text", "squared error"), PLOT)),
    # LearningRateExplorer on the spirals, lr 1 -> 100: training goes from learning to blowing up.
    ("04_backprop.ipynb", "lr", "End", (Changes("text", "training accuracy"), PLOT)),
    # DepthExplorer, deep sigmoid, 8 -> 1 hidden layers: layer 1's gradient is no longer vanishing.
    ("06_deep.ipynb", "hidden layers", "Home", (Changes("text", "gradient norm"), PLOT)),
    # FilterExplorer on a 0, vertical edge: the centre weight w11 0 -> 5 adds 5 x the digit to the map.
    ("08_convolution.ipynb", "w11", "End", (Changes("text", "feature map"), PLOT)),
    # TextGenerator on the trained character model, temperature 0.8 -> 2.0: new text, new status.
    ("09_recurrence.ipynb", "temperature", "End", (Changes("text", "generated at temperature"),
                                                    Changes("text", "The President shall"))),
    # GANExplorer, the digit generator's noise point, direction 1 0 -> 3: the status text and the digit change.
    ("10_gans.ipynb", "direction 1", "End", (Changes("text", "noise point"), PLOT)),
]
# Seconds Run All may take, for notebooks that train for longer than the default 120 s allow
# on a loaded machine (08 trains four CNNs: about a minute on 2 quiet cores).
RUN_ALL_TIMEOUT = {"notebooks/08_convolution.ipynb": 400}

TOY_NOTEBOOK = """\
import ipywidgets as widgets
import matplotlib.pyplot as plt
%config InlineBackend.figure_format = 'png'

slider = widgets.IntSlider(value=3, min=0, max=10, description="n")
label = widgets.Label(value="accuracy: 3")
out = widgets.Output()

def draw(n):
    with out:
        out.clear_output(wait=True)
        fig, ax = plt.subplots(figsize=(2, 2), dpi=72)
        ax.plot(range(n + 2))
        plt.show()

def on_change(change):
    label.value = f"accuracy: {change['new']}"
    draw(change["new"])

slider.observe(on_change, names="value")
draw(slider.value)
widgets.VBox([slider, label, out])
"""

# What a missing or broken lab extension looks like to a learner: a widget
# whose JavaScript module does not exist, and a widget view without a model.
BROKEN_WIDGETS = {
    "no-js-module": """\
import ipywidgets as widgets
from traitlets import Unicode

class Broken(widgets.DOMWidget):
    _view_module = Unicode("nnlib-no-such-widget-module").tag(sync=True)
    _view_name = Unicode("NoSuchView").tag(sync=True)

Broken()
""",
    "no-model": """\
from IPython.display import display

view = {"model_id": "0" * 32, "version_major": 2, "version_minor": 0}
display({"application/vnd.jupyter.widget-view+json": view}, raw=True)
""",
}


def write_notebook(lab, name, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nbformat.write(nb, lab.root_dir / "notebooks" / name)
    return f"notebooks/{name}"


def assert_clean(lab_page):
    """No widget errors, no stale 'Loading widget...', no stderr, no console errors."""
    problems = lab_page.widget_problems()
    assert not problems, f"widget errors in the page: {problems}"
    stderr = lab_page.stderr_outputs()
    assert not stderr, (f"cells wrote to stderr (learners see it; a warning needs silencing "
                        f"at its source, e.g. np.errstate): {stderr}")
    assert not lab_page.console_errors, f"JavaScript console errors: {lab_page.console_errors}"


def drive_slider(lab_page, relpath, description, key, watched, shots):
    """Run ``relpath``, press ``key`` on slider ``description``; every
    ``Changes`` in ``watched`` must change. Returns (before, after) snapshots."""
    lab_page.open(relpath)
    lab_page.run_all(RUN_ALL_TIMEOUT.get(relpath, 120))
    assert_clean(lab_page)
    slider = lab_page.slider(description)
    before = lab_page.watch(description, watched)
    missing = [str(c) for c, shown in before.items() if not shown]
    assert not missing, f"nothing matching {missing} in the output of the {description!r} slider's cell"
    lab_page.screenshot(description, shots / "before.png")
    values = lab_page.move(slider, key)
    after = lab_page.wait_change(description, before)
    lab_page.wait_idle(60, require_run=True)
    lab_page.screenshot(description, shots / "after.png")
    unchanged = [str(c) for c in watched if after[c] == before[c]]
    assert not unchanged, (f"{key} on slider {description!r} (value {values[0]} -> {values[1]}) "
                           f"did not change {unchanged}: before {before}, after {after}")
    assert_clean(lab_page)
    return before, after


def file_digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_lab_build_has_the_widgets_extension(lab):
    extensions = lab.federated_extensions()
    assert WIDGETS_EXTENSION in extensions, (
        f"JupyterLab does not load {WIDGETS_EXTENSION} (found {extensions}): widgets "
        "would show as text; install jupyterlab_widgets in the course environment.")


def test_slider_drives_label_and_plot_in_a_toy_notebook(lab, lab_page, artifacts):
    relpath = write_notebook(lab, "browser_toy.ipynb", TOY_NOTEBOOK)
    shots = artifacts / "toy"
    shots.mkdir(exist_ok=True)
    before, after = drive_slider(lab_page, relpath, "n", "End", (ACCURACY, PLOT), shots)
    assert before[ACCURACY] == ["accuracy: 3"] and after[ACCURACY] == ["accuracy: 10"]
    assert len(before[PLOT]) == len(after[PLOT]) == 1


@pytest.mark.parametrize("case", sorted(BROKEN_WIDGETS))
def test_broken_widget_is_reported(lab, lab_page, case):
    """The checks can fail: a widget that cannot render is caught."""
    relpath = write_notebook(lab, f"browser_broken_{case}.ipynb", BROKEN_WIDGETS[case])
    lab_page.open(relpath)
    lab_page.run_all()
    problems = lab_page.widget_problems(loading_grace=5)
    assert problems, f"a broken widget ({case}) rendered without an error"
    assert lab_page.console_errors, f"a broken widget ({case}) logged no console error"
    lab_page.console_errors.clear()  # expected here


def test_run_all_that_stops_at_an_error_fails_with_the_error(lab, lab_page):
    relpath = write_notebook(lab, "browser_error.ipynb", "x = 1", "", "x / 0", "x + 1")
    lab_page.open(relpath)
    with pytest.raises(AssertionError, match="Run All stopped at an error: .*ZeroDivisionError"):
        lab_page.run_all()
    assert lab_page.prompts() == ["[1]:", "[2]:", "[ ]:"]  # the empty cell is not counted


@pytest.mark.parametrize("notebook, description, key, watched", COURSE_SLIDERS,
                         ids=[f"{nb}-{desc}" for nb, desc, *_ in COURSE_SLIDERS])
def test_course_slider(lab_page, artifacts, notebook, description, key, watched):
    original = ROOT / "notebooks" / notebook
    assert original.exists(), f"notebooks/{notebook} is listed in COURSE_SLIDERS but missing"
    digest = file_digest(original)
    shots = artifacts / f"{original.stem}-{description}"
    shots.mkdir(exist_ok=True)
    drive_slider(lab_page, f"notebooks/{notebook}", description, key, watched, shots)
    assert file_digest(original) == digest, f"notebooks/{notebook} was modified on disk"
