"""%%trino through a real IPython shell on the embedded engine."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from lakelab.catalog.metadata import Lineage
from lakelab.engines.base import Result
from lakelab.notebook.magics import MagicError


@pytest.fixture
def shell(lh):
    lh.catalog.create_namespace("demo")
    table = lh.catalog.create_table("demo.flights", schema=pa.schema([("id", pa.int64()), ("origin", pa.string())]))
    table.append(pa.table({"id": pa.array(range(2500), pa.int64()), "origin": ["JFK", "LGA"] * 1250}))
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "lakelab")
    ip.magics_manager.registry["SqlMagics"]._lh = lh
    ip.magics_manager.registry["SqlMagics"].saved.clear()
    yield ip
    ip.user_ns.pop("df", None)


def run(shell, cell):
    with capture_output() as out:
        res = shell.run_cell(cell)
    html = "".join(o.data.get("text/html", "") for o in out.outputs)
    return res, html + out.stdout + out.stderr


def test_default_fetches_1000_rows_and_says_more_exist(shell):
    res, _ = run(shell, "%%trino\nSELECT id FROM demo.flights ORDER BY id")
    result = res.result
    assert isinstance(result, Result) and result.num_rows == 1000 and result.has_more
    html = result._repr_html_()
    assert "more rows exist" in html and "engine: <b>duckdb</b>" in html
    assert html.count("<tr>") == 51  # header + one page of 50


def test_output_variable_holds_the_bounded_result_in_the_chosen_format(shell):
    run(shell, "%%trino -o df -l 10\nSELECT * FROM demo.flights")
    assert isinstance(shell.user_ns["df"], pd.DataFrame) and len(shell.user_ns["df"]) == 10
    run(shell, "%%trino -o df --no-limit --format polars\nSELECT * FROM demo.flights")
    assert isinstance(shell.user_ns["df"], pl.DataFrame) and len(shell.user_ns["df"]) == 2500
    run(shell, "%%trino -o df --format arrow\nSELECT count(*) AS n FROM demo.flights")
    assert shell.user_ns["df"].to_pylist() == [{"n": 2500}]


def test_parameters_from_options_and_the_notebook_are_bound(shell):
    shell.user_ns["airport"] = "JFK"
    res, _ = run(
        shell,
        "%%trino --param lo=2490\nSELECT count(*) AS n FROM demo.flights "
        "WHERE origin = {{ airport }} AND id >= {{ lo }}",
    )
    assert res.result.table.to_pylist() == [{"n": 5}]


def test_dollar_and_braces_in_sql_are_not_expanded_by_ipython(shell):
    shell.user_ns["x"] = "EXPANDED"
    res, _ = run(shell, "%%trino\nSELECT '$x {x}' AS s")
    assert res.result.table.to_pylist() == [{"s": "$x {x}"}]


def test_into_writes_a_dataset_with_lineage(shell, lh):
    _, out = run(shell, "%%trino --into demo.jfk\nSELECT * FROM demo.flights WHERE origin = 'JFK'")
    assert "wrote 1,250 rows to demo.jfk" in out and "duckdb" in out
    table = lh.catalog.load_table("demo.jfk")
    lineage = Lineage.from_summary(table.current_snapshot().summary.additional_properties)
    assert lineage.upstream[0]["table"] == "demo.flights" and "origin = 'JFK'" in lineage.sql
    run(shell, "%%trino --into demo.jfk --mode append\nSELECT * FROM demo.flights WHERE id < 2")
    assert lh.catalog.load_table("demo.jfk").scan().to_arrow().num_rows == 1252
    _, out = run(shell, "%%trino --into demo.jfk\nSELECT 1 AS id")
    assert "already exists" in out


def test_into_and_statements_take_the_schema_option_for_unqualified_names(shell, lh):
    _, out = run(shell, "%%trino --schema demo --into lga\nSELECT id FROM flights WHERE origin = 'LGA' AND id < 10")
    assert "wrote 5 rows to demo.lga" in out
    lineage = Lineage.from_summary(lh.catalog.load_table("demo.lga").current_snapshot().summary.additional_properties)
    assert lineage.upstream[0]["table"] == "demo.flights"
    run(shell, "%%trino --schema demo --catalog lakelab --into lga --mode append\nSELECT id FROM flights WHERE id = 1")
    assert lh.catalog.load_table("demo.lga").scan().to_arrow().num_rows == 6
    run(shell, "%%trino --schema demo\nCREATE TABLE lga2 AS SELECT id FROM lga")
    assert lh.catalog.load_table("demo.lga2").scan().to_arrow().num_rows == 6


def test_into_an_unqualified_name_in_a_foreign_catalog_is_refused(shell, lh):
    _, out = run(shell, "%%trino --catalog tpch --into lga\nSELECT 1 AS id")
    assert "datasets are written to the lakelab catalog" in out and "Traceback" not in out


def test_save_and_with_compose_queries_as_ctes(shell):
    run(shell, "%%trino --save jfk\nSELECT id FROM demo.flights WHERE origin = 'JFK'")
    run(shell, "%%trino --save big --with jfk\nSELECT id FROM jfk WHERE id > 2000")
    res, _ = run(shell, "%%trino --with big\nWITH top AS (SELECT max(id) AS m FROM big) SELECT m FROM top")
    assert res.result.table.to_pylist() == [{"m": 2498}]
    _, out = run(shell, "%%trino --with nope\nSELECT 1")
    assert "no saved query named" in out


@pytest.mark.parametrize(
    "line, message",
    [
        ("%%trino --bogus", "unrecognized arguments"),
        ("%%trino -l -3", "either -l N"),
        ("%%trino --mode append", "--mode only applies"),
        ("%%trino --engine spark", "invalid choice"),
    ],
)
def test_bad_options_fail_the_cell_with_one_line_without_traceback(shell, line, message):
    res, out = run(shell, f"{line}\nSELECT 1")
    assert message in out and "Traceback" not in out and out.startswith("lakelab error: ") and out.count("\n") == 1
    assert isinstance(res.error_in_exec, MagicError) and not res.success


def test_empty_cell_and_sql_errors_fail_the_cell_plainly(shell):
    res, out = run(shell, "%%trino\n;")
    assert "has no SQL" in out and not res.success
    res, out = run(shell, "%%trino\nSELECT format('%x', 1)")
    assert "not supported on the embedded engine" in out and "Traceback" not in out and not res.success


def test_explain_shows_the_plan(shell):
    res, _ = run(shell, "%%trino --explain\nSELECT id FROM demo.flights WHERE id > 5")
    text = "\n".join(res.result.table.column("explain").to_pylist())
    assert "parquet" in text and "READ_PARQUET" in text.upper()


def test_statements_run_and_say_what_they_did(shell):
    res, _ = run(shell, "%%trino\nSHOW TABLES FROM demo")
    assert res.result.table.column("Table").to_pylist() == ["flights"]


def test_table_names_complete_in_trino_cells(shell):
    text = "%%trino\nSELECT * FROM demo.fl"
    with provisionalcompleter():
        completions = [c.text for c in shell.Completer.completions(text, len(text))]
    assert "demo.flights" in completions


def test_ctrl_c_interrupts_the_query_and_says_so(shell):
    import _thread
    import threading

    run(shell, "%%trino\nSELECT 1 AS warm FROM demo.flights LIMIT 1")
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    try:
        res, out = run(
            shell,
            "%%trino\nSELECT count(*) FROM demo.flights a, demo.flights b, demo.flights c, "
            "demo.flights d WHERE a.id + b.id + c.id + d.id > -1",
        )
    finally:
        timer.cancel()
    # the last output (after any progress line) is the one line; nothing else is printed
    assert out.endswith("lakelab error: interrupted: the query was cancelled\n") and "Traceback" not in out
    assert isinstance(res.error_in_exec, KeyboardInterrupt)  # the cell fails; a loop around it stops too
    res, _ = run(shell, "%%trino\nSELECT count(*) AS n FROM demo.flights")
    assert res.result.table.to_pylist() == [{"n": 2500}]


def test_schema_and_catalog_options_set_the_defaults(shell):
    res, _ = run(shell, "%%trino --catalog lakelab --schema demo\nSELECT count(*) AS n FROM flights")
    assert res.result.table.to_pylist() == [{"n": 2500}]
    _, out = run(shell, "%%trino --catalog hive\nSELECT 1")
    assert "lakelab error: catalog 'hive' is not known to the embedded engine" in out


def test_column_names_complete_after_a_table_name(shell):
    text = "%%trino\nSELECT * FROM demo.flights WHERE or"
    with provisionalcompleter():
        completions = [(c.text, c.type) for c in shell.Completer.completions(text, len(text))]
    assert ("origin", "column") in completions


def test_save_is_quiet_unless_asked_and_a_broken_query_is_not_saved(shell):
    res, out = run(shell, "%%trino --save jfk\nSELECT id, origin FROM demo.flights WHERE origin = 'JFK'")
    assert res.success and res.result is None
    assert out.strip() == "saved query jfk (id, origin): use it with %%trino --with jfk; add --show to see its rows"
    res, out = run(shell, "%%trino --save jfk2 --show\nSELECT id FROM demo.flights")
    assert res.result.num_rows == 1000
    res, out = run(shell, "%%trino --save bad\nSELECT nope FROM demo.flights")
    assert not res.success and "column 'nope' does not exist" in out
    _, out = run(shell, "%%trino --with bad\nSELECT 1")
    assert "no saved query named 'bad'" in out


def test_a_result_past_one_page_says_where_the_rest_is(shell):
    res, _ = run(shell, "%%trino\nSELECT id FROM demo.flights ORDER BY id LIMIT 100")
    html = res.result._repr_html_()
    assert "showing rows 1–50; all 100 are in the result: <code>_.to_pandas()</code>" in html
