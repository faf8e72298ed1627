"""Models as versioned datasets: a real scikit-learn model published, listed, queried with
SQL and loaded back (checksum verified), and every bad input refused with nothing left behind."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression

import lakelab
from lakelab.datasets.artifacts import IntegrityError
from lakelab.errors import Conflict, InvalidInput, NotFound
from lakelab.write.publish import publish  # takes inputs= (Lakehouse.publish forwards it once lakehouse.py does)

PENGUINS = pa.table(
    {
        "bill_mm": [39.1, 39.5, 46.5, 50.0, 45.2, 49.9],
        "flipper_mm": [181, 186, 217, 230, 215, 220],
        "gentoo": [0, 0, 1, 1, 1, 1],
    }
)


def train(table: pa.Table) -> LogisticRegression:
    x = [[b, f] for b, f in zip(table["bill_mm"].to_pylist(), table["flipper_mm"].to_pylist())]
    return LogisticRegression(max_iter=1000).fit(x, table["gentoo"].to_pylist())


def artifact_files(lh: lakelab.Lakehouse, name: str) -> list[Path]:
    root = Path(lh.config.warehouse) / name.replace(".", "/") / "artifacts"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def local(uri: str) -> Path:
    return Path(urlparse(uri).path)


def test_a_scikit_learn_model_is_published_and_loaded_across_two_versions(lh):
    lh.publish(PENGUINS, "demo.penguins")
    first = train(PENGUINS)
    publish(lh, first, "ml.churn", kind="model", inputs=["demo.penguins"], description="gentoo or not", tags="ml")
    lh.publish(
        pa.table({"bill_mm": [38.0, 52.0], "flipper_mm": [180, 231], "gentoo": [0, 1]}), "demo.penguins", mode="append"
    )
    second = LogisticRegression(C=0.01, max_iter=1000).fit([[38.0, 180], [52.0, 231]], [0, 1])
    ds = publish(lh, second, "ml.churn", kind="model", inputs=["demo.penguins"])

    assert ds.metadata["kind"] == "model" and ds.metadata["tags"] == ["ml"]
    versions = ds.versions()
    assert [v.version for v in versions] == [1, 2]
    probe = [[45.0, 210]]
    assert ds.load().predict_proba(probe).tolist() == second.predict_proba(probe).tolist()
    assert lh.dataset("ml.churn").load(version=1).predict_proba(probe).tolist() == first.predict_proba(probe).tolist()
    for v in versions:
        data = local(v.uri).read_bytes()
        assert v.sha256 == hashlib.sha256(data).hexdigest() and v.bytes == len(data)
        assert v.uri.startswith(ds.table.location() + "/artifacts/v" + str(v.version))
        assert v.created_by and v.created_at
        meta = v.metadata
        assert meta["format"] == "joblib" and meta["object_type"].endswith("LogisticRegression")
        assert set(meta["libraries"]) >= {"python", "joblib", "sklearn (scikit-learn)"}
    # each version's lineage names the training table at the snapshot it was trained on
    snaps = [s.snapshot_id for s in reversed(lh.dataset("demo.penguins").snapshots())]
    assert [v.metadata["inputs"][0]["snapshot_id"] for v in versions] == snaps
    edges = ds.lineage().edges
    assert {(e.source, e.upstream_snapshot_id) for e in edges} == {("demo.penguins", s) for s in snaps}


def test_the_versions_table_is_an_ordinary_iceberg_table_queryable_with_sql(lh):
    publish(lh, train(PENGUINS), "ml.churn", kind="model")
    publish(lh, train(PENGUINS), "ml.churn", kind="model")
    import duckdb

    versions = lh.dataset("ml.churn").table.scan().to_arrow()  # noqa: F841 - DuckDB reads it by name below
    # pyiceberg plans, DuckDB queries (as Trino would)
    rows = duckdb.sql("SELECT version, bytes, created_by FROM versions ORDER BY version").arrow()
    rows = rows.read_all() if hasattr(rows, "read_all") else rows
    assert rows["version"].to_pylist() == [1, 2] and all(b > 0 for b in rows["bytes"].to_pylist())
    assert {f.name for f in lh.dataset("ml.churn").table.schema().fields} == {
        "version",
        "uri",
        "sha256",
        "bytes",
        "created_at",
        "created_by",
        "metadata",
    }
    assert lh.dataset("ml.churn").properties["lakelab.kind"] == "model"


def test_discovery_shows_kind_owner_tags_and_version_count_and_filters_by_kind(lh):
    lh.publish(PENGUINS, "demo.penguins")
    for _ in range(3):
        publish(lh, train(PENGUINS), "ml.churn", kind="model", owner="ana", tags="ml,gentoo")
    models = lh.datasets(kind="model")
    assert [(d["name"], d["kind"], d["owner"], d["tags"], d["row_count"]) for d in models] == [
        ("ml.churn", "model", "ana", ["ml", "gentoo"], 3)
    ]  # a versions table has one row per version
    assert [d["name"] for d in lh.datasets(kind="table")] == ["demo.penguins"]
    assert "versions" in models._repr_html_() and "3" in models._repr_html_()
    card = lh.dataset("ml.churn")._repr_html_()
    assert "Versions (3)" in card and "model.joblib" in card
    assert [v.version for v in lh.dataset("ml.churn").describe().versions] == [1, 2, 3]


def test_a_file_and_a_directory_are_published_as_models_and_loaded_as_verified_copies(lh, tmp_path):
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\x00\x01" * 1000)
    folder = tmp_path / "bert"
    (folder / "tokenizer").mkdir(parents=True)
    (folder / "config.json").write_text('{"layers": 2}')
    (folder / "tokenizer" / "vocab.txt").write_text("a\nb\n")
    f = publish(lh, str(weights), "ml.weights", kind="model")
    d = publish(lh, folder, "ml.bert", kind="model")

    got = f.load()
    assert got.read_bytes() == weights.read_bytes() and got != weights
    assert f.versions()[0].metadata["filenames"] == ["weights.bin"]
    tree = d.load()
    assert (tree / "config.json").read_text() == '{"layers": 2}'
    assert (tree / "tokenizer" / "vocab.txt").read_text() == "a\nb\n"
    assert d.versions()[0].metadata["filenames"] == ["config.json", "tokenizer/vocab.txt"]
    assert d.lineage().edges[0].source == folder.resolve().as_uri()


def test_the_publish_magic_publishes_a_model_variable_with_its_inputs(lh):
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "lakelab")
    lakelab.connect(reload=True)  # the magic uses the process default: this test's home
    lh.publish(PENGUINS, "demo.penguins")
    ip.user_ns["model"] = train(PENGUINS)
    ds = ip.run_line_magic("publish", "model --as ml.churn --kind model --inputs demo.penguins")
    assert ds.metadata["kind"] == "model" and [v.version for v in ds.versions()] == [1]
    assert [n.id for n in ds.lineage().nodes] == ["ml.churn", "demo.penguins"]


def test_a_model_names_the_snapshot_it_was_trained_on_not_a_later_one(lh):
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "lakelab")
    lakelab.connect(reload=True)
    trained_on = lh.ingest(PENGUINS, "demo.penguins", mode="create").snapshot_id
    lh.ingest(PENGUINS, "demo.penguins", mode="append")  # newer data the model never saw
    ip.user_ns.update(model=train(PENGUINS), trained_on=trained_on)
    ds = ip.run_line_magic("publish", "model --as ml.churn --kind model --inputs demo.penguins@{trained_on}")
    edges = [(e.source, e.upstream_snapshot_id) for e in ds.lineage().edges]
    assert edges == [("demo.penguins", trained_on)]
    with pytest.raises(NotFound, match="demo.penguins has no snapshot 12345"):
        publish(lh, train(PENGUINS), "ml.churn", kind="model", inputs=["demo.penguins@12345"])
    assert [v.version for v in lh.dataset("ml.churn").versions()] == [1]


# -- bad input: clear errors, nothing half-written ----------------------------------------
def test_an_unpicklable_object_is_refused_and_leaves_no_table_and_no_file(lh):
    with pytest.raises(InvalidInput, match="cannot store this joblib.*lock"):
        publish(lh, {"lock": threading.Lock()}, "ml.bad", kind="model")
    assert not lh.catalog.table_exists(("ml", "bad")) and artifact_files(lh, "ml.bad") == []
    publish(lh, train(PENGUINS), "ml.bad", kind="model")
    with pytest.raises(InvalidInput, match="cannot store"):
        publish(lh, lambda x: x, "ml.bad", kind="model")
    assert [v.version for v in lh.dataset("ml.bad").versions()] == [1] and len(artifact_files(lh, "ml.bad")) == 1


def test_a_missing_file_or_unknown_input_is_refused_before_anything_is_written(lh, tmp_path):
    with pytest.raises(NotFound, match="does not exist"):
        publish(lh, str(tmp_path / "nope.bin"), "ml.bad", kind="model")
    with pytest.raises(NotFound, match="demo.nothing does not exist"):
        publish(lh, train(PENGUINS), "ml.bad", kind="model", inputs=["demo.nothing"])
    assert not lh.catalog.table_exists(("ml", "bad")) and artifact_files(lh, "ml.bad") == []


def test_publishing_over_a_dataset_of_another_kind_is_a_conflict(lh):
    lh.publish(PENGUINS, "demo.penguins")
    before = lh.dataset("demo.penguins").stats.current_snapshot_id
    with pytest.raises(Conflict, match="demo.penguins is a table; cannot publish a model"):
        publish(lh, train(PENGUINS), "demo.penguins", kind="model")
    assert lh.dataset("demo.penguins").stats.current_snapshot_id == before
    assert artifact_files(lh, "demo.penguins") == []
    publish(lh, train(PENGUINS), "ml.churn", kind="model")
    with pytest.raises(Conflict, match="ml.churn is a model; cannot publish a table"):
        lh.publish(PENGUINS, "ml.churn")
    with pytest.raises(Conflict, match="ml.churn is a model; cannot publish a report"):
        publish(lh, "<p>x</p>", "ml.churn", kind="report")
    assert [v.version for v in lh.dataset("ml.churn").versions()] == [1]


def test_a_tampered_artifact_fails_its_checksum_naming_the_version_and_file(lh):
    ds = publish(lh, train(PENGUINS), "ml.churn", kind="model")
    publish(lh, train(PENGUINS), "ml.churn", kind="model")
    v1 = ds.versions()[0]
    local(v1.uri).write_bytes(local(v1.uri).read_bytes()[:-1] + b"!")
    with pytest.raises(IntegrityError, match=r"checksum mismatch in version 1 of ml.churn: .*model.joblib"):
        ds.load(version=1)
    assert ds.load(version=2).predict([[50.0, 230]]).tolist() == [1]  # the others still load
    cache = lh.config.home / "cache" / "artifacts" / "ml.churn" / "v1"
    assert not any(p.is_file() for p in cache.rglob("*"))  # the bad copy is not kept


def test_a_version_pointing_outside_the_warehouse_is_never_loaded(lh, tmp_path):
    import joblib

    ds = publish(lh, train(PENGUINS), "ml.churn", kind="model")
    evil = tmp_path / "evil.joblib"
    joblib.dump({"boom": 1}, evil)
    data = evil.read_bytes()
    row = pa.table(
        {
            "version": [2],
            "uri": [evil.as_uri()],
            "sha256": [hashlib.sha256(data).hexdigest()],
            "bytes": [len(data)],
            "created_at": ds.table.scan().to_arrow()["created_at"].slice(0, 1),
            "created_by": ["mallory"],
            "metadata": [json.dumps({"format": "joblib"})],
        },
        schema=ds.table.scan().to_arrow().schema,
    )
    ds.table.append(row)  # a row written by another tool, bypassing lakelab
    with pytest.raises(IntegrityError, match="version 2 of ml.churn points outside"):
        ds.refresh().load(version=2)
    with pytest.raises(NotFound, match="has no version 7"):
        ds.load(version=7)


class Racy:
    """Pickling this object first publishes another version through a second Lakehouse: a
    concurrent writer committing between our artifact write and our commit."""

    def __init__(self, config) -> None:
        self.config, self.raced = config, False

    def __getstate__(self) -> dict:
        if not self.raced:
            self.raced = True
            publish(lakelab.connect(self.config), train(PENGUINS), "ml.churn", kind="model")
        return {"raced": True}


def test_a_commit_that_loses_a_race_removes_its_artifact(lh):
    publish(lh, train(PENGUINS), "ml.churn", kind="model")
    with pytest.raises(Conflict, match="ml.churn changed while publishing"):
        publish(lh, Racy(lh.config), "ml.churn", kind="model")
    versions = lh.dataset("ml.churn").versions()
    assert [v.version for v in versions] == [1, 2]
    assert sorted(artifact_files(lh, "ml.churn")) == sorted(local(v.uri) for v in versions)
