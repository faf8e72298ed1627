"""What `lakelab services up` starts: a catalog, a storage and a Trino cluster size."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lakelab.errors import InvalidInput
from lakelab.services.objectstore import S3_IMPLS
from lakelab.services.rest_catalog import REST_IMPLS

STORAGES = ("local", "s3", "gcs")
CATALOGS = ("sql", "rest", "nessie")  # nessie = rest with --rest-impl nessie
MAX_WORKERS = 4


@dataclass(frozen=True)
class Profile:
    catalog: str = "sql"  # sql (the JDBC catalog on PostgreSQL) | rest
    storage: str = "local"  # local | s3 | gcs
    trino_workers: int = 0  # 0 = one coordinator that also runs tasks
    rest_impl: str = "iceberg"  # for catalog rest: Apache Iceberg's REST server | nessie
    s3_impl: str = "versitygw"  # for storage s3: versitygw | s3proxy

    @classmethod
    def make(
        cls,
        catalog: str = "sql",
        storage: str = "local",
        trino_workers: int = 0,
        rest_impl: str | None = None,
        s3_impl: str | None = None,
    ) -> Profile:
        if catalog == "nessie":
            if rest_impl not in (None, "nessie"):
                raise InvalidInput(f"--catalog nessie contradicts --rest-impl {rest_impl}")
            catalog, rest_impl = "rest", "nessie"
        if catalog not in ("sql", "rest"):
            raise InvalidInput(f"unknown catalog {catalog!r}", hint=f"choose one of {', '.join(CATALOGS)}")
        if storage not in STORAGES:
            raise InvalidInput(f"unknown storage {storage!r}", hint=f"choose one of {', '.join(STORAGES)}")
        if rest_impl not in (None, *REST_IMPLS):
            raise InvalidInput(f"unknown REST catalog {rest_impl!r}", hint=f"choose one of {', '.join(REST_IMPLS)}")
        if rest_impl and catalog != "rest":
            raise InvalidInput("--rest-impl needs --catalog rest")
        if s3_impl not in (None, *S3_IMPLS):
            raise InvalidInput(f"unknown S3 server {s3_impl!r}", hint=f"choose one of {', '.join(S3_IMPLS)}")
        if s3_impl and storage != "s3":
            raise InvalidInput("--s3-impl needs --storage s3")
        if rest_impl == "nessie" and storage == "local":
            raise InvalidInput("Nessie needs an object-store warehouse", hint="add --storage s3 or --storage gcs")
        if not 0 <= int(trino_workers) <= MAX_WORKERS:
            raise InvalidInput(f"--trino-workers must be between 0 and {MAX_WORKERS}, got {trino_workers}")
        return cls(catalog, storage, int(trino_workers), rest_impl or "iceberg", s3_impl or "versitygw")

    @classmethod
    def from_state(cls, data: dict[str, Any] | None) -> Profile:
        return cls(**(data or {}))

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        cat = "sql (PostgreSQL)" if self.catalog == "sql" else f"rest ({self.rest_impl})"
        store = self.storage + (f" ({self.s3_impl})" if self.storage == "s3" else "")
        return f"catalog {cat}, storage {store}, Trino workers {self.trino_workers}"

    def flags(self) -> str:
        cat = "nessie" if self.catalog == "rest" and self.rest_impl == "nessie" else self.catalog
        out = f"--catalog {cat} --storage {self.storage} --trino-workers {self.trino_workers}"
        return out + (f" --s3-impl {self.s3_impl}" if self.storage == "s3" else "")
