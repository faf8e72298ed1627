"""One way to reach storage: pyiceberg catalog properties -> a pyarrow FileSystem for a URI.

Every part of lakelab that touches files by URI (sources, orphans, the clean-up of a failed
write, the embedded engine's reads of object storage) goes through `filesystem()`, so a
file is reached the way pyiceberg's PyArrowFileIO reaches it: `s3.endpoint`,
`s3.access-key-id`, `s3.secret-access-key`, `s3.session-token`, `s3.region`,
`s3.connect-timeout`, `s3.request-timeout`... for S3; `gcs.service.host`, `gcs.oauth2.token`,
`gcs.oauth2.token-expires-at` for GCS. The properties are the catalog's (`catalog.properties`)
or, for a table, its FileIO's (`table.io.properties`, which carry credentials a REST catalog
vends per table).

Two things are added to pyiceberg's defaults, each only when the properties leave it open:
a bound on how long an unreachable store is retried (pyarrow's GCS client otherwise retries
for 15 minutes, during which Ctrl-C is not seen; tables' own FileIO gets it from io/fileio.py),
and connect/request timeouts for S3.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pyarrow.fs as pafs

RETRY_S = 15  # give up on an unreachable object store after about this long
S3_DEFAULTS = {"s3.connect-timeout": "5", "s3.request-timeout": "60"}

_cache: dict[tuple, pafs.FileSystem] = {}
_lock = threading.Lock()


def is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith(("file://", "file:/"))


def split(uri: str) -> tuple[str, str]:
    """(scheme, path inside that scheme's filesystem): s3://b/k -> ("s3", "b/k")."""
    if "://" not in uri:
        return "file", os.path.abspath(os.path.expanduser(uri))
    u = urlparse(uri)
    if u.scheme == "file":
        return "file", u.path
    return u.scheme.lower(), f"{u.netloc}{u.path}"


def filesystem(uri: str, properties: Mapping[str, Any] | None = None) -> tuple[pafs.FileSystem, str]:
    """The filesystem that holds `uri`, configured from pyiceberg `properties`, and the path of
    `uri` in it. Cached per scheme, bucket and properties (pyarrow clients are thread-safe)."""
    scheme, path = split(uri)
    if scheme == "file":
        return pafs.LocalFileSystem(), path
    props = {str(k): str(v) for k, v in (properties or {}).items() if v is not None}
    netloc = urlparse(uri).netloc
    key = (scheme, netloc, tuple(sorted(props.items())))
    with _lock:
        fs = _cache.get(key)
        if fs is None:
            fs = _build(scheme, netloc, props)
            if len(_cache) > 64:
                _cache.clear()
            _cache[key] = fs
    return fs, path


def _build(scheme: str, netloc: str, props: dict[str, str]) -> pafs.FileSystem:
    if scheme in ("gs", "gcs"):
        return gcs_filesystem(props)
    from pyiceberg.io.pyarrow import PyArrowFileIO

    if scheme in ("s3", "s3a", "s3n"):
        props = {**S3_DEFAULTS, **props}
    return PyArrowFileIO(props).fs_by_scheme(scheme, netloc)


def gcs_filesystem(props: dict[str, str]) -> pafs.FileSystem:
    """pyiceberg's GCS settings (PyArrowFileIO._initialize_gcs_fs) plus a retry bound."""
    from pyiceberg.io import GCS_DEFAULT_LOCATION, GCS_SERVICE_HOST, GCS_TOKEN, GCS_TOKEN_EXPIRES_AT_MS
    from pyiceberg.utils.datetime import millis_to_datetime

    kwargs: dict[str, Any] = {"retry_time_limit": timedelta(seconds=RETRY_S)}
    if token := props.get(GCS_TOKEN):
        kwargs["access_token"] = token
    if expires := props.get(GCS_TOKEN_EXPIRES_AT_MS):
        kwargs["credential_token_expiration"] = millis_to_datetime(int(expires))
    if location := props.get(GCS_DEFAULT_LOCATION):
        kwargs["default_bucket_location"] = location
    if endpoint := props.get(GCS_SERVICE_HOST):
        u = urlparse(endpoint)
        kwargs["scheme"], kwargs["endpoint_override"] = u.scheme, u.netloc
    return pafs.GcsFileSystem(**kwargs)


def storage_properties(obj: Any) -> dict[str, Any]:
    """The properties to reach storage with, from a catalog, a table or a FileIO."""
    io = getattr(obj, "io", None)
    if io is not None and hasattr(io, "properties"):
        return dict(io.properties)
    return dict(getattr(obj, "properties", None) or {})
