"""16 processes upsert into one table at once. pyiceberg refuses an overwrite commit when another
writer added files since it read the table, so lakelab redoes the merge on the fresh table (what a
serial run would do) up to its retry limit; a writer still losing then is told a clear Conflict
and leaves nothing behind. The table ends with exactly the successful writers' rows."""

from __future__ import annotations

from typing import Any

from test_concurrent_writers import WRITERS, _check, _race, _rows


def ingest_upsert(lh: Any, table: str, wid: int) -> int:
    return lh.ingest(_rows(wid), table, mode="upsert", key=["writer", "n"], progress=False).rows


def _run(house: Any, table: str) -> None:
    by = _race(house, table, [ingest_upsert] * WRITERS)
    _check(house, table, by)
    from lakelab.catalog.orphans import find_orphans

    left = [path for path, _ in find_orphans(house, table, older_than_minutes=0).files]
    assert not [p for p in left if "/data/" in p], f"a losing upsert left data files: {left}"
    print(
        f"upserts on {table}: {len(by['ok'])} succeeded, {len(by['conflict'])} told Conflict, "
        f"{len(left)} metadata files of lost commit attempts left for `lakelab orphans`"
    )


def test_sixteen_upserts_on_the_sqlite_catalog_succeed_or_conflict_cleanly(lh):
    _run(lh, "rel.sqlite_upserts")


def test_sixteen_upserts_on_the_postgresql_catalog_succeed_or_conflict_cleanly(pg_lh):
    _run(pg_lh, "rel.pg_upserts")
