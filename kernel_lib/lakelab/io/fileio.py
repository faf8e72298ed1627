"""The FileIO lakelab opens catalogs with: pyiceberg's PyArrowFileIO, with the GCS retry bound
of io/filesystems.py. pyiceberg passes no retry limit to pyarrow's GCS client, which then
retries an unreachable store for 15 minutes: a write (through the table's FileIO) to a GCS
store that stopped hung that long instead of failing with a clear error.

`catalog/access.open_catalog` sets pyiceberg's `py-io-impl` to this class unless the catalog
configuration names a FileIO itself. Every other storage is PyArrowFileIO's own.
"""

from __future__ import annotations

from pyarrow.fs import FileSystem
from pyiceberg.io.pyarrow import PyArrowFileIO

from lakelab.io.filesystems import gcs_filesystem

NAME = f"{__name__}.BoundedFileIO"


class BoundedFileIO(PyArrowFileIO):
    def _initialize_gcs_fs(self) -> FileSystem:
        return gcs_filesystem({str(k): str(v) for k, v in self.properties.items() if v is not None})
