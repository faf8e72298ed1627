"""Lineage the ecosystem reads: OpenLineage run events for every write (openlineage.py builds
nothing unless openlineage-python is configured; events.py names datasets and adds facets;
columns.py derives column lineage from SQL)."""
