"""Trino under stress, on the session's real Trino + PostgreSQL JDBC catalog:

- Trino among 16 concurrent writers (half, then all of them): lakelab processes append with
  `lh.ingest` while others INSERT through Trino (`lh.sql(..., engine="trino")`, what
  `%%trino` runs), all released by one barrier; every writer is told success or a clear
  conflict, the table holds exactly the successful writers' rows, none twice, and every
  Trino write keeps its lineage (a second, properties-only commit that must win its race too);
- a Trino commit that loses every retry is a clear Conflict and changes nothing;
- Ctrl-C on a `%%trino` cell: the query leaves the server (the time is printed; the 2 s goal
  is measured by bench/bench_reliability.py, since tests make no timed assertions), and a
  Ctrl-C while the statement is still being sent leaves nothing running.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from IPython.utils.capture import capture_output

from lakelab.catalog import metadata as md
from lakelab.errors import Conflict

ROOT = Path(__file__).parents[2]
for extra in (ROOT / "tests" / "reliability", ROOT / "bench"):  # one race and one cancel measurement
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from test_concurrent_writers import ROWS, WRITERS, _check, _race, ingest_append  # noqa: E402

from bench_reliability import ACTIVE, _state, endless_sql, measure_cancel  # noqa: E402


def trino_insert(lh: Any, table: str, wid: int) -> dict[str, Any]:
    """This writer's rows (writer=wid, n=0..ROWS-1) as one INSERT ... SELECT run by Trino;
    returns the rows and the snapshot whose lineage lakelab recorded (None: not recorded)."""
    name = lh.table_name(table)
    target = f"{lh.config.trino.catalog}.{name.dotted}"
    res = lh.sql(
        f"INSERT INTO {target} SELECT CAST({{{{ wid }}}} AS bigint) AS writer, CAST(n AS bigint) AS n "
        f"FROM UNNEST(sequence(0, {ROWS - 1})) AS x(n)",
        engine="trino",
        params={"wid": wid},
    )
    return {"rows": int(res.table.column(0)[0].as_py()), "lineage_snapshot_id": res.stats.get("lineage_snapshot_id")}


@pytest.mark.parametrize("trino_writers", [8, WRITERS], ids=["half_through_trino", "all_through_trino"])
def test_trino_among_sixteen_writers_loses_no_commit_and_duplicates_nothing(tlh, ns, trino_writers):
    table = f"{ns}.race"
    trino_ids = set(range(0, WRITERS, WRITERS // trino_writers)[:trino_writers])  # spread among the others
    writes = [trino_insert if i in trino_ids else ingest_append for i in range(WRITERS)]

    def clear(wid: int, msg: str) -> bool:
        if wid in trino_ids:
            return "another writer changed" in msg and "run it again" in msg
        return "another writer changed" in msg and "run the ingest again" in msg

    by = _race(tlh, table, writes)
    for kind, ids in (("trino", trino_ids), ("ingest", set(range(WRITERS)) - trino_ids)):
        ok = sum(wid in ids for wid, _ in by["ok"])
        conflicted = [m for wid, m in by["conflict"] if wid in ids]
        print(f"{kind}: {ok} succeeded, {len(conflicted)} conflicted of {len(ids)}")
        for m in conflicted[:2]:
            print(f"  {kind} conflict: {m}")
    _check(tlh, table, by, conflict_ok=clear)
    trino_ok = [d for wid, d in by["ok"] if wid in trino_ids]
    assert all(d["rows"] == ROWS for d in trino_ok)
    # lineage of a Trino write is a second (properties) commit: it must survive the race too
    lost = [d for d in trino_ok if d["lineage_snapshot_id"] is None]
    assert not lost, f"{len(lost)} of {len(trino_ok)} Trino writes committed without their lineage"
    props = tlh.catalog.load_table(tlh.table_name(table).identifier).properties
    missing = [d["lineage_snapshot_id"] for d in trino_ok if md.lineage_property(d["lineage_snapshot_id"]) not in props]
    assert not missing, f"lineage of Trino snapshots {missing} was overwritten by a later commit"
    print(f"lineage recorded for {len(trino_ok)} of {len(trino_ok)} Trino writes")


def test_ctrl_c_in_a_trino_cell_takes_the_query_off_the_server(shell, tlh):
    shown: list[str] = []

    def cell(sql: str) -> None:
        with capture_output() as out:
            res = shell.run_cell(f"%%trino\n{sql}")
        shown.extend(o.data.get("text/html", "") for o in out.outputs)
        shown.append(out.stdout)  # the cell fails with one line (a KeyboardInterrupt)
        assert isinstance(res.error_in_exec, KeyboardInterrupt)

    r = measure_cancel(tlh, cell, within_s=30)
    assert r["query_id"], "the query never showed as RUNNING in system.runtime.queries"
    assert r["interrupted"] and any("interrupted: the query was cancelled" in h for h in shown)
    assert r["gone_s"] is not None, f"query {r['query_id']} still {r['state']} 30 s after Ctrl-C"
    assert (r["state"], r["error_code"]) in {("FAILED", "USER_CANCELED"), ("GONE", None)}
    print(
        f"Ctrl-C -> query {r['query_id']} {r['state']} {r['error_code']} after {r['gone_s']:.2f} s "
        "(goal < 2 s; measured repeatedly by bench/bench_reliability.py)"
    )


def test_a_trino_commit_that_loses_every_retry_is_a_clear_conflict_and_writes_nothing(tlh, ns):
    """Trino's commit is a compare-and-swap of the table's row in the PostgreSQL catalog. A
    trigger makes every swap for this one table miss (as if another writer always won), so
    Trino's commit fails after its own retries: the user must hear "conflict, run it again",
    and the table must be unchanged."""
    from sqlalchemy import text

    table = f"{ns}.lost"
    seed = pa.table({"writer": pa.array([-1] * 3, pa.int64()), "n": pa.array(range(3), pa.int64())})
    tlh.ingest(seed, table, mode="create", progress=False)
    name = tlh.table_name(table)
    fn = f"refuse_{ns}"
    with tlh.catalog.engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.table_namespace = '{ns}' AND NEW.table_name = 'lost' THEN RETURN NULL; END IF; "
                "RETURN NEW; END $$"
            )
        )
        conn.execute(text(f"CREATE TRIGGER {fn} BEFORE UPDATE ON iceberg_tables FOR EACH ROW EXECUTE FUNCTION {fn}()"))
    try:
        with pytest.raises(Conflict) as info:
            trino_insert(tlh, table, 7)
    finally:
        with tlh.catalog.engine.begin() as conn:
            conn.execute(text(f"DROP TRIGGER {fn} ON iceberg_tables"))
            conn.execute(text(f"DROP FUNCTION {fn}()"))
    msg = str(info.value)
    print("Trino commit conflict:", msg)
    assert "another writer changed" in msg and "run it again" in msg and name.dotted in msg
    after = tlh.catalog.load_table(name.identifier).scan().to_arrow()
    assert sorted(after.column("writer").to_pylist()) == [-1] * 3, "a failed commit changed the table"
    assert trino_insert(tlh, table, 7)["rows"] == ROWS  # the same statement, run again, commits


def test_ctrl_c_while_the_statement_is_being_sent_leaves_nothing_running(tlh):
    """The narrowest moment: SIGINT arrives after Trino accepted the statement but before the
    client read Trino's answer, so the client cannot cancel it (it does not know the query's
    id yet). A requests hook on the client's session sends the real signal exactly then.
    Nothing may run: Trino only dispatches a query once the client polls it, which it never
    will. Checked now and again a little later."""
    marker = "early_" + os.urandom(6).hex()
    trino = tlh.engine("trino")
    session = trino._connection()._http_session
    seen: list[str] = []

    def on_response(response, *args, **kwargs):
        if response.request.method == "POST" and marker in (response.request.body or b"").decode():
            seen.append(response.json()["id"])
            os.kill(os.getpid(), signal.SIGINT)  # lands while the client is still inside the POST

    session.hooks["response"].append(on_response)
    try:
        with pytest.raises(KeyboardInterrupt):
            trino.execute(endless_sql(marker))
    finally:
        session.hooks["response"].remove(on_response)
    assert seen, "the statement was never sent"
    states = [_state(tlh, seen[0])]
    time.sleep(3)  # not a latency check: long enough for a dispatched query to show as running
    states.append(_state(tlh, seen[0]))
    print(f"Ctrl-C during the POST: query {seen[0]}: {states}")
    if any(s in ACTIVE for s, _ in states):  # leave no endless query behind for the other tests
        trino.execute(f"CALL system.runtime.kill_query(query_id => '{seen[0]}', message => 'test cleanup')")
    assert all(s not in ACTIVE for s, _ in states), f"query {seen[0]} runs with nobody to cancel it: {states}"
