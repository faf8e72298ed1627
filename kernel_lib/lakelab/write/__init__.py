"""The one write path: every writer (ingest, transform, publish, the engines' CREATE/INSERT) commits here."""
