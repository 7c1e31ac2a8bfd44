"""Drive a notebook in JupyterLab with Playwright, the way a learner does.

``LabPage`` wraps a Playwright page on a LabServer: open a notebook, Run >
Run All Cells from the menu, wait until every cell ran and the kernel is
idle, find a slider by its description, move it with the keyboard, and read
what the widgets show. The selectors are JupyterLab 4 / ipywidgets 8 DOM
classes (checked against JupyterLab 4.6).
"""
import time
from dataclasses import dataclass

from playwright.sync_api import expect

WIDGET_ERRORS = ("Error displaying widget", "Error rendering widget")  # ipywidgets 8 texts
LOADING = "Loading widget..."
# Prompt texts of the code cells that have source (in the page).
PROMPTS = """cells => cells
    .filter(cell => (cell.querySelector(".jp-InputArea-editor")?.textContent ?? "x").trim() !== "")
    .map(cell => cell.querySelector(".jp-InputPrompt")?.textContent.trim() ?? "")"""
# '[n]: text' of stderr outputs, n the execution count of the cell showing it.
STDERR = """outputs => outputs.map(out => {
    const prompt = out.closest(".jp-CodeCell")?.querySelector(".jp-InputPrompt");
    return `${prompt?.textContent.trim() ?? "[?]:"} ${out.textContent.trim()}`;
})"""
# SHA-1 of each image's bytes (data: or blob: URL), computed in the page.
IMAGE_DIGESTS = """async imgs => Promise.all(imgs.map(async img => {
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes));
    return Array.from(digest, x => x.toString(16).padStart(2, "0")).join("").slice(0, 12);
}))"""


@dataclass(frozen=True)
class Changes:
    """What must change when the slider moves, in the slider's cell output.

    kind "text": the text of the output elements containing ``contains``
    (case-insensitive, e.g. "accuracy"); kind "image": the plotted images.
    """
    kind: str
    contains: str = ""

    def __str__(self):
        return f"text~{self.contains}" if self.kind == "text" else self.kind


class LabPage:
    def __init__(self, page, lab, workspace):
        self.page, self.lab, self.workspace = page, lab, workspace
        self.console_errors = []  # filled by the lab_page fixture

    def open(self, relpath, timeout=60):
        """Open ``relpath`` (relative to the server root) in a fresh workspace."""
        path = f"/lab/workspaces/{self.workspace}/tree/{relpath}"
        self.page.goto(self.lab.url(path))
        self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(
            timeout=timeout * 1000)
        self.wait_idle(timeout, require_run=False)

    def run_all(self, timeout=120):
        """Run > Run All Cells (the menu a learner uses), then wait until done."""
        self.page.get_by_role("menuitem", name="Run", exact=True).click()
        self.page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        self.wait_idle(timeout, require_run=True)

    def kernel_status(self):
        indicator = self.page.locator(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator")
        return indicator.first.get_attribute("data-status") if indicator.count() else None

    def prompts(self):
        """The input prompts of the non-empty code cells: '[3]:', '[*]:', '[ ]:'
        (Run All does not execute an empty cell, so it keeps '[ ]:')."""
        return self.page.locator(".jp-Notebook .jp-CodeCell").evaluate_all(PROMPTS)

    def wait_idle(self, timeout, require_run, settle=1.0):
        """Wait for kernel idle (and, with ``require_run``, every cell numbered),
        stable for ``settle`` seconds. Fails at once when Run All stopped at an
        error; a TimeoutError says what it saw."""
        deadline, since = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            prompts, status = self.prompts(), self.kernel_status()
            idle = status == "idle" and not any("*" in p for p in prompts)
            unrun = require_run and not all(any(c.isdigit() for c in p) for p in prompts)
            if idle and unrun and since is not None and self.stderr_outputs():
                raise AssertionError(f"Run All stopped at an error: {self.stderr_outputs()}")
            if not idle:
                since = None
            elif since is None:
                since = time.monotonic()
            elif time.monotonic() - since >= settle and not unrun:
                return
            time.sleep(0.2)
        raise TimeoutError(f"kernel not idle after {timeout} s: status={status!r}, "
                           f"prompts={prompts}")

    def stderr_outputs(self):
        """'[n]: text' for each stderr output (warning, traceback) in the notebook."""
        return self.page.locator(
            '.jp-Notebook [data-mime-type="application/vnd.jupyter.stderr"]').evaluate_all(STDERR)

    def widget_problems(self, loading_grace=15):
        """Widget error texts and error views (a widget whose JavaScript failed,
        shown as "Click to show javascript error."), and "Loading widget..." if
        it outlives the grace time."""
        loading = self.page.get_by_text(LOADING)
        deadline = time.monotonic() + loading_grace
        while loading.count() and time.monotonic() < deadline:
            time.sleep(0.25)
        problems = []
        if loading.count():
            problems.append(f"{loading.count()} x {LOADING!r} still shown with the kernel idle")
        for text in WIDGET_ERRORS:
            problems += self.page.get_by_text(text).all_text_contents()
        broken = self.page.locator(".jp-Notebook .jupyter-widgets-error-widget")
        problems += [f"error view: {t.strip()}" for t in broken.all_text_contents()]
        return problems

    def _sliders(self, description):
        """Slider widgets whose description label reads exactly ``description``
        (a locator relative to whatever it is used in)."""
        label = self.page.locator(f'.widget-label:text-is("{description}")')
        return self.page.locator(".widget-slider").filter(has=label)

    def cell(self, description):
        """The first code cell whose output holds a slider described ``description``."""
        cells = self.page.locator(".jp-Notebook .jp-CodeCell").filter(has=self._sliders(description))
        if not cells.count():
            found = self.page.locator(".jp-Notebook .widget-slider .widget-label").all_text_contents()
            raise AssertionError(f"no slider described {description!r}; "
                                 f"slider descriptions on the page: {found}")
        return cells.first

    def slider(self, description):
        """The first slider described ``description`` (in :meth:`cell`)."""
        return self.cell(description).locator(self._sliders(description)).first

    def snapshot(self, description, changes):
        """What ``changes`` watches, in the output of the slider's cell."""
        cell = self.cell(description)
        if changes.kind == "image":  # the pixels' digests: a widget's new blob: URL alone is no change
            return cell.locator(".jp-OutputArea img").evaluate_all(IMAGE_DIGESTS)
        texts = cell.locator(".jp-OutputArea-output .widget-label, .jp-OutputArea-output .widget-html, "
                             ".jp-OutputArea-output .jp-RenderedText").all_text_contents()
        return [t.strip() for t in texts if changes.contains.lower() in t.lower()]

    def screenshot(self, description, path):
        """A PNG of the slider's cell output (the widget as the learner sees it)."""
        output = self.cell(description).locator(".jp-Cell-outputArea")
        output.scroll_into_view_if_needed()
        output.screenshot(path=path)

    def move(self, slider, key):
        """Focus the slider's handle and press ``key`` (End, Home, ArrowRight, ...)."""
        handle = slider.locator(".noUi-handle")
        handle.scroll_into_view_if_needed()
        before = handle.get_attribute("aria-valuenow")
        handle.focus()
        handle.press(key)
        expect(handle).not_to_have_attribute("aria-valuenow", before, timeout=5000)
        return before, handle.get_attribute("aria-valuenow")

    def watch(self, description, watched):
        """{changes: snapshot} for each ``Changes`` in ``watched``."""
        return {changes: self.snapshot(description, changes) for changes in watched}

    def wait_change(self, description, before, timeout=15):
        """Wait until every watched snapshot differs from ``before``; return the last ones."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.watch(description, before)
            if all(now[c] and now[c] != before[c] for c in before) or time.monotonic() > deadline:
                return now
            time.sleep(0.25)
