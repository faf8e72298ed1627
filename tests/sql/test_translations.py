"""The embedded engine keeps its Trino -> DuckDB translations on disk: a notebook run again in a
fresh kernel (here: a second Lakehouse on the same home, with an engine of its own) skips the
translation, answers the same, and translates afresh whenever what the translation depends on
changed."""

from __future__ import annotations

import stat
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.types import StringType

import lakelab
from lakelab.engines.duckdb.translations import Translation, Translations

from .iceberg_deletes import delete_positions

QUERY = "SELECT origin, count(*) AS n, sum(id) AS s FROM demo.flights WHERE id < 8 GROUP BY origin ORDER BY origin"


@pytest.fixture
def kernel(lh):
    """Open another kernel's lakehouse on the same home (nothing shared in memory)."""
    opened: list[lakelab.Lakehouse] = []

    def open_() -> lakelab.Lakehouse:
        opened.append(lakelab.Lakehouse(lh.config))
        return opened[-1]

    yield open_
    for house in opened:
        house.close()


def run(house: lakelab.Lakehouse, sql: str = QUERY, params: dict | None = None, schema: str | None = None):
    return house.engine("duckdb").execute(sql, params, schema=schema, cache=False)


def stored(lh) -> list[Path]:
    return sorted((lh.config.home / "cache" / "translations").glob("*/*.json"))


def test_a_fresh_kernel_reuses_the_stored_translation_and_answers_the_same(lh, flights, kernel):
    first = run(lh)
    assert first.stats["translation"] == "new"
    assert run(lh).stats["translation"] == "memory"
    assert len(stored(lh)) == 1
    other = run(kernel())
    assert other.stats["translation"] == "disk"
    assert other.table.equals(first.table)
    assert first.table.to_pylist() == [{"origin": "JFK", "n": 4, "s": 12}, {"origin": "LGA", "n": 4, "s": 16}]


def test_the_translation_directory_is_the_users_alone(lh, flights):
    run(lh)
    folder = stored(lh)[0].parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_changed_schema_parameter_type_or_default_schema_translates_afresh(lh, flights, kernel):
    sql = "SELECT count(*) AS n FROM flights WHERE id < {{ n }}"
    assert run(lh, sql, params={"n": 5}, schema="demo").stats["translation"] == "new"
    house = kernel()
    assert run(house, sql, params={"n": 7}, schema="demo").stats["translation"] == "disk"  # same types
    decimal = run(house, sql, params={"n": 7.5}, schema="demo")
    assert decimal.stats["translation"] == "new" and decimal.table.to_pylist() == [{"n": 8}]
    lh.catalog.create_namespace("other")
    lh.catalog.create_table("other.flights", schema=pa.schema([("id", pa.int32())]))
    assert run(house, sql, params={"n": 7}, schema="other").stats["translation"] == "new"
    with flights.update_schema() as update:  # a snapshot after it reads a column more
        update.add_column("gate", StringType())
    flights.append(pa.table({"id": pa.array([1], pa.int64()), "origin": ["EWR"], "gate": ["B2"]}))
    after = run(kernel(), sql, params={"n": 7}, schema="demo")
    assert after.stats["translation"] == "new" and after.table.to_pylist() == [{"n": 8}]


def test_a_stored_translation_keeps_what_the_iceberg_scan_must_read(lh, flights, kernel):
    """Delete files: the table is read through pyiceberg's Arrow scan, which reads only the
    columns the query uses, and a self-join's view is scanned twice (no one-pass reader)."""
    delete_positions(flights, next(iter(flights.scan().plan_files())).file.file_path, [0, 3])
    join = "SELECT count(*) AS n FROM demo.flights a JOIN demo.flights b ON a.id = b.id"
    assert run(lh).table.to_pylist() == [{"origin": "JFK", "n": 3, "s": 12}, {"origin": "LGA", "n": 3, "s": 13}]
    assert run(lh, join).table.to_pylist() == [{"n": 8}]
    house = kernel()
    again, joined = run(house), run(house, join)
    assert again.stats["translation"] == joined.stats["translation"] == "disk"
    assert [s["path"] for s in again.stats["scans"]] == ["arrow"]
    assert again.table.to_pylist() == [{"origin": "JFK", "n": 3, "s": 12}, {"origin": "LGA", "n": 3, "s": 13}]
    assert joined.table.to_pylist() == [{"n": 8}]


def test_a_damaged_file_is_translated_again_and_replaced(lh, flights, kernel):
    expected = run(lh).table
    path = stored(lh)[0]
    path.write_text('{"sql": "SELECT 1", "uses": [[')  # half-written by a crashed kernel
    again = run(kernel())
    assert again.stats["translation"] == "new" and again.table.equals(expected)
    assert run(kernel()).stats["translation"] == "disk"


def test_a_statement_that_spells_a_placeholder_is_never_stored_and_answered_as_written(lh, flights):
    sql = "SELECT '__lk_view1__' AS word, count(*) AS n FROM demo.flights"
    for _ in range(2):
        result = run(lh, sql)
        assert result.stats["translation"] == "new"
        assert result.table.to_pylist() == [{"word": "__lk_view1__", "n": 10}]
    assert stored(lh) == []


def test_the_directory_is_bounded_least_recently_used_first(tmp_path):
    cache = Translations(tmp_path, disk_files=4)

    def put(i: int) -> None:
        cache.get(f"k{i}", "SELECT 1", [], lambda names: Translation(f"SELECT {i}", ()))

    for i in range(10):
        put(i)
        assert len(list(tmp_path.glob("*.json"))) <= 4
    assert (tmp_path / "k9.json").exists()
    fresh = Translations(tmp_path)
    assert fresh.get("k9", "SELECT 1", [], lambda names: pytest.fail("k9 was stored")).sql == "SELECT 9"
    assert fresh.last == "disk"


def test_clearing_the_result_cache_forgets_translations_too(lh, flights, kernel):
    run(lh)
    lh.clear_result_cache()
    assert stored(lh) == []
    assert run(kernel()).stats["translation"] == "new"
