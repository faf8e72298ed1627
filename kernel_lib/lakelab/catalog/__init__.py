"""Catalog access: the pyiceberg catalog, dataset metadata and lineage keys, the search index, orphans."""
