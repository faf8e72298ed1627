"""Forms for the write primitives, built from ipywidgets' own controls (JupyterLab draws them
in its theme). They call lh.ingest / lh.publish — the functions %ingest and %publish call —
and show the same one-line errors; nothing here writes any other way."""

from __future__ import annotations

import html
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets as w
import pyarrow as pa

from lakelab.errors import InvalidInput, LakelabError
from lakelab.io.objects import Source
from lakelab.io.sources import open_source
from lakelab.names import ident
from lakelab.notebook.widgets.runner import Runner, message
from lakelab.write.ingest import MODES

PREVIEW_ROWS = 5
FORMATS = ("auto", "csv", "parquet", "json")
PUBLISH_KINDS = ("table", "model", "report")


def _lh(lh: Any) -> Any:
    if lh is not None:
        return lh
    import lakelab

    return lakelab.connect()


def check_target(namespace: str, name: str) -> str:
    """`ns.name` validated part by part (names.ident), or InvalidInput saying which part is wrong."""
    parts = (namespace or "").split(".")
    if not namespace or not namespace.strip():
        raise InvalidInput("namespace is empty")
    ns = [ident(p, "namespace") for p in parts]
    return ".".join([*ns, ident(name or "", "table name")])


def _status(widget: w.HTML, text: str, ok: bool) -> None:
    colour = "var(--jp-success-color1)" if ok else "var(--jp-error-color1)"
    widget.value = f'<span style="color:{colour}">{html.escape(text)}</span>' if text else ""


def schema_html(schema: pa.Schema, sample: pa.Table | None) -> str:
    from lakelab.engines.paging import type_name

    head = "".join(
        f"<th>{html.escape(f.name)}<br><small style='font-weight:normal'>{html.escape(type_name(f.type))}</small></th>"
        for f in schema
    )
    body = ""
    if sample is not None:
        for row in sample.to_pylist():
            body += "<tr>" + "".join(f"<td>{html.escape('NULL' if v is None else str(v))}</td>" for v in row.values())
            body += "</tr>"
    return (
        f'<table class="dataframe jp-lakelab-form-schema"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


class _TargetFields:
    """Namespace + name inputs validated as they are typed."""

    def _target_fields(self, namespace: str, name: str) -> None:
        self.namespace = w.Text(value=namespace, description="namespace", continuous_update=True)
        self.name = w.Text(value=name, description="name", continuous_update=True)
        self.target_status = w.HTML()
        for field in (self.namespace, self.name):
            field.observe(lambda _: self._check(), names="value")

    def target(self) -> str | None:
        try:
            return check_target(self.namespace.value, self.name.value)
        except InvalidInput:
            return None

    def _check(self) -> None:
        try:
            target = check_target(self.namespace.value, self.name.value)
            _status(self.target_status, f"→ {target}", True)
        except InvalidInput as e:
            _status(self.target_status, str(e) if (self.namespace.value or self.name.value) else "", False)
        self._update()

    def _update(self) -> None:  # overridden
        pass


class IngestForm(w.VBox, _TargetFields):
    """lakelab.widgets.ingest(): source → schema preview → target, mode, keys, partitions → ingest."""

    def __init__(self, lh: Any = None, source: str = "", namespace: str = "", name: str = "", mode: str = "append"):
        self.lh = _lh(lh)
        self.runner = Runner("lakelab-ingest")
        self.source = w.Text(value=source, description="file", placeholder="path, glob or URL")
        self.upload = w.FileUpload(description="Upload", multiple=False)
        self.format = w.Dropdown(options=FORMATS, value="auto", description="format")
        self.inspect_button = w.Button(description="Preview schema")
        self._target_fields(namespace, name)
        self.mode = w.Dropdown(options=MODES, value=mode, description="mode")
        self.key = w.SelectMultiple(options=[], description="key", rows=4)
        self.partition = w.SelectMultiple(options=[], description="partition by", rows=4)
        self.preview = w.HTML()
        self.progress = w.IntProgress(value=0, min=0, max=1, description="", layout=w.Layout(visibility="hidden"))
        self.progress_text = w.HTML()
        self.submit_button = w.Button(description="Ingest", button_style="primary", disabled=True)
        self.status = w.HTML()
        self.report: Any = None
        self._schema: pa.Schema | None = None
        self._upload_path: Path | None = None
        self.inspect_button.on_click(lambda _: self.inspect())
        self.submit_button.on_click(lambda _: self.submit())
        self.upload.observe(self._on_upload, names="value")
        for field in (self.source, self.format):
            field.observe(self._source_changed, names="value")
        self.mode.observe(lambda _: self._update(), names="value")
        super().__init__(
            [
                w.HTML("<b>Ingest into the lakehouse</b>"),
                w.HBox([self.source, self.upload, self.format, self.inspect_button]),
                self.preview,
                w.HBox([self.namespace, self.name, self.target_status]),
                w.HBox([self.mode, self.key, self.partition]),
                w.HBox([self.submit_button, self.progress, self.progress_text]),
                self.status,
            ]
        )
        self.add_class("jp-lakelab-form")
        self._check()

    # -- the source --------------------------------------------------------------------------
    def _on_upload(self, change: dict) -> None:
        files = change["new"]
        if not files:
            return
        item = files[0]
        folder = Path(tempfile.mkdtemp(prefix="lakelab-upload-"))
        path = folder / Path(str(item["name"])).name
        path.write_bytes(bytes(item["content"]))
        self._upload_path = path
        self.source.value = str(path)

    def _source_changed(self, _: Any = None) -> None:
        self._schema = None
        self.preview.value = ""
        self.key.options = self.partition.options = []
        self._update()

    def _open(self) -> Source:
        if not self.source.value.strip():
            raise InvalidInput("pick a file: a path, glob or URL, or upload one")
        fmt = None if self.format.value == "auto" else self.format.value
        return open_source(self.source.value.strip(), fmt)

    def inspect(self) -> None:
        """Read the source's schema and first rows (nothing is written)."""
        try:
            src = self._open()
            sample = _first_rows(src, PREVIEW_ROWS)
        except LakelabError as e:
            _status(self.status, message(e), False)
            return
        self._schema = src.schema
        names = list(src.schema.names)
        self.key.options = names
        self.partition.options = names
        self.preview.value = schema_html(src.schema, sample)
        _status(self.status, "", True)
        self._update()

    def _update(self) -> None:
        if not hasattr(self, "submit_button"):
            return
        upsert = self.mode.value == "upsert"
        self.key.disabled = not upsert
        ready = self._schema is not None and self.target() is not None and (not upsert or bool(self.key.value))
        self.submit_button.disabled = not ready

    # -- the write ---------------------------------------------------------------------------
    def submit(self) -> None:
        """lh.ingest with the form's values, on a worker thread with a progress bar."""
        target = self.target()
        if target is None or self._schema is None:
            _status(self.status, "preview the schema and name the target first", False)
            return
        try:
            src = self._open()
        except LakelabError as e:
            _status(self.status, message(e), False)
            return
        mode, key, partition = self.mode.value, list(self.key.value) or None, list(self.partition.value) or None
        self.submit_button.disabled = True
        self.progress.layout.visibility = "visible"
        self.progress.max = max(1, src.total_rows or 1)
        self.progress.value = 0
        self.progress.bar_style = "info"
        _status(self.status, "", True)
        counted = Source(src.schema, self._count(src), src.uris, src.total_rows, src.label)

        def job() -> Any:
            return self.lh.ingest(
                counted, target, mode=mode, key=key if mode == "upsert" else None, partition_by=partition
            )

        def done(report: Any, error: BaseException | None) -> None:
            self.submit_button.disabled = False
            if error is not None:
                self.progress.bar_style = "danger"
                _status(self.status, message(error), False)
                return
            from lakelab.notebook.display import write_text

            self.report = report
            self.progress.value = self.progress.max
            self.progress.bar_style = "success"
            _status(self.status, write_text(report), True)

        self.runner.submit("ingest", job, done)

    def _count(self, src: Source) -> Iterator[pa.RecordBatch]:
        rows = 0
        for batch in src.batches:
            rows += batch.num_rows
            if src.total_rows:
                self.progress.value = min(rows, self.progress.max)
            self.progress_text.value = f"{rows:,} rows"
            yield batch

    def wait(self, timeout: float | None = 120) -> bool:
        return self.runner.wait(timeout)


def _first_rows(src: Source, n: int) -> pa.Table:
    batches = []
    rows = 0
    for batch in src.batches:
        batches.append(batch.slice(0, n - rows))
        rows += batches[-1].num_rows
        if rows >= n:
            break
    return pa.Table.from_batches(batches, schema=src.schema)


# -- publish ----------------------------------------------------------------------------------
def kind_of_object(obj: Any) -> str | None:
    """table for data frames, model for fitted estimators, report for figures; None: not publishable."""
    mod = type(obj).__module__.split(".")[0]
    if isinstance(obj, (pa.Table, pa.RecordBatchReader)) or type(obj).__name__ in ("DataFrame", "LazyFrame"):
        return "table"
    if hasattr(obj, "savefig") or type(obj).__name__ == "Figure" or mod in ("altair", "plotly"):
        return "report"
    if hasattr(obj, "predict") and hasattr(obj, "fit") and not isinstance(obj, type):
        return "model"
    return None


def kernel_variables(namespace: dict[str, Any]) -> dict[str, str]:
    """Names of publishable variables in the notebook → their kind."""
    out = {}
    for name, value in namespace.items():
        if name.startswith("_") or isinstance(value, type):
            continue
        kind = kind_of_object(value)
        if kind is not None:
            out[name] = kind
    return dict(sorted(out.items()))


class PublishForm(w.VBox, _TargetFields):
    """lakelab.widgets.publish(): a kernel variable, the target, kind, description, owner, tags."""

    def __init__(self, lh: Any = None, namespace: dict[str, Any] | None = None, **defaults: Any):
        self.lh = _lh(lh)
        self.runner = Runner("lakelab-publish")
        if namespace is None:
            from IPython import get_ipython

            shell = get_ipython()
            namespace = shell.user_ns if shell is not None else {}
        self.user_ns = namespace
        self.variable = w.Dropdown(options=[], description="variable")
        self.refresh_button = w.Button(
            description="↻", tooltip="look for variables again", layout=w.Layout(width="3em")
        )
        self._target_fields(defaults.get("namespace", ""), defaults.get("name", ""))
        self.kind = w.Dropdown(options=PUBLISH_KINDS, value="table", description="kind")
        self.description = w.Textarea(value=defaults.get("description", ""), description="description")
        self.owner = w.Text(value=defaults.get("owner", ""), description="owner")
        self.tag_input = w.Combobox(
            options=self.existing_tags(), placeholder="add a tag", description="tags", ensure_option=False
        )
        self.tags = w.TagsInput(value=list(defaults.get("tags", [])), allow_duplicates=False)
        self.submit_button = w.Button(description="Publish", button_style="primary", disabled=True)
        self.status = w.HTML()
        self.dataset: Any = None
        self.refresh_button.on_click(lambda _: self.refresh())
        self.variable.observe(self._on_variable, names="value")
        self.tag_input.observe(self._on_tag, names="value")
        self.submit_button.on_click(lambda _: self.submit())
        super().__init__(
            [
                w.HTML("<b>Publish to the lakehouse</b>"),
                w.HBox([self.variable, self.refresh_button, self.kind]),
                w.HBox([self.namespace, self.name, self.target_status]),
                self.description,
                self.owner,
                w.HBox([self.tag_input, self.tags]),
                self.submit_button,
                self.status,
            ]
        )
        self.add_class("jp-lakelab-form")
        self.refresh()
        self._check()

    def existing_tags(self) -> list[str]:
        try:
            found = self.lh.datasets(limit=1000)
        except LakelabError:
            return []
        tags: set[str] = set()
        for d in found:
            values = d.get("tags") if isinstance(d, dict) else None
            if isinstance(values, str):
                values = [t.strip() for t in values.split(",")]
            tags.update(t for t in values or [] if t)
        return sorted(tags)

    def refresh(self) -> None:
        found = kernel_variables(self.user_ns)
        keep = self.variable.value
        self.variable.options = [(f"{n} ({k})", n) for n, k in found.items()]
        if keep in found:
            self.variable.value = keep
        self._update()

    def _on_variable(self, change: dict) -> None:
        name = change["new"]
        if name in self.user_ns:
            kind = kind_of_object(self.user_ns[name])
            if kind:
                self.kind.value = kind
            if not self.name.value:
                try:
                    self.name.value = ident(name)
                except InvalidInput:
                    pass
        self._update()

    def _on_tag(self, change: dict) -> None:
        tag = (change["new"] or "").strip()
        if (tag and tag in self.tag_input.options) or tag.endswith(","):
            tag = tag.rstrip(",").strip()
            if tag and tag not in self.tags.value:
                self.tags.value = [*self.tags.value, tag]
            self.tag_input.value = ""

    def _update(self) -> None:
        if hasattr(self, "submit_button"):
            self.submit_button.disabled = self.target() is None or not self.variable.value

    def submit(self) -> None:
        target = self.target()
        name = self.variable.value
        if target is None or not name or name not in self.user_ns:
            _status(self.status, "pick a variable and name the target first", False)
            return
        obj = self.user_ns[name]
        kind, description = self.kind.value, self.description.value or None
        owner, tags = self.owner.value or None, list(self.tags.value) or None
        self.submit_button.disabled = True
        _status(self.status, "publishing…", True)

        def job() -> Any:
            return self.lh.publish(obj, target, kind=kind, description=description, owner=owner, tags=tags)

        def done(dataset: Any, error: BaseException | None) -> None:
            self.submit_button.disabled = False
            if error is not None:
                _status(self.status, message(error), False)
                return
            self.dataset = dataset
            _status(self.status, f"published {name} as {target} ({kind})", True)

        self.runner.submit("publish", job, done)

    def wait(self, timeout: float | None = 120) -> bool:
        return self.runner.wait(timeout)
