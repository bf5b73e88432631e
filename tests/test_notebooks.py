"""The notebooks in notebooks/ run top to bottom without an error, and are stored clean.

Each notebook is executed in a fresh kernel (nbclient, from minigan[docs]); a cell that
raises fails the test with the cell's error. Without the docs extra these tests skip,
unless MINIGAN_REQUIRE_EXTRAS=1 (as in CI), where they fail instead.
"""
import json
import pathlib

import pytest

from conftest import require_extra

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_are_there_in_reading_order():
    assert [p.name for p in NOTEBOOKS] == ["1_autograd.ipynb", "2_convolution_batchnorm.ipynb",
                                           "3_gan_from_scratch.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    cells = json.loads(path.read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, \
                f"{path.name}: strip the outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    nbclient = require_extra("nbclient", "docs")
    nbformat = require_extra("nbformat", "docs")
    require_extra("matplotlib", "docs")
    require_extra("ipykernel", "docs")
    monkeypatch.setenv("MPLBACKEND", "agg")  # no window, whatever the machine
    # One BLAS thread for the kernel and the runs it starts: on a machine whose cores are
    # busy (CI, tests in parallel) OpenBLAS's spinning threads slow the GAN notebook ~10x.
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, startup_timeout=180,
                                     kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the failing cell
