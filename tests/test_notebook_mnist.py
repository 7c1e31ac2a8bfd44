"""The optional MNIST section of notebooks/05_digits.ipynb trains when the files are there.

Under nbval (and on most machines) the MNIST files are missing, so the cell
only prints what is missing. Here the test writes a tiny MNIST-format set
(unzipped IDX files, 96 images) into a temporary folder, points
``NNLIB_DATA_DIR`` at it, and runs the notebook's own set-up cell and MNIST
cell(s) in a kernel: the training branch must run and print its accuracy.
"""
import re
from pathlib import Path

import ipykernel.kernelspec
import nbformat
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from test_mnist import TEST, TRAIN, write_set

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "05_digits.ipynb"
CELL_TIMEOUT = 120  # seconds; the whole test takes about 10 s


class _CurrentEnvironment(KernelSpecManager):
    """Always the python3 kernel of the interpreter running the tests."""

    def get_kernel_spec(self, kernel_name):
        return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                      **ipykernel.kernelspec.get_kernel_dict())


def mnist_section(nb):
    """The notebook's first code cell (imports) and every cell that calls load_mnist."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    mnist = [cell for cell in code if re.search(r"\bload_mnist\(", cell.source)]
    assert mnist, f"{NOTEBOOK.name} has no cell that calls load_mnist(...)"
    return [code[0]] + [cell for cell in mnist if cell is not code[0]]


def outputs_text(cell):
    return "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")


def test_the_mnist_cell_trains_on_mnist_files_when_they_are_there(tmp_path, monkeypatch):
    write_set(tmp_path, TRAIN, n=80, seed=1, gz=False)  # unzipped: no checksum of the real files
    write_set(tmp_path, TEST, n=16, seed=2, gz=False)
    monkeypatch.setenv("NNLIB_DATA_DIR", str(tmp_path))  # inherited by the kernel
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    nb.cells = mnist_section(nb)
    km = KernelManager(kernel_name="python3", kernel_spec_manager=_CurrentEnvironment())
    NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, record_timing=False, store_widget_state=False,
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()  # raises on error
    printed = outputs_text(nb.cells[-1])
    assert "not available" not in printed, printed
    match = re.search(r"MNIST test accuracy after \d+ epochs: ([0-9.]+)%", printed)
    assert match, f"the MNIST cell did not train: {printed!r}"
    assert 0.0 <= float(match.group(1)) <= 100.0
