"""The optional MNIST section of notebooks/05_digits.ipynb trains when the files are there.

Under nbval (and on most machines) the MNIST files are missing, so the cell
only prints what is missing. Here the test writes a tiny MNIST-format set
(unzipped IDX files, 96 images) into a temporary folder, points
``NNLIB_DATA_DIR`` at it, and runs the notebook's own set-up cell and MNIST
cell(s) in a kernel: the training branch must run and print its accuracy.
"""
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from test_mnist import TEST, TRAIN, write_set

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "05_digits.ipynb"
TIMEOUT = 300  # seconds for the whole run; it takes about 10 s
# Run in a fresh process: nbclient's event loop then never meets one left running in
# this pytest worker by an earlier test, and a hung kernel is killed by the timeout.
RUNNER = """
import sys
import ipykernel.kernelspec, nbformat
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

class CurrentEnvironment(KernelSpecManager):  # the python3 kernel of this interpreter
    def get_kernel_spec(self, kernel_name):
        return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                      **ipykernel.kernelspec.get_kernel_dict())

path, cwd = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
km = KernelManager(kernel_name="python3", kernel_spec_manager=CurrentEnvironment())
NotebookClient(nb, km=km, timeout=120, record_timing=False, store_widget_state=False,
               resources={"metadata": {"path": cwd}}).execute()  # raises on an error
nbformat.write(nb, path)
"""


def mnist_section(nb):
    """The notebook's first code cell (imports) and every cell that calls load_mnist."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    mnist = [cell for cell in code if re.search(r"\bload_mnist\(", cell.source)]
    assert mnist, f"{NOTEBOOK.name} has no cell that calls load_mnist(...)"
    return [code[0]] + [cell for cell in mnist if cell is not code[0]]


def outputs_text(cell):
    return "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")


def test_the_mnist_cell_trains_on_mnist_files_when_they_are_there(tmp_path, monkeypatch):
    data = tmp_path / "mnist"
    write_set(data, TRAIN, n=80, seed=1, gz=False)  # unzipped: no checksum of the real files
    write_set(data, TEST, n=16, seed=2, gz=False)
    monkeypatch.setenv("NNLIB_DATA_DIR", str(data))  # inherited by the runner and its kernel
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    nb.cells = mnist_section(nb)
    section = tmp_path / "mnist_section.ipynb"
    nbformat.write(nb, str(section))
    run = subprocess.run([sys.executable, "-c", RUNNER, str(section), str(NOTEBOOK.parent)],
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert run.returncode == 0, run.stderr[-3000:]
    printed = outputs_text(nbformat.read(str(section), as_version=4).cells[-1])
    assert "not available" not in printed, printed
    match = re.search(r"MNIST test accuracy after \d+ epochs: ([0-9.]+)%", printed)
    assert match, f"the MNIST cell did not train: {printed!r}"
    assert 0.0 <= float(match.group(1)) <= 100.0
