"""Tutorial-style dashboard notebooks written as real .ipynb files for the tests."""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Orders dashboard")] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))
    return path


ORDERS_CELLS = (
    "import lakelab\nlh = lakelab.connect()",
    'totals = lh.sql("SELECT count(*) AS orders, sum(amount) AS revenue FROM shop.orders")\n'
    "print(f\"orders={totals.table['orders'][0].as_py()} revenue={totals.table['revenue'][0].as_py()}\")",
    'lh.dataset("shop.regions").preview(10).to_pandas()',
)


def orders_notebook(folder: Path) -> Path:
    return write_notebook(folder / "orders.ipynb", *ORDERS_CELLS)
