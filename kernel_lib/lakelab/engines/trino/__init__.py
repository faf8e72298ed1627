"""The Trino engine: a Trino cluster whose Iceberg connector shares our catalog."""
