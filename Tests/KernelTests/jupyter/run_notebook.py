"""Executes a notebook with nbclient and the lmlab kernel: run_notebook.py IN.ipynb OUT.ipynb WORKDIR.

Exits 1 with the failing cell's error when a cell not tagged raises-exception fails.
"""
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

source, target, workdir = sys.argv[1:4]
nb = nbformat.read(source, as_version=4)
nbformat.validate(nb)
client = NotebookClient(nb, kernel_name="lmlab", timeout=900, resources={"metadata": {"path": workdir}})
try:
    client.execute()
except CellExecutionError as e:
    print(str(e).strip().splitlines()[-1] if str(e).strip() else "cell error", file=sys.stderr)
    nbformat.write(nb, target)
    sys.exit(1)
nbformat.write(nb, target)
