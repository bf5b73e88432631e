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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executed_copy_in_docs_matches_the_notebook(path):
    """docs/notebooks/NAME.md was built from the notebook's present cells, and every
    picture it shows is there (rebuild: python -m scripts.build_notebooks)."""
    import re

    from scripts.build_notebooks import DOCS, recorded_digest, source_digest

    copy = DOCS / f"{path.stem}.md"
    assert copy.exists(), f"no executed copy {copy}: run python -m scripts.build_notebooks"
    assert recorded_digest(copy) == source_digest(path), \
        f"{copy.name} is older than {path.name}: run python -m scripts.build_notebooks"
    text = copy.read_text()
    pictures = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text)
    for picture in pictures:
        assert (DOCS / picture).is_file(), f"{copy.name} shows a missing picture {picture}"
    assert "Traceback" not in text


def test_the_digest_sees_a_changed_cell(tmp_path):
    from scripts.build_notebooks import source_digest

    notebook = json.loads(NOTEBOOKS[0].read_text())
    original = tmp_path / "a.ipynb"
    original.write_text(json.dumps(notebook))
    notebook["cells"][-1]["source"] = ["changed"]
    changed = tmp_path / "b.ipynb"
    changed.write_text(json.dumps(notebook))
    assert source_digest(original) == source_digest(NOTEBOOKS[0]) != source_digest(changed)


def test_notebook_3_sets_one_blas_thread_and_says_why():
    first = "".join(json.loads(NOTEBOOKS[2].read_text())["cells"][0]["source"])
    assert 'os.environ["OPENBLAS_NUM_THREADS"]' in first and "set_num_threads(1)" in first
    assert first.index("OPENBLAS_NUM_THREADS") < first.index("import numpy")
