"""WriteReport: what one write did, as every write path returns it."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class WriteReport:
    table: str
    mode: str
    rows: int
    files: int
    bytes: int
    snapshot_id: int | None
    seconds: float
    sources: list[str] = field(default_factory=list)
    rows_updated: int | None = None  # upsert only
    rows_inserted: int | None = None  # upsert only
    operation: str = "ingest"  # ingest | transform | publish
    engine: str | None = None  # the engine or workspace kind that made the rows, when not the kernel
    query_id: str | None = None  # Trino's, for --into on Trino
    workspace: str | None = None  # the Ray workspace of a Python transform
    created: bool = True  # False: create_if_not_exists found the table there and wrote nothing
    writers: list[str] = field(default_factory=list)  # a Ray dataset's: "node id:pid" of each process that wrote files

    def _summary(self) -> str:
        what = f"{self.rows:,} row{'s' if self.rows != 1 else ''}"
        if self.rows_updated is not None:
            what += f" ({self.rows_updated:,} updated, {self.rows_inserted:,} inserted)"
        rate = f", {self.rows / self.seconds:,.0f} rows/s" if self.seconds > 0 and self.rows else ""
        where = f" on {self.workspace}" if self.workspace else (f" on {self.engine}" if self.engine else "")
        if self.writers:
            procs, nodes = len(self.writers), len({w.split(":")[0] for w in self.writers})
            where += f" (written by {procs} Ray worker{'s' * (procs != 1)} on {nodes} node{'s' * (nodes != 1)})"
        return (
            f"{self.mode} {self.table}: {what} in {self.files} file{'s' if self.files != 1 else ''} "
            f"({_human(self.bytes)}), {self.seconds:.2f} s{rate}, snapshot {self.snapshot_id}{where}"
        )

    def __repr__(self) -> str:
        src = f"\n  from {', '.join(self.sources[:3])}{' ...' if len(self.sources) > 3 else ''}" if self.sources else ""
        return f"{type(self).__name__}: {self.operation} {self._summary()}{src}"

    def _repr_html_(self) -> str:
        src = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in self.sources[:10])
        more = f"<li>… {len(self.sources) - 10} more</li>" if len(self.sources) > 10 else ""
        return (
            f'<div class="lakelab-write"><b>{html.escape(self.operation)}</b> {html.escape(self._summary())}'
            + (f"<ul style='margin:0'>{src}{more}</ul>" if src else "")
            + "</div>"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
