"""The embedded engine: Trino SQL answered by DuckDB over Iceberg snapshots."""
