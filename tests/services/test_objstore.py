"""The company lakehouse on object storage (issue 13): every user path on real parts.

One test per profile does the whole tour on one `services up` (a profile takes ~45-70 s to
start on the shared 2-core machine): files ingested from the store by s3:// / gs:// URL and
DataFrames, the same answers from the embedded engine and Trino, `--into` on both engines,
publish of a table and of a model (artifact through the table's FileIO) and loading them
back, preview, time travel, search, lineage, orphans after a simulated crash, and two
writers at once. The fault tests run on (rest, s3) with a Trino worker; the store stopped
mid-ingest also on (rest, gcs).
"""

from __future__ import annotations

import os
import signal
import threading
import uuid

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from objstore_helpers import FaultProxy, bucket_url, store_fs

import lakelab
from lakelab import services
from lakelab.catalog.metadata import current_user
from lakelab.catalog.orphans import delete_orphans, find_orphans
from lakelab.config import load_config
from lakelab.errors import LakelabError, Unavailable
from lakelab.notebook.magics import MagicError
from lakelab.notebook.magics.ingest import IngestMagics

pytestmark = [pytest.mark.trino, pytest.mark.slow]

PROFILES = [
    pytest.param(("sqlite", "local", 0), id="sqlite-local"),
    pytest.param(("postgres", "s3", 0), id="postgres-s3"),
    pytest.param(("rest", "s3", 0), id="rest-s3"),
    pytest.param(("rest", "s3", 1), id="rest-s3-1worker"),
    pytest.param(("rest", "gcs", 0), id="rest-gcs"),
]
FAULTS = ("rest", "s3", 1)  # the fault tests share it


def _frame(n: int = 1000, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(start, start + n),
            "city": [["Oslo", "Lima", "Pune", "Kyiv"][i % 4] for i in range(n)],
            "amount": [float(i % 97) for i in range(n)],
        }
    )


def _records(result) -> list[dict]:
    return result.to_pandas().to_dict("records")


def _ns() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("profile", PROFILES, scope="session")
def test_every_user_path_works_on_the_profile(profile, lakehouse_profile, tmp_path, capsys):
    run = lakehouse_profile(*profile)
    lh = run.lakehouse
    ns = _ns()
    remote = run.storage != "local"

    # -- ingest: files on the store by URL, and DataFrames ---------------------------------
    fs, root = store_fs(run)
    folder = f"{root}/incoming/{ns}"
    fs.create_dir(folder)
    for i in range(3):
        with fs.open_output_stream(f"{folder}/part-{i}.parquet") as out:
            pq.write_table(pa.Table.from_pandas(_frame(500, i * 500), preserve_index=False), out)
    with fs.open_output_stream(f"{folder}/extra.csv") as out:
        out.write(b"id,city,amount\n9001,Quito,1.5\n9002,Accra,2.5\n")
    url = f"{bucket_url(run)}/incoming/{ns}"
    rep = lh.ingest(f"{url}/part-*.parquet", f"{ns}.sales", mode="create")
    assert rep.rows == 1500
    assert lh.ingest(f"{url}/extra.csv", f"{ns}.sales").rows == 2
    assert lh.ingest(_frame(10, 10_000), f"{ns}.sales").rows == 10
    table = lh.catalog.load_table(f"{ns}.sales")
    if remote:
        assert table.location().startswith(bucket_url(run) + "/")
    first_snapshot = table.history()[0].snapshot_id

    # -- the same answers on both engines -------------------------------------------------
    q = f"SELECT city, count(*) AS n, sum(amount) AS total FROM {ns}.sales GROUP BY city ORDER BY city"
    duck = _records(lh.sql(q, engine="duckdb"))
    assert len(duck) == 6 and sum(r["n"] for r in duck) == 1512
    if not run.embedded:
        assert _records(lh.sql(q, engine="trino")) == duck
    # object storage is read as Parquet with pushdown, not materialised by pyiceberg
    lim = lh.sql(f"SELECT id FROM {ns}.sales WHERE city = 'Oslo' ORDER BY id LIMIT 3", engine="duckdb")
    assert [r["id"] for r in _records(lim)] == [0, 4, 8]
    scans = lh.engine("duckdb").last_scans
    assert [s.path for s in scans] == ["parquet"], scans
    if remote:  # that read asked for local copies of the files; the next one reads them
        embedded = lh.engine("duckdb")
        assert embedded.file_copies.wait(120)
        again = embedded.execute(f"SELECT id FROM {ns}.sales WHERE city = 'Oslo' ORDER BY id LIMIT 3", cache=False)
        assert [r["id"] for r in _records(again)] == [0, 4, 8]
        assert embedded.last_scans[0].reason.endswith("local copies of the store's files"), embedded.last_scans

    # Trino runs queries as the notebook's user (the one lakelab records as owner)
    if not run.embedded:
        assert _records(lh.sql("SELECT current_user AS u", engine="trino")) == [{"u": current_user()}]

    # -- --into / transform on both engines -------------------------------------------------
    into_sql = f"SELECT city, count(*) AS n FROM {ns}.sales GROUP BY city"
    lh.transform(f"{ns}.by_city", sql=into_sql, engine="duckdb")
    engines = ["duckdb"] if run.embedded else ["duckdb", "trino"]
    if not run.embedded:
        lh.transform(f"{ns}.by_city_trino", sql=into_sql, engine="trino")
    for eng in engines:
        got = _records(lh.sql(f"SELECT sum(n) AS n FROM {ns}.by_city", engine=eng))
        assert got == [{"n": 1512}], eng
        if not run.embedded:
            assert _records(lh.sql(f"SELECT sum(n) AS n FROM {ns}.by_city_trino", engine=eng)) == [{"n": 1512}]

    # -- publish a table and a model; load them back ---------------------------------------
    lh.publish(_frame(5), f"{ns}.report_rows", description="five rows", tags=["objstore"])
    assert lh.dataset(f"{ns}.report_rows").load().num_rows == 5
    model = {"weights": [0.5, 1.5], "name": "tiny"}
    lh.publish(model, f"{ns}.tiny_model", kind="model", description="a model on the store")
    ds = lh.dataset(f"{ns}.tiny_model")
    assert ds.load() == model
    uri = ds.versions()[-1].uri
    if remote:
        assert uri.startswith(bucket_url(run) + "/"), uri

    # -- preview, time travel, search, lineage ---------------------------------------------
    sales = lh.dataset(f"{ns}.sales")
    prev = sales.preview(n=7, columns=["id", "city"])
    assert prev.num_rows == 7 and prev.column_names == ["id", "city"]
    assert sales.preview(n=2000, snapshot_id=first_snapshot).num_rows == 1500
    old = lh.sql(f"SELECT count(*) AS n FROM {ns}.sales FOR VERSION AS OF {first_snapshot}", engine="duckdb")
    assert _records(old) == [{"n": 1500}]
    found = lh.datasets(query="report_rows")
    assert any(f"{ns}.report_rows" in str(d) for d in (found.items if hasattr(found, "items") else found)), found
    up = lh.dataset(f"{ns}.by_city").lineage()
    assert any(str(e.source).endswith(f"{ns}.sales") for e in up.edges), up
    assert any(url in str(e.source) for e in sales.lineage().edges)

    # -- orphans after a simulated crash: a data file a killed writer left ------------------
    loc_fs, _ = store_fs(run)
    data_dir = table.location().split("://", 1)[1].rstrip("/") + "/data"
    if not remote:
        data_dir = table.location().removeprefix("file://").rstrip("/") + "/data"
    with loc_fs.open_output_stream(f"{data_dir}/00000-0-crashed-writer.parquet") as out:
        pq.write_table(pa.Table.from_pandas(_frame(3), preserve_index=False), out)
    report = find_orphans(lh, f"{ns}.sales", older_than_minutes=0)
    assert [p.rsplit("/", 1)[-1] for p, _ in report.files] == ["00000-0-crashed-writer.parquet"], report
    assert delete_orphans(lh, f"{ns}.sales", older_than_minutes=0).count == 1
    assert find_orphans(lh, f"{ns}.sales", older_than_minutes=0).count == 0
    assert _records(lh.sql(f"SELECT count(*) AS n FROM {ns}.sales", engine="duckdb")) == [{"n": 1512}]

    # -- two writers at once ----------------------------------------------------------------
    errors: list[BaseException] = []

    def writer(start: int) -> None:
        try:
            other = lakelab.Lakehouse(load_config(run.home / "config.yaml")) if not run.embedded else lakelab.connect()
            for k in range(3):
                other.ingest(_frame(100, start + k * 100), f"{ns}.sales")
            other.close()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(s,)) for s in (20_000, 30_000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for eng in engines:
        assert _records(lh.sql(f"SELECT count(*) AS n FROM {ns}.sales", engine=eng)) == [{"n": 2112}], eng

    # -- no secret in anything shown ----------------------------------------------------------
    shown = capsys.readouterr()
    for key, value in lh.config.catalog.items():
        if any(s in key for s in ("secret", "access-key", "token")) and len(str(value)) >= 8:
            assert str(value) not in shown.out + shown.err + repr(report) + str(lh.config.public())


# -- faults (rest + s3 + one Trino worker; the stopped store also on rest + gcs) -------------
def _part(run, name: str) -> dict:
    return next(p for p in services.status(run.home)["parts"] if p["name"] == name)


def _lakehouse_through(run, proxy: FaultProxy, key: str) -> lakelab.Lakehouse:
    cfg = load_config(run.home / "config.yaml")
    cfg.catalog[key] = proxy.url
    return lakelab.Lakehouse(cfg)


def _big(batches: int, rows: int = 100_000, on_batch=None) -> pa.RecordBatchReader:
    """`batches` x `rows` rows shaped like `_frame`, made as they are read."""
    schema = pa.schema([("id", pa.int64()), ("city", pa.string()), ("amount", pa.float64())])
    cities = pa.array(["Oslo", "Lima", "Pune", "Kyiv"] * (rows // 4))

    def gen():
        for b in range(batches):
            if on_batch is not None:
                on_batch(b)
            ids = pa.array(range(b * rows + 1_000_000, (b + 1) * rows + 1_000_000), pa.int64())
            amounts = pa.array([float(i % 97) for i in range(rows)], pa.float64())
            yield pa.record_batch([ids, cities, amounts], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, gen())


def _small_files(lh: lakelab.Lakehouse, name: str) -> None:
    """Roll data files at ~1 MB so a write completes some files before it is cut off."""
    t = lh.catalog.load_table(name)
    with t.transaction() as tx:
        tx.set_properties({"write.target-file-size-bytes": str(1 << 20)})


# the session-scoped profile parameter runs each case with the other tests on its profile
@pytest.mark.parametrize("profile", [("rest", "gcs", 0), FAULTS], ids=["rest-gcs", "rest-s3-1worker"], scope="session")
def test_the_store_stopped_mid_ingest_fails_clearly_and_leaves_files_orphans_finds(
    profile, lakehouse_profile, monkeypatch
):
    run = lakehouse_profile(*profile)
    lh = run.lakehouse
    name = f"{_ns()}.big"
    lh.ingest(_frame(100), name, mode="create")
    _small_files(lh, name)
    before = lh.catalog.load_table(name).current_snapshot().snapshot_id
    store = _part(run, run.storage)

    def kill_store(b: int) -> None:
        if b == 12:  # about a dozen 1 MB files are complete by now
            os.kill(store["pid"], signal.SIGKILL)
            psutil.Process(store["pid"]).wait(10)

    with pytest.raises(LakelabError) as err:
        lh.ingest(_big(30, on_batch=kill_store), name)
    assert isinstance(err.value, Unavailable), repr(err.value)
    assert "object store" in str(err.value) and "orphans" in str(err.value), str(err.value)

    # the store still down: the REST catalog cannot read the table's metadata (it retries for 1.5
    # min on S3, 11 on GCS before its 500); the next %ingest cell fails on lakelab's bound, in one
    # line (the read timeout cut from 60 s to 5 here, to keep the suite short)
    monkeypatch.setattr("lakelab.catalog.access.REST_TIMEOUT_S", (10.0, 5.0))
    monkeypatch.setattr("lakelab.lakehouse._default", lh)  # the magic's lakehouse
    shell = InteractiveShell.instance()
    shell.register_magics(IngestMagics)
    shell.user_ns["more"] = _frame(10)
    with capture_output() as shown, pytest.raises(MagicError) as cell:
        shell.run_line_magic("ingest", f"more --into {name} --no-progress")
    line = cell.value.line
    assert line.startswith("lakelab error: the catalog 'lakelab' did not answer within 5 s"), line
    assert "lakelab services status" in line and "\n" not in line and not shown.stdout + shown.stderr, line
    InteractiveShell.clear_instance()

    services.up(home=run.home, catalog="rest", storage=run.storage, trino_workers=run.workers)  # restarts the store
    fresh = lakelab.Lakehouse(load_config(run.home / "config.yaml"))
    assert fresh.catalog.load_table(name).current_snapshot().snapshot_id == before
    assert _records(fresh.sql(f"SELECT count(*) AS n FROM {name}", engine="duckdb")) == [{"n": 100}]
    left = find_orphans(fresh, name, older_than_minutes=0)
    assert left.count > 0, left
    delete_orphans(fresh, name, older_than_minutes=0)
    assert find_orphans(fresh, name, older_than_minutes=0).count == 0
    assert _records(fresh.sql(f"SELECT count(*) AS n FROM {name}", engine="trino")) == [{"n": 100}]
    fresh.close()


@pytest.mark.parametrize("profile", [FAULTS], ids=["rest-s3-1worker"], scope="session")
def test_slow_and_failing_store_answers_are_retried_then_reported(profile, lakehouse_profile):
    run = lakehouse_profile(*profile)
    proxy = FaultProxy(run.lakehouse.catalog.properties["s3.endpoint"])
    try:
        lh = _lakehouse_through(run, proxy, "s3.endpoint")
        name = f"{_ns()}.flaky"
        lh.ingest(_frame(100), name, mode="create")
        # the first try of every other request is answered 503, of some others delayed:
        # the S3 client's retries absorb them
        tried: set[tuple[str, str]] = set()
        lock = threading.Lock()

        def flaky(method: str, path: str):
            with lock:
                first = (method, path) not in tried
                tried.add((method, path))
                n = len(tried)
            if first and n % 2 == 0:
                return "503"
            if first and n % 7 == 0:
                return ("delay", 1.5)
            return None

        proxy.rule = flaky
        rep = lh.ingest(_big(4), name)
        assert rep.rows == 400_000
        assert any(a == "503" for _, _, a in proxy.seen)
        assert _records(lh.sql(f"SELECT count(*) AS n, count(DISTINCT id) AS d FROM {name}", engine="duckdb")) == [
            {"n": 400_100, "d": 400_100}
        ]
        # the store refuses everything: a clear error once the retries run out, the table unchanged
        snap = lh.catalog.load_table(name).current_snapshot().snapshot_id
        proxy.rule = lambda m, p: "503" if m in ("PUT", "POST") else None
        with pytest.raises(LakelabError) as err:
            lh.ingest(_frame(50), name)
        assert isinstance(err.value, Unavailable), repr(err.value)
        proxy.rule = lambda m, p: None
        assert lh.catalog.load_table(name).current_snapshot().snapshot_id == snap
        direct = run.lakehouse
        assert _records(direct.sql(f"SELECT count(*) AS n FROM {name}", engine="trino")) == [{"n": 400_100}]
        lh.close()
    finally:
        proxy.close()


@pytest.mark.parametrize("profile", [FAULTS], ids=["rest-s3-1worker"], scope="session")
def test_a_commit_cut_off_by_a_catalog_restart_happened_or_not_and_is_safe_to_rerun(profile, lakehouse_profile):
    run = lakehouse_profile(*profile)
    rest_url = run.lakehouse.catalog.properties["uri"]
    proxy = FaultProxy(rest_url)
    try:
        lh = _lakehouse_through(run, proxy, "uri")
        name = f"{_ns()}.commits"
        lh.ingest(_frame(100), name, mode="create")
        table_path = "/v1/namespaces/" + name.split(".")[0] + "/tables/" + name.split(".")[1]

        # (1) the catalog applies the commit, the answer is lost: the write is found and reported
        hits = {"n": 0}

        def lose_answer(method: str, path: str):
            if method == "POST" and path.endswith(table_path) and hits["n"] == 0:
                hits["n"] += 1
                return "drop-after"
            return None

        proxy.rule = lose_answer
        rep = lh.ingest(_frame(10, 500), name)
        assert rep.snapshot_id == lh.catalog.load_table(name).current_snapshot().snapshot_id
        assert _records(lh.sql(f"SELECT count(*) AS n FROM {name}", engine="duckdb")) == [{"n": 110}]
        # the same for an upsert: its files are kept (they are the table's now), nothing doubled
        hits["n"] = 0
        rep = lh.ingest(_frame(10, 500).assign(amount=-1.0), name, mode="upsert", key="id")  # ids 500-509
        assert hits["n"] == 1 and rep.rows == 10
        assert rep.snapshot_id == lh.catalog.load_table(name).current_snapshot().snapshot_id
        got = lh.sql(f"SELECT count(*) AS n, count(DISTINCT id) AS d, sum(amount) AS s FROM {name}", engine="duckdb")
        assert _records(got) == [{"n": 110, "d": 110, "s": float(sum(i % 97 for i in range(100)) - 10)}]

        # (2) the catalog is killed as the commit arrives and restarted: the commit did not
        # happen, the error says so, and running the write again is safe
        rest = _part(run, "rest")

        def kill_rest() -> None:
            os.kill(rest["pid"], signal.SIGKILL)
            psutil.Process(rest["pid"]).wait(10)
            threading.Timer(
                1.0, lambda: services.up(home=run.home, catalog="rest", storage="s3", trino_workers=FAULTS[2])
            ).start()

        proxy.rule = lambda m, p: kill_rest if (m == "POST" and p.endswith(table_path)) else None
        hits["n"] = 0
        try:
            lh.ingest(_frame(10, 600), name)
            happened = True
        except LakelabError as e:
            happened = False
            assert "run the ingest again" in str(e) or "again" in (e.hint or ""), str(e)
        proxy.rule = lambda m, p: None
        n = _records(lh.sql(f"SELECT count(*) AS n FROM {name}", engine="duckdb"))[0]["n"]
        assert n == (120 if happened else 110)
        if not happened:
            lh.ingest(_frame(10, 600), name)
        assert _records(lh.sql(f"SELECT count(*) AS n, count(DISTINCT id) AS d FROM {name}", engine="duckdb")) == [
            {"n": 120, "d": 120}
        ]
        # a commit that did not happen leaves no data file; pyiceberg's manifests for it stay
        # until `lakelab orphans --delete`
        left = find_orphans(lh, name, older_than_minutes=0)
        assert all("/metadata/" in p for p, _ in left.files), left
        assert happened or left.count > 0
        delete_orphans(lh, name, older_than_minutes=0)
        assert _records(lh.sql(f"SELECT count(*) AS n FROM {name}", engine="trino")) == [{"n": 120}]
        lh.close()
    finally:
        proxy.close()
