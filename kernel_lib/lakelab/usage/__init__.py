"""Usage: who queries which datasets, recorded as an Iceberg table (recorder.py), kept within a
retention (retention.py) and summarised for a dataset, its Insights tab and search (report.py)."""
