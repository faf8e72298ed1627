"""SQL engines. Both take Trino-dialect SQL and return a `Result`:
`duckdb` (embedded: sqlglot-transpiled Trino SQL over Iceberg snapshots) and `trino`."""

from lakelab.engines.base import Engine, Result

__all__ = ["Engine", "Result"]
