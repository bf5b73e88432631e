"""Execute the notebooks and write their executed copies, with every picture, to docs/.

    python -m scripts.build_notebooks [--only NAME] [--check]

Each notebook in notebooks/ runs top to bottom in a fresh kernel (one BLAS thread, as the
notebooks' loops are small) and becomes docs/notebooks/NAME.md, its pictures beside it in
docs/notebooks/NAME_files/, so that someone browsing the repository reads the outputs
without running anything. The first line of each copy records the SHA-256 of the
notebook's cells (`source_digest`); tests/test_notebooks.py fails when a notebook has
changed since its copy was built, so that rebuilding is part of editing a notebook.
`--check` only compares the digests (what the test does) and exits 1 on a stale copy.
Needs minigan[docs] (nbclient, nbconvert, matplotlib, ipykernel). Run from the repository
root with minigan importable (pip install -e . or PYTHONPATH=.).
"""
import argparse
import hashlib
import json
import os
import pathlib
import shutil
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DOCS = ROOT / "docs" / "notebooks"
HEADER = "<!-- executed copy of notebooks/{name}.ipynb, cells sha256 {digest}; " \
         "rebuild with: python -m scripts.build_notebooks -->"


def source_digest(path):
    """SHA-256 of the notebook's cells: their types and sources (not outputs or ids)."""
    cells = json.loads(pathlib.Path(path).read_text())["cells"]
    text = json.dumps([[c["cell_type"], "".join(c["source"])] for c in cells])
    return hashlib.sha256(text.encode()).hexdigest()


def recorded_digest(markdown_path):
    """The digest in the first line of an executed copy, or None if there is none."""
    if not markdown_path.exists():
        return None
    first = markdown_path.read_text().split("\n", 1)[0]
    marker = "cells sha256 "
    return first.split(marker, 1)[1].split(";", 1)[0] if marker in first else None


def stale(paths):
    """The notebooks whose copy in docs/ is missing or was built from other cells."""
    return [p for p in paths if recorded_digest(DOCS / f"{p.stem}.md") != source_digest(p)]


def build(path):
    """Execute one notebook and write its Markdown copy and pictures; returns seconds."""
    import nbclient
    import nbconvert
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    workdir = ROOT / "build" / "notebooks" / path.stem  # what the notebook writes
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    nbclient.NotebookClient(notebook, timeout=600, startup_timeout=180,
                            kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}}).execute()
    seconds = time.perf_counter() - start
    files = f"{path.stem}_files"
    exporter = nbconvert.MarkdownExporter()
    body, resources = exporter.from_notebook_node(
        notebook, resources={"output_files_dir": files, "unique_key": path.stem})
    shutil.rmtree(DOCS / files, ignore_errors=True)
    (DOCS / files).mkdir(parents=True)
    for name, data in resources["outputs"].items():
        (DOCS / name).write_bytes(data)
    header = HEADER.format(name=path.stem, digest=source_digest(path))
    (DOCS / f"{path.stem}.md").write_text(header + "\n\n" + body.strip() + "\n")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scripts.build_notebooks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="build only the notebook whose name starts so")
    parser.add_argument("--check", action="store_true",
                        help="only report copies that do not match their notebook")
    args = parser.parse_args(argv)
    paths = sorted(p for p in NOTEBOOKS.glob("*.ipynb")
                   if not args.only or p.stem.startswith(args.only))
    if args.check:
        old = stale(paths)
        for p in old:
            print(f"stale: docs/notebooks/{p.stem}.md (rebuild: python -m scripts.build_notebooks)")
        return 1 if old else 0
    # one BLAS thread for the kernels and what they start, set before they import numpy
    os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend: plots become pictures
    os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                      PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                               os.environ.get("PYTHONPATH")])))
    DOCS.mkdir(parents=True, exist_ok=True)
    for p in paths:
        print(f"{p.name}: executed in {build(p):.0f} s -> docs/notebooks/{p.stem}.md",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
